import HerzCore

/// The flow-control part of `/metrics`, read at scrape time from the engine's counters (the data
/// path only bumps relaxed atomics):
/// - `herz_flow_requests_total{rule, decision}` — allowed, delayed, limited, shadowed per rule;
/// - `herz_flow_global_decisions_total{basis, decision}` — global-limit answers by what they rest
///   on (lease, store, store_failure.REASON, no_such_limit), admitted or limited;
/// - `herz_flow_rules_reloads_total{result}`, `herz_flow_rules_generation`, and
///   `herz_flow_rules_last_error{error}` — the last rejected rules file's first error (none once
///   new rules load).
struct FlowMetricsExposition {
    let engine: FlowControlEngine

    func render() -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ rows: [(String, Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in rows { out += "\(name)\(labels) \(value)\n" }
        }
        let program = engine.program
        var requests: [(String, Int)] = []
        for (number, rule) in program.rules.rules.enumerated() {
            for decision in FlowRuleCounters.Decision.allCases {
                requests.append(("{rule=\"\(Self.escape(rule.name))\",decision=\"\(decision.rawValue)\"}", program.counters[number].count(decision)))
            }
        }
        family("herz_flow_requests_total", "counter", "Requests decided by each flow rule, by decision", requests)
        var globals: [(String, Int)] = []
        if program.store != nil {
            for row in engine.globals.counters.rows {
                globals.append(("{basis=\"\(row.basis)\",decision=\"admitted\"}", row.admitted))
                globals.append(("{basis=\"\(row.basis)\",decision=\"limited\"}", row.limited))
            }
        }
        family("herz_flow_global_decisions_total", "counter", "Global-limit decisions by basis (lease, store, store_failure.REASON)", globals)
        let status = engine.reloadStatus.current
        family("herz_flow_rules_reloads_total", "counter", "Loads of changed flow rules by result",
               [("{result=\"ok\"}", status.succeeded), ("{result=\"failed\"}", status.failed)])
        family("herz_flow_rules_generation", "gauge", "Generation of the flow rules in force", [("", Int(program.generation))])
        let error = status.lastError.map { $0.split(separator: "\n").first.map(String.init) ?? $0 }
        family("herz_flow_rules_last_error", "gauge", "1 with the last rejected rules file's first error as a label",
               error.map { [("{error=\"\(Self.escape($0))\"}", 1)] } ?? [])
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ")
    }
}
