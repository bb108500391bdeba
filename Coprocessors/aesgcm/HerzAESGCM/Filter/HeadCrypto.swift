import HerzCoprocSDK

/// Encrypts or decrypts the configured header and cookie values of one message head and says how to
/// change the head (a `HeaderMutation`).
///
/// Guarantees: only listed headers and the cookie header of the direction are touched; every field
/// of a listed name is transformed and the fields keep their order (the first is `set`, the rest
/// `append`ed); absent headers and cookies are left absent; the first value that does not open throws
/// a ``HeadCrypto/Rejection`` and no mutation is returned. Stateless.
struct HeadCrypto {
    /// A field value that did not open, named without its value.
    struct Rejection: Error, CustomStringConvertible {
        var field: FieldCrypto.Field
        var reason: FieldCrypto.Rejection

        var description: String {
            switch field {
            case .header(let name): return "header \(name): \(reason)"
            case .cookie(let name): return "cookie \(name): \(reason)"
            }
        }
    }

    let settings: DirectionSettings
    let direction: MessageDirection
    let keys: KeyRing

    func mutation(for headers: [WireHeader]) throws -> HeaderMutation {
        var mutation = HeaderMutation()
        for (name, operation) in settings.headers.sorted(by: { $0.key < $1.key }) {
            let values = headers.filter { $0.name.lowercased() == name }.map(\.value)
            let rewritten = try values.map { try transform($0, field: .header(name), operation) }
            add(name, rewritten, to: &mutation)
        }
        if !settings.cookies.isEmpty {
            let name = direction.cookieHeader
            let values = headers.filter { $0.name.lowercased() == name }.map(\.value)
            let names = Set(settings.cookies.keys)
            let rewritten = try values.map { value in
                try direction == .request
                    ? CookieRewriter.rewriteCookie(value, names: names, cookie)
                    : CookieRewriter.rewriteSetCookie(value, names: names, cookie)
            }
            if rewritten != values { add(name, rewritten, to: &mutation) }
        }
        return mutation
    }

    private func cookie(_ name: String, _ value: String) throws -> String {
        try transform(value, field: .cookie(name), settings.cookies[name]!)
    }

    private func transform(_ value: String, field: FieldCrypto.Field, _ operation: CryptoOperation) throws -> String {
        switch operation {
        case .encrypt:
            return FieldCrypto.seal(value, field: field, key: keys.active)
        case .decrypt:
            do {
                return try FieldCrypto.open(value, field: field, keys: keys)
            } catch let reason as FieldCrypto.Rejection {
                throw Rejection(field: field, reason: reason)
            }
        }
    }

    /// Replaces every field named `name` by `values`, in order.
    private func add(_ name: String, _ values: [String], to mutation: inout HeaderMutation) {
        guard let first = values.first else { return }
        mutation.set.append(WireHeader(name, first))
        mutation.append += values.dropFirst().map { WireHeader(name, $0) }
    }
}
