/// Generates request ids (`x-request-id`): 128 random bits as 32 lowercase hex digits, formatted
/// like a UUID. Uses the system generator; no Foundation UUID object per request.
public enum RequestID {
    public static func make() -> String {
        var g = SystemRandomNumberGenerator()
        let hi = g.next() as UInt64, lo = g.next() as UInt64
        return hex(hi >> 32, 8) + "-" + hex((hi >> 16) & 0xffff, 4) + "-" + hex(hi & 0xffff, 4) + "-"
            + hex(lo >> 48, 4) + "-" + hex(lo & 0xffff_ffff_ffff, 12)
    }

    private static func hex(_ value: UInt64, _ width: Int) -> String {
        let s = String(value, radix: 16)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
