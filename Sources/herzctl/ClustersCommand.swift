import ArgumentParser

/// `herzctl clusters`: every cluster's endpoints with health, ejection and request counters.
struct ClustersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters",
        abstract: "List clusters and their endpoints' health and counters."
    )

    @OptionGroup var options: AdminOptions

    func run() throws {
        try options.show("/clusters") { try ClusterListing.decode($0).rendered() }
    }
}
