/// A checked `match:` expression. `&&` and `||` chains are flattened into ``all`` and ``any``
/// (evaluated left to right, short-circuiting); depth is bounded by the parser, so evaluation
/// never recurses deeply. Pure and immutable: one compiled expression serves every worker.
public indirect enum FlowExpr: Sendable, Equatable {
    case constant(Bool)
    case predicate(FlowPredicate)
    case not(FlowExpr)
    case all([FlowExpr])
    case any([FlowExpr])

    public func evaluate<R: FlowRequest>(_ request: R) -> Bool {
        switch self {
        case .constant(let value): return value
        case .predicate(let predicate): return predicate.evaluate(request)
        case .not(let operand): return !operand.evaluate(request)
        case .all(let operands):
            for operand in operands where !operand.evaluate(request) { return false }
            return true
        case .any(let operands):
            for operand in operands where operand.evaluate(request) { return true }
            return false
        }
    }
}
