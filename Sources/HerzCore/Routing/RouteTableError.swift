/// Why a ``RouterConfig`` cannot be compiled into a ``RouteTable``. ``ConfigLoader`` reports the
/// same problems with positions before a table is ever built; these guard configs built in code.
public enum RouteTableError: Error, Sendable, Equatable {
    case invalidRegex(pattern: String, reason: String)
    case invalidDomain(String, reason: String)
    case duplicateDomain(String)
}
