import CHerzCapnp

/// Cap'n Proto encoding of every coprocessor message (schemas/ring.capnp, schemas/control.capnp) in
/// standard stream framing (segment table + segments). Nothing else in Herz sees the wire format.
///
/// Guarantees shared by every function:
/// - decoding never traps: any input, however malformed, yields a value or a `WireError`;
/// - decoding accepts any alignment (unaligned input is copied once into aligned scratch) and
///   requires `bytes` to be exactly one frame (its segment table's total, no trailing bytes);
/// - an enum value or union member this build does not know decodes to `WireError.invalidValue`;
/// - `Data` header names and values decode as UTF-8 Strings; invalid UTF-8 is repaired with U+FFFD
///   (`String(decoding:as:)`), so such bytes do not round-trip;
/// - `AnswerResult.data(status, body: nil)` travels as `replaceBody = false`, any non-nil body
///   (even empty) as `replaceBody = true`; a decoded `replaceBody = false` yields `body: nil`.
public enum WireCodec {
    /// Writes the frame in Cap'n Proto stream framing (segment table + segments) into `buffer`;
    /// returns bytes written (a multiple of 8). Throws `.bufferTooSmall(needed:)` when it does not
    /// fit (nothing useful is written then). The message is built in a reused per-thread first
    /// segment and copied into `buffer` once.
    public static func encode(_ frame: KernelToCoprocessor, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try WireEncoder.encode(into: buffer) { try $0.write(frame) }
    }

    /// Writes the answer as a `CoprocessorToKernel` frame into `buffer`, as
    /// `encode(_: KernelToCoprocessor, into:)` does.
    public static func encode(_ answer: CoprocAnswer, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try WireEncoder.encode(into: buffer) { try $0.write(answer) }
    }

    /// The `KernelToCoprocessor` frame that `bytes` holds exactly; `WireError` otherwise.
    public static func decodeKernelToCoprocessor(_ bytes: UnsafeRawBufferPointer) throws -> KernelToCoprocessor {
        try WireDecoder.decode(bytes) { try $0.readKernelToCoprocessor() }
    }

    /// The answer of the `CoprocessorToKernel` frame that `bytes` holds exactly; `WireError` otherwise.
    public static func decodeAnswer(_ bytes: UnsafeRawBufferPointer) throws -> CoprocAnswer {
        try WireDecoder.decode(bytes) { try $0.readAnswer() }
    }

    /// The stream-framed `ControlMessage` (one ZeroMQ frame). Never fails for any value.
    public static func encode(_ message: ControlMessage) -> [UInt8] {
        WireEncoder.encodeToBytes { try $0.write(message) }
    }

    /// The `ControlMessage` that `bytes` holds exactly; `WireError` otherwise.
    public static func decodeControl(_ bytes: UnsafeRawBufferPointer) throws -> ControlMessage {
        try WireDecoder.decode(bytes) { try $0.readControl() }
    }

    /// The stream-framed `AttachFrame` (one write on the attach socket). Never fails for any value.
    public static func encode(_ frame: AttachFrame) -> [UInt8] {
        WireEncoder.encodeToBytes { try $0.write(frame) }
    }

    /// The `AttachFrame` that `bytes` holds exactly; `WireError` otherwise.
    public static func decodeAttachFrame(_ bytes: UnsafeRawBufferPointer) throws -> AttachFrame {
        try WireDecoder.decode(bytes) { try $0.readAttachFrame() }
    }

    /// The ring frame as a new array (convenience for tests and cold paths; the hot path uses
    /// `encode(_:into:)`).
    public static func encodeToBytes(_ frame: KernelToCoprocessor) -> [UInt8] {
        WireEncoder.encodeToBytes { try $0.write(frame) }
    }

    /// The answer as a new `CoprocessorToKernel` array (convenience for tests and cold paths).
    public static func encodeToBytes(_ answer: CoprocAnswer) -> [UInt8] {
        WireEncoder.encodeToBytes { try $0.write(answer) }
    }
}
