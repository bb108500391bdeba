/// Unpredictable bytes for connection IDs, tokens' secrets and ngtcp2's `rand` callback, from the
/// system's cryptographic generator (getrandom on Linux).
enum QUICRandom {
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var generator = SystemRandomNumberGenerator()
        var offset = 0
        while offset < buffer.count {
            let word = generator.next()
            withUnsafeBytes(of: word) { bytes in
                let n = min(bytes.count, buffer.count - offset)
                buffer.baseAddress!.advanced(by: offset).copyMemory(from: bytes.baseAddress!, byteCount: n)
                offset += n
            }
        }
    }

    static func fill(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { fill($0) }
    }

    static func bytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        fill(&bytes)
        return bytes
    }
}
