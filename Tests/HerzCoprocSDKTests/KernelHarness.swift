import Foundation
import Glibc
import HerzCoproc
import NIOCore

/// The kernel side of one coprocessor session, built from the Transport pieces only: creates the
/// region and doorbells, attaches with the fds, speaks control over a DEALER, sends calls and reads
/// answers. Used from one test thread.
final class KernelHarness {
    let sessionId: UInt64
    let region: SharedRegion
    let doorbells: [Doorbell]
    let attach: AttachSocket
    let ack: AttachAck
    let dealer: ZMQSocket
    private var producers: [RingProducer]
    private var consumers: [RingConsumer]
    private var nextCallId: UInt64 = 1

    init(path: String, sessionId: UInt64, workers: UInt32 = 2, ringBytes: UInt32 = 8192) throws {
        self.sessionId = sessionId
        region = try SharedRegion.create(workers: workers, ringBytes: ringBytes)
        let pairs = try (0..<workers).map { _ in try Doorbell.pair() }
        doorbells = pairs.map(\.0)
        attach = try Self.connect(path)
        try attach.setTimeout(millis: 5000)
        try attach.send(.attach(sessionId: sessionId, layout: region.layout), fds: [region.fd] + pairs.map(\.1.fd))
        pairs.forEach { $0.1.close() }
        guard case .attachAck(let ack) = try attach.receiveFrame().frame else { throw TransportError.invalidFrame("expected attachAck") }
        self.ack = ack
        dealer = try ZMQSocket(.dealer)
        if ack.ok { try dealer.connect(ack.controlEndpoint) }
        let region = self.region
        producers = (0..<Int(workers)).map { region.producer(worker: $0, direction: .calls) }
        consumers = (0..<Int(workers)).map { region.consumer(worker: $0, direction: .answers) }
    }

    private static func connect(_ path: String) throws -> AttachSocket {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do { return try AttachSocket.connect(path: path) } catch where Date() < deadline { usleep(5000) }
        }
    }

    /// Sends a control message and waits for the reply.
    func control(_ message: ControlMessage) throws -> ControlMessage {
        try dealer.send(WireCodec.encode(message))
        return try receiveControl()
    }

    func receiveControl(timeoutMillis: Int = 5000) throws -> ControlMessage {
        guard try ZMQPoller.poll(sockets: [dealer], timeoutMillis: timeoutMillis).sockets[0], let frame = try dealer.receive() else {
            throw TransportError.zmq(call: "no control reply", errno: ETIMEDOUT)
        }
        return try frame.withUnsafeBytes(WireCodec.decodeControl)
    }

    func hello(name: String, ringVersion: UInt32 = CoprocProtocol.ringVersion) throws -> ControlMessage {
        try control(.hello(Hello(ringVersion: ringVersion, name: name, buildVersion: "test-kernel",
                                 pid: UInt32(getpid()), sessionId: sessionId)))
    }

    /// Writes one frame on worker `worker`'s calls ring, ringing its doorbell when needed.
    func send(_ frame: KernelToCoprocessor, worker: Int = 0) {
        let bytes = WireCodec.encodeToBytes(frame)
        guard case .written(let needsDoorbell) = bytes.withUnsafeBytes({ producers[worker].write($0) }) else {
            fatalError("calls ring full in a test")
        }
        if needsDoorbell { doorbells[worker].ring() }
    }

    /// Writes raw bytes as a record (to break the protocol on purpose).
    func sendRaw(_ bytes: [UInt8], worker: Int = 0) {
        _ = bytes.withUnsafeBytes { producers[worker].write($0) }
        doorbells[worker].ring()
    }

    func call(_ phase: CallPhase, worker: Int = 0, streamId: UInt64 = 1, headers: [WireHeader] = [],
              body: [UInt8] = [], endStream: Bool = false, filterConfig: String = "") throws -> CoprocAnswer {
        let callId = nextCallId
        nextCallId += 1
        send(.call(CoprocCall(callId: callId, streamId: streamId, deadlineNanos: MonotonicClock.nanos() + 5_000_000_000,
                              phase: phase, endStream: endStream, headers: headers, body: ByteBuffer(bytes: body),
                              filterConfig: filterConfig)),
             worker: worker)
        let answer = try nextAnswer(worker: worker)
        precondition(answer.callId == callId, "answer for another call")
        return answer
    }

    /// Waits (sleeping on the doorbell like the kernel's event loop) for the next answer.
    func nextAnswer(worker: Int = 0, timeoutMillis: Int32 = 5000) throws -> CoprocAnswer {
        while true {
            switch consumers[worker].next() {
            case .record(let record):
                let length = try WireCodec.framedLength(record, limit: record.count) ?? record.count
                let answer = try WireCodec.decodeAnswer(UnsafeRawBufferPointer(rebasing: record[..<length]))
                if consumers[worker].release() { doorbells[worker].ring() }
                return answer
            case .violation(let violation):
                throw violation
            case .empty:
                guard consumers[worker].prepareToSleep() else { continue }
                var item = pollfd(fd: doorbells[worker].fd, events: Int16(POLLIN), revents: 0)
                guard poll(&item, 1, timeoutMillis) == 1 else { throw TransportError.system(call: "no answer", errno: ETIMEDOUT) }
                consumers[worker].didWake()
                if doorbells[worker].drain() == .peerGone { throw TransportError.peerClosed }
            }
        }
    }

    /// True once the coprocessor closed the attach socket (waits up to `timeoutMillis`).
    func attachClosed(timeoutMillis: Int32 = 5000) -> Bool {
        var item = pollfd(fd: attach.fd, events: Int16(POLLIN), revents: 0)
        return poll(&item, 1, timeoutMillis) == 1 && attach.peerClosed()
    }

    func close() {
        dealer.close()
        attach.close()
        doorbells.forEach { $0.close() }
    }
}
