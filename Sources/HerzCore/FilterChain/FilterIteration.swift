/// The state of one direction (request or response) of one stream: a ``FilterSlot`` per position
/// plus the terminal position, and the direction's buffer accounting. Plain state; the engine that
/// moves frames lives in `FilterManager+Iteration.swift`.
final class FilterIteration<D: FilterDirection> {
    let filterCount: Int
    /// `filterCount + 1` slots; the last one is the terminal.
    var slots: [FilterSlot<D.Head>]
    /// Body bytes in all queues of this direction.
    var bufferedBytes = 0
    /// A `pauseReading` is outstanding.
    var paused = false
    /// No further filter callbacks in this direction (local reply, completion).
    var aborted = false
    /// Headers entered this direction.
    var started = false
    /// The source (codec or terminal) delivered the end of the message.
    var sourceEnded = false
    /// The head / the end of the message reached the terminal.
    var headReachedTerminal = false
    var endReachedTerminal = false
    /// Bumped when the direction's state is thrown away, so that loops still on the stack stop.
    var epoch = 0

    init(filterCount: Int) {
        self.filterCount = filterCount
        self.slots = Array(repeating: FilterSlot(), count: filterCount + 1)
    }

    /// Whether the frame at the head of `position`'s queue may enter it: the previous filter does not
    /// hold its output and this filter does not refuse input.
    @inline(__always)
    func gateOpen(_ position: Int, ignoringPrevious: Bool = false) -> Bool {
        if position < self.filterCount, self.slots[position].inputBlock != nil { return false }
        if ignoringPrevious || position == 0 { return true }
        return !self.slots[position - 1].outputBlocked
    }

    /// The position whose stop keeps frames queued at `position`, and how it wants them buffered.
    func owner(ofQueueAt position: Int) -> (position: Int, mode: BufferMode) {
        if position < self.filterCount, let mode = self.slots[position].inputBlock {
            return (position, mode)
        }
        let owner = max(position - 1, 0)
        return (owner, self.slots[owner].bufferMode)
    }

    /// Forgets every queued frame and filter state (a local reply replaces the message).
    /// Returns whether reading was paused (the caller emits the matching resume).
    func reset() -> Bool {
        let wasPaused = self.paused
        for position in self.slots.indices { self.slots[position] = FilterSlot() }
        self.bufferedBytes = 0
        self.paused = false
        self.started = false
        self.sourceEnded = false
        self.headReachedTerminal = false
        self.endReachedTerminal = false
        self.epoch &+= 1
        return wasPaused
    }

    /// Stops the direction for good (no further filter callbacks). Returns whether reading was paused.
    func abort() -> Bool {
        let wasPaused = self.paused
        for position in self.slots.indices { self.slots[position].pending = PendingFrames() }
        self.bufferedBytes = 0
        self.paused = false
        self.aborted = true
        self.epoch &+= 1
        return wasPaused
    }
}
