import Foundation
import HerzCoprocSDK
import Logging
import NIOCore
import XCTest
@testable import HerzAESGCM

/// The coprocessor's answers, call by call, as the kernel would see them (no transport: the SDK's
/// own tests cover the rings).
final class AESGCMRingFilterTests: XCTestCase {
    private var directory: TestKeys.TemporaryDirectory!
    private var store: KeyStore!
    private var filter: AESGCMFilter!
    private var ring: AESGCMRingFilter!
    private var nextCallId: UInt64 = 0

    private static let encryptResponse = #"{"response": {"body": "encrypt"}, "chunk_size": 8}"#
    private static let decryptRequest = #"{"request": {"body": "decrypt"}}"#

    override func setUpWithError() throws {
        directory = TestKeys.TemporaryDirectory()
        let path = directory.write("keys.json", TestKeys.fileText(active: "k1", ["k1": [UInt8](repeating: 1, count: 32)]))
        store = try KeyStore(path: path, logger: Logger(label: "test"))
        filter = AESGCMFilter(keys: store, logger: Logger(label: "test"))
        ring = try XCTUnwrap(filter.makeRingFilter() as? AESGCMRingFilter)
    }

    override func tearDown() {
        directory = nil
    }

    private func call(_ phase: CallPhase, stream: UInt64 = 1, _ body: [UInt8] = [], end: Bool = false,
                      headers: [WireHeader] = [], config: String) -> AnswerResult {
        nextCallId += 1
        return ring.answer(CoprocCall(callId: nextCallId, streamId: stream, deadlineNanos: 0, phase: phase, endStream: end,
                                      headers: headers, body: ByteBuffer(bytes: body), route: "r", filterConfig: config))
    }

    /// The head call that starts a message's body (answered `continue`, or `stopIteration` when decrypting).
    private func begin(_ direction: MessageDirection, stream: UInt64 = 1, config: String) {
        let answer = call(direction == .request ? .requestHeaders : .responseHeaders, stream: stream, config: config)
        guard case .headers = answer else { return XCTFail("head refused: \(answer)") }
    }

    /// The bytes a data answer releases: nil for `stopIterationNoBuffer`, fails on anything else.
    private func released(_ answer: AnswerResult, file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        switch answer {
        case .data(.continue, let body?): return Array(body.readableBytesView)
        case .data(.stopIterationNoBuffer, nil): return nil
        default:
            XCTFail("unexpected answer \(answer)", file: file, line: line)
            return nil
        }
    }

    private func sealed(_ text: String, chunkSize: Int = 8) -> [UInt8] {
        SealedMessage.seal(Array(text.utf8), key: store.current.active, context: "body", chunkSize: chunkSize)
    }

    private func localReply(_ answer: AnswerResult) -> CoprocLocalReply? {
        if case .localReply(let reply) = answer { return reply }
        return nil
    }

    func testAResponseBodyIsSealedAsItStreams() throws {
        begin(.response, config: Self.encryptResponse)
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        var out: [UInt8] = []
        let first = try XCTUnwrap(released(call(.responseBody, Array("0123".utf8), config: Self.encryptResponse)))
        XCTAssertEqual(first.count, header, "the header leaves with the first answer")
        out += first
        XCTAssertNil(released(call(.responseBody, Array("45".utf8), config: Self.encryptResponse)),
                     "nothing to release: the coprocessor keeps the bytes (stopIterationNoBuffer)")
        let chunk = try XCTUnwrap(released(call(.responseBody, Array("6789a".utf8), config: Self.encryptResponse)))
        XCTAssertEqual(chunk.count, 8 + 16, "a full chunk leaves at once")
        out += chunk
        out += try XCTUnwrap(released(call(.responseBody, [], end: true, config: Self.encryptResponse)))
        XCTAssertEqual(try SealedMessage.open(out, keys: store.current, context: "body"), Array("0123456789a".utf8))
    }

