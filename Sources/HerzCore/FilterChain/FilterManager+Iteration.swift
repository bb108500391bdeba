import NIOCore
import NIOHTTP1

// The iteration engine, written once for both directions.
//
// Model: a direction has one position per filter (in that direction's order) plus the terminal.
// Every position has a queue of frames waiting to enter it (`FilterSlot.pending`). A frame enters
// position `p` only when nothing waits ahead of it there and the gate is open: the filter at `p - 1`
// does not hold its output (any stop status) and the filter at `p` does not refuse input
// (`stopAllIteration…`). Frames in later queues are always earlier in the message than frames in
// earlier queues, so draining the highest open queue first keeps the order of bytes. Nothing is
// ever copied between queues, so no filter can see a byte twice.
extension FilterManager {
    /// Offers `frame` to `position` and carries it on through every filter that lets it pass.
    /// `bypassingPrevious` lets injected data skip the injecting filter's own held output.
    func deliver<D: FilterDirection>(_ frame: StreamFrame<D.Head>, to position: Int, in it: FilterIteration<D>,
                                     bypassingPrevious: Bool = false) {
        var frame = frame
        var position = position
        var bypass = bypassingPrevious
        let epoch = it.epoch
        while !it.aborted && it.epoch == epoch {
            guard it.slots[position].pending.isEmpty, it.gateOpen(position, ignoringPrevious: bypass) else {
                self.enqueue(frame, at: position, in: it, checkLimit: true)
                return
            }
            guard position < it.filterCount else {
                D.deliverToTerminal(frame, manager: self)
                return
            }
            guard let next = self.runFilter(frame, at: position, in: it) else { return }
            frame = next
            position += 1
            bypass = false
        }
    }

    /// Moves queued frames whose gate opened, highest position first, until nothing can move.
    func pump<D: FilterDirection>(_ it: FilterIteration<D>) {
        let epoch = it.epoch
        while !it.aborted && it.epoch == epoch {
            var position = it.filterCount
            while position >= 0 {
                if !it.slots[position].pending.isEmpty && it.gateOpen(position) { break }
                position -= 1
            }
            guard position >= 0, let frame = it.slots[position].pending.popFirst() else { return }
            if case .data(let data, _) = frame { self.unbuffer(data.readableBytes, in: it) }
            if position == it.filterCount {
                D.deliverToTerminal(frame, manager: self)
            } else if let next = self.runFilter(frame, at: position, in: it) {
                self.deliver(next, to: position + 1, in: it)
            }
        }
    }

    /// Queues `frame` at `position`, enforcing the buffer limit for body bytes when `checkLimit`.
    func enqueue<D: FilterDirection>(_ frame: StreamFrame<D.Head>, at position: Int, in it: FilterIteration<D>, checkLimit: Bool) {
        guard !it.aborted else { return }
        switch frame {
        case .headers(let head, let endStream):
            it.slots[position].pending.pushHead(head, endStream: endStream)
        case .data(let data, let endStream):
            let bytes = data.readableBytes
            if checkLimit, bytes > 0, it.bufferedBytes + bytes > self.bufferLimit {
                let owner = it.owner(ofQueueAt: position)
                switch owner.mode {
                case .buffer:
                    D.bufferOverflow(manager: self, filterIndex: D.filterIndex(atPosition: owner.position, filterCount: it.filterCount))
                    return
                case .watermark:
                    it.slots[position].pending.pushData(data, endStream: endStream)
                    it.bufferedBytes += bytes
                    if !it.paused {
                        it.paused = true
                        self.emit(.pauseReading(D.peer))
                    }
                    return
                }
            }
            it.slots[position].pending.pushData(data, endStream: endStream)
            it.bufferedBytes += bytes
        case .trailers(let trailers):
            it.slots[position].pending.pushTrailers(trailers)
        }
    }

