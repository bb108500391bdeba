import ArgumentParser

/// `herzctl reload`: ask the kernel to re-read its configuration.
///
/// Prints the kernel's answer: `reloaded` on stdout and exit 0, or the `file:line:col` errors
/// on stderr and exit 1 (with `--json`, the raw answer always goes to stdout).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload the kernel's configuration (exit 0 when accepted, 1 when rejected)."
    )

    @OptionGroup var options: AdminOptions

    func run() throws {
        let response = try options.request { try $0.post("/reload") }
        if options.json || response.isSuccess {
            Terminal.out(response.body)
        } else {
            Terminal.err("herzctl: reload rejected (\(response.status)):")
            Terminal.err(response.body)
        }
        if !response.isSuccess { throw ExitCode(1) }
    }
}
