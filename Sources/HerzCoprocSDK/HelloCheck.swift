/// The coprocessor's check of a kernel `hello` (docs/coprocessor-protocol.md section 2): nil when
/// acceptable, else the refusal reason, phrased as the one log line naming both versions. Pure.
enum HelloCheck {
    static func refusal(of hello: Hello, name: String, sessionAttached: Bool) -> String? {
        if let mismatch = CoprocProtocol.versionMismatch(hello) {
            return "coprocessor \(name) refused: kernel speaks \(mismatch.protocolName) protocol \(mismatch.peer), coprocessor speaks \(mismatch.ours)"
        }
        if hello.name != name {
            return "coprocessor \(name) refused: kernel expects coprocessor \(hello.name)"
        }
        if !sessionAttached {
            return "coprocessor \(name) refused: session \(hello.sessionId) is not attached"
        }
        return nil
    }
}
