/// What to do with one received datagram, decided from its header alone, before any per-connection
/// state is touched — so garbage, floods and strays cost no allocation and leave no state.
public enum QUICDatagramAction: Equatable, Sendable {
    /// A connection of this worker owns the destination ID.
    case deliver
    /// Another worker issued the destination ID (the client's 4-tuple changed): hand it over.
    case forward(worker: Int)
    /// An Initial for a connection that does not exist yet: ask ``QUICAdmission`` next.
    case newConnection
    /// A long header with a version Herz does not speak: answer with Version Negotiation.
    case versionNegotiation
    /// A short header for an ID this worker issued but no longer knows: answer with a stateless
    /// reset so the peer stops at once instead of waiting for its idle timeout.
    case statelessReset
    case drop(QUICDropReason)
}

/// Why a datagram was dropped without an answer (a metric label; never logged per packet).
public enum QUICDropReason: String, Sendable, CaseIterable {
    /// Not parseable as a QUIC packet.
    case malformed
    /// A Version Negotiation packet sent to a server.
    case unexpectedVersionNegotiation
    /// An unknown version in a datagram under 1200 bytes (RFC 9000 §6.1: no answer).
    case shortUnknownVersion
    /// An Initial in a datagram under 1200 bytes (RFC 9000 §14.1).
    case shortInitial
    /// An Initial whose destination ID is under 8 bytes (RFC 9000 §7.2).
    case shortInitialID
    /// A non-Initial packet for no known connection (0-RTT is off; Handshake without a connection).
    case unknownConnection
    /// A short header for no known connection that Herz would not answer (too small for a reset
    /// smaller than itself, not one of Herz's IDs, or resets are disabled).
    case noReset
}

/// The triage rules, a pure function of the header and what the caller knows (RFC 9000 §§5.2, 6, 10.3, 14.1).
public struct QUICDatagramTriage: Sendable {
    public static let quicV1: UInt32 = 1
    /// Minimum size of a datagram carrying an Initial (and of one that may draw a Version Negotiation).
    public static let minimumInitialSize = 1200
    /// A stateless reset is 1 byte + at least 4 unpredictable bytes + 16 token bytes, and it must be
    /// smaller than the packet that triggered it (so two endpoints can never loop).
    public static let minimumResetTrigger = 1 + 5 + 16 + 1

    public let layout: QUICConnectionIDLayout
    public let localWorker: Int
    public let workerCount: Int
    public let statelessReset: Bool

    public init(layout: QUICConnectionIDLayout, localWorker: Int, workerCount: Int, statelessReset: Bool) {
        self.layout = layout
        self.localWorker = localWorker
        self.workerCount = workerCount
        self.statelessReset = statelessReset
    }

    /// `header`: ``QUICPacketHeader/parse(_:shortHeaderIDLength:)`` of the datagram (nil if it failed);
    /// `isKnown`: a connection of this worker has the destination ID.
    public func action(header: QUICPacketHeader?, datagramSize: Int, isKnown: Bool) -> QUICDatagramAction {
        guard let header else { return .drop(.malformed) }
        if isKnown { return .deliver }
        if let owner = layout.owner(of: header.destination, workerCount: workerCount), owner != localWorker {
            return .forward(worker: owner)
        }
        switch header {
        case .long(let version, let typeBits, let destination, _):
            if version == 0 { return .drop(.unexpectedVersionNegotiation) }
            guard datagramSize >= Self.minimumInitialSize else {
                return .drop(version == Self.quicV1 ? (typeBits == 0 ? .shortInitial : .unknownConnection) : .shortUnknownVersion)
            }
            if version != Self.quicV1 { return .versionNegotiation }
            guard typeBits == 0 else { return .drop(.unknownConnection) }
            guard destination.count >= 8 else { return .drop(.shortInitialID) }
            return .newConnection
        case .short(let destination):
            guard statelessReset, datagramSize >= Self.minimumResetTrigger,
                  layout.owner(of: destination, workerCount: workerCount) == localWorker else { return .drop(.noReset) }
            return .statelessReset
        }
    }
}
