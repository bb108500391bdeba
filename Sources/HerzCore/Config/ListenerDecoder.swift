import Foundation
import NIOCore
import Yams

/// Decodes one `listeners:` item: address, protocol, TLS, limits and the filter chain ending in
/// the router.
enum ListenerDecoder {
    static let keys = ["name", "address", "protocol", "tls", "limits", "filters", "quic"]
    static let limitKeys = ["max_request_headers_bytes", "buffer_limit_bytes", "idle_timeout", "request_headers_timeout",
                            "request_timeout", "max_concurrent_streams"]

    struct Decoded {
        /// `nil` when any field was bad (the errors are in the context).
        var listener: ListenerConfig?
        /// Every cluster the routes name, checked once all clusters are known.
        var clusterReferences: [ClusterReference]
    }

    static func decode(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> Decoded {
        let errorsBefore = context.errors.count
        guard let map = context.map(node, what, known: keys, required: ["address", "filters"]) else {
            return Decoded(listener: nil, clusterReferences: [])
        }
        let address = map.hostPort("address", allowPortZero: true)
        let name = map.has("name") ? map.string("name") : map["address"].flatMap { context.string($0, map.field("address")) }
        let proto = map.choice("protocol", as: ListenerConfig.ListenerProtocol.self) ?? .http

        var tls: TLSConfig?
        if let tlsMap = map.map("tls", known: TLSDecoder.listenerKeys) {
            tls = TLSDecoder.decodeListener(tlsMap, context)
            if proto == .http {
                context.report(.invalidValue(field: map.field("tls"), value: "…", reason: "tls is only used with protocol https or quic"), at: map.keyNode("tls"))
            }
        } else if proto != .http, !map.has("tls") {
            context.report(.missingField(field: "tls", in: "\(what) (protocol \(proto.rawValue))"), at: map["protocol"] ?? map.node)
        }

        var limits = ListenerLimits()
        if let limitMap = map.map("limits", known: limitKeys) {
            if let n = limitMap.byteSize("max_request_headers_bytes") { limits.maxRequestHeadersBytes = n }
            if let n = limitMap.byteSize("buffer_limit_bytes") { limits.bufferLimitBytes = n }
            if let t = limitMap.duration("idle_timeout", allowZero: false) { limits.idleTimeout = t }
            if let t = limitMap.duration("request_headers_timeout", allowZero: false) { limits.requestHeadersTimeout = t }
            if let t = limitMap.duration("request_timeout") { limits.requestTimeout = t == .zero ? nil : t }
            if let n = limitMap.int("max_concurrent_streams", range: 1...Int(Int32.max)) { limits.maxConcurrentStreams = n }
        }

        var quic = QUICListenerConfig()
        if let quicMap = map.map("quic", known: QUICListenerDecoder.keys) {
            if proto != .quic {
                context.report(.invalidValue(field: map.field("quic"), value: "…", reason: "quic is only used with protocol quic"), at: map.keyNode("quic"))
            }
            QUICListenerDecoder.decode(quicMap, into: &quic)
        }

        var filters: [FilterConfig] = []
        var router: RouterConfig?
        var references: [ClusterReference] = []
        if let items = map.list("filters") {
            for (index, item) in items.enumerated() {
                let field = "\(map.field("filters"))[\(index)]"
                guard let filterMap = context.map(item, field, known: ["type", "config"], required: ["type"]),
                      let type = filterMap.string("type") else { continue }
                let typeNode = filterMap["type"]!
                if type == "router" {
                    if index != items.count - 1 { context.report(.routerNotLast, at: typeNode); continue }
                    guard let configNode = filterMap["config"] else {
                        context.report(.missingField(field: "config", in: field), at: item)
                        continue
                    }
                    let requirementsBefore = context.jwtRequirementReferences.count
                    let aesOverridesBefore = context.aesGCMOverrides.count
                    if let decoded = RouterDecoder.decode(configNode, filterMap.field("config"), context) {
                        router = decoded.router
                        references += decoded.clusterReferences
                    }
                    JWTAuthnDecoder.checkRequirementReferences(context.jwtRequirementReferences[requirementsBefore...], filters: filters, context)
                    AESGCMDecoder.checkOverrides(context.aesGCMOverrides[aesOverridesBefore...], filters: filters, context)
                } else if let filter = FilterDecoder.decode(type: type, config: filterMap["config"], filterMap.field("config"),
                                                             at: typeNode, context) {
                    filters.append(filter)
                }
            }
            if items.isEmpty || (items.last.flatMap { $0.mapping?["type"]?.string } != "router") {
                context.report(.missingRouter, at: map["filters"])
            }
        }

        guard context.errors.count == errorsBefore, let name, let address, let router else {
            return Decoded(listener: nil, clusterReferences: references)
        }
        return Decoded(listener: ListenerConfig(name: name, address: address, protocol: proto, tls: tls,
                                                filters: filters, router: router, limits: limits, quic: quic),
                       clusterReferences: references)
    }
}

extension ListenerConfig.ListenerProtocol: CaseIterable {
    public static var allCases: [Self] { [.http, .https, .quic] }
}
