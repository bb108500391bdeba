import ArgumentParser

/// `herzctl coproc list|drain NAME|reload NAME`: the kernel's coprocessors.
struct CoprocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coproc",
        abstract: "List coprocessors, drain one, or make one reload its configuration and keys.",
        subcommands: [List.self, Drain.self, Reload.self],
        defaultSubcommand: List.self
    )

    /// `herzctl coproc list`: state, process, restarts and the kernel's figures per coprocessor.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List coprocessors: state, pid, build, restarts, calls.")

        @OptionGroup var options: AdminOptions

        func run() throws {
            try options.show("/coprocessors") { try CoprocessorListing.decode($0).rendered() }
        }
    }

    /// `herzctl coproc drain NAME`: the kernel attaches a fresh session of the coprocessor, sends
    /// new calls there and lets the current session finish its calls (a graceful restart).
    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain a coprocessor's session: new calls go to a fresh session, the old one finishes its calls.")

        @OptionGroup var options: AdminOptions
        @Argument(help: "The coprocessor's name (as in `herzctl coproc list`).") var name: String

        func run() throws {
            try CoprocCommand.post("drain", to: name, options)
        }
    }

    /// `herzctl coproc reload NAME`: the coprocessor re-reads its own configuration and keys
    /// (control message `reload`); exit 0 when it did, 1 when it refused or could not be asked.
    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a coprocessor reload its own configuration and keys (exit 0 when it did).")

        @OptionGroup var options: AdminOptions
        @Argument(help: "The coprocessor's name (as in `herzctl coproc list`).") var name: String

        func run() throws {
            try CoprocCommand.post("reload", to: name, options)
        }
    }

    /// POST /coprocessors/NAME/ACTION: the kernel's answer on stdout (exit 0) or stderr (exit 1).
    static func post(_ action: String, to name: String, _ options: AdminOptions) throws {
        let response = try options.request { try $0.post("/coprocessors/\(name)/\(action)") }
        if options.json || response.isSuccess {
            Terminal.out(response.body)
        } else {
            Terminal.err("herzctl: \(action) of \(name) failed (\(response.status)): \(response.body.trimmingTrailingNewlines)")
        }
        if !response.isSuccess { throw ExitCode(1) }
    }
}
