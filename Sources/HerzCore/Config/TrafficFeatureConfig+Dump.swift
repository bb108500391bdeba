/// `/config_dump` forms of the traffic-feature config (same keys as the YAML, so a dump parses back).
extension Percentage {
    /// The percent as a JSON number (`12.5`, `100`).
    var dumpValue: ConfigDump {
        partsPerMillion % 10_000 == 0 ? .int(Int(partsPerMillion / 10_000)) : .rawJSON("\(percent)")
    }
}

extension RequestMirrorPolicy {
    var dumpValue: ConfigDump {
        .map([("cluster", .string(cluster)), ("percent", percent.dumpValue), ("max_body_bytes", .int(maxBodyBytes))])
    }
}

extension FaultFilterConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = []
        if let delay { fields.append(("delay", .map([("fixed_delay", .duration(delay.fixed)), ("percent", delay.percent.dumpValue)]))) }
        if let abort {
            let kind: (String, ConfigDump)
            switch abort.kind {
            case .http(let status): kind = ("http_status", .int(status))
            case .grpc(let status): kind = ("grpc_status", .int(status))
            }
            fields.append(("abort", .map([kind, ("percent", abort.percent.dumpValue)])))
        }
        fields.append(("headers_enabled", .bool(headersEnabled)))
        if let maxActiveFaults { fields.append(("max_active_faults", .int(maxActiveFaults))) }
        if disabled { fields.append(("disabled", .bool(true))) }
        return .map(fields)
    }
}
