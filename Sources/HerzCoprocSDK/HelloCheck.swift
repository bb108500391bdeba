/// The coprocessor's check of a kernel `hello` (docs/coprocessor-protocol.md section 2): nil when
/// acceptable, else the refusal reason, phrased as the one log line naming both versions. Pure.
enum HelloCheck {
    static func refusal(of hello: Hello, name: String, sessionAttached: Bool) -> String? {
        if hello.protocolVersion != CoprocProtocol.controlVersion {
            return "coprocessor \(name) refused: kernel speaks control protocol \(hello.protocolVersion), coprocessor speaks \(CoprocProtocol.controlVersion)"
        }
        if hello.ringVersion != CoprocProtocol.ringVersion {
            return "coprocessor \(name) refused: kernel speaks ring protocol \(hello.ringVersion), coprocessor speaks \(CoprocProtocol.ringVersion)"
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