    func testARequestBodyIsOpenedChunkByChunk() throws {
        let message = sealed("attack at dawn, bring snacks")  // 28 bytes: chunks of 8, 8, 8 and a final 4
        begin(.request, config: Self.decryptRequest)
        let header = MessageHeader.encodedSize(keyIDBytes: 2)
        XCTAssertNil(released(call(.requestBody, Array(message[..<(header + 23)]), config: Self.decryptRequest)))
        XCTAssertEqual(released(call(.requestBody, Array(message[(header + 23)..<(header + 72)]), config: Self.decryptRequest)),
                       Array("attack at dawn, bring sn".utf8))
        XCTAssertEqual(released(call(.requestBody, Array(message[(header + 72)...]), end: true, config: Self.decryptRequest)),
                       Array("acks".utf8))
    }

    func testTamperedRequestCiphertextIs400AndReleasesNothingOfTheCall() throws {
        var message = sealed("attack at dawn, bring snacks")
        message[message.count - 20] ^= 1  // in chunk 2... the final chunk's ciphertext
        begin(.request, config: Self.decryptRequest)
        let reply = try XCTUnwrap(localReply(call(.requestBody, message, end: true, config: Self.decryptRequest)))
        XCTAssertEqual(reply.status, 400)
        XCTAssertEqual(String(buffer: reply.body), "invalid encrypted request\n")
        XCTAssertEqual(reply.reason, "aes-gcm request body: chunk 3 failed authentication")
    }

    func testTamperedOrTruncatedResponseCiphertextIs502() throws {
        let config = #"{"response": {"body": "decrypt"}}"#
        var tampered = sealed("the upstream's reply")
        tampered[60] ^= 1
        begin(.response, stream: 1, config: config)
        begin(.response, stream: 2, config: config)
        XCTAssertEqual(localReply(call(.responseBody, stream: 1, tampered, end: true, config: config))?.status, 502)
        let message = sealed("the upstream's reply")
        let truncated = Array(message[..<(MessageHeader.encodedSize(keyIDBytes: 2) + 48)])  // two whole chunks, no final one
        let reply = try XCTUnwrap(localReply(call(.responseBody, stream: 2, truncated, end: true, config: config)))
        XCTAssertEqual(reply.status, 502)
        XCTAssertEqual(reply.reason, "aes-gcm response body: message truncated")
    }

