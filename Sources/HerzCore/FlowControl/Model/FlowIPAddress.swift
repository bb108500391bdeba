/// An IPv4 or IPv6 address as one 128-bit value; IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`), so
/// `client_ip in 10.0.0.0/8` also matches a client that a dual-stack socket reports as
/// `::ffff:10.1.2.3`. Parsing accepts dotted-quad IPv4 (no leading zeros) and RFC 4291 IPv6 text
/// (with `::` and a trailing dotted quad); zone ids are refused. Never traps on any input.
public struct FlowIPAddress: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address given as its 32-bit value.
    public init(ipv4: UInt32) {
        self.init(high: 0, low: 0x0000_FFFF_0000_0000 | UInt64(ipv4))
    }

    public init?<S: StringProtocol>(_ text: S) {
        let bytes = Array(text.utf8)
        if !bytes.contains(UInt8(ascii: ":")) {
            guard let v4 = Self.parseIPv4(bytes[...]) else { return nil }
            self.init(ipv4: v4)
        } else {
            guard let groups = Self.parseIPv6(bytes) else { return nil }
            self.init(high: groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }, low: groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) })
        }
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0x0000_FFFF }

    public var description: String {
        if isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: low)
            return (0..<4).map { String((v4 >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
        return Self.formatIPv6(groups)
    }

    // MARK: - Parsing

    private static func parseIPv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  part.count == 1 || part.first != UInt8(ascii: "0") else { return nil }
            let octet = part.reduce(UInt32(0)) { $0 * 10 + UInt32($1 - UInt8(ascii: "0")) }
            guard octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// Eight 16-bit groups, or nil.
    private static func parseIPv6(_ bytes: [UInt8]) -> [UInt16]? {
        let halves = split(bytes, on: [UInt8(ascii: ":"), UInt8(ascii: ":")])
        guard halves.count <= 2 else { return nil }
        guard let head = parseGroups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = parseGroups(halves[1], allowIPv4Tail: true), head.count + tail.count <= 7 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// `h:h:h` (possibly empty), the last group optionally a dotted IPv4 (two groups).
    private static func parseGroups(_ bytes: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        var groups: [UInt16] = []
        let parts = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(part) else { return nil }
                groups += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
            } else {
                guard (1...4).contains(part.count), let group = UInt16(String(decoding: part, as: UTF8.self), radix: 16) else { return nil }
                groups.append(group)
            }
        }
        return groups
    }

    private static func split(_ bytes: [UInt8], on separator: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index + separator.count <= bytes.count {
            if bytes[index..<index + separator.count].elementsEqual(separator) {
                pieces.append(bytes[start..<index])
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        pieces.append(bytes[start...])
        return pieces
    }

    /// RFC 5952: lower-case hex, the longest run of two or more zero groups as `::`.
    private static func formatIPv6(_ groups: [UInt16]) -> String {
        var best: Range<Int>?
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < groups.count && groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = index..<end }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard let run = best else { return hex.joined(separator: ":") }
        return hex[..<run.lowerBound].joined(separator: ":") + "::" + hex[run.upperBound...].joined(separator: ":")
    }
}
