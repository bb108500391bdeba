import CHerzQUIC

/// Header fields laid out as an `nghttp3_nv` array over one contiguous byte buffer, valid for one
/// call (nghttp3 copies what it submits).
enum HTTP3FieldList {
    static func with<T>(_ fields: [(name: String, value: String)], _ body: (UnsafePointer<nghttp3_nv>, Int) -> T) -> T {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
        var ranges: [(name: Range<Int>, value: Range<Int>)] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let nameStart = bytes.count
            bytes.append(contentsOf: field.name.utf8)
            let valueStart = bytes.count
            bytes.append(contentsOf: field.value.utf8)
            ranges.append((nameStart..<valueStart, valueStart..<bytes.count))
        }
        return bytes.withUnsafeMutableBufferPointer { storage in
            let base = storage.baseAddress ?? UnsafeMutablePointer<UInt8>.allocate(capacity: 0)
            let list = ranges.map { range in
                nghttp3_nv(name: base + range.name.lowerBound, value: base + range.value.lowerBound,
                           namelen: range.name.count, valuelen: range.value.count, flags: UInt8(NGHTTP3_NV_FLAG_NONE))
            }
            return list.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }
}
