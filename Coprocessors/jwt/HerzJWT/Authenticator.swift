import HerzCoprocSDK

/// What herz-jwt decided for one request.
public enum AuthnDecision: Equatable, Sendable {
    /// The request goes on with these header edits (claims and payload set, token stripped).
    case allow(HeaderMutation)
    /// The request is refused: 401 or 403 (``JWTRejection/status``).
    case deny(JWTRejection)
}

/// Applies one call's ``AuthnSettings`` to a request: finds each provider's token, verifies it
/// against that provider's JWKS and claim requirements, and decides.
///
/// Semantics (Envoy's `requires_any` + `allow_missing`): the first provider whose token verifies
/// allows the request; when no provider found a token, the request is refused as missing unless
/// `allowMissing`; when tokens were found but none verified, the refusal is a 403 if some token
/// verified and only failed `iss`/`aud`, else the first provider's 401 reason. A present but
/// invalid token is never let through, `allowMissing` or not. On success every output header of
/// the providers (claims, payload) that is not set from this token is removed, so a client can
/// never supply them. Thread-safe; called from every ring thread.
public struct Authenticator: Sendable {
    let store: JWKSStore
    let clock: @Sendable () -> Double

    /// - Parameter clock: seconds since the epoch (tests pass a fixed time).
    public init(store: JWKSStore, clock: @escaping @Sendable () -> Double) {
        self.store = store
        self.clock = clock
    }

    public func authenticate(_ headers: [WireHeader], settings: AuthnSettings) -> AuthnDecision {
        let request = RequestView(headers: headers)
        var rejections: [JWTRejection] = []
        for provider in settings.providers {
            guard let found = TokenExtractor.find(provider.locations, in: request) else { continue }
            let verified = store.keySet(for: provider.jwksFile).flatMap { keys in
                TokenVerifier.verify(found.token, keys: keys, requirements: provider.requirements,
                                     maxTokenBytes: settings.maxTokenBytes, now: clock())
            }
            switch verified {
            case .success(let token):
                return .allow(mutation(for: token, from: found, of: provider, settings: settings, request: request))
            case .failure(let rejection):
                rejections.append(rejection)
            }
        }
        guard let first = rejections.first else {
            return settings.allowMissing ? .allow(HeaderMutation(remove: Self.outputHeaders(settings))) : .deny(.missing)
        }
        return .deny(rejections.first(where: \.isForbidden) ?? first)
    }

    /// Claims and payload set; the token's header or cookie removed unless `forward`; every other
    /// output header of the settings removed.
    func mutation(for token: VerifiedToken, from found: FoundToken, of provider: ProviderSettings, settings: AuthnSettings,
                  request: RequestView) -> HeaderMutation {
        var mutation = HeaderMutation()
        for claimHeader in provider.claimHeaders {
            if let value = ClaimHeaderValue.lookup(claimHeader.claim, in: token.claims).flatMap(ClaimHeaderValue.render) {
                mutation.set.append(WireHeader(claimHeader.header, value))
            }
        }
        if let payloadHeader = provider.payloadHeader { mutation.set.append(WireHeader(payloadHeader, token.payloadSegment)) }
        let setNames = Set(mutation.set.map(\.name))
        mutation.remove = Self.outputHeaders(settings).filter { !setNames.contains($0) }
        if !provider.forward {
            switch found.location {
            case .header(let name, _):
                mutation.remove.append(name)
            case .cookie(let name):
                if let rest = request.cookieHeader(without: name) {
                    mutation.set.append(WireHeader("cookie", rest))
                } else {
                    mutation.remove.append("cookie")
                }
            case .queryParameter:
                break   // the kernel does not let a coprocessor rewrite :path (docs/configuration.md)
            }
        }
        return mutation
    }

    /// Every claim and payload header the settings' providers write, without duplicates.
    static func outputHeaders(_ settings: AuthnSettings) -> [String] {
        var names: [String] = []
        for provider in settings.providers {
            for name in provider.claimHeaders.map(\.header) + (provider.payloadHeader.map { [$0] } ?? []) where !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }
}
