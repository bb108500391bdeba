/// An address range `network/prefix` in the 128-bit space of ``FlowIPAddress``: an IPv4 `/n`
/// becomes `/(96 + n)` over the IPv4-mapped prefix, so IPv4 ranges never match native IPv6 clients.
/// Host bits written after the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`); a bare address
/// is a single-host range.
public struct FlowCIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: FlowIPAddress
    /// 0...128, in the 128-bit space.
    public let prefixLength: Int

    public init?<S: StringProtocol>(_ text: S) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = FlowIPAddress(parts[0]) else { return nil }
        let width = address.isIPv4 ? 32 : 128
        var length = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  let written = Int(parts[1]), written <= width else { return nil }
            length = written
        }
        self.init(address: address, prefixLength: length + (address.isIPv4 ? 96 : 0))
    }

    /// `prefixLength` is clamped to 0...128.
    public init(address: FlowIPAddress, prefixLength: Int) {
        let length = min(128, max(0, prefixLength))
        let mask = Self.mask(length)
        self.network = FlowIPAddress(high: address.high & mask.high, low: address.low & mask.low)
        self.prefixLength = length
    }

    public func contains(_ address: FlowIPAddress) -> Bool {
        let mask = Self.mask(prefixLength)
        return address.high & mask.high == network.high && address.low & mask.low == network.low
    }

    public var description: String {
        if network.isIPv4 && prefixLength >= 96 { return "\(network)/\(prefixLength - 96)" }
        return "\(network)/\(prefixLength)"
    }

    private static func mask(_ length: Int) -> (high: UInt64, low: UInt64) {
        func bits(_ count: Int) -> UInt64 { count <= 0 ? 0 : count >= 64 ? .max : ~(UInt64.max >> UInt64(count)) }
        return (bits(length), bits(length - 64))
    }
}
