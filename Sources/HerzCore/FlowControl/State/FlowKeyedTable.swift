/// A limiter state that a ``FlowKeyedTable`` can hold per key.
public protocol FlowKeyedState: Sendable, Equatable {
    associatedtype Configuration: Sendable, Hashable
    init(configuration: Configuration, now: UInt64)
    /// True when a fresh state would behave exactly the same, so dropping it loses nothing.
    func isPristine(now: UInt64) -> Bool
    /// The state under a new configuration (a reload), keeping what it has counted.
    func reconfigured(to configuration: Configuration, now: UInt64) -> Self
}

/// Where a key's state lives: its own entry, or the shared overflow entry.
public enum FlowKeySlot: Sendable, Hashable {
    case key(String)
    case overflow
}

/// Per-key limiter states (one bucket per client IP, per tenant…) with bounded memory: at most
/// `maxKeys` entries. When full, entries that are pristine (a full bucket, nothing in flight) are
/// swept — losslessly — at most once per ``sweepIntervalNanos``; keys that still find no room share
/// one overflow entry, which limits them together (conservative, never unbounded).
///
/// Callers resolve a ``FlowKeySlot`` once per request and use it for every later event of that
/// request (a concurrency release goes to the entry that counted the acquire). Pure value type.
public struct FlowKeyedTable<Entry: FlowKeyedState>: Sendable, Equatable {
    public static var sweepIntervalNanos: UInt64 { 1_000_000_000 }

    public private(set) var configuration: Entry.Configuration
    public let maxKeys: Int
    private var entries: [String: Entry] = [:]
    private var overflow: Entry
    private var nextSweep: UInt64 = 0

    public init(configuration: Entry.Configuration, maxKeys: Int = 100_000, now: UInt64) {
        self.configuration = configuration
        self.maxKeys = max(1, maxKeys)
        self.overflow = Entry(configuration: configuration, now: now)
    }

    public var count: Int { entries.count }

    /// The slot for `key`, creating its entry when there is room.
    public mutating func slot(for key: String, now: UInt64) -> FlowKeySlot {
        if entries.index(forKey: key) != nil { return .key(key) }
        if entries.count >= maxKeys, now >= nextSweep {
            sweep(now: now)
            nextSweep = now &+ Self.sweepIntervalNanos
        }
        guard entries.count < maxKeys else { return .overflow }
        entries[key] = Entry(configuration: configuration, now: now)
        return .key(key)
    }

    /// Runs `body` on the slot's entry; nil when a keyed entry no longer exists.
    public mutating func withEntry<T>(at slot: FlowKeySlot, _ body: (inout Entry) -> T) -> T? {
        switch slot {
        case .overflow:
            return body(&overflow)
        case .key(let key):
            guard let index = entries.index(forKey: key) else { return nil }
            return body(&entries.values[index])   // in place: one hash lookup, no remove and re-insert
        }
    }

    public func entry(at slot: FlowKeySlot) -> Entry? {
        switch slot {
        case .overflow: return overflow
        case .key(let key): return entries[key]
        }
    }

    /// At most `limit` entries, sorted by key (for `/flow`; a bounded view of a table that may hold
    /// many keys).
    public func entries(upTo limit: Int) -> [(key: String, entry: Entry)] {
        entries.prefix(max(0, limit)).map { (key: $0.key, entry: $0.value) }.sorted { $0.key < $1.key }
    }

    /// The entry keys share once the table is full.
    public var overflowEntry: Entry { overflow }

    /// Drops every pristine entry.
    public mutating func sweep(now: UInt64) {
        entries = entries.filter { !$0.value.isPristine(now: now) }
    }

    /// Every entry (and the overflow entry) under `configuration`, keeping what each has counted.
    public func reconfigured(to configuration: Entry.Configuration, now: UInt64) -> FlowKeyedTable {
        var table = self
        table.configuration = configuration
        table.entries = entries.mapValues { $0.reconfigured(to: configuration, now: now) }
        table.overflow = overflow.reconfigured(to: configuration, now: now)
        return table
    }
}

extension FlowTokenBucket: FlowKeyedState {}

extension FlowConcurrencyLimiter: FlowKeyedState {
    public init(configuration: Int, now: UInt64) { self.init(limit: configuration) }

    public func isPristine(now: UInt64) -> Bool { isPristine }

    public func reconfigured(to configuration: Int, now: UInt64) -> FlowConcurrencyLimiter { reconfigured(limit: configuration) }
}
