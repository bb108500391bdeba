import HerzCoproc

/// One way of carrying the same call round trip (call frame → echo filter → answer frame).
protocol RoundTripVariant: AnyObject {
    /// One call outstanding for `durationNanos`: back-to-back, or started by `pacer`.
    func latency(_ call: BenchCall, durationNanos: UInt64, pacer: Pacer?) throws -> Measurement
    /// `window` calls outstanding for `durationNanos` (pipelined), then the stragglers are awaited.
    func throughput(_ call: BenchCall, durationNanos: UInt64, window: Int) throws -> Measurement
    /// Releases the variant's transport and stops its server, if any.
    func stop()
}

/// Runs `roundTrip` on the calling thread for `durationNanos`, one call at a time (back-to-back, or
/// paced), timing each: the closed loop of the variants that block.
func measureBlocking(durationNanos: UInt64, pacer: Pacer?, _ roundTrip: () throws -> Void) rethrows -> Measurement {
    var pacer = pacer
    var recorder = Recorder(expectedInterval: pacer?.intervalNanos ?? 0)
    let end = recorder.startedAt &+ durationNanos
    var now = recorder.startedAt
    while now < end {
        if pacer != nil { Pacer.sleep(until: pacer!.nextStart()) }
        let start = MonotonicClock.nanos()
        try roundTrip()
        now = recorder.record(since: start)
    }
    return recorder.finish()
}
