import NIOHTTP1

/// The cluster a matched route sends to: its `cluster`; the value of its `cluster_header` (`nil`
/// when the header is missing or empty); or, for `weighted_clusters`, the cluster whose cumulative
/// weight range holds `random % totalWeight`. The caller supplies `random` (a per-worker generator,
/// or a fixed value in tests), so selection is pure and deterministic.
public func selectCluster(for route: RouteEntry, headers: HTTPHeaders, random: UInt64) -> String? {
    switch route.action {
    case .cluster(let name):
        return name
    case .clusterHeader(let header):
        guard let value = headers.first(name: header), !value.isEmpty else { return nil }
        return value
    case .weightedClusters(let clusters):
        var total: UInt64 = 0
        for cluster in clusters { total += UInt64(max(cluster.weight, 0)) }
        guard total > 0 else { return nil }
        var point = random % total
        for cluster in clusters {
            let weight = UInt64(max(cluster.weight, 0))
            if point < weight { return cluster.name }
            point -= weight
        }
        return nil
    }
}
