/// A byte-wise prefix trie from literal path prefixes to rule numbers: looking up a path visits
/// one node per byte of the longest stored prefix it extends, and collects the rules of every
/// prefix of the path that was stored (the empty prefix included). Built once per load;
/// immutable afterwards and shared by every worker.
struct FlowPathTrie: Sendable {
    private struct Node: Sendable {
        var edges: [UInt8] = []
        var children: [Int] = []
        var rules: [Int] = []
    }

    private var nodes: [Node] = [Node()]

    var isEmpty: Bool { nodes.count == 1 && nodes[0].rules.isEmpty }

    mutating func insert(prefix: String, rule: Int) {
        var node = 0
        for byte in prefix.utf8 {
            if let edge = nodes[node].edges.firstIndex(of: byte) {
                node = nodes[node].children[edge]
            } else {
                nodes.append(Node())
                nodes[node].edges.append(byte)
                nodes[node].children.append(nodes.count - 1)
                node = nodes.count - 1
            }
        }
        if nodes[node].rules.last != rule { nodes[node].rules.append(rule) }
    }

    /// Appends the rules of every stored prefix of `path` to `result` (unsorted, maybe repeated).
    func collect<S: Sequence>(path: S, into result: inout [Int]) where S.Element == UInt8 {
        var node = 0
        result.append(contentsOf: nodes[0].rules)
        for byte in path {
            guard let edge = nodes[node].edges.firstIndex(of: byte) else { return }
            node = nodes[node].children[edge]
            result.append(contentsOf: nodes[node].rules)
        }
    }
}
