import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options every subcommand takes: where the admin API is, how long to wait, and whether to
/// print the raw JSON instead of a human-readable rendering.
struct AdminOptions: ParsableArguments {
    /// Used when neither `--admin` nor `$HERZ_ADMIN` is given.
    static let defaultAdminURL = "http://127.0.0.1:9901"

    @Option(help: "Admin API base URL (default: $HERZ_ADMIN or \(AdminOptions.defaultAdminURL)).")
    var admin: String?

    @Flag(help: "Print the admin API's raw JSON answer instead of a readable summary.")
    var json: Bool = false

    @Option(help: "Seconds to wait for the admin API before giving up.")
    var timeout: Double = 5

    /// The admin URL actually used: `--admin`, else `$HERZ_ADMIN`, else the default.
    var adminURL: String {
        if let admin { return admin }
        if let env = getenv("HERZ_ADMIN"), let value = String(validatingCString: env), !value.isEmpty {
            return value
        }
        return Self.defaultAdminURL
    }

    /// A client for `adminURL`; exits with status 2 and a message when the URL is malformed.
    func client() throws -> AdminClient {
        do {
            return AdminClient(endpoint: try AdminEndpoint(parsing: adminURL), timeoutSeconds: timeout)
        } catch let error as AdminClientError {
            throw Terminal.fail(error)
        }
    }

    /// Runs one admin request; an unreachable or silent admin API exits with status 2 and a message.
    func request(_ send: (AdminClient) throws -> AdminResponse) throws -> AdminResponse {
        let client = try client()
        do {
            return try send(client)
        } catch let error as AdminClientError {
            throw Terminal.fail(error)
        }
    }

    /// GET `path` and print it: the raw JSON with `--json`, else `render(json)`. Exit 1 when the
    /// kernel answers an error or JSON `render` cannot read.
    func show(_ path: String, render: (String) throws -> String) throws {
        let response = try request { try $0.get(path) }
        guard response.isSuccess else { throw Terminal.fail("GET \(path)", response) }
        if json {
            Terminal.out(response.body)
            return
        }
        do {
            Terminal.out(try render(response.body))
        } catch {
            Terminal.err("herzctl: GET \(path) answered JSON herzctl cannot read: \(error)")
            throw ExitCode(1)
        }
    }
}
