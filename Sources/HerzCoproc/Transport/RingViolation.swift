/// A ring record that breaks docs/coprocessor-protocol.md section 3 ("Records"). Any of these
/// breaks the session (section 7); the consumer stops at the offending record.
public enum RingViolation: Error, Equatable, Sendable, CustomStringConvertible {
    /// `kind` is neither 1 (message) nor 2 (wrap).
    case unknownKind(UInt32)
    /// `length` is not a multiple of 8.
    case unalignedLength(UInt32)
    /// A message's `length` exceeds `maxFrame`.
    case lengthExceedsMaxFrame(UInt32)
    /// The record (header or payload) extends past the published `tail`.
    case pastTail
    /// The record extends past the end of the ring, or a wrap record does not end exactly there.
    case pastRingEnd
    /// The published `tail` is behind `head` or more than a ring ahead of it.
    case tailOutOfRange(head: UInt64, tail: UInt64)

    public var description: String {
        switch self {
        case .unknownKind(let kind): return "unknown record kind \(kind)"
        case .unalignedLength(let length): return "record length \(length) is not a multiple of 8"
        case .lengthExceedsMaxFrame(let length): return "record length \(length) exceeds maxFrame"
        case .pastTail: return "record extends past tail"
        case .pastRingEnd: return "record extends past the end of the ring"
        case .tailOutOfRange(let head, let tail): return "tail \(tail) out of range for head \(head)"
        }
    }
}
