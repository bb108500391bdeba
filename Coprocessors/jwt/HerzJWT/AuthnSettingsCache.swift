import Synchronization

/// Parsed ``AuthnSettings`` by their JSON text. Every call carries its rule's settings JSON; the
/// kernel renders one text per rule and config generation, so a handful of distinct texts recur
/// and each is parsed once. Bounded: past `capacity` distinct texts (config reloads) the cache
/// starts over. Failures are cached too, so a bad text is reported once, not parsed per call.
/// Thread-safe (ring threads share it).
public final class AuthnSettingsCache: Sendable {
    private let capacity: Int
    private let parsed = Mutex<[String: Result<AuthnSettings, SettingsError>]>([:])

    public init(capacity: Int = 64) {
        self.capacity = capacity
    }

    /// The settings of `json`, and whether this call parsed them (for logging a failure once).
    public func settings(for json: String) -> (result: Result<AuthnSettings, SettingsError>, isNew: Bool) {
        if let known = parsed.withLock({ $0[json] }) { return (known, false) }
        let result: Result<AuthnSettings, SettingsError>
        do throws(SettingsError) {
            result = .success(try AuthnSettings.parse(json))
        } catch {
            result = .failure(error)
        }
        parsed.withLock { cache in
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[json] = result
        }
        return (result, true)
    }
}
