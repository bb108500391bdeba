import HerzCoproc
import NIOCore

/// One worker's share of a ``KernelCoprocSession``: its ring pair and its doorbell.
///
/// The kernel produces on the calls ring and consumes the answers ring; the doorbell's NIO channel
/// (a dup of the same socket) tells the worker when the coprocessor rang or went away. Event-loop
/// owned. Holding the link keeps the session's region mapped.
final class WorkerSessionLink {
    let session: KernelCoprocSession
    var producer: RingProducer
    var consumer: RingConsumer
    let doorbell: Doorbell
    var channel: Channel?
    /// Set once the session broke (violation, EOF): nothing more is read or written.
    var broken = false
    /// The worker polls the answers ring from its event loop (doorbell disarmed) until then.
    var pollUntil = NIODeadline.uptimeNanoseconds(0)
    var polling = false

    var sessionId: UInt64 { session.sessionId }

    init(session: KernelCoprocSession, worker: Int) {
        self.session = session
        self.producer = session.region.producer(worker: worker, direction: .calls)
        self.consumer = session.region.consumer(worker: worker, direction: .answers)
        self.doorbell = Doorbell(fd: session.doorbellFDs[worker])
    }

    /// Stops reading the doorbell and closes both fds; the coprocessor sees EOF.
    func close() {
        broken = true
        channel?.close(promise: nil)
        channel = nil
        doorbell.close()
    }
}

/// Reads the kernel's end of a doorbell socketpair on the worker's event loop: any byte means
/// "look at the answers ring", EOF means the coprocessor is gone.
final class DoorbellHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private weak var client: WorkerCoprocClient?
    private weak var link: WorkerSessionLink?

    init(client: WorkerCoprocClient, link: WorkerSessionLink) {
        self.client = client
        self.link = link
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The bytes carry no meaning; reading them is what clears the wake-up.
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let link { client?.doorbellRang(link) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let link { client?.doorbellClosed(link) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
