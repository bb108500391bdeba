/// Generates request ids (`x-request-id`): 128 random bits as a lowercase UUID-shaped string
/// (8-4-4-4-12 hex digits). Runs once per request without a client-supplied id, so it writes the
/// 36 bytes straight into one string allocation instead of formatting pieces.
public enum RequestID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A new id from the system generator (a syscall: prefer ``make(using:)`` on hot paths).
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }

    /// A new id from `generator` (e.g. a worker's seeded ``SplitMix64``: ids need uniqueness, not
    /// secrecy, and the system generator costs a `getrandom` syscall per call).
    public static func make<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let high: UInt64 = generator.next()
        let low: UInt64 = generator.next()
        return String(unsafeUninitializedCapacity: 36) { out in
            var position = 0
            func emit(_ value: UInt64, nibbles: Int) {
                var shift = (nibbles - 1) * 4
                for _ in 0..<nibbles {
                    out[position] = hexDigits[Int((value >> UInt64(shift)) & 0xf)]
                    position += 1
                    shift -= 4
                }
            }
            func dash() { out[position] = UInt8(ascii: "-"); position += 1 }
            emit(high >> 32, nibbles: 8); dash()
            emit(high >> 16, nibbles: 4); dash()
            emit(high, nibbles: 4); dash()
            emit(low >> 48, nibbles: 4); dash()
            emit(low, nibbles: 12)
            return position
        }
    }
}
