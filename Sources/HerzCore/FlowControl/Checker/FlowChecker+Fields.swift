/// The entries of one block (or one call's arguments), sorted by key after the checker reported
/// unknown keys, repeated single keys and unexpected unlabeled values.
struct FlowFields {
    /// The first entry of each key (repeatable keys: every entry, in order, under ``repeated``).
    private(set) var single: [String: FlowSyntaxEntry] = [:]
    private(set) var repeated: [String: [FlowSyntaxEntry]] = [:]
    /// Values without a key, in order (positional arguments, a breaker's condition).
    private(set) var bare: [FlowSyntaxNode] = []

    subscript(key: String) -> FlowSyntaxNode? { single[key]?.value }

    func location(of key: String) -> SourceLocation? { single[key]?.key?.location }

    fileprivate mutating func add(_ entry: FlowSyntaxEntry, key: String, repeatable: Bool) {
        if repeatable { repeated[key, default: []].append(entry) } else { single[key] = entry }
    }

    fileprivate mutating func addBare(_ node: FlowSyntaxNode) { bare.append(node) }
}

extension FlowChecker {
    /// Sorts `entries` by key. Reports a key not in `keys` (with a did-you-mean), a second entry of
    /// a key not in `repeatable`, and more than `maxBare` values without a key; `block` names the
    /// block in those messages (`rule`, `limit`, `reject(…)`).
    mutating func readFields(_ entries: [FlowSyntaxEntry], in block: String, keys: [String],
                         repeatable: Set<String> = [], maxBare: Int = 0) -> FlowFields {
        var fields = FlowFields()
        for entry in entries {
            guard let key = entry.key else {
                if fields.bare.count < maxBare {
                    fields.addBare(entry.value)
                } else {
                    report(.expected(maxBare == 0 ? "'key: value' in \(block)" : "'key: value' (\(block) takes \(maxBare) unlabeled value)",
                                     found: describe(entry.value)), at: entry.value.location)
                }
                continue
            }
            guard keys.contains(key.name) else {
                report(.unknownKey(key.name, block: block, known: keys), at: key.location)
                continue
            }
            if !repeatable.contains(key.name), let first = fields.single[key.name]?.key?.location {
                report(.duplicateKey(key.name, block: block, first: first), at: key.location)
                continue
            }
            fields.add(entry, key: key.name, repeatable: repeatable.contains(key.name))
        }
        return fields
    }
}
