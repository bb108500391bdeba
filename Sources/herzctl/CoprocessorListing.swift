import Foundation

/// The kernel's `GET /coprocessors` answer, as much of it as `herzctl coproc list` shows.
///
/// Decoding is lenient: fields a kernel does not report (no session yet, no stats) show as `-`.
struct CoprocessorListing: Decodable, Equatable {
    struct Coprocessor: Decodable, Equatable {
        var name: String
        var endpoint: String
        var state: String
        var onFailure: String?
        var pid: Int?
        var build: String?
        var generation: Int?
        var restarts: Int?
        var lastError: String?
        var kernelInFlight: Int?
        var kernelQueued: Int?
        var ringOccupancyBytes: Int?
        var stats: Stats?

        enum CodingKeys: String, CodingKey {
            case name, endpoint, state, pid, build, generation, restarts, stats
            case onFailure = "on_failure"
            case lastError = "last_error"
            case kernelInFlight = "kernel_in_flight"
            case kernelQueued = "kernel_queued"
            case ringOccupancyBytes = "ring_occupancy_bytes"
        }
    }

    struct Stats: Decodable, Equatable {
        var callsServed: Int?
        var callsFailed: Int?

        enum CodingKeys: String, CodingKey {
            case callsServed = "calls_served"
            case callsFailed = "calls_failed"
        }
    }

    var coprocessors: [Coprocessor]

    static func decode(_ json: String) throws -> CoprocessorListing {
        try JSONDecoder().decode(CoprocessorListing.self, from: Data(json.utf8))
    }

    /// The table printed by `herzctl coproc list`: one row per coprocessor, then its last error
    /// (if any) on an indented line of its own.
    func rendered() -> String {
        guard !coprocessors.isEmpty else { return "no coprocessors configured" }
        var table = TextTable(header: [
            "NAME", "STATE", "PID", "BUILD", "GEN", "RESTARTS", "IN-FLIGHT", "QUEUED", "RING", "SERVED", "FAILED", "ON-FAILURE",
        ])
        func text(_ n: Int?) -> String { n.map(String.init) ?? "-" }
        for c in coprocessors {
            table.add([
                c.name, c.state, text(c.pid), c.build ?? "-", text(c.generation), text(c.restarts),
                text(c.kernelInFlight), text(c.kernelQueued), text(c.ringOccupancyBytes),
                text(c.stats?.callsServed), text(c.stats?.callsFailed), c.onFailure ?? "-",
            ])
        }
        let errors = coprocessors.compactMap { c in c.lastError.map { "  \(c.name): last error: \($0)" } }
        return ([table.rendered()] + errors).joined(separator: "\n")
    }
}
