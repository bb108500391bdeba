/// Where a provider reads its token from (Envoy's `from_headers`, `from_params`, `from_cookies`).
public enum TokenLocation: Equatable, Sendable {
    /// A request header (lower-case name); the value must start with `prefix` (ASCII
    /// case-insensitive, e.g. `Bearer `), the token is the rest without surrounding spaces.
    case header(name: String, prefix: String)
    /// A query parameter of `:path`.
    case queryParameter(String)
    case cookie(String)
}
