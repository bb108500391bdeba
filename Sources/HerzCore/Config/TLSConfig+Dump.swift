/// `/config_dump` shapes of the TLS blocks: paths of certificates and CAs are shown, private keys
/// never (`<redacted>`).
extension TLSConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)]
        if certificates.count == 1, certificates[0].serverNames.isEmpty {
            fields = [("cert", .string(certificatePath)), ("key", ConfigDump.redacted)]
        } else {
            fields = [("certificates", .list(certificates.map {
                .map([("cert", .string($0.certificatePath)), ("key", ConfigDump.redacted), ("server_names", .strings($0.serverNames))])
            }))]
        }
        if clientAuth != .none {
            fields.append(("client_auth", .string(clientAuth.rawValue)))
            if let clientCAPath { fields.append(("ca", .string(clientCAPath))) }
            if !allowedSANs.isEmpty { fields.append(("allowed_sans", .strings(allowedSANs))) }
        }
        return .map(fields)
    }
}

extension UpstreamTLSConfig {
    var dumpValue: ConfigDump {
        var fields: [(String, ConfigDump)] = [("verify", .bool(verify)), ("alpn", .strings(alpn))]
        if let sni { fields.append(("sni", .string(sni))) }
        if let caPath { fields.append(("ca", .string(caPath))) }
        if let certificatePath { fields.append(("cert", .string(certificatePath))) }
        if privateKeyPath != nil { fields.append(("key", ConfigDump.redacted)) }
        return .map(fields)
    }
}
