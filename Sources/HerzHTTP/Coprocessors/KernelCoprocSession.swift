import HerzCoproc

/// One attached session with a coprocessor process, as the kernel holds it: the shared region with
/// every worker's ring pair and the kernel's ends of the doorbell socketpairs.
///
/// Created by the supervisor thread after a successful attach; each worker takes its own ring pair
/// and doorbell (``WorkerSessionLink``) on its event loop. The region stays mapped until the last
/// reference is gone (workers drop theirs when the session closes).
final class KernelCoprocSession: @unchecked Sendable {
    let name: String
    let sessionId: UInt64
    let region: SharedRegion
    /// The kernel's doorbell fd per worker; ownership passes to that worker's channel.
    let doorbellFDs: [Int32]

    init(name: String, sessionId: UInt64, region: SharedRegion, doorbellFDs: [Int32]) {
        self.name = name
        self.sessionId = sessionId
        self.region = region
        self.doorbellFDs = doorbellFDs
    }
}
