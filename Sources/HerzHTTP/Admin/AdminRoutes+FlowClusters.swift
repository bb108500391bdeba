import HerzCore
import NIOHTTP1

extension AdminRoutes {
    /// The body of GET /flow/clusters: per `cluster "NAME" { … }` block its policies (canonical
    /// text), its breaker (state, time left open, probes, counts in the window, refusals,
    /// transitions) and per endpoint the dynamic weight in force, what was measured over the
    /// window (p95, requests, failures, error rate) and whether it is ejected.
    struct FlowClustersBody: Encodable {
        struct Breaker: Encodable {
            let state: String
            let openForMs: UInt64?
            let probesInFlight: Int?
            let probesSucceeded: Int?
            let windowRequests: Int
            let windowFailures: Int
            let rejected: Int
            let transitions: [String: Int]
        }
        struct Endpoint: Encodable {
            let address: String
            let configuredWeight: Int
            let dynamicWeight: Int?
            let p95Ms: Double?
            let requests: Int
            let failures: Int
            let errorRate: Double?
            let ejected: Bool
        }
        struct Cluster: Encodable {
            let name: String
            let policy: String
            let lbPolicy: String
            /// false for ring_hash and maglev, whose rings keep the configured weights.
            let weightsApplied: Bool
            let weightChanges: Int
            let breaker: Breaker?
            let endpoints: [Endpoint]
        }
        let windowSeconds: Double
        let clusters: [Cluster]
    }

    func flowClustersJSON() -> String {
        let registry = kernel.flowClusters
        let now = FlowClusterRegistry.now()
        let clusters = registry.all().map { runtime -> FlowClustersBody.Cluster in
            let view = runtime.view(now: now)
            let breaker = view.breakerState.map { state -> FlowClustersBody.Breaker in
                var openFor: UInt64?, inFlight: Int?, succeeded: Int?
                switch state {
                case .closed: break
                case .open(let until): openFor = (until > now ? until - now : 0) / 1_000_000
                case .halfOpen(let probes, let ok): inFlight = probes; succeeded = ok
                }
                let transitions = Dictionary(view.transitions.map { ("\($0.key.from.rawValue)->\($0.key.to.rawValue)", $0.value) },
                                             uniquingKeysWith: +)
                return .init(state: view.phase.rawValue, openForMs: openFor, probesInFlight: inFlight, probesSucceeded: succeeded,
                             windowRequests: view.windowRequests, windowFailures: view.windowFailures, rejected: view.rejections,
                             transitions: transitions)
            }
            let readings = Dictionary(view.readings.map { ($0.endpoint, $0) }, uniquingKeysWith: { a, _ in a })
            let endpoints = view.endpoints.map { endpoint -> FlowClustersBody.Endpoint in
                let address = endpoint.address.description
                let reading = readings[address]
                return .init(address: address, configuredWeight: endpoint.weight, dynamicWeight: view.weights[address],
                             p95Ms: reading?.p95Nanos.map { Double($0) / 1e6 }, requests: reading?.requests ?? 0,
                             failures: reading?.failures ?? 0, errorRate: reading?.errorRate, ejected: reading?.excluded ?? false)
            }
            return .init(name: view.cluster.name, policy: view.cluster.description,
                         lbPolicy: view.lbPolicy.rawValue, weightsApplied: view.weightsApply,
                         weightChanges: view.weightChanges, breaker: breaker, endpoints: endpoints)
        }
        return encode(FlowClustersBody(windowSeconds: Double(registry.timing.windowNanos) / 1e9, clusters: clusters))
    }
}
