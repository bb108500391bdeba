import ArgumentParser

/// `herzctl`: the operator's command line over a running kernel's admin API.
///
/// Exit codes, shared by every subcommand: 0 success, 1 the kernel answered but not with
/// success (not ready, reload rejected, HTTP error), 2 the admin API could not be reached.
struct HerzCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herzctl",
        abstract: "Inspect and control a running Herz kernel through its admin API.",
        discussion: """
            The admin API address comes from --admin, else $HERZ_ADMIN, else \(AdminOptions.defaultAdminURL).

            Exit status: 0 success; 1 the kernel said no (not ready, reload rejected, HTTP error); \
            2 the admin API could not be reached or did not answer.
            """,
        subcommands: [StatusCommand.self, ReloadCommand.self, ClustersCommand.self, CoprocCommand.self, FlowCommand.self]
    )
}