    @inline(__always)
    func unbuffer<D: FilterDirection>(_ bytes: Int, in it: FilterIteration<D>) {
        it.bufferedBytes -= bytes
        if it.paused && it.bufferedBytes <= self.bufferLimit / 2 {
            it.paused = false
            self.emit(.resumeReading(D.peer))
        }
    }

    /// Runs the filter at `position` on `frame` and applies its status. Returns the frame to carry on
    /// to `position + 1`, or nil when the frame stays (or was already sent on by this method).
    func runFilter<D: FilterDirection>(_ frame: StreamFrame<D.Head>, at position: Int, in it: FilterIteration<D>) -> StreamFrame<D.Head>? {
        // Nothing follows the end of a message into a filter (e.g. after it injected its own end).
        guard !it.slots[position].sawEnd else { return nil }
        let index = D.filterIndex(atPosition: position, filterCount: it.filterCount)
        let filter = self.filters[index]
        let callbacks = self.handles[index]
        let mark = self.deferred.count

        switch frame {
        case .headers(var head, let endStream):
            self.callbackDepth += 1
            let status = D.callHeaders(filter, &head, endStream: endStream, callbacks)
            self.callbackDepth -= 1
            if status != .continue && status != .continueAndDontEndStream { self.traceFilterStopped(at: position, filterIndex: index, in: it) }
            it.slots[position].headersDone = true
            if endStream { it.slots[position].sawEnd = true }

            var added: ByteBuffer?
            guard let ops = self.takeRecordedOps(since: mark, filterIndex: index, decode: D.isDecode, added: &added) else { return nil }
            guard !it.aborted else { return nil }

            var headEnds = endStream && added == nil
            var addedEnds = endStream
            var passes = false
            switch status {
            case .continue:
                passes = true
            case .continueAndDontEndStream:
                passes = true
                headEnds = false
                addedEnds = false
            case .stopIteration:
                it.slots[position].outputBlocked = true
                it.slots[position].bufferMode = .buffer
            case .stopAllIterationAndBuffer:
                it.slots[position].inputBlock = .buffer
                it.slots[position].outputBlocked = true
                it.slots[position].bufferMode = .buffer
            case .stopAllIterationAndWatermark:
                it.slots[position].inputBlock = .watermark
                it.slots[position].outputBlocked = true
                it.slots[position].bufferMode = .watermark
            }
            if endStream && status != .continueAndDontEndStream { it.slots[position].endPassed = true }

            let out = StreamFrame<D.Head>.headers(head, endStream: headEnds)
            if passes {
                if added == nil && ops.isEmpty { return out }
                self.deliver(out, to: position + 1, in: it)
            } else {
                self.enqueue(out, at: position + 1, in: it, checkLimit: false)
            }
            if let added { self.deliver(.data(added, endStream: addedEnds), to: position + 1, in: it) }
            self.apply(ops)
            return nil

        case .data(var data, let endStream):
            self.callbackDepth += 1
            let status = D.callData(filter, &data, endStream: endStream, callbacks)
            self.callbackDepth -= 1
            if status != .continue { self.traceFilterStopped(at: position, filterIndex: index, in: it) }
            if endStream { it.slots[position].sawEnd = true }

            var added: ByteBuffer?
            guard let ops = self.takeRecordedOps(since: mark, filterIndex: index, decode: D.isDecode, added: &added) else { return nil }
            if let added { data.writeImmutableBuffer(added) }
            guard !it.aborted else { return nil }

            switch status {
            case .continue:
                if endStream { it.slots[position].endPassed = true }
                if it.slots[position].outputBlocked {
                    // Release what this filter held (headers, buffered body), then this chunk.
                    it.slots[position].outputBlocked = false
                    self.enqueue(.data(data, endStream: endStream), at: position + 1, in: it, checkLimit: false)
                    self.pump(it)
                } else {
                    if ops.isEmpty { return .data(data, endStream: endStream) }
                    self.deliver(.data(data, endStream: endStream), to: position + 1, in: it)
                }
            case .stopIterationAndBuffer, .stopIterationAndWatermark:
                it.slots[position].outputBlocked = true
                it.slots[position].bufferMode = status == .stopIterationAndBuffer ? .buffer : .watermark
                if endStream { it.slots[position].endPassed = true }
                self.enqueue(.data(data, endStream: endStream), at: position + 1, in: it, checkLimit: true)
            case .stopIterationNoBuffer:
                // The filter keeps the chunk (and, on the last chunk, the end of the message).
                it.slots[position].outputBlocked = true
            }
            self.apply(ops)
            return nil

        case .trailers(var trailers):
            self.callbackDepth += 1
            let status = D.callTrailers(filter, &trailers, callbacks)
            self.callbackDepth -= 1
            if status != .continue { self.traceFilterStopped(at: position, filterIndex: index, in: it) }
            it.slots[position].sawEnd = true

            var added: ByteBuffer?
            guard let ops = self.takeRecordedOps(since: mark, filterIndex: index, decode: D.isDecode, added: &added) else { return nil }
            guard !it.aborted else { return nil }
            it.slots[position].endPassed = true

            // Body added while handling trailers goes before them.
            if let added { self.deliver(.data(added, endStream: false), to: position + 1, in: it) }
            switch status {
            case .continue:
                if it.slots[position].outputBlocked {
                    it.slots[position].outputBlocked = false
                    self.enqueue(.trailers(trailers), at: position + 1, in: it, checkLimit: false)
                    self.pump(it)
                } else {
                    if added == nil && ops.isEmpty { return .trailers(trailers) }
                    self.deliver(.trailers(trailers), to: position + 1, in: it)
                }
            case .stopIteration:
                it.slots[position].outputBlocked = true
                self.enqueue(.trailers(trailers), at: position + 1, in: it, checkLimit: false)
            }
            self.apply(ops)
            return nil
        }
    }

