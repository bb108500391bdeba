import CHerzCapnp

/// A failed shim call: its result code and reason.
struct ShimFailure {
    var code: Int
    var reason: String
}

/// Runs one shim call; nil when it succeeded. Only the error slot's first and last bytes are
/// cleared (the shim writes a NUL-terminated reason on failure), so a successful call costs no
/// 256-byte clearing and a reason is always bounded.
func shimFailure(_ call: (UnsafeMutablePointer<herz_error>) -> Int32) -> ShimFailure? {
    withUnsafeTemporaryAllocation(of: herz_error.self, capacity: 1) { slot in
        let error = slot.baseAddress!
        let raw = UnsafeMutableRawPointer(error)
        raw.storeBytes(of: 0, as: UInt8.self)
        raw.storeBytes(of: 0, toByteOffset: MemoryLayout<herz_error>.size - 1, as: UInt8.self)
        let code = Int(call(error))
        guard code != HERZ_OK else { return nil }
        let reason = UnsafeRawPointer(error).assumingMemoryBound(to: CChar.self)
        return ShimFailure(code: code, reason: String(cString: reason))
    }
}
