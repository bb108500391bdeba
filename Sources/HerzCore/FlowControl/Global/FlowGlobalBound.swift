/// The documented over-admission bound of a global limit (docs/flow-control.md, section 9), as a
/// formula tests and operators can evaluate.
///
/// While the store answers, the requests a fleet admits on one key in any window of length `t` are at most
///
///     burst + rate·(t + d) + H·(N − 1)
///
/// - `H`: limiter instances sharing the key (kernels × workers; each worker leases on its own);
/// - `N`: the limit's lease cap, ``FlowGlobalConfiguration/leaseCap(burst:)``;
/// - `d`: the call timeout — a grant is used only if its answer arrives within `d` of the call, so
///   tokens granted before the window but still on the wire at its start add at most `rate·d`.
///
/// Why: tokens enter the fleet only from the store's bucket (≤ `burst` at the window's start plus
/// `rate·t` refill), from grants still in flight (which the bucket already counted: ≤ `rate·d`
/// extra), and from leases held at the window's start (≤ `N − 1` per instance, an invariant of
/// ``FlowGlobalLease``). Answers given by `on_store_failure` are outside this bound by design:
/// `allow` admits, `local(r, burst: b)` adds at most `H·(b + r·t)`.
public enum FlowGlobalBound {
    /// The most requests admitted in a window of `windowNanos`, rounded down.
    public static func maxAdmitted(rate: FlowRate, burst: Int, windowNanos: UInt64, instances: Int, leaseCap: Int,
                                   callTimeoutNanos: UInt64) -> Int {
        let perNano = Double(rate.count) / Double(rate.periodNanos)
        let refill = perNano * (Double(windowNanos) + Double(callTimeoutNanos))
        let leased = Double(max(0, instances)) * Double(max(1, leaseCap) - 1)
        return Int((Double(burst) + refill + leased).rounded(.down))
    }
}
