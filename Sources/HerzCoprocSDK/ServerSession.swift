import Foundation

/// One attached kernel session on the coprocessor side: its attach socket (liveness), its mapped
/// region and one `RingWorker` thread per ring pair. Owned by the server's main thread.
final class ServerSession {
    let id: UInt64
    let attach: AttachSocket
    let region: SharedRegion
    let workers: [RingWorker]
    private let stop: StopSignal
    /// The kernel's DEALER identity once its hello was accepted.
    var controlIdentity: [UInt8]?
    /// CLOCK_MONOTONIC deadline of a pending `drain`, nil when none is pending.
    var drainDeadline: UInt64?

    init(id: UInt64, attach: AttachSocket, region: SharedRegion, doorbells: [Doorbell], stop: StopSignal,
         makeWorker: (Int, Doorbell) -> RingWorker) {
        self.id = id
        self.attach = attach
        self.region = region
        self.stop = stop
        self.workers = doorbells.enumerated().map { makeWorker($0.offset, $0.element) }
        for (index, worker) in workers.enumerated() {
            let thread = Thread { worker.run() }
            thread.name = "herz-ring-\(id)-\(index)"
            thread.start()
        }
    }

    var isBroken: Bool { workers.contains(where: \.isBroken) }

    /// Rings with calls not answered yet or streams not ended yet (0 when drained).
    var unansweredWork: Int {
        (0..<workers.count).reduce(0) { count, index in
            let busy = region.unconsumedBytes(worker: index, direction: .calls) > 0 || workers[index].hasParkedAnswer
                || workers[index].streamsInProgress > 0
            return count + (busy ? 1 : 0)
        }
    }

    /// Stops the ring threads and closes the attach socket (the kernel sees EOF). Idempotent.
    func close() {
        stop.fire()
        attach.close()
    }
}
