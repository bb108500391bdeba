/// Writes JSON string literals by hand for the places that emit JSON text without building an object
/// tree (the config dump, the access log, which runs per request, and the demo upstream): Foundation's
/// encoder would allocate a dictionary and an encoder per line.
public enum JSONText {
    /// Appends `text` as a quoted, escaped JSON string.
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` as a quoted, escaped JSON string.
    public static func quoted(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        quote(text, into: &out)
        return out
    }
}
