/// Turns claims into request header values for `claim_to_headers`.
///
/// Guarantees: a value is only produced when it is safe as an HTTP field value: strings without
/// control characters (no CR/LF/NUL: a claim can never inject a header), numbers as written in
/// the token, booleans as `true`/`false`, and lists of those joined by `,`. Objects, `null` and
/// unsafe strings produce nothing (the header is then absent). Pure.
enum ClaimHeaderValue {
    /// The claim `name` of `claims`: a member of that exact name, else a path through nested
    /// objects (`realm_access.roles`).
    static func lookup(_ name: String, in claims: JSONObject) -> JSONValue? {
        if let direct = claims[name] { return direct }
        var current: JSONValue = .object(claims)
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.object?[String(part)] else { return nil }
            current = next
        }
        return current
    }

    static func render(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return isSafe(text) ? text : nil
        case .number(let number): return number.text
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items):
            let rendered = items.map { item -> String? in
                if case .array = item { return nil }
                return render(item)
            }
            guard !rendered.isEmpty, rendered.allSatisfy({ $0 != nil }) else { return nil }
            return rendered.map { $0! }.joined(separator: ",")
        case .object, .null: return nil
        }
    }

    /// No C0 control characters (tab excepted) and no DEL.
    static func isSafe(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
    }
}
