import HerzCore
import HerzCoproc
import NIOCore

/// The span of one coprocessor call on a sampled request: from dispatch to the answer, with the
/// ring round-trip time (`herz.coproc.ring_rtt_us`: call written to the ring → answer read back,
/// including time queued behind a full ring) and how the call ended. nil for unsampled requests,
/// so they pay one nil check.
struct CoprocCallSpan {
    private let trace: RequestTrace
    private let handle: SpanHandle
    private let started: NIODeadline

    init?(streamInfo: StreamInfo, coprocessor: String, phase: CallPhase) {
        guard let trace = streamInfo.trace else { return nil }
        self.trace = trace
        self.started = .now()
        self.handle = trace.start("coproc " + coprocessor, kind: .internal, attributes: [
            SpanAttribute("herz.coprocessor", coprocessor), SpanAttribute("herz.coproc.phase", phase.configName),
        ])
    }

    func end(_ outcome: CoprocCallOutcome) {
        let rttMicros = (NIODeadline.now() - started).nanoseconds / 1000
        var attributes = [SpanAttribute("herz.coproc.ring_rtt_us", Int(rttMicros))]
        var failed = false
        switch outcome {
        case .answered: attributes.append(SpanAttribute("herz.coproc.outcome", "answered"))
        case .failOpen(let reason): attributes.append(SpanAttribute("herz.coproc.outcome", "fail_open: " + reason)); failed = true
        case .failClosed(let reason): attributes.append(SpanAttribute("herz.coproc.outcome", "fail_closed: " + reason)); failed = true
        }
        trace.end(handle, attributes: attributes, isError: failed)
    }
}
