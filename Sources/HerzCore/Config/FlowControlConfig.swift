import NIOCore

/// `flow_control:` in the YAML config: the flow-rules file (docs/flow-control.md), already parsed
/// and checked, and where the global limits' store is.
///
/// Guarantees: ``rules`` parsed without a diagnostic, every `cluster "…"` block in it names a YAML
/// cluster, and ``store`` is set whenever a rule has a `scope: global` limit. The rules are read as
/// part of the config load, so a broken rules file fails `--check` and every reload (SIGHUP,
/// `POST /reload`, a change of the file) exactly as a broken YAML file does: the old config, rules
/// included, keeps serving.
public struct FlowControlConfig: Sendable, Equatable {
    /// The path as written in the YAML.
    public var rulesFile: String
    /// ``rulesFile`` resolved against the directory of the YAML file (or the current directory for
    /// the built-in config): the file that is read and watched.
    public var rulesPath: String
    public var rules: FlowRules
    public var store: FlowStoreConfig?

    public init(rulesFile: String, rulesPath: String, rules: FlowRules, store: FlowStoreConfig? = nil) {
        self.rulesFile = rulesFile
        self.rulesPath = rulesPath
        self.rules = rules
        self.store = store
    }

    /// Whether any rule has a limit shared through the store.
    public var usesGlobalLimits: Bool {
        rules.rules.contains { rule in rule.limits.contains { if case .global = $0.scope { true } else { false } } }
    }
}

/// `flow_control.store`: the Redis server holding `scope: global` budgets.
public struct FlowStoreConfig: Sendable, Equatable {
    public var address: HostPort
    public var username: String?
    /// Secret: `/config_dump` shows `<redacted>`.
    public var password: String?
    /// How long one store call may take before its requests get the limit's `on_store_failure`.
    public var callTimeout: TimeAmount
    /// The most tokens one worker leases ahead per key (1 = no pre-fetch).
    public var maxBatch: Int

    public static let defaultCallTimeout = TimeAmount.milliseconds(5)
    public static let defaultMaxBatch = 16

    public init(address: HostPort, username: String? = nil, password: String? = nil,
                callTimeout: TimeAmount = defaultCallTimeout, maxBatch: Int = defaultMaxBatch) {
        self.address = address
        self.username = username
        self.password = password
        self.callTimeout = callTimeout
        self.maxBatch = maxBatch
    }
}
