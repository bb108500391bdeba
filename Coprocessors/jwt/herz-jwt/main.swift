import ArgumentParser
import Foundation
import HerzCoprocSDK
import HerzJWT
import Logging

/// herz-jwt: the coprocessor behind the kernel's `jwt_authn` filter. Verifies JWS tokens (ES256,
/// ES384, EdDSA, RS256, PS256) against per-provider JWKS files, which it alone reads.
/// `herz-jwt --listen unix:/run/herz-jwt/jwt.sock --jwks-root /etc/herz/jwt`
struct HerzJWTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herz-jwt",
        abstract: "JWT verification coprocessor for Herz's jwt_authn filter.")

    @OptionGroup var coprocessor: CoprocessorArguments

    @Option(name: .long, help: "The name the kernel knows this coprocessor by (its `coprocessors:` entry).")
    var name: String = "jwt"

    @Option(name: .customLong("jwks-root"), help: "Only read JWKS files inside this directory (relative names resolve against it).")
    var jwksRoot: String?

    @Option(name: .customLong("jwks-poll-ms"), help: "How often JWKS files are checked for changes, in milliseconds.")
    var jwksPollMillis: Int = 1000

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard jwksPollMillis > 0 else { throw ValidationError("--jwks-poll-ms must be positive") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        var logger = Logger(label: "herz.jwt")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let store = JWKSStore(root: jwksRoot, logger: logger)
        JWKSWatcher(store: store, intervalMillis: jwksPollMillis).start()
        let filter = JWTCoprocessorFilter(store: store, logger: logger, clock: { Date().timeIntervalSince1970 })
        let server = try CoprocessorServer(name: name, buildVersion: "1", filter: filter, options: try coprocessor.options(logger: logger))
        try server.run()
    }
}

HerzJWTCommand.main()
