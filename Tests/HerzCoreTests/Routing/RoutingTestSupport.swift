import NIOHTTP1
@testable import HerzCore

enum HTTPRequestHeadBuilder {
    static func get(_ uri: String, host: String? = nil, method: HTTPMethod = .GET, headers: [(String, String)] = []) -> HTTPRequestHead {
        var fields = HTTPHeaders()
        if let host { fields.add(name: "Host", value: host) }
        for (name, value) in headers { fields.add(name: name, value: value) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
    }
}
