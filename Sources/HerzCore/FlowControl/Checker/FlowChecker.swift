/// Turns parsed declarations into the checked ``FlowRules`` model: resolves names, checks every
/// value's type and range, compiles regexes and CIDRs, fills defaults, and reports each problem as
/// a ``FlowDiagnostic`` at the position of the offending token. Checking never stops at the first
/// problem: a bad value is reported and its rule is dropped, the rest is still checked.
///
/// One concern per extension: fields of a block (`+Fields`), literals (`+Literals`), match
/// expressions (`+Expressions`), rules and their limits (`+Rules`, `+Limits`), clusters (`+Clusters`).
struct FlowChecker {
    private(set) var diagnostics: [FlowDiagnostic] = []

    mutating func check(_ declarations: [FlowSyntaxDeclaration]) -> FlowRules {
        var rules: [FlowRule] = []
        var clusters: [FlowCluster] = []
        var firstRule: [String: SourceLocation] = [:]
        var firstCluster: [String: SourceLocation] = [:]
        for declaration in declarations {
            let isRule = declaration.keyword == "rule"
            if isRule { checkName(declaration, seen: &firstRule) } else { checkName(declaration, seen: &firstCluster) }
            if isRule {
                if let rule = rule(declaration) { rules.append(rule) }
            } else if let cluster = cluster(declaration) {
                clusters.append(cluster)
            }
        }
        return FlowRules(rules: rules, clusters: clusters)
    }

    /// Non-empty and unique among declarations of the same keyword. The body is checked either
    /// way, so a duplicate's own errors are reported too.
    private mutating func checkName(_ declaration: FlowSyntaxDeclaration, seen: inout [String: SourceLocation]) {
        if declaration.name.isEmpty {
            report(.outOfRange(key: "\(declaration.keyword) name", value: "\"\"", accepted: "a non-empty string"), at: declaration.nameLocation)
        } else if let first = seen[declaration.name] {
            report(.duplicateName(what: declaration.keyword, name: declaration.name, first: first), at: declaration.nameLocation)
        } else {
            seen[declaration.name] = declaration.nameLocation
        }
    }

    mutating func report(_ kind: FlowDiagnostic.Kind, at location: SourceLocation) {
        diagnostics.append(FlowDiagnostic(kind, at: location))
    }
}