    func testHeadersAndCookiesAreEncryptedAndDecrypted() throws {
        let config = #"""
            {"request": {"headers": {"x-card": "decrypt"}, "cookies": {"session": "decrypt"}},
             "response": {"headers": {"x-card": "encrypt"}, "cookies": {"session": "encrypt"}}}
            """#
        let card = FieldCrypto.seal("4111", field: .header("x-card"), key: store.current.active)
        let session = FieldCrypto.seal("s3cr3t", field: .cookie("session"), key: store.current.active)
        let request = call(.requestHeaders, headers: [WireHeader(":path", "/"), WireHeader("X-Card", card),
                                                      WireHeader("cookie", "theme=dark; session=\(session)")], config: config)
        XCTAssertEqual(request, .headers(.continue, HeaderMutation(set: [WireHeader("x-card", "4111"),
                                                                         WireHeader("cookie", "theme=dark; session=s3cr3t")])))

        guard case .headers(.continue, let mutation) = call(.responseHeaders, headers: [
            WireHeader(":status", "200"), WireHeader("x-card", "5500"), WireHeader("x-card", "4111"),
            WireHeader("set-cookie", "session=abc; Path=/; HttpOnly"), WireHeader("set-cookie", "theme=dark"),
        ], config: config) else { return XCTFail("not a headers answer") }
        XCTAssertEqual(mutation.set.map(\.name), ["x-card", "set-cookie"])
        XCTAssertEqual(mutation.append.map(\.name), ["x-card", "set-cookie"])
        let keys = store.current
        XCTAssertEqual(try FieldCrypto.open(mutation.set[0].value, field: .header("x-card"), keys: keys), "5500")
        XCTAssertEqual(try FieldCrypto.open(mutation.append[0].value, field: .header("x-card"), keys: keys), "4111")
        let setCookie = mutation.set[1].value
        XCTAssertTrue(setCookie.hasPrefix("session=") && setCookie.hasSuffix("; Path=/; HttpOnly"), setCookie)
        let value = String(setCookie.dropFirst("session=".count).prefix { $0 != ";" })
        XCTAssertEqual(try FieldCrypto.open(value, field: .cookie("session"), keys: keys), "abc")
        XCTAssertEqual(mutation.append[1], WireHeader("set-cookie", "theme=dark"), "other cookies keep their place")
    }

    func testAbsentHeadersAreLeftAloneAndABadOneIs400() throws {
        let config = #"{"request": {"headers": {"x-card": "decrypt"}, "cookies": {"session": "decrypt"}}}"#
        XCTAssertEqual(call(.requestHeaders, headers: [WireHeader("cookie", "theme=dark")], config: config),
                       .headers(.continue, HeaderMutation()))
        let reply = try XCTUnwrap(localReply(call(.requestHeaders, headers: [WireHeader("x-card", "4111")], config: config)))
        XCTAssertEqual(reply.status, 400)
        XCTAssertEqual(reply.reason, "aes-gcm request header x-card: not a sealed message (bad magic)")
    }

    func testTrailersBeforeTheBodysEndAreRefusedAfterItTheyContinue() {
        begin(.response, stream: 1, config: Self.encryptResponse)
        begin(.response, stream: 2, config: Self.encryptResponse)
        _ = call(.responseBody, stream: 1, Array("partial".utf8), config: Self.encryptResponse)
        XCTAssertEqual(localReply(call(.responseTrailers, stream: 1, config: Self.encryptResponse))?.status, 502)
        _ = call(.responseBody, stream: 2, Array("whole".utf8), end: true, config: Self.encryptResponse)
        XCTAssertEqual(call(.responseTrailers, stream: 2, config: Self.encryptResponse), .trailers(.continue, HeaderMutation()))
        XCTAssertEqual(call(.requestTrailers, stream: 3, config: Self.encryptResponse), .trailers(.continue, HeaderMutation()))
    }

    func testABodyWithoutItsHeadIsAFailureNotASecondMessageInTheStream() {
        XCTAssertEqual(call(.responseBody, stream: 5, [1, 2, 3], config: Self.encryptResponse),
                       .failure(.internal, message: "aes-gcm: response body without its response_headers call"))
        XCTAssertEqual(call(.requestHeaders, stream: 6, end: true, headers: [WireHeader(":path", "/")], config: Self.decryptRequest),
                       .headers(.stopIteration, HeaderMutation()))
        XCTAssertEqual(ring.activeBodies, 0, "a message without body keeps no state")
    }

    func testBadSettingsAreAFailureSoTheRoutesPolicyApplies() {
        XCTAssertEqual(call(.requestBody, [1], config: #"{"request": {"body": "hide"}}"#),
                       .failure(.badInput, message: "aes_gcm settings: request.body: must be \"encrypt\" or \"decrypt\""))
        XCTAssertEqual(call(.requestHeaders, config: "{"), .failure(.badInput, message: "aes_gcm settings: not a JSON object"))
    }

    func testTheHeadOfAMessageToDecryptWaitsForItsFirstPlaintext() {
        XCTAssertEqual(call(.requestHeaders, headers: [WireHeader(":path", "/")], config: Self.decryptRequest),
                       .headers(.stopIteration, HeaderMutation()), "released by the first data continue")
        XCTAssertEqual(call(.responseHeaders, headers: [WireHeader(":status", "200")], config: Self.encryptResponse),
                       .headers(.continue, HeaderMutation()), "sealing cannot fail: no reason to wait")
    }

    func testDirectionsWithoutAnOperationPassThrough() {
        XCTAssertEqual(call(.requestBody, [1, 2], end: true, config: Self.encryptResponse), .data(.continue, body: nil))
        XCTAssertEqual(call(.requestHeaders, config: Self.encryptResponse), .headers(.continue, HeaderMutation()))
        XCTAssertEqual(ring.activeBodies, 0)
    }

    func testStreamsKeepSeparateStateUntilTheirStreamEnd() throws {
        let a = sealed("stream a"), b = sealed("stream b, longer")
        begin(.request, stream: 1, config: Self.decryptRequest)
        begin(.request, stream: 2, config: Self.decryptRequest)
        XCTAssertNil(released(call(.requestBody, stream: 1, Array(a.prefix(30)), config: Self.decryptRequest)))
        XCTAssertEqual(released(call(.requestBody, stream: 2, Array(b.prefix(70)), config: Self.decryptRequest)),
                       Array("stream b".utf8))
        XCTAssertEqual(released(call(.requestBody, stream: 1, Array(a.dropFirst(30)), end: true, config: Self.decryptRequest)),
                       Array("stream a".utf8))
        XCTAssertEqual(released(call(.requestBody, stream: 2, Array(b.dropFirst(70)), end: true, config: Self.decryptRequest)),
                       Array(", longer".utf8))
        XCTAssertEqual(ring.activeBodies, 2)
        ring.onStreamEnd(streamId: 1, reset: false)
        ring.onStreamEnd(streamId: 2, reset: true)
        XCTAssertEqual(ring.activeBodies, 0)
        begin(.request, stream: 1, config: Self.decryptRequest)
        XCTAssertEqual(released(call(.requestBody, stream: 1, a, end: true, config: Self.decryptRequest)), Array("stream a".utf8),
                       "a new stream under a reused id starts afresh")
    }

    func testTheServersFilterReloadsKeysAndAnswersNoCallItself() throws {
        XCTAssertEqual(filter.answer(CoprocCall(callId: 1, streamId: 1, deadlineNanos: 0, phase: .requestBody, endStream: true)),
                       .failure(.internal, message: "aes-gcm answers calls on its ring filters only"))
        directory.write("keys.json", TestKeys.fileText(active: "k2", ["k1": [UInt8](repeating: 1, count: 32),
                                                                     "k2": [UInt8](repeating: 2, count: 16)]))
        XCTAssertEqual(try filter.reload(payload: ""), "keys reloaded from \(store.path): 2 key(s), active k2")
        XCTAssertFalse((filter.makeRingFilter() as AnyObject) === (filter.makeRingFilter() as AnyObject), "one filter per ring")
    }

    func testARoutePinnedToAKeySealsWithItAndOpensNothingElse() throws {
        let path = directory.write("keys.json", TestKeys.fileText(active: "k1", ["k1": [UInt8](repeating: 1, count: 32),
                                                                                 "k2": [UInt8](repeating: 2, count: 16)]))
        store = try KeyStore(path: path, logger: Logger(label: "test"))
        ring = try XCTUnwrap(AESGCMFilter(keys: store, logger: Logger(label: "test")).makeRingFilter() as? AESGCMRingFilter)
        let sealWithK2 = #"{"response": {"body": "encrypt", "key_id": "k2"}}"#
        begin(.response, config: sealWithK2)
        let out = try XCTUnwrap(released(call(.responseBody, Array("pinned".utf8), end: true, config: sealWithK2)))
        XCTAssertEqual(Array(out[5..<7]), Array("k2".utf8), "sealed with the pinned key, not the active k1")
        XCTAssertEqual(try SealedMessage.open(out, keys: store.current, context: "body"), Array("pinned".utf8))

        let openOnlyK2 = #"{"request": {"body": "decrypt", "key_id": "k2"}}"#
        begin(.request, stream: 2, config: openOnlyK2)
        let reply = try XCTUnwrap(localReply(call(.requestBody, stream: 2, sealed("under k1"), end: true, config: openOnlyK2)))
        XCTAssertEqual(reply.status, 400, "a message under another listed key does not open on a pinned route")
        XCTAssertEqual(reply.reason, "aes-gcm request body: unknown key id k1")

        let missing = #"{"request": {"body": "decrypt", "key_id": "k9"}}"#
        guard case .failure(.badInput, _) = call(.requestHeaders, stream: 3, config: missing) else {
            return XCTFail("a key the file does not list is a failure, so the route's on_failure applies")
        }
    }

    func testABodyOpensOnlyUnderTheContextItWasSealedFor() throws {
        let orders = #"{"request": {"body": "decrypt", "context": "orders"}}"#
        let message = SealedMessage.seal(Array("for orders".utf8), key: store.current.active, context: "orders", chunkSize: 8)
        begin(.request, config: orders)
        XCTAssertEqual(released(call(.requestBody, message, end: true, config: orders)), Array("for orders".utf8))
        begin(.request, stream: 2, config: Self.decryptRequest)
        let reply = try XCTUnwrap(localReply(call(.requestBody, stream: 2, message, end: true, config: Self.decryptRequest)))
        XCTAssertEqual(reply.reason, "aes-gcm request body: chunk 0 failed authentication")
    }
}
