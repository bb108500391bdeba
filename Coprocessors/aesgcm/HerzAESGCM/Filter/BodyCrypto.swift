/// The streaming work on one message body: sealing it (``StreamSealer``) or opening it
/// (``StreamOpener``), mutated in place. Bodies are sealed under the route's context (default
/// `body`) whichever direction they travel, so a response body sealed by Herz can come back as a
/// request body and be opened.
struct BodyCrypto {
    private var sealer: StreamSealer?
    private var opener: StreamOpener?

    /// Starts a message: sealing with the ring's active key, or opening with any key of the ring.
    init(_ operation: CryptoOperation, keys: KeyRing, chunkSize: Int, context: String = DirectionSettings.defaultBodyContext) {
        switch operation {
        case .encrypt: sealer = StreamSealer(key: keys.active, context: context, chunkSize: chunkSize)
        case .decrypt: opener = StreamOpener(keys: keys, context: context)
        }
    }

    /// The next piece of the body in; what may be released now out (see the sealer and opener).
    mutating func push(_ bytes: [UInt8], end: Bool) throws -> [UInt8] {
        if sealer != nil { return try sealer!.seal(bytes, end: end) }
        return try opener!.open(bytes, end: end)
    }

    /// The message ended (or failed): nothing is held any more.
    var isFinished: Bool { sealer?.isFinished ?? opener!.isFinished }
}
