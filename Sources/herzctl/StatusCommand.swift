import ArgumentParser

/// `herzctl status`: is the kernel ready, what config it runs, how many listeners and clusters.
///
/// Reads `GET /status`; if the kernel has no `/status`, falls back to `GET /readyz` (200 means
/// ready). Exits 0 when ready, 1 when not, 2 when the admin API is unreachable.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show readiness, config source, listeners and clusters (exit 0 when ready)."
    )

    @OptionGroup var options: AdminOptions

    func run() throws {
        let client = try options.client()
        let response: AdminResponse
        do {
            response = try client.get("/status")
        } catch let error as AdminClientError {
            throw Terminal.fail(error)
        }

        if response.status == 404 {
            try readyzFallback(client)
            return
        }
        guard response.isSuccess else { throw Terminal.fail("GET /status", response) }

        let status: KernelStatus
        do {
            status = try KernelStatus.decode(response.body)
        } catch {
            if options.json { Terminal.out(response.body) }
            Terminal.err("herzctl: GET /status answered JSON herzctl cannot read: \(error)")
            throw ExitCode(1)
        }
        Terminal.out(options.json ? response.body : status.rendered())
        if !status.ready { throw ExitCode(1) }
    }

    /// Older kernels: readiness only.
    private func readyzFallback(_ client: AdminClient) throws {
        let readyz: AdminResponse
        do {
            readyz = try client.get("/readyz")
        } catch let error as AdminClientError {
            throw Terminal.fail(error)
        }
        let ready = readyz.status == 200
        if options.json {
            Terminal.out("{\"ready\":\(ready)}")
        } else {
            Terminal.out("ready: \(ready ? "yes" : "no")")
            Terminal.err("herzctl: GET /status not available; showing GET /readyz only")
        }
        if !ready { throw ExitCode(1) }
    }
}
