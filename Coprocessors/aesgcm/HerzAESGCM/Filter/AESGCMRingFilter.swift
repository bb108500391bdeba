import HerzCoprocSDK
import Logging
import NIOCore

/// herz-aesgcm on one ring pair (one kernel worker of one session): answers the ring's calls from
/// the route's settings (the call's `filterConfig`) and keeps each stream's body state.
///
/// Guarantees, per call (docs/aes-gcm-format.md section 5):
/// - `*Headers`: listed headers and cookies are encrypted with the active key or decrypted with any
///   listed key; the head continues (`continue` + mutation), except that a message whose body is to
///   be decrypted is held (`stopIteration`) until its first plaintext is released, so bad ciphertext
///   at its start still gets a clean 400/502 and an upstream never sees the head of a request whose
///   body does not open;
/// - `*Body` with a body operation: the message is sealed or opened as a stream that its `*Headers`
///   call started (a body without one — the headers phase not sent, or a stream begun before a restart
///   — answers `failure(internal)` rather than emit a second message into the stream); a call answers
///   `continue` with the bytes that may leave now as the replaced body, or `stopIterationNoBuffer`
///   while nothing may (the bytes stay here, bounded by one chunk); the end of the message leaves
///   only with the answer to the call that carried `endStream`, after the final chunk authenticated;
/// - `*Trailers`: continue, unless the body operation of that direction has not seen its end (the
///   final chunk could not be written or checked), which is refused like bad ciphertext;
/// - refused ciphertext (tampered, truncated, reordered, spliced, unknown key, unsafe value) is a
///   local reply 400 (request) / 502 (response) and releases nothing of the failing call;
/// - settings that do not parse answer `failure(badInput)`, so the route's `on_failure` applies;
/// - the state of a stream is dropped at its `StreamEnd`, and with the ring when the session closes.
/// Logs name streams, routes, key ids and chunk numbers only.
///
/// Threads: only the ring's thread calls it (`CoprocessorFilter.makeRingFilter()`), hence no lock.
final class AESGCMRingFilter: CoprocessorFilter, @unchecked Sendable {
    private struct BodyKey: Hashable {
        var stream: UInt64
        var direction: MessageDirection
    }

    /// Distinct settings documents remembered per ring (routes seldom have more).
    static let settingsCacheLimit = 64

    private let keys: KeyStore
    private let logger: Logger
    private var bodies: [BodyKey: BodyCrypto] = [:]
    private var settingsCache: [String: Result<AESGCMSettings, AESGCMSettingsError>] = [:]

    init(keys: KeyStore, logger: Logger) {
        self.keys = keys
        self.logger = logger
    }

    func onRequestHeaders(_ call: CoprocCall) -> AnswerResult { configured(call, head) }
    func onResponseHeaders(_ call: CoprocCall) -> AnswerResult { configured(call, head) }
    func onRequestBody(_ call: CoprocCall) -> AnswerResult { configured(call, body) }
    func onResponseBody(_ call: CoprocCall) -> AnswerResult { configured(call, body) }
    func onRequestTrailers(_ call: CoprocCall) -> AnswerResult { trailers(call) }
    func onResponseTrailers(_ call: CoprocCall) -> AnswerResult { trailers(call) }

    func onStreamEnd(streamId: UInt64, reset: Bool) {
        for direction in MessageDirection.allCases { bodies[BodyKey(stream: streamId, direction: direction)] = nil }
    }

    /// Streams with body state on this ring.
    var activeBodies: Int { bodies.count }

    /// Runs `handler` with the call's direction and route settings, or answers `failure(badInput)`
    /// when the settings do not parse.
    private func configured(_ call: CoprocCall,
                            _ handler: (CoprocCall, MessageDirection, AESGCMSettings) -> AnswerResult) -> AnswerResult {
        switch settings(call) {
        case .success(let settings): return handler(call, MessageDirection(call.phase), settings)
        case .failure(let error): return .failure(.badInput, message: error.description)
        }
    }

    private func head(_ call: CoprocCall, _ direction: MessageDirection, _ settings: AESGCMSettings) -> AnswerResult {
        let message = settings[direction]
        guard let ring = message.keys(from: keys.current) else {
            // The route pins a key the key file does not list (any more): an operator's mistake
            // that the route's on_failure policy answers, never a message under another key.
            logger.error("aes-gcm: route \(routeName(call)) names key \(message.keyID!), which the key file does not list")
            return .failure(.badInput, message: "aes-gcm: key \(message.keyID!) is not in the key file")
        }
        if let operation = message.body, !call.endStream {
            // The message's body starts here, with the keys in force now.
            bodies[BodyKey(stream: call.streamId, direction: direction)] = BodyCrypto(operation, keys: ring, chunkSize: settings.chunkSize,
                                                                                   context: message.bodyContext)
        }
        let status: RemoteHeadersStatus = message.body == .decrypt ? .stopIteration : .continue
        guard message.touchesHead else { return .headers(status, HeaderMutation()) }
        do {
            let crypto = HeadCrypto(settings: message, direction: direction, keys: ring)
            return .headers(status, try crypto.mutation(for: call.headers))
        } catch {
            return reject(call, direction, "\(error)")
        }
    }

    private func body(_ call: CoprocCall, _ direction: MessageDirection, _ settings: AESGCMSettings) -> AnswerResult {
        guard settings[direction].body != nil else { return .data(.continue, body: nil) }
        let key = BodyKey(stream: call.streamId, direction: direction)
        guard bodies[key] != nil else {
            // No head call started this body: the route does not send the headers phase, or this
            // process took the stream over mid-message (a restart) and would emit a second message
            // into it. Either way the route's on_failure policy decides.
            logger.error("aes-gcm: \(direction.rawValue) body of stream \(call.streamId) on route \(routeName(call)) without its head")
            return .failure(.internal, message: "aes-gcm: \(direction.rawValue) body without its \(direction.rawValue)_headers call")
        }
        do {
            let out = try bodies[key]!.push(Array(call.body.readableBytesView), end: call.endStream)
            if out.isEmpty && !call.endStream { return .data(.stopIterationNoBuffer, body: nil) }
            return .data(.continue, body: ByteBuffer(bytes: out))
        } catch {
            return reject(call, direction, "body: \(error)")
        }
    }

    private func trailers(_ call: CoprocCall) -> AnswerResult {
        let direction = MessageDirection(call.phase)
        if let body = bodies[BodyKey(stream: call.streamId, direction: direction)], !body.isFinished {
            return reject(call, direction, "body: trailers arrived before the body's end")
        }
        return .trailers(.continue, HeaderMutation())
    }

    private func settings(_ call: CoprocCall) -> Result<AESGCMSettings, AESGCMSettingsError> {
        if let cached = settingsCache[call.filterConfig] { return cached }
        let parsed = Result { try AESGCMSettings.parse(call.filterConfig) }.mapError { $0 as! AESGCMSettingsError }
        if case .failure(let error) = parsed { logger.error("aes-gcm: route \(routeName(call)): \(error)") }
        if settingsCache.count >= Self.settingsCacheLimit { settingsCache.removeAll() }
        settingsCache[call.filterConfig] = parsed
        return parsed
    }

    private func reject(_ call: CoprocCall, _ direction: MessageDirection, _ detail: String) -> AnswerResult {
        logger.notice("aes-gcm refused the \(direction.rawValue) of stream \(call.streamId) on route \(routeName(call)): \(detail)")
        return .localReply(CryptoRejection(direction: direction, detail: detail).reply)
    }

    private func routeName(_ call: CoprocCall) -> String { call.route.isEmpty ? "-" : call.route }
}
