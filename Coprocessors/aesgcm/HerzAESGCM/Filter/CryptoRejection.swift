import HerzCoprocSDK
import NIOCore

/// Refused ciphertext, as the local reply that ends the stream: 400 when the request carried it, 502
/// when the upstream's response did (after the response head left, the kernel turns it into a
/// reset). The body says only which message was refused; the reason (for the kernel's logs and
/// metrics) names the field or chunk and the error, never a key or plaintext.
struct CryptoRejection {
    var direction: MessageDirection
    /// "body" or the field, and what failed, e.g. "body: chunk 3 failed authentication".
    var detail: String

    var reply: CoprocLocalReply {
        let text = direction == .request ? "invalid encrypted request\n" : "invalid encrypted response from upstream\n"
        return CoprocLocalReply(status: direction.rejectionStatus, headers: [WireHeader("content-type", "text/plain")],
                                body: ByteBuffer(string: text), reason: "aes-gcm \(direction.rawValue) \(detail)")
    }
}
