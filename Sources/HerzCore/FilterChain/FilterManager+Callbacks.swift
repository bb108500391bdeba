import NIOCore
import NIOHTTP1

// How callback calls take effect: recorded while a filter callback runs, applied at once otherwise.
extension FilterManager {
    func record(_ op: DeferredOp) {
        guard !self.isComplete, !self.editingHeldHead else { return }
        if self.callbackDepth > 0 {
            self.deferred.append(op)
        } else {
            self.apply(op, responsePhase: self.encoder.started)
        }
    }

    /// Applies one effect outside any filter callback. `responsePhase` decides how a local reply is
    /// sent (see ``performLocalReply(from:status:body:headers:responsePhase:)``).
    func apply(_ op: DeferredOp, responsePhase: Bool) {
        guard !self.isComplete else { return }
        let count = self.filters.count
        switch op {
        case .resume(let index, let decode):
            if decode {
                self.resume(position: index, in: self.decoder)
            } else {
                self.resume(position: EncodeDirection.filterIndex(atPosition: index, filterCount: count), in: self.encoder)
            }
        case .addData(let index, let decode, let data):
            if decode {
                self.addData(data, from: index, in: self.decoder)
            } else {
                self.addData(data, from: EncodeDirection.filterIndex(atPosition: index, filterCount: count), in: self.encoder)
            }
        case .inject(let index, let decode, let data, let endStream):
            if decode {
                self.inject(data, endStream: endStream, from: index, in: self.decoder)
            } else {
                self.inject(data, endStream: endStream, from: EncodeDirection.filterIndex(atPosition: index, filterCount: count), in: self.encoder)
            }
        case .localReply(let index, let status, let body, let headers):
            self.performLocalReply(from: index, status: status, body: body, headers: headers,
                                   responsePhase: index < count && responsePhase)
        case .reset:
            self.finish()
        }
    }

    /// Applies effects recorded during a callback, after its status was handled.
    func apply(_ ops: [DeferredOp]) {
        for op in ops where !self.isComplete {
            self.apply(op, responsePhase: self.encoder.started)
        }
    }

    /// Takes what was recorded while the filter at `filterIndex` ran. A local reply or reset among
    /// them is performed now and nil is returned (iteration ends). Otherwise body the filter added to
    /// its own direction is merged into `added`, and the remaining effects are returned for the
    /// caller to apply after it handled the status.
    func takeRecordedOps(since mark: Int, filterIndex: Int, decode: Bool, added: inout ByteBuffer?) -> [DeferredOp]? {
        guard self.deferred.count > mark else { return [] }  // the filter called nothing back: no work
        let ops = Array(self.deferred[mark...])
        self.deferred.removeSubrange(mark...)
        for op in ops {
            switch op {
            case .localReply(let index, let status, let body, let headers):
                self.performLocalReply(from: index, status: status, body: body, headers: headers,
                                       responsePhase: !decode && index < self.filters.count)
                return nil
            case .reset:
                self.finish()
                return nil
            default:
                continue
            }
        }
        var rest: [DeferredOp] = []
        for op in ops {
            if case .addData(let index, let opDecode, let data) = op, index == filterIndex, opDecode == decode {
                if added == nil {
                    added = data
                } else {
                    added!.writeImmutableBuffer(data)
                }
            } else {
                rest.append(op)
            }
        }
        return rest
    }

    func bufferedData<D: FilterDirection>(ofFilter index: Int, in _: D.Type) -> ByteBuffer? {
        let it = D.iteration(of: self)
        guard !self.isComplete, index < it.filterCount else { return nil }
        let position = D.filterIndex(atPosition: index, filterCount: it.filterCount)
        return it.slots[position + 1].pending.data
    }

    func modifyHeldHead<D: FilterDirection>(ofFilter index: Int, in _: D.Type, _ edit: (inout D.Head) -> Void) -> Bool {
        self.editHeld(ofFilter: index, in: D.self, take: { $0.takeHead() }, restore: { $0.restoreHead($1) }, edit)
    }

    func modifyHeldTrailers<D: FilterDirection>(ofFilter index: Int, in _: D.Type, _ edit: (inout HTTPHeaders) -> Void) -> Bool {
        self.editHeld(ofFilter: index, in: D.self, take: { $0.takeTrailers() }, restore: { $0.restoreTrailers($1) }, edit)
    }

    /// Edits one frame held right after the filter at `index`, with callbacks ignored meanwhile.
    private func editHeld<D: FilterDirection, Frame>(ofFilter index: Int, in _: D.Type,
                                                     take: (inout PendingFrames<D.Head>) -> Frame?,
                                                     restore: (inout PendingFrames<D.Head>, Frame) -> Void,
                                                     _ edit: (inout Frame) -> Void) -> Bool {
        let it = D.iteration(of: self)
        guard !self.isComplete, !self.editingHeldHead, !it.aborted, index < it.filterCount else { return false }
        let position = D.filterIndex(atPosition: index, filterCount: it.filterCount)
        guard var frame = take(&it.slots[position + 1].pending) else { return false }
        self.editingHeldHead = true
        edit(&frame)
        self.editingHeldHead = false
        restore(&it.slots[position + 1].pending, frame)
        return true
    }
}