    // MARK: - Callback effects, applied outside any filter callback

    /// `continue…()` from the filter at `position`: a no-op unless it is stopped.
    func resume<D: FilterDirection>(position: Int, in it: FilterIteration<D>) {
        guard !it.aborted, position < it.filterCount, it.slots[position].isStopped else { return }
        self.traceFilterResumed(at: position, in: it)
        it.slots[position].inputBlock = nil
        it.slots[position].outputBlocked = false
        if it.slots[position].endHeld {
            // The filter kept the end of the message: end it with an empty final chunk.
            it.slots[position].endPassed = true
            self.enqueue(.data(ByteBuffer(), endStream: true), at: position + 1, in: it, checkLimit: false)
        }
        self.pump(it)
    }

    /// `add…Data` outside the filter's own callback: body after what this filter already passed.
    /// Held while the filter is stopped, passed on at once otherwise.
    func addData<D: FilterDirection>(_ data: ByteBuffer, from position: Int, in it: FilterIteration<D>) {
        guard !it.aborted, position < it.filterCount, it.slots[position].headersDone else { return }
        guard !it.slots[position].endPassed || it.slots[position + 1].pending.containsEnd else { return }
        self.deliver(.data(data, endStream: false), to: position + 1, in: it)
    }

    /// `inject…Data`: straight to the filters after `position`, past its own held output, but never
    /// ahead of frames already queued after it.
    func inject<D: FilterDirection>(_ data: ByteBuffer, endStream: Bool, from position: Int, in it: FilterIteration<D>) {
        guard !it.aborted, position < it.filterCount, it.slots[position].headersDone else { return }
        guard !it.slots[position].endPassed || it.slots[position + 1].pending.containsEnd else { return }
        if endStream {
            it.slots[position].sawEnd = true
            it.slots[position].endPassed = true
        }
        self.deliver(.data(data, endStream: endStream), to: position + 1, in: it, bypassingPrevious: true)
    }
}
