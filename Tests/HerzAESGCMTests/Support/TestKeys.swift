import Foundation
@testable import HerzAESGCM

/// Keys, rings and key files for the tests (fixed bytes: tests must be repeatable).
enum TestKeys {
    static func key(_ id: String, bytes: Int = 32, fill: UInt8 = 7) -> NamedKey {
        NamedKey(id: KeyID(id)!, bytes: [UInt8](repeating: fill, count: bytes))!
    }

    static func ring(_ keys: NamedKey..., active: String? = nil) -> KeyRing {
        try! KeyRing(keys: keys, activeID: KeyID(active ?? keys[0].id.value)!)
    }

    /// A ring with an AES-256 key "k1" (active) and an AES-128 key "k2".
    static let standard = ring(key("k1"), key("k2", bytes: 16, fill: 9))

    /// Key file text: `keys` as id → raw bytes.
    static func fileText(active: String, _ keys: [String: [UInt8]]) -> String {
        let entries = keys.keys.sorted().map { "\"\($0)\": \"\(Data(keys[$0]!).base64EncodedString())\"" }
        return "{\"active\": \"\(active)\", \"keys\": {\(entries.joined(separator: ", "))}}"
    }

    /// A fresh temporary directory, removed by the caller's `tearDown` (see ``TemporaryDirectory``).
    final class TemporaryDirectory {
        let path: String

        init() {
            path = NSTemporaryDirectory() + "herz-aesgcm-tests-\(UUID().uuidString)"
            try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        /// Writes `text` to `name` inside (atomically: by rename, as deploy tools do) and returns its path.
        @discardableResult
        func write(_ name: String, _ text: String, atomically: Bool = true) -> String {
            let file = "\(path)/\(name)"
            try! text.write(toFile: file, atomically: atomically, encoding: .utf8)
            return file
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
