import ArgumentParser

/// `herzctl flow`: the flow rules in force with their decisions and limits' live state.
struct FlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "List flow rules: decisions per rule, each limit's keys and state, the global store."
    )

    @OptionGroup var options: AdminOptions

    func run() throws {
        try options.show("/flow") { try FlowListing.decode($0).rendered() }
    }
}
