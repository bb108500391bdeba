import Foundation
import Yams

/// Decodes the `tls:` blocks of listeners and clusters and checks the files they name, so a missing
/// file, an unreadable key or a file that is not PEM is a `file:line:col` error before anything
/// is swapped in. (The TLS library parses the PEM again when it builds the context; a file that
/// passes this check but still fails there rejects the reload with the path in the message.)
enum TLSDecoder {
    static let listenerKeys = ["cert", "key", "certificates", "client_auth", "ca", "crl", "allowed_sans"]
    static let certificateKeys = ["cert", "key", "server_names"]
    static let clusterKeys = ["sni", "ca", "verify", "alpn", "cert", "key"]

    enum PEMKind: String {
        case certificate = "CERTIFICATE"
        case privateKey = "PRIVATE KEY"
    }

    /// A listener's `tls:` (`map` is already checked against ``listenerKeys``).
    static func decodeListener(_ map: YAMLMap, _ context: ConfigDecodingContext) -> TLSConfig? {
        var certificates: [TLSCertificateConfig] = []
        var ok = true
        if map.has("certificates") {
            if map.has("cert") || map.has("key") {
                context.report(.invalidValue(field: map.field("certificates"), value: "…",
                                             reason: "give either cert/key or certificates, not both"), at: map.keyNode("certificates"))
                ok = false
            }
            let items = map.list("certificates") ?? []
            if items.isEmpty, map["certificates"] != nil {
                context.report(.invalidValue(field: map.field("certificates"), value: "[]", reason: "needs at least one certificate"),
                               at: map["certificates"])
                ok = false
            }
            for (index, item) in items.enumerated() {
                guard let entry = context.map(item, "\(map.field("certificates"))[\(index)]", known: certificateKeys,
                                              required: ["cert", "key"]) else { ok = false; continue }
                guard let pair = certificateAndKey(entry, context) else { ok = false; continue }
                certificates.append(TLSCertificateConfig(certificatePath: pair.cert, privateKeyPath: pair.key,
                                                         serverNames: entry.stringList("server_names") ?? []))
            }
        } else if map.has("cert") || map.has("key") {
            for key in ["cert", "key"] where !map.has(key) {
                context.report(.missingField(field: key, in: map.what), at: map.node); ok = false
            }
            if let pair = certificateAndKey(map, context) {
                certificates.append(TLSCertificateConfig(certificatePath: pair.cert, privateKeyPath: pair.key))
            } else { ok = false }
        } else {
            context.report(.missingField(field: "cert", in: "\(map.what) (or certificates)"), at: map.node)
            ok = false
        }

        let clientAuth = map.choice("client_auth", as: TLSConfig.ClientAuth.self) ?? TLSConfig.ClientAuth.none
        let ca = map.string("ca")
        if let ca, !checkPEM(map, "ca", path: ca, kind: .certificate, context) { ok = false }
        if clientAuth != .none, ca == nil, map["client_auth"] != nil {
            context.report(.missingField(field: "ca", in: "\(map.what) (client_auth: \(clientAuth.rawValue))"), at: map.keyNode("client_auth"))
            ok = false
        }
        if clientAuth == .none {
            for key in ["ca", "allowed_sans", "crl"] where map.has(key) {
                context.report(.invalidValue(field: map.field(key), value: "…",
                                             reason: "needs client_auth: require or request"), at: map.keyNode(key))
                ok = false
            }
        }
        if map.has("crl") {
            // swift-nio-ssl exposes no CRL store (no X509_STORE_add_crl / CRL check flags), so a
            // CRL cannot be enforced; refusing is safer than silently ignoring revocations.
            context.report(.invalidValue(field: map.field("crl"), value: "…",
                                         reason: "CRL checking is not supported by the TLS library (swift-nio-ssl); use allowed_sans or rotate the CA"),
                           at: map.keyNode("crl"))
            ok = false
        }
        let sans = map.stringList("allowed_sans") ?? []
        guard ok, !certificates.isEmpty else { return nil }
        return TLSConfig(certificates: certificates, clientAuth: clientAuth, clientCAPath: ca, allowedSANs: sans)
    }

    /// A cluster's `tls:`; `upstream` is the cluster's protocol, which `alpn` must offer.
    static func decodeCluster(_ map: YAMLMap, upstream: ClusterConfig.UpstreamProtocol, _ context: ConfigDecodingContext) -> UpstreamTLSConfig? {
        let errorsBefore = context.errors.count
        let token = upstream == .http2 ? "h2" : "http/1.1"
        var tls = UpstreamTLSConfig(alpn: [token])
        tls.sni = map.string("sni")
        if let verify = map.bool("verify") { tls.verify = verify }
        if let ca = map.string("ca"), checkPEM(map, "ca", path: ca, kind: .certificate, context) { tls.caPath = ca }
        if let alpn = map.stringList("alpn") {
            if let bad = alpn.first(where: { $0 != "h2" && $0 != "http/1.1" }) {
                context.report(.invalidValue(field: map.field("alpn"), value: bad, reason: "expected h2 or http/1.1"), at: map["alpn"])
            } else if !alpn.contains(token) {
                context.report(.invalidValue(field: map.field("alpn"), value: alpn.joined(separator: ","),
                                             reason: "must offer \(token), the cluster's upstream protocol"), at: map["alpn"])
            } else {
                // The cluster's protocol is fixed, so it is the only token offered.
                tls.alpn = [token]
            }
        }
        if map.has("cert") || map.has("key") {
            for key in ["cert", "key"] where !map.has(key) { context.report(.missingField(field: key, in: map.what), at: map.node) }
            if let pair = certificateAndKey(map, context) {
                tls.certificatePath = pair.cert; tls.privateKeyPath = pair.key
            }
        }
        return context.errors.count == errorsBefore ? tls : nil
    }

    private static func certificateAndKey(_ map: YAMLMap, _ context: ConfigDecodingContext) -> (cert: String, key: String)? {
        guard let cert = map.string("cert"), let key = map.string("key") else { return nil }
        let certOK = checkPEM(map, "cert", path: cert, kind: .certificate, context)
        let keyOK = checkPEM(map, "key", path: key, kind: .privateKey, context)
        return certOK && keyOK ? (cert, key) : nil
    }

    /// Reports a missing or unreadable file, or one without a PEM block of `kind`.
    @discardableResult
    static func checkPEM(_ map: YAMLMap, _ key: String, path: String, kind: PEMKind, _ context: ConfigDecodingContext) -> Bool {
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path) else {
            context.report(.fileNotFound(field: map.field(key), path: path), at: map[key])
            return false
        }
        let text = String(decoding: data, as: UTF8.self)
        let found = text.range(of: "-----BEGIN ") != nil && text.components(separatedBy: "-----BEGIN ").dropFirst().contains {
            let label = $0.prefix { $0 != "-" }
            return label.hasSuffix(kind.rawValue)
        }
        if !found {
            context.report(.invalidValue(field: map.field(key), value: path,
                                         reason: "not a PEM file with a \(kind.rawValue) block"), at: map[key])
        }
        return found
    }
}
