import Foundation
import HerzCore

extension AdminRoutes {
    /// The body of GET /flow: the rules in force (canonical text, counts, and per limit a bounded
    /// list of per-key state), the global store as each worker sees it, the rules file, the
    /// program's generation and the last rejected rules file's errors, and the cluster policies' live
    /// state (`clusters`, the body of GET /flow/clusters).
    struct FlowBody: Encodable {
        struct Rule: Encodable {
            let name: String
            let text: String
            let matches: String
            let onLimit: String
            let counts: [String: Int]
            let limits: [Limit]
        }
        struct Limit: Encodable {
            let id: String
            let limit: String
            let scope: String
            /// Keys with state of their own (the overflow entry aside).
            let keys: Int
            /// At most ``AdminRoutes/flowKeysShown`` keys, sorted.
            let state: [KeyState]
            let truncated: Bool
        }
        struct KeyState: Encodable {
            let key: String
            let tokens: Double?
            let inFlight: Int?
        }
        struct Store: Encodable {
            let address: String
            let callTimeoutMs: Double
            let maxBatch: Int
            let decisions: [Decision]
            let workers: [Worker]
        }
        struct Decision: Encodable {
            let basis: String
            let admitted: Int
            let limited: Int
        }
        struct Worker: Encodable {
            let circuit: String
            let waiting: Int
            let callsInFlight: Int
            let leases: [Lease]
        }
        struct Lease: Encodable {
            let id: String
            let keys: Int
            let tokensHeld: Int
        }
        let generation: UInt64
        let rulesFile: String?
        let lastError: String?
        let reloads: [String: Int]
        let rules: [Rule]
        let store: Store?
        let clusters: FlowClustersBody

        enum CodingKeys: String, CodingKey {
            case generation, rulesFile, lastError, reloads, rules, store, clusters
        }

        /// Every top-level key is always there (`null` when empty), so clients can test for it.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(generation, forKey: .generation)
            try container.encode(rulesFile, forKey: .rulesFile)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(reloads, forKey: .reloads)
            try container.encode(rules, forKey: .rules)
            try container.encode(store, forKey: .store)
            try container.encode(clusters, forKey: .clusters)
        }
    }

    static let flowKeysShown = 20

    func flowJSON() -> String {
        let engine = kernel.flowControl
        let now = engine.now
        let (program, limits) = engine.withState { state in
            (state.program, state.program.limitIDs.indices.map { Self.limitView(state.limiter($0), now: now) })
        }
        let rules = program.rules.rules.enumerated().map { number, rule -> FlowBody.Rule in
            let first = program.limitStart[number]
            let counters = program.counters[number]
            return FlowBody.Rule(
                name: rule.name, text: rule.description, matches: rule.match.description, onLimit: rule.onLimit.description,
                counts: Dictionary(uniqueKeysWithValues: FlowRuleCounters.Decision.allCases.map { ($0.rawValue, counters.count($0)) }),
                limits: rule.limits.enumerated().map { offset, limit in
                    let view = limits[first + offset]
                    let scope: String
                    switch limit.scope {
                    case .local: scope = "local"
                    case .global: scope = "global"
                    }
                    return FlowBody.Limit(id: program.limitIDs[first + offset].description, limit: limit.description, scope: scope,
                                          keys: view.keys, state: view.state, truncated: view.truncated)
                })
        }
        let status = engine.reloadStatus.current
        return encode(FlowBody(generation: program.generation, rulesFile: program.rulesPath.isEmpty ? nil : program.rulesPath,
                               lastError: status.lastError, reloads: ["ok": status.succeeded, "failed": status.failed],
                               rules: rules, store: program.store.map { storeView($0, engine: engine) },
                               clusters: flowClustersBody()))
    }

    private static func limitView(_ limiter: FlowRuntimeState.Limiter?, now: UInt64)
        -> (keys: Int, state: [FlowBody.KeyState], truncated: Bool) {
        func text(_ key: String) -> String { key.replacingOccurrences(of: "\u{1F}", with: " | ") }
        switch limiter {
        case .rate(let table)?:
            let rows = table.entries(upTo: flowKeysShown).map { FlowBody.KeyState(key: text($0.key), tokens: $0.entry.tokens(now: now), inFlight: nil) }
            return (table.count, rows, table.count > rows.count)
        case .concurrency(let table)?:
            let rows = table.entries(upTo: flowKeysShown).map { FlowBody.KeyState(key: text($0.key), tokens: nil, inFlight: $0.entry.inFlight) }
            return (table.count, rows, table.count > rows.count)
        case nil:
            return (0, [], false)
        }
    }

    private func storeView(_ store: FlowStoreConfig, engine: FlowControlEngine) -> FlowBody.Store {
        let workers = engine.globals.all.compactMap { worker -> FlowBody.Worker? in
            try? worker.eventLoop.submit { () -> FlowBody.Worker in
                guard let state = worker.snapshot else { return FlowBody.Worker(circuit: "unused", waiting: 0, callsInFlight: 0, leases: []) }
                let circuit: String
                switch state.storeCircuit.state {
                case .closed: circuit = "closed"
                case .open: circuit = "open"
                case .halfOpen: circuit = "half_open"
                }
                let leases = state.limits.map { limit in
                    FlowBody.Lease(id: limit.id.description, keys: limit.leases.count,
                                   tokensHeld: limit.leases.entries(upTo: Int.max).reduce(0) { $0 + $1.entry.tokens })
                }
                return FlowBody.Worker(circuit: circuit, waiting: state.waitingCount, callsInFlight: state.callsInFlight, leases: leases)
            }.wait()
        }
        return FlowBody.Store(address: store.address.description, callTimeoutMs: Double(store.callTimeout.nanoseconds) / 1e6,
                              maxBatch: store.maxBatch,
                              decisions: engine.globals.counters.rows.map { FlowBody.Decision(basis: $0.basis, admitted: $0.admitted, limited: $0.limited) },
                              workers: workers)
    }
}
