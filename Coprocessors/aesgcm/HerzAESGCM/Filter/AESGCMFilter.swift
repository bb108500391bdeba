import HerzCoprocSDK
import Logging

/// The herz-aesgcm coprocessor's filter as the server sees it: owns the ``KeyStore`` (keys live only
/// in this process), reloads it on the control plane's `reload` (`herzctl coproc reload NAME`), and
/// serves every ring from its own ``AESGCMRingFilter``, which keeps the per-stream state.
///
/// Guarantees: a reload that fails keeps the previous keys and reports why (no key bytes); calls are
/// only ever answered by ring filters — asked directly, this value answers `failure(internal)`
/// rather than pass anything through unencrypted. Sendable; shared by every ring.
public struct AESGCMFilter: CoprocessorFilter {
    public let keys: KeyStore
    private let logger: Logger

    public init(keys: KeyStore, logger: Logger) {
        self.keys = keys
        self.logger = logger
    }

    public func makeRingFilter() -> any CoprocessorFilter { AESGCMRingFilter(keys: keys, logger: logger) }

    public func reload(payload: String) throws -> String {
        "keys reloaded from \(keys.path): \(try keys.reload())"
    }

    public func onRequestHeaders(_ call: CoprocCall) -> AnswerResult { Self.notARing }
    public func onRequestBody(_ call: CoprocCall) -> AnswerResult { Self.notARing }
    public func onRequestTrailers(_ call: CoprocCall) -> AnswerResult { Self.notARing }
    public func onResponseHeaders(_ call: CoprocCall) -> AnswerResult { Self.notARing }
    public func onResponseBody(_ call: CoprocCall) -> AnswerResult { Self.notARing }
    public func onResponseTrailers(_ call: CoprocCall) -> AnswerResult { Self.notARing }

    private static let notARing = AnswerResult.failure(.internal, message: "aes-gcm answers calls on its ring filters only")
}
