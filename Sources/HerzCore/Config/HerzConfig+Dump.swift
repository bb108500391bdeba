import NIOCore

extension HerzConfig {
    /// The config as JSON text for the admin `/config_dump` endpoint, with secrets (TLS private
    /// key paths) replaced by `<redacted>`.
    ///
    /// Deterministic (fields in a fixed order, maps sorted by key) and written with the same keys
    /// as the YAML it came from, so a dump without TLS parses back into an equal config.
    public func redactedDump() -> String {
        var out = ""
        ConfigDump.render(dumpValue, indent: 0, into: &out)
        return out + "\n"
    }

    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = []
        if let admin { fields.append(("admin", .map([("address", .string(admin.address.description))]))) }
        fields.append(("listeners", .list(listeners.map(\.dumpValue))))
        fields.append(("clusters", .list(clusters.map(\.dumpValue))))
        if !coprocessors.isEmpty {
            fields.append(("coprocessors", .list(coprocessors.map { coprocessor in
                .map([("name", .string(coprocessor.name)), ("endpoint", .string(coprocessor.endpoint)),
                      ("timeout", .duration(coprocessor.timeout)), ("on_failure", .string(coprocessor.onFailure.rawValue)),
                      ("max_wait", .duration(coprocessor.maxWait)), ("ring_bytes", .int(coprocessor.ringBytes)),
                      ("heartbeat_interval", .duration(coprocessor.heartbeatInterval)), ("hung_after", .duration(coprocessor.hungAfter)),
                      ("allowed_uids", .list(coprocessor.allowedUIDs.map { .int(Int($0)) }))])
            })))
        }
        if let accessLog {
            fields.append(("access_log", .map([("path", .string(accessLog.path)), ("format", .string(accessLog.format.rawValue))])))
        }
        fields.append(("drain_timeout", .duration(drainTimeout)))
        if let flowControl { fields.append(("flow_control", flowControl.dumpValue)) }
        if let tracing { fields.append(("tracing", tracing.dumpValue)) }
        return .map(fields)
    }
}

extension TracingConfig {
    var dumpValue: ConfigDump {
        .map([("otlp_endpoint", .string("http://\(endpoint)\(path)")), ("sampling_ratio", .string("\(samplingRatio)")),
              ("service_name", .string(serviceName)), ("max_queue_spans", .int(maxQueueSpans)),
              ("max_batch_spans", .int(maxBatchSpans)), ("export_interval", .duration(exportInterval)),
              ("export_timeout", .duration(exportTimeout))])
    }
}

extension FlowControlConfig {
    /// The path as written (so the dump parses back) and the store, its password redacted.
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = [("rules", .string(rulesFile))]
        if let store {
            var storeFields: [(String, ConfigDump)] = [("address", .string(store.address.description))]
            if let username = store.username { storeFields.append(("username", .string(username))) }
            if store.password != nil { storeFields.append(("password", .redacted)) }
            storeFields.append(("call_timeout", .duration(store.callTimeout)))
            storeFields.append(("max_batch", .int(store.maxBatch)))
            fields.append(("store", .map(storeFields)))
        }
        return .map(fields)
    }
}

