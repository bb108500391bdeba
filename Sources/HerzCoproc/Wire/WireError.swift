/// Why bytes could not be turned into a message, or a message into bytes. Decoding never traps:
/// any input, however malformed, ends in one of these.
public enum WireError: Error, Equatable, Sendable {
    /// The bytes are not a valid Cap'n Proto message of the expected type (message from libcapnp/kj).
    case malformed(String)
    /// A valid message whose content breaks the protocol (e.g. an enum value this build does not know).
    case invalidValue(String)
    /// The output buffer is too small; `needed` bytes would fit the message.
    case bufferTooSmall(needed: Int)
}
