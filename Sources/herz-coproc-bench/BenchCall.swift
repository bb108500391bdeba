import HerzCoproc
import NIOCore

/// The call every variant sends: a `request_body` call carrying `size` payload bytes, and the
/// check that its answer is the echo (`continue` with the same number of bytes).
struct BenchCall {
    /// The coprocessor's name on both sides (the kernel's config and the server's hello must agree).
    static let coprocessorName = "bench"
    /// Call deadline: long enough that a noisy machine never turns a slow call into a failure.
    static let timeoutNanos: UInt64 = 5_000_000_000

    let size: Int
    private(set) var call: CoprocCall

    init(size: Int) {
        self.size = size
        self.call = CoprocCall(callId: 0, streamId: 1, deadlineNanos: 0, phase: .requestBody, endStream: false,
                               body: ByteBuffer(repeating: UInt8(ascii: "h"), count: size), route: "bench")
    }

    /// The next call of a variant that assigns call ids itself (the kernel's client does this for
    /// the ring variant): a fresh id and a deadline, as the kernel stamps them.
    mutating func next() -> CoprocCall {
        call.callId &+= 1
        call.deadlineNanos = MonotonicClock.nanos() &+ Self.timeoutNanos
        return call
    }

    /// Throws unless `result` is the echo of a call of this size.
    func check(_ result: AnswerResult) throws {
        guard case .data(.continue, let body?) = result, body.readableBytes == size else {
            throw BenchError("unexpected answer to a \(size)-byte call: \(String(describing: result).prefix(200))")
        }
    }
}

extension BenchCall: RingWorkload {
    var coprocessorName: String { Self.coprocessorName }

    mutating func call(stream: UInt64) -> CoprocCall {
        var next = call
        next.streamId = stream
        return next
    }

    func check(_ result: AnswerResult, stream: UInt64) throws { try check(result) }
}

/// A benchmark failure with a message for the operator.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
