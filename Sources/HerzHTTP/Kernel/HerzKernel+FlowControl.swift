import HerzCore
import Logging

/// The kernel's side of flow control: the engine follows the config (a changed `flow_control:`
/// section, rules included, is swapped in with its counters carried over) and the rules file is
/// watched so that an edit reloads the config like SIGHUP does.
extension HerzKernel {
    /// The program of `config`'s rules (an empty one without `flow_control:`).
    static func flowProgram(_ config: HerzConfig, generation: UInt64, previous: FlowProgram?) -> FlowProgram {
        FlowProgram(rules: config.flowControl?.rules ?? FlowRules(rules: [], clusters: []), generation: generation,
                    store: config.flowControl?.store, rulesPath: config.flowControl?.rulesPath ?? "", previous: previous)
    }

    /// Watches the rules file of the config in force; a change reloads the whole config (which
    /// rereads the rules) on the admin queue, as `POST /reload` does.
    func startFlowRulesWatcher() {
        let path = currentSnapshot.config.flowControl?.rulesPath
        flowRulesWatcher.watch(Set([path].compactMap { $0 }))
        flowRulesWatcher.start(on: adminGroup.next()) { [weak self] in
            guard let self else { return }
            self.logger.info("flow rules file changed; reloading the config")
            self.reload()
        }
    }

    /// After `next` was installed: new rules (or store) go to the engine, carrying state over.
    func applyFlowControl(_ next: HerzConfig, previous: HerzConfig) {
        flowRulesWatcher.watch(Set([next.flowControl?.rulesPath].compactMap { $0 }))
        guard next.flowControl != previous.flowControl else { return }
        let current = flowControl.program
        let report = flowControl.reload(to: Self.flowProgram(next, generation: current.generation + 1, previous: current))
        flowControl.reloadStatus.succeeded()
        logger.info("flow rules reloaded", metadata: [
            "rules": "\(next.flowControl?.rulesPath ?? "none")", "count": "\(next.flowControl?.rules.rules.count ?? 0)",
            "kept": "\(report.kept.joined(separator: ", "))", "fresh": "\(report.fresh.joined(separator: ", "))",
            "dropped": "\(report.dropped.joined(separator: ", "))",
        ])
    }

    /// A rejected reload whose errors include the rules file's: recorded for `/flow` and `/metrics`.
    func noteFlowReloadFailure(_ error: Error) {
        guard let errors = error as? ConfigErrors else { return }
        let flowErrors = errors.errors.filter { if case .flowRules = $0.kind { true } else { false } }
        guard !flowErrors.isEmpty else { return }
        flowControl.reloadStatus.failed(flowErrors.map(\.description).joined(separator: "\n"))
    }
}
