import ArgumentParser

/// `herzctl clusters`: every cluster's endpoints with health, ejection and request counters.
struct ClustersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters",
        abstract: "List clusters and their endpoints' health and counters."
    )

    @OptionGroup var options: AdminOptions

    func run() throws {
        let client = try options.client()
        let response: AdminResponse
        do {
            response = try client.get("/clusters")
        } catch let error as AdminClientError {
            throw Terminal.fail(error)
        }
        guard response.isSuccess else { throw Terminal.fail("GET /clusters", response) }
        if options.json {
            Terminal.out(response.body)
            return
        }
        do {
            Terminal.out(try ClusterListing.decode(response.body).rendered())
        } catch {
            Terminal.err("herzctl: GET /clusters answered JSON herzctl cannot read: \(error)")
            throw ExitCode(1)
        }
    }
}
