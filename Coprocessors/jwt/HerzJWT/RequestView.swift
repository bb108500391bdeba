import HerzCoprocSDK

/// Read access to a request's headers as a call carries them (pseudo-headers `:path`,
/// `:authority`, `:scheme` included): case-insensitive lookup, cookies and query parameters.
/// A value over the call's header list; parses on demand, allocates only what it returns.
struct RequestView {
    let headers: [WireHeader]

    /// Values of every field named `name` (lower case), in order.
    func values(_ name: String) -> [String] {
        headers.filter { Self.equalsLowercased($0.name, name) }.map(\.value)
    }

    func first(_ name: String) -> String? {
        headers.first { Self.equalsLowercased($0.name, name) }?.value
    }

    /// The value of cookie `name` from every `cookie` field (HTTP/2 may split them), first wins;
    /// quotes around the value are removed.
    func cookie(_ name: String) -> String? {
        guard let item = cookieItems().first(where: { $0.name == name })?.item,
              let equals = item.firstIndex(of: "=") else { return nil }
        var value = item[item.index(after: equals)...]
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
        return String(value)
    }

    /// One `cookie` field with every cookie but `name`, as sent; nil when none is left.
    func cookieHeader(without name: String) -> String? {
        let kept = cookieItems().filter { $0.name != name }.map(\.item)
        return kept.isEmpty ? nil : kept.joined(separator: "; ")
    }

    /// The `name=value` items of every `cookie` field, in order, without surrounding spaces.
    func cookieItems() -> [(name: Substring, item: Substring)] {
        values("cookie").flatMap { field in
            field.split(separator: ";").compactMap { raw -> (Substring, Substring)? in
                let item = raw.trimmingSpaces()
                guard let equals = item.firstIndex(of: "=") else { return nil }
                return (item[..<equals], item)
            }
        }
    }

    /// The first value of query parameter `name` of `:path`, percent-decoded (`+` is a space).
    func queryParameter(_ name: String) -> String? {
        guard let path = first(":path"), let question = path.firstIndex(of: "?") else { return nil }
        let query = path[path.index(after: question)...].prefix { $0 != "#" }
        for item in query.split(separator: "&") {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if Self.percentDecoded(parts[0]) == name { return Self.percentDecoded(parts.count > 1 ? parts[1] : "") }
        }
        return nil
    }

    static func equalsLowercased(_ text: String, _ lowercased: String) -> Bool {
        text.utf8.count == lowercased.utf8.count
            && zip(text.utf8, lowercased.utf8).allSatisfy { ($0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0) == $1 }
    }

    /// `%XX` escapes and `+` decoded; nil when the result is not UTF-8 or an escape is broken.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> SubSequence {
        let isSpace = { (c: Character) in c == " " || c == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return self[endIndex...] }
        return self[start...last]
    }
}
