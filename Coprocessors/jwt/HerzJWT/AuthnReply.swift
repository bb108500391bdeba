import HerzCoprocSDK
import NIOCore

/// Turns an ``AuthnDecision`` into the coprocessor's answer to a `request_headers` call.
///
/// Allowed: `continue` with the header edits. Refused: a local reply with the rejection's status,
/// a `text/plain` body of its ``JWTRejection/reason`` and, as RFC 6750 section 3 asks,
/// `WWW-Authenticate: Bearer realm="<scheme>://<authority><path>"` — plus `error="invalid_token"`
/// for a 401 with a token present, `error="insufficient_scope"` for a 403; a missing token gets the
/// realm alone. The realm is the request URL without its query, reduced to characters that are
/// safe inside a quoted string.
public enum AuthnReply {
    public static func answer(_ decision: AuthnDecision, request headers: [WireHeader]) -> AnswerResult {
        switch decision {
        case .allow(let mutation):
            return .headers(.continue, mutation)
        case .deny(let rejection):
            return .localReply(CoprocLocalReply(
                status: rejection.status,
                headers: [WireHeader("www-authenticate", challenge(for: rejection, request: RequestView(headers: headers))),
                          WireHeader("content-type", "text/plain")],
                body: ByteBuffer(string: rejection.reason),
                reason: rejection.code))
        }
    }

    static func challenge(for rejection: JWTRejection, request: RequestView) -> String {
        let realm = "Bearer realm=\"\(realm(request))\""
        switch rejection {
        case .missing: return realm
        case _ where rejection.isForbidden: return realm + ", error=\"insufficient_scope\""
        default: return realm + ", error=\"invalid_token\""
        }
    }

    static func realm(_ request: RequestView) -> String {
        let scheme = request.first(":scheme") ?? "http"
        let authority = request.first(":authority") ?? ""
        let path = (request.first(":path") ?? "/").prefix { $0 != "?" && $0 != "#" }
        let url = "\(scheme)://\(authority)\(path)"
        return String(url.unicodeScalars.filter { $0.value >= 0x21 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }.map(Character.init))
    }
}