/// A JSON value with ordered object keys: renders ``HerzConfig/redactedDump()`` and the settings
/// JSON the `jwt_authn` filter sends to its coprocessor.
indirect enum ConfigDump {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([ConfigDump])
    case map([(String, ConfigDump)])
    /// Already valid JSON text, written as is.
    case rawJSON(String)

    static let redacted = ConfigDump.string("<redacted>")

    static func duration(_ amount: TimeAmount) -> ConfigDump { .string(DurationParser.format(amount)) }
    static func strings(_ values: [String]) -> ConfigDump { .list(values.map(ConfigDump.string)) }
    static func stringMap(_ values: [String: String]) -> ConfigDump {
        .map(values.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// Renders `value` as JSON text: indented by two spaces per level from `indent`, or compact
    /// (no whitespace at all) when `indent` is nil.
    static func render(_ value: ConfigDump, indent: Int?, into out: inout String) {
        let newline = indent == nil ? "" : "\n"
        let pad = indent.map { String(repeating: "  ", count: $0 + 1) } ?? ""
        let closePad = indent.map { String(repeating: "  ", count: $0) } ?? ""
        let inner = indent.map { $0 + 1 }
        switch value {
        case .string(let text): JSONText.quote(text, into: &out)
        case .int(let number): out += String(number)
        case .bool(let flag): out += flag ? "true" : "false"
        case .rawJSON(let text): out += text
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + newline
            for (index, item) in items.enumerated() {
                out += pad
                render(item, indent: inner, into: &out)
                out += (index == items.count - 1 ? "" : ",") + newline
            }
            out += closePad + "]"
        case .map(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{" + newline
            for (index, (key, item)) in fields.enumerated() {
                out += pad
                JSONText.quote(key, into: &out)
                out += indent == nil ? ":" : ": "
                render(item, indent: inner, into: &out)
                out += (index == fields.count - 1 ? "" : ",") + newline
            }
            out += closePad + "}"
        }
    }

    /// `value` as compact JSON text.
    static func compactJSON(_ value: ConfigDump) -> String {
        var out = ""
        render(value, indent: nil, into: &out)
        return out
    }
}

extension ListenerConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = [("name", .string(name)), ("address", .string(address.description)),
                                              ("protocol", .string(`protocol`.rawValue))]
        if let tls { fields.append(("tls", tls.dumpValue)) }
        fields.append(("limits", .map([
            ("max_request_headers_bytes", .int(limits.maxRequestHeadersBytes)),
            ("buffer_limit_bytes", .int(limits.bufferLimitBytes)),
            ("idle_timeout", .duration(limits.idleTimeout)),
            ("request_headers_timeout", .duration(limits.requestHeadersTimeout)),
            ("request_timeout", .duration(limits.requestTimeout ?? .zero)),
            ("max_concurrent_streams", .int(limits.maxConcurrentStreams)),
        ])))
        if `protocol` == .quic { fields.append(("quic", quic.dumpValue)) }
        let router: ConfigDump = .map([("type", .string("router")), ("config", .map([("virtual_hosts", .list(self.router.virtualHosts.map(\.dumpValue)))]))])
        fields.append(("filters", .list(filters.map { .map([("type", .string($0.typeName)), ("config", $0.configDumpValue)]) } + [router])))
        return .map(fields)
    }
}

extension FilterConfig {
    var configDumpValue: ConfigDump {
        switch self {
        case .headerMutation(let config):
            return .map([("request", config.request.dumpValue), ("response", config.response.dumpValue)])
        case .buffer(let config):
            return .map([("max_request_bytes", .int(config.maxRequestBytes))])
        case .localRateLimit(let config):
            return .map([("max_tokens", .int(config.maxTokens)), ("tokens_per_fill", .int(config.tokensPerFill)),
                         ("fill_interval", .duration(config.fillInterval)), ("status_code", .int(config.statusCode))])
        case .coproc(let config):
            var fields: [(String, ConfigDump)] = []
            if !config.coprocessor.isEmpty { fields.append(("coprocessor", .string(config.coprocessor))) }
            fields += [("phases", .strings(config.phases.map(\.rawValue))), ("max_body_bytes", .int(config.maxBodyBytes))]
            // Exactly the JSON the coprocessor receives; JSON is YAML, so the dump parses back.
            if !config.settingsJSON.isEmpty { fields.append(("settings", .rawJSON(config.settingsJSON))) }
            if config.disabled { fields.append(("disabled", .bool(true))) }
            return .map(fields)
        case .jwtAuthn(let config):
            return config.dumpValue
        case .jwtAuthnPerRoute(.disabled):
            return .map([("disabled", .bool(true))])
        case .jwtAuthnPerRoute(.requirementName(let name)):
            return .map([("requirement_name", .string(name))])
        case .aesGCM(let config):
            return config.dumpValue
        case .aesGCMPerRoute(let config):
            return config.dumpValue
        case .flowControl(let config):
            return .map(config.disabled ? [("disabled", .bool(true))] : [])
        case .fault(let config):
            return config.dumpValue
        }
    }
}

extension HeaderMutations {
    var dumpValue: ConfigDump { .map([("add", Self.dump(add)), ("remove", .strings(remove))]) }

    static func dump(_ values: [HeaderValueOption]) -> ConfigDump {
        .list(values.map { .map([("name", .string($0.name)), ("value", .string($0.value)), ("append", .bool($0.append))]) })
    }
}

extension VirtualHostConfig {
    var dumpValue: ConfigDump {
        .map([("name", .string(name)), ("domains", .strings(domains)), ("routes", .list(routes.map(\.dumpValue)))])
    }
}

extension RouteMatch {
    var dumpValue: ConfigDump {
        var matchFields: [(String, ConfigDump)]
        switch path {
        case .prefix(let prefix): matchFields = [("prefix", .string(prefix))]
        case .exact(let path): matchFields = [("path", .string(path))]
        case .regex(let regex): matchFields = [("regex", .string(regex))]
        }
        if !headers.isEmpty {
            matchFields.append(("headers", .list(headers.map { matcher in
                var fields: [(String, ConfigDump)] = [("name", .string(matcher.name))]
                switch matcher.kind {
                case .exact(let value): fields.append(("exact", .string(value)))
                case .present: fields.append(("present", .bool(true)))
                case .regex(let regex): fields.append(("regex", .string(regex)))
                }
                fields.append(("invert", .bool(matcher.invert)))
                return .map(fields)
            })))
        }
        if !methods.isEmpty { matchFields.append(("methods", .strings(methods))) }
        matchFields.append(("case_sensitive", .bool(caseSensitive)))
        return .map(matchFields)
    }
}

extension RouteEntry {
    var dumpValue: ConfigDump {
        var actionFields: [(String, ConfigDump)]
        switch action {
        case .cluster(let name): actionFields = [("cluster", .string(name))]
        case .clusterHeader(let header): actionFields = [("cluster_header", .string(header))]
        case .weightedClusters(let clusters):
            actionFields = [("weighted_clusters", .map([("clusters", .list(clusters.map {
                .map([("name", .string($0.name)), ("weight", .int($0.weight))])
            }))]))]
        }
        actionFields.append(("timeout", .duration(timeout ?? .zero)))
        if let retryPolicy {
            var retry: [(String, ConfigDump)] = [
                ("retry_on", .strings(RetryPolicy.Condition.allCases.filter(retryPolicy.retryOn.contains).map(\.rawValue))),
                ("num_retries", .int(retryPolicy.numRetries)),
            ]
            if let perTry = retryPolicy.perTryTimeout { retry.append(("per_try_timeout", .duration(perTry))) }
            actionFields.append(("retry_policy", .map(retry)))
        }
        if let prefixRewrite { actionFields.append(("prefix_rewrite", .string(prefixRewrite))) }
        if let hostRewrite { actionFields.append(("host_rewrite", .string(hostRewrite))) }
        if !hashPolicy.isEmpty {
            actionFields.append(("hash_policy", .list(hashPolicy.map { policy in
                switch policy {
                case .header(let name): return .map([("header", .map([("header_name", .string(name))]))])
                case .cookie(let name): return .map([("cookie", .map([("name", .string(name))]))])
                case .sourceIP: return .map([("connection_properties", .map([("source_ip", .bool(true))]))])
                }
            })))
        }
        if !metadataMatch.isEmpty { actionFields.append(("metadata_match", .stringMap(metadataMatch))) }
        if !mirrorPolicies.isEmpty { actionFields.append(("request_mirror_policies", .list(mirrorPolicies.map(\.dumpValue)))) }

        var fields: [(String, ConfigDump)] = [("name", .string(name)), ("match", match.dumpValue), ("route", .map(actionFields))]
        if !requestHeaders.add.isEmpty { fields.append(("request_headers_to_add", HeaderMutations.dump(requestHeaders.add))) }
        if !requestHeaders.remove.isEmpty { fields.append(("request_headers_to_remove", .strings(requestHeaders.remove))) }
        if !responseHeaders.add.isEmpty { fields.append(("response_headers_to_add", HeaderMutations.dump(responseHeaders.add))) }
        if !responseHeaders.remove.isEmpty { fields.append(("response_headers_to_remove", .strings(responseHeaders.remove))) }
        if !perFilterConfig.isEmpty {
            fields.append(("per_filter_config", .map(perFilterConfig.sorted { $0.key < $1.key }.map { ($0.key, $0.value.configDumpValue) })))
        }
        return .map(fields)
    }
}

extension ClusterConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = [
            ("name", .string(name)), ("lb_policy", .string(lbPolicy.rawValue)),
            ("endpoints", .list(endpoints.map { endpoint in
                .map([("address", .string(endpoint.address.description)), ("weight", .int(endpoint.weight)),
                      ("metadata", .stringMap(endpoint.metadata))])
            })),
            ("upstream_protocol", .string(upstreamProtocol.rawValue)),
            ("connect_timeout", .duration(connectTimeout)),
            ("idle_timeout", .duration(idleConnectionTimeout)),
            ("circuit_breakers", .map([
                ("max_connections", .int(circuitBreakers.maxConnections)), ("max_pending_requests", .int(circuitBreakers.maxPendingRequests)),
                ("max_requests", .int(circuitBreakers.maxRequests)), ("max_retries", .int(circuitBreakers.maxRetries)),
            ])),
        ]
        if let tls { fields.append(("tls", tls.dumpValue)) }
        if let healthCheck {
            fields.append(("health_check", .map([
                ("interval", .duration(healthCheck.interval)), ("timeout", .duration(healthCheck.timeout)),
                ("healthy_threshold", .int(healthCheck.healthyThreshold)), ("unhealthy_threshold", .int(healthCheck.unhealthyThreshold)),
                ("path", .string(healthCheck.path)),
                ("expected_statuses", .list(healthCheck.expectedStatuses.map { range in
                    range.lowerBound == range.upperBound ? .int(range.lowerBound) : .string("\(range.lowerBound)-\(range.upperBound)")
                })),
            ])))
        }
        if let outlierDetection {
            fields.append(("outlier_detection", .map([
                ("consecutive_5xx", .int(outlierDetection.consecutive5xx)),
                ("base_ejection_time", .duration(outlierDetection.baseEjectionTime)),
                ("max_ejection_time", .duration(outlierDetection.maxEjectionTime)),
                ("max_ejection_percent", .int(outlierDetection.maxEjectionPercent)),
            ])))
        }
        if let subset {
            var subsetFields: [(String, ConfigDump)] = [("selectors", .list(subset.selectors.map(ConfigDump.strings))),
                                                        ("fallback_policy", .string(subset.fallback.rawValue))]
            if !subset.defaultSubset.isEmpty { subsetFields.append(("default_subset", .stringMap(subset.defaultSubset))) }
            fields.append(("subset", .map(subsetFields)))
        }
        fields.append(("ring_hash", .map([("minimum_ring_size", .int(ringHashMinimumRingSize))])))
        fields.append(("maglev", .map([("table_size", .int(maglevTableSize))])))
        return .map(fields)
    }
}

extension QUICListenerConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)]
        switch retry {
        case .off: fields = [("retry", .string("off"))]
        case .always: fields = [("retry", .string("always"))]
        case .underLoad(let handshakes): fields = [("retry", .string("under_load")), ("retry_threshold", .int(handshakes))]
        }
        fields += [("max_connections", .int(maxConnections)), ("stateless_reset", .bool(statelessReset)),
                   ("stream_window_bytes", .int(streamWindowBytes)), ("new_token_lifetime", .duration(newTokenLifetime)),
                   ("early_data", .bool(earlyData))]
        if let qlogDirectory { fields += [("qlog_dir", .string(qlogDirectory)), ("qlog_max_files", .int(qlogMaxFiles))] }
        if secret != nil { fields.append(("secret_file", ConfigDump.redacted)) }
        return .map(fields)
    }
}
