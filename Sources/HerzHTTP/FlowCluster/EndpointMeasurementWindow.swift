/// One endpoint's measurements over the last `slotCount` periods (the recent window): a ring of
/// ``EndpointTally``s, one per period, so old measurements leave the window as a whole period at a
/// time and memory is fixed whatever the traffic. Time is an argument (monotonic nanoseconds).
/// A plain value; the cluster's ``FlowClusterRuntime`` keeps one per endpoint behind its lock.
struct EndpointMeasurementWindow: Sendable {
    private struct Slot: Sendable {
        var period: UInt64
        var tally: EndpointTally
    }

    let periodNanos: UInt64
    private var slots: [Slot?]

    init(periodNanos: UInt64, slotCount: Int) {
        self.periodNanos = max(1, periodNanos)
        self.slots = Array(repeating: nil, count: max(1, slotCount))
    }

    /// Adds what a worker measured, to the period `now` falls in.
    mutating func add(_ tally: EndpointTally, now: UInt64) {
        let period = now / periodNanos
        let index = Int(period % UInt64(slots.count))
        if slots[index]?.period == period {
            slots[index]!.tally.add(tally)
        } else {
            slots[index] = Slot(period: period, tally: tally)
        }
    }

    /// Everything measured in the window ending at `now` (the current period and the ones before it).
    func total(now: UInt64) -> EndpointTally {
        let current = now / periodNanos
        let oldest = current >= UInt64(slots.count) ? current - UInt64(slots.count) + 1 : 0
        var sum = EndpointTally()
        for case let slot? in slots where slot.period >= oldest && slot.period <= current {
            sum.add(slot.tally)
        }
        return sum
    }

    /// Whether the window ending at `now` holds nothing (the endpoint can be forgotten).
    func isEmpty(now: UInt64) -> Bool {
        let current = now / periodNanos
        let oldest = current >= UInt64(slots.count) ? current - UInt64(slots.count) + 1 : 0
        return !slots.contains { $0.map { $0.period >= oldest && $0.period <= current && !$0.tally.isEmpty } ?? false }
    }
}
