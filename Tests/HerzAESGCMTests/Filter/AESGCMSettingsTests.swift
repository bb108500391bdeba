import XCTest
@testable import HerzAESGCM

final class AESGCMSettingsTests: XCTestCase {
    private func refusal(_ json: String) -> String? {
        do {
            _ = try AESGCMSettings.parse(json)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testTheDocumentedExample() throws {
        let settings = try AESGCMSettings.parse("""
            {"request":  {"body": "decrypt", "headers": {"X-Card": "decrypt"}, "cookies": {"session": "decrypt"}},
             "response": {"body": "encrypt", "headers": {"x-card": "encrypt"}, "cookies": {"session": "encrypt"}},
             "chunk_size": 4096}
            """)
        XCTAssertEqual(settings, AESGCMSettings(
            request: DirectionSettings(body: .decrypt, headers: ["x-card": .decrypt], cookies: ["session": .decrypt]),
            response: DirectionSettings(body: .encrypt, headers: ["x-card": .encrypt], cookies: ["session": .encrypt]),
            chunkSize: 4096))
        XCTAssertTrue(settings[.request].touchesHead)
    }

    func testEmptySettingsDoNothing() throws {
        for json in ["", "{}", "{\"request\": {}}"] {
            let settings = try AESGCMSettings.parse(json)
            XCTAssertEqual(settings, AESGCMSettings(), json)
            XCTAssertFalse(settings[.response].touchesHead)
        }
    }

    func testTyposAndBadValuesAreRefusedNeverIgnored() {
        XCTAssertEqual(refusal("[1]"), "aes_gcm settings: not a JSON object")
        XCTAssertEqual(refusal("{\"respnse\": {}}"), "aes_gcm settings: unknown field(s) respnse")
        XCTAssertEqual(refusal("{\"response\": {\"bdy\": \"encrypt\"}}"), "aes_gcm settings: response: unknown field(s) bdy")
        XCTAssertEqual(refusal("{\"response\": {\"body\": \"Encrypt\"}}"),
                       "aes_gcm settings: response.body: must be \"encrypt\" or \"decrypt\"")
        XCTAssertEqual(refusal("{\"request\": []}"), "aes_gcm settings: request: must be an object")
        XCTAssertEqual(refusal("{\"request\": {\"headers\": [\"x\"]}}"),
                       "aes_gcm settings: request.headers: must map names to encrypt or decrypt")
        XCTAssertEqual(refusal("{\"request\": {\"headers\": {\"x-a\": \"hide\"}}}"),
                       "aes_gcm settings: request.headers.x-a: must be \"encrypt\" or \"decrypt\"")
        XCTAssertEqual(refusal("{\"request\": {\"headers\": {\"X-A\": \"encrypt\", \"x-a\": \"decrypt\"}}}"),
                       "aes_gcm settings: request.headers: \"x-a\" is listed twice")
        XCTAssertEqual(refusal("{\"chunk_size\": 0}"), "aes_gcm settings: chunk_size: must be an integer from 1 to 1048576")
        XCTAssertEqual(refusal("{\"chunk_size\": \"16k\"}"), "aes_gcm settings: chunk_size: must be an integer from 1 to 1048576")
    }

    func testKeyIDAndContextPerDirection() throws {
        let settings = try AESGCMSettings.parse(#"{"request": {"body": "decrypt", "key_id": "tenant-a.1", "context": "orders v2"}}"#)
        XCTAssertEqual(settings.request, DirectionSettings(body: .decrypt, keyID: KeyID("tenant-a.1"), bodyContext: "orders v2"))
        XCTAssertEqual(settings.response.bodyContext, "body", "the default context")
        XCTAssertEqual(refusal(#"{"request": {"key_id": "a/b"}}"#),
                       "aes_gcm settings: request.key_id: must be a key id (1 to 64 of A-Z a-z 0-9 . _ -)")
        XCTAssertEqual(refusal(#"{"request": {"context": ""}}"#), "aes_gcm settings: request.context: must be 1 to 255 printable ASCII characters")
        XCTAssertEqual(refusal(#"{"request": {"context": "tab\there"}}"#),
                       "aes_gcm settings: request.context: must be 1 to 255 printable ASCII characters")
    }

    func testHeadersTheKernelOwnsOrThatCarryCookiesAreRefused() {
        for name in [":path", "cookie", "Set-Cookie", "content-length", "transfer-encoding", "host", "bad name"] {
            XCTAssertNotNil(refusal("{\"request\": {\"headers\": {\"\(name)\": \"encrypt\"}}}"), name)
        }
        XCTAssertNotNil(refusal("{\"response\": {\"cookies\": {\"a;b\": \"encrypt\"}}}"))
    }
}
