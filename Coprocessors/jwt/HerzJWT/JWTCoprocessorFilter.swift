import HerzCoprocSDK
import Logging

/// herz-jwt's ``CoprocessorFilter``: answers every `request_headers` call of the `jwt_authn`
/// kernel filter by authenticating the request under the call's settings (``AuthnSettings``), and
/// reloads every JWKS file on the control-plane `reload`.
///
/// Guarantees: every call gets an answer: `continue` with header edits, a 401/403 local reply
/// (``AuthnReply``), or — when the call's settings cannot be read — a `badInput` failure, which the
/// kernel turns into the coprocessor's `on_failure` policy (fail closed by default). Tokens and key
/// material are never logged. Thread-safe: ring threads call it concurrently; `reload` runs on the
/// server's main thread.
public struct JWTCoprocessorFilter: CoprocessorFilter {
    let authenticator: Authenticator
    let store: JWKSStore
    let settings: AuthnSettingsCache
    let logger: Logger

    public init(store: JWKSStore, settings: AuthnSettingsCache = AuthnSettingsCache(), logger: Logger,
                clock: @escaping @Sendable () -> Double) {
        self.authenticator = Authenticator(store: store, clock: clock)
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    public func onRequestHeaders(_ call: CoprocCall) -> AnswerResult {
        let (result, isNew) = settings.settings(for: call.filterConfig)
        switch result {
        case .failure(let error):
            if isNew { logger.error("jwt_authn settings refused (route \(call.route)): \(error)") }
            return .failure(.badInput, message: "jwt_authn settings: \(error)")
        case .success(let settings):
            let decision = authenticator.authenticate(call.headers, settings: settings)
            if case .deny(let rejection) = decision {
                logger.debug("route \(call.route): \(rejection.status) \(rejection.code): \(rejection.reason)")
            }
            return AuthnReply.answer(decision, request: call.headers)
        }
    }

    /// Re-reads every JWKS file now. Throws when one cannot be used (its previous keys stay).
    public func reload(payload: String) throws -> String {
        let outcomes = store.refresh(force: true)
        let failures = outcomes.compactMap { name, outcome -> String? in
            if case .failed(let reason) = outcome { return "\(name): \(reason)" }
            return nil
        }.sorted()
        guard failures.isEmpty else { throw JWKSetError(reason: "jwks reload failed: \(failures.joined(separator: "; "))") }
        return "reloaded \(outcomes.count) jwks file(s)"
    }

    public var capabilities: [String] { ["phase:request_headers", "reload"] }
}
