import Foundation

/// A regular expression compiled once at config load and matched against whole strings (anchored
/// at both ends, as Envoy's `safe_regex` is). The one engine used both by config validation and by
/// ``RouteTable``, so a pattern the loader accepts is a pattern the router can run.
///
/// Immutable and safe to share between worker threads (`NSRegularExpression` is documented as
/// thread-safe for matching).
public struct CompiledRegex: @unchecked Sendable {
    public let pattern: String
    public let caseSensitive: Bool
    private let regex: NSRegularExpression

    /// Throws ``CompiledRegex/Error`` with the engine's reason when `pattern` does not compile.
    public init(_ pattern: String, caseSensitive: Bool = true) throws {
        self.pattern = pattern
        self.caseSensitive = caseSensitive
        do {
            regex = try NSRegularExpression(pattern: "\\A(?:\(pattern))\\z",
                                            options: caseSensitive ? [] : [.caseInsensitive])
        } catch {
            throw Error(pattern: pattern, reason: "does not compile")
        }
    }

    /// `true` when the whole of `text` matches.
    public func wholeMatch<S: StringProtocol>(_ text: S) -> Bool {
        let string = String(text)
        let range = NSRange(location: 0, length: string.utf16.count)
        return regex.firstMatch(in: string, options: [], range: range) != nil
    }

    public struct Error: Swift.Error, Sendable, Equatable {
        public var pattern: String
        public var reason: String
    }
}
