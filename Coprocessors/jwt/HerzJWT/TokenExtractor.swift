/// A token found in a request, and where (so it can be stripped after verification).
struct FoundToken: Equatable {
    let token: String
    let location: TokenLocation
}

/// Finds a provider's token in a request: the first of its locations that holds one, in the order
/// configured. A header only counts when its value starts with the location's prefix (ASCII
/// case-insensitive, so `authorization: bearer x` and `Bearer x` both work; `Basic …` does not).
enum TokenExtractor {
    static func find(_ locations: [TokenLocation], in request: RequestView) -> FoundToken? {
        for location in locations {
            switch location {
            case .header(let name, let prefix):
                for value in request.values(name) where hasPrefixIgnoringCase(value, prefix) {
                    let token = value.dropFirst(prefix.count).trimmingSpaces()
                    return FoundToken(token: String(token), location: location)
                }
            case .queryParameter(let name):
                if let token = request.queryParameter(name) { return FoundToken(token: token, location: location) }
            case .cookie(let name):
                if let token = request.cookie(name) { return FoundToken(token: token, location: location) }
            }
        }
        return nil
    }

    static func hasPrefixIgnoringCase(_ value: String, _ prefix: String) -> Bool {
        value.count >= prefix.count && value.prefix(prefix.count).lowercased() == prefix.lowercased()
    }
}
