import Crypto
import Foundation

/// AES-GCM (128- or 256-bit key, by its length) with a 96-bit nonce and a 128-bit tag, from
/// swift-crypto: the one place Herz's AES-GCM code calls the cipher. Stateless; any thread.
enum GCM {
    static let nonceBytes = 12

    /// Appends `ciphertext || tag` of `plaintext` to `out`.
    static func seal(_ plaintext: some DataProtocol, key: SymmetricKey, nonce: [UInt8], aad: [UInt8],
                     into out: inout [UInt8]) throws {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: aad)
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
    }

    /// The plaintext of `sealed` (`ciphertext || tag`); throws unless the tag authenticates the
    /// ciphertext, `aad`, `key` and `nonce` together. Nothing of the plaintext escapes a failure.
    static func open(_ sealed: ArraySlice<UInt8>, key: SymmetricKey, nonce: [UInt8], aad: [UInt8]) throws -> Data {
        precondition(sealed.count >= SealedFormat.tagBytes)
        let split = sealed.endIndex - SealedFormat.tagBytes
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: sealed[..<split], tag: sealed[split...])
        return try AES.GCM.open(box, using: key, authenticating: aad)
    }
}
