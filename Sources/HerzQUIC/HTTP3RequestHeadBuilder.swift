import NIOHTTP1

/// Collects one HTTP/3 request's header fields (as nghttp3 delivers them, one by one) into the
/// `HTTPRequestHead` the proxy works with: `:method` and `:path` become the request line,
/// `:authority` becomes `host`, `:scheme` is checked and dropped.
///
/// nghttp3 already enforces RFC 9114 §4.3 (pseudo-headers first, no duplicates, required ones
/// present, lowercase names, no connection-specific fields) and resets malformed requests with
/// H3_MESSAGE_ERROR; this builder still refuses what it cannot represent, so a gap in either
/// never reaches the filter chain. It also bounds the total size (name + value + 32 per field,
/// as HTTP/3's SETTINGS_MAX_FIELD_SECTION_SIZE counts it).
struct HTTP3RequestHeadBuilder {
    enum Failure: Error, Equatable {
        case tooLarge
        case missingPseudoHeader(String)
        case unsupportedMethod(String)
    }

    let maxBytes: Int
    private var method: String?
    private var path: String?
    private var authority: String?
    private var scheme: String?
    private var headers = HTTPHeaders()
    private var bytes = 0
    private(set) var failure: Failure?

    init(maxBytes: Int) { self.maxBytes = maxBytes }

    mutating func add(name: String, value: String) {
        guard failure == nil else { return }
        bytes += name.utf8.count + value.utf8.count + 32
        if bytes > maxBytes { failure = .tooLarge; return }
        switch name {
        case ":method": method = value
        case ":path": path = value
        case ":authority": authority = value
        case ":scheme": scheme = value
        case ":protocol": failure = .unsupportedMethod("extended CONNECT")
        default: headers.add(name: name, value: value)
        }
    }

    func build() -> Result<HTTPRequestHead, Failure> {
        if let failure { return .failure(failure) }
        guard let method else { return .failure(.missingPseudoHeader(":method")) }
        if method == "CONNECT" { return .failure(.unsupportedMethod(method)) }
        guard scheme != nil else { return .failure(.missingPseudoHeader(":scheme")) }
        guard let path, !path.isEmpty else { return .failure(.missingPseudoHeader(":path")) }
        var headers = self.headers
        if let authority, !authority.isEmpty {
            // RFC 9114 §4.3.1: :authority wins over a Host header that disagrees.
            headers.replaceOrAdd(name: "host", value: authority)
        } else if !headers.contains(name: "host") {
            return .failure(.missingPseudoHeader(":authority"))
        }
        return .success(HTTPRequestHead(version: HTTPVersion(major: 3, minor: 0), method: HTTPMethod(rawValue: method),
                                        uri: path, headers: headers))
    }
}
