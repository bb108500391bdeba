import NIOCore
import Yams

/// Decodes the `router` filter's config: virtual hosts, their domains and their routes.
enum RouterDecoder {
    static let routeKeys = ["name", "match", "route", "request_headers_to_add", "request_headers_to_remove",
                            "response_headers_to_add", "response_headers_to_remove", "per_filter_config"]
    static let matchKeys = ["prefix", "path", "regex", "headers", "methods", "case_sensitive"]
    static let actionKeys = ["cluster", "cluster_header", "weighted_clusters", "timeout", "retry_policy", "prefix_rewrite",
                             "host_rewrite", "hash_policy", "metadata_match", "request_mirror_policies"]

    struct Decoded {
        var router: RouterConfig
        var clusterReferences: [ClusterReference]
    }

    static func decode(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> Decoded? {
        guard let map = context.map(node, what, known: ["virtual_hosts"], required: ["virtual_hosts"]),
              let items = map.list("virtual_hosts") else { return nil }
        if items.isEmpty {
            context.report(.invalidValue(field: map.field("virtual_hosts"), value: "[]", reason: "at least one virtual host is needed"), at: map["virtual_hosts"])
        }
        var hosts: [VirtualHostConfig] = []
        var references: [ClusterReference] = []
        var hostNames = UniqueNames(what: "virtual host name", context: context)
        var domains = UniqueNames(what: "domain", context: context)
        for (index, item) in items.enumerated() {
            let field = "\(map.field("virtual_hosts"))[\(index)]"
            guard let hostMap = context.map(item, field, known: ["name", "domains", "routes"], required: ["name", "domains", "routes"]) else { continue }
            let name = hostMap.string("name")
            if let name { hostNames.insert(name, at: hostMap["name"]!) }

            var hostDomains: [String] = []
            if let domainNodes = hostMap.list("domains") {
                if domainNodes.isEmpty {
                    context.report(.invalidValue(field: hostMap.field("domains"), value: "[]", reason: "a virtual host needs at least one domain"), at: hostMap["domains"])
                }
                for domainNode in domainNodes {
                    guard let domain = context.nonEmptyString(domainNode, hostMap.field("domains")) else { continue }
                    if let reason = DomainPattern.problem(with: domain) {
                        context.report(.invalidValue(field: hostMap.field("domains"), value: domain, reason: reason), at: domainNode)
                        continue
                    }
                    domains.insert(domain.lowercased(), at: domainNode)
                    hostDomains.append(domain)
                }
            }

            var routes: [RouteEntry] = []
            if let routeNodes = hostMap.list("routes") {
                for (routeIndex, routeNode) in routeNodes.enumerated() {
                    let defaultName = "\(name ?? "vhost\(index)")/\(routeIndex)"
                    if let route = decodeRoute(routeNode, "\(hostMap.field("routes"))[\(routeIndex)]", defaultName: defaultName,
                                               context, &references) {
                        routes.append(route)
                    }
                }
            }
            if let name { hosts.append(VirtualHostConfig(name: name, domains: hostDomains, routes: routes)) }
        }
        return Decoded(router: RouterConfig(virtualHosts: hosts), clusterReferences: references)
    }

    static func decodeRoute(_ node: Node, _ what: String, defaultName: String, _ context: ConfigDecodingContext,
                            _ references: inout [ClusterReference]) -> RouteEntry? {
        let errorsBefore = context.errors.count
        guard let map = context.map(node, what, known: routeKeys, required: ["match", "route"]) else { return nil }
        let name = map.has("name") ? map.string("name") : defaultName
        let match = map.map("match", known: matchKeys).flatMap { decodeMatch($0, context) }
        guard let actionMap = map.map("route", known: actionKeys) else { return nil }
        let action = decodeAction(actionMap, context, &references)
        var route = RouteEntry(name: name ?? defaultName, match: match ?? RouteMatch(path: .prefix("/")), action: action ?? .cluster(""))

        if actionMap.has("timeout"), let timeout = actionMap.duration("timeout") { route.timeout = timeout == .zero ? nil : timeout }
        if let retry = actionMap.map("retry_policy", known: ["retry_on", "num_retries", "per_try_timeout"], required: ["retry_on"]) {
            route.retryPolicy = decodeRetryPolicy(retry, context)
        }
        if let rewrite = actionMap.string("prefix_rewrite") {
            if case .regex? = match?.path {
                context.report(.invalidValue(field: actionMap.field("prefix_rewrite"), value: rewrite,
                                             reason: "prefix_rewrite needs a 'prefix' or 'path' match"), at: actionMap["prefix_rewrite"])
            } else if !rewrite.hasPrefix("/") {
                context.report(.invalidValue(field: actionMap.field("prefix_rewrite"), value: rewrite, reason: "must start with '/'"), at: actionMap["prefix_rewrite"])
            }
            route.prefixRewrite = rewrite
        }
        if let host = actionMap.string("host_rewrite") {
            if host.contains(where: { $0 == " " || $0 == "/" || $0 == "\r" || $0 == "\n" }) {
                context.report(.invalidValue(field: actionMap.field("host_rewrite"), value: host, reason: "not a valid host"), at: actionMap["host_rewrite"])
            }
            route.hostRewrite = host
        }
        if let items = actionMap.list("hash_policy") {
            route.hashPolicy = items.compactMap { decodeHashPolicy($0, actionMap.field("hash_policy"), context) }
        }
        if let metadata = actionMap.stringMap("metadata_match") { route.metadataMatch = metadata }
        if let items = actionMap.list("request_mirror_policies") {
            route.mirrorPolicies = TrafficFeatureDecoder.decodeMirrorPolicies(items, actionMap.field("request_mirror_policies"), context, &references)
        }

        if let items = map.list("request_headers_to_add") {
            route.requestHeaders.add = FilterDecoder.decodeHeaderValues(items, map.field("request_headers_to_add"), context)
        }
        if let names = map.stringList("request_headers_to_remove") {
            route.requestHeaders.remove = FilterDecoder.checkedNames(names, map.field("request_headers_to_remove"), at: map["request_headers_to_remove"]!, context)
        }
        if let items = map.list("response_headers_to_add") {
            route.responseHeaders.add = FilterDecoder.decodeHeaderValues(items, map.field("response_headers_to_add"), context)
        }
        if let names = map.stringList("response_headers_to_remove") {
            route.responseHeaders.remove = FilterDecoder.checkedNames(names, map.field("response_headers_to_remove"), at: map["response_headers_to_remove"]!, context)
        }
        if let overrides = map.map("per_filter_config", known: FilterDecoder.overridableTypes) {
            for entry in overrides.entries {
                if let filter = FilterDecoder.decode(type: entry.key, config: entry.value, overrides.field(entry.key), at: entry.keyNode,
                                                        isOverride: true, context) {
                    route.perFilterConfig[entry.key] = filter
                }
            }
        }
        return context.errors.count == errorsBefore ? route : nil
    }

    static func decodeMatch(_ map: YAMLMap, _ context: ConfigDecodingContext) -> RouteMatch? {
        let caseSensitive = map.bool("case_sensitive") ?? true
        var path: RouteMatch.Path?
        switch map.exactlyOne(of: ["prefix", "path", "regex"]) {
        case "prefix"?:
            if let node = map["prefix"], let value = context.string(node, map.field("prefix")) {
                if value.hasPrefix("/") { path = .prefix(value) } else {
                    context.report(.invalidValue(field: map.field("prefix"), value: value, reason: "must start with '/'"), at: node)
                }
            }
        case "path"?:
            if let value = map.string("path") {
                if value.hasPrefix("/") { path = .exact(value) } else {
                    context.report(.invalidValue(field: map.field("path"), value: value, reason: "must start with '/'"), at: map["path"])
                }
            }
        case "regex"?:
            if let value = map.string("regex"), checkRegex(value, caseSensitive: caseSensitive, at: map["regex"]!, context) {
                path = .regex(value)
            }
        default: break
        }
        var headers: [HeaderMatcher] = []
        for (index, item) in (map.list("headers") ?? []).enumerated() {
            let field = "\(map.field("headers"))[\(index)]"
            guard let headerMap = context.map(item, field, known: ["name", "exact", "present", "regex", "invert"], required: ["name"]),
                  let name = headerMap.string("name") else { continue }
            var invert = headerMap.bool("invert") ?? false
            let kind: HeaderMatcher.Kind?
            switch headerMap.exactlyOne(of: ["exact", "present", "regex"]) {
            case "exact"?: kind = headerMap["exact"].flatMap { context.string($0, headerMap.field("exact")) }.map { .exact($0) }
            case "present"?:
                let present = headerMap.bool("present")
                if present == false { invert.toggle() }   // `present: false` = header absent
                kind = present.map { _ in .present }
            case "regex"?:
                let pattern = headerMap.string("regex")
                kind = pattern.flatMap { checkRegex($0, caseSensitive: true, at: headerMap["regex"]!, context) ? .regex($0) : nil }
            default: kind = nil
            }
            if let kind { headers.append(HeaderMatcher(name: name.lowercased(), kind: kind, invert: invert)) }
        }
        var methods: [String] = []
        for method in map.stringList("methods") ?? [] {
            if FilterDecoder.isToken(method) { methods.append(method.uppercased()) } else {
                context.report(.invalidValue(field: map.field("methods"), value: method, reason: "not an HTTP method"), at: map["methods"])
            }
        }
        guard let path else { return nil }
        return RouteMatch(path: path, headers: headers, methods: methods, caseSensitive: caseSensitive)
    }

    static func checkRegex(_ pattern: String, caseSensitive: Bool, at node: Node, _ context: ConfigDecodingContext) -> Bool {
        do {
            _ = try CompiledRegex(pattern, caseSensitive: caseSensitive)
            return true
        } catch let error as CompiledRegex.Error {
            context.report(.invalidRegex(pattern: pattern, reason: error.reason), at: node)
        } catch {
            context.report(.invalidRegex(pattern: pattern, reason: "\(error)"), at: node)
        }
        return false
    }

    static func decodeAction(_ map: YAMLMap, _ context: ConfigDecodingContext, _ references: inout [ClusterReference]) -> RouteAction? {
        switch map.exactlyOne(of: ["cluster", "cluster_header", "weighted_clusters"]) {
        case "cluster"?:
            guard let name = map.string("cluster") else { return nil }
            references.append(ClusterReference(name: name, node: map["cluster"]!))
            return .cluster(name)
        case "cluster_header"?:
            guard let header = map.string("cluster_header") else { return nil }
            guard FilterDecoder.isToken(header) else {
                context.report(.invalidValue(field: map.field("cluster_header"), value: header, reason: "not a valid header name"), at: map["cluster_header"])
                return nil
            }
            return .clusterHeader(header.lowercased())
        case "weighted_clusters"?:
            var node = map["weighted_clusters"]!
            var field = map.field("weighted_clusters")
            if case .mapping = node {
                guard let weighted = context.map(node, field, known: ["clusters"], required: ["clusters"]), let inner = weighted["clusters"] else { return nil }
                node = inner
                field += ".clusters"
            }
            guard let items = context.list(node, field) else { return nil }
            if items.isEmpty {
                context.report(.invalidValue(field: field, value: "[]", reason: "at least one weighted cluster is needed"), at: node)
                return nil
            }
            var clusters: [WeightedCluster] = []
            for (index, item) in items.enumerated() {
                guard let entry = context.map(item, "\(field)[\(index)]", known: ["name", "weight"], required: ["name", "weight"]),
                      let name = entry.string("name") else { continue }
                references.append(ClusterReference(name: name, node: entry["name"]!))
                if let weight = entry.int("weight", range: 1...1_000_000) { clusters.append(WeightedCluster(name: name, weight: weight)) }
            }
            return clusters.count == items.count ? .weightedClusters(clusters) : nil
        default:
            return nil
        }
    }

    static func decodeRetryPolicy(_ map: YAMLMap, _ context: ConfigDecodingContext) -> RetryPolicy? {
        var conditions = Set<RetryPolicy.Condition>()
        if let node = map["retry_on"] {
            let words: [(String, Node)]
            if case .sequence(let items) = node {
                words = items.compactMap { item in context.string(item, map.field("retry_on")).map { ($0, item) } }
            } else if let text = context.string(node, map.field("retry_on")) {
                words = text.split(separator: ",").map { (String($0).trimmingASCIISpaces(), node) }
            } else {
                words = []
            }
            for (word, at) in words {
                if let condition = RetryPolicy.Condition(rawValue: word) { conditions.insert(condition) } else {
                    let known = RetryPolicy.Condition.allCases.map(\.rawValue).joined(separator: ", ")
                    context.report(.invalidValue(field: map.field("retry_on"), value: word, reason: "must be one of \(known)"), at: at)
                }
            }
            if words.isEmpty { context.report(.invalidValue(field: map.field("retry_on"), value: "", reason: "must name at least one condition"), at: node) }
        }
        var policy = RetryPolicy(retryOn: conditions)
        if let n = map.int("num_retries", range: 0...100) { policy.numRetries = n }
        if let t = map.duration("per_try_timeout", allowZero: false) { policy.perTryTimeout = t }
        return policy
    }

    /// Long forms `{header: {header_name}}`, `{cookie: {name}}`, `{connection_properties: {source_ip: true}}`
    /// and short forms `{header: NAME}`, `{cookie: NAME}`, `{source_ip: true}`.
    static func decodeHashPolicy(_ node: Node, _ what: String, _ context: ConfigDecodingContext) -> HashPolicy? {
        guard let map = context.map(node, what, known: ["header", "cookie", "connection_properties", "source_ip"]) else { return nil }
        switch map.exactlyOne(of: ["header", "cookie", "connection_properties", "source_ip"]) {
        case "header"?:
            let value = map["header"]!
            if case .mapping = value {
                return context.map(value, map.field("header"), known: ["header_name"], required: ["header_name"])?.string("header_name").map { .header($0.lowercased()) }
            }
            return map.string("header").map { .header($0.lowercased()) }
        case "cookie"?:
            let value = map["cookie"]!
            if case .mapping = value {
                return context.map(value, map.field("cookie"), known: ["name"], required: ["name"])?.string("name").map { .cookie($0) }
            }
            return map.string("cookie").map { .cookie($0) }
        case "connection_properties"?:
            guard let props = map.map("connection_properties", known: ["source_ip"], required: ["source_ip"]) else { return nil }
            return sourceIP(props, context)
        case "source_ip"?:
            return sourceIP(map, context)
        default:
            return nil
        }
    }

    private static func sourceIP(_ map: YAMLMap, _ context: ConfigDecodingContext) -> HashPolicy? {
        guard let enabled = map.bool("source_ip") else { return nil }
        if !enabled { context.report(.invalidValue(field: map.field("source_ip"), value: "false", reason: "only 'source_ip: true' is meaningful"), at: map["source_ip"]) }
        return enabled ? .sourceIP : nil
    }
}
