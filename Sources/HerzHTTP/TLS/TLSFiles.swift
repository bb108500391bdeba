import NIOSSL

/// Reads PEM certificates and keys with errors that name the file (never its contents).
enum TLSFiles {
    struct LoadError: Error, CustomStringConvertible {
        let path: String
        let what: String
        let underlying: Error
        var description: String { "\(path): cannot load \(what): \(underlying)" }
    }

    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(path)
            if chain.isEmpty { throw NIOSSLError.failedToLoadCertificate }
            return chain
        } catch { throw LoadError(path: path, what: "PEM certificates", underlying: error) }
    }

    static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        do { return try NIOSSLPrivateKey(file: path, format: .pem) }
        catch { throw LoadError(path: path, what: "PEM private key", underlying: error) }
    }
}
