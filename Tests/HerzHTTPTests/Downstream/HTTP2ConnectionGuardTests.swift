import NIOCore
import NIOEmbedded
import NIOHTTP2
import XCTest

@testable import HerzHTTP

final class HTTP2ConnectionGuardTests: XCTestCase {
    func testConnectionErrorsCloseStreamErrorsDoNot() throws {
        let cases: [(Error, Bool)] = [
            (NIOHTTP2Errors.excessiveRSTFrames(), true),
            (NIOHTTP2Errors.excessiveNumberOfGlitches(), true),
            (NIOHTTP2Errors.noSuchStream(streamID: 3), false),
            (NIOHTTP2Errors.streamClosed(streamID: 3, errorCode: .cancel), false),
        ]
        for (error, closes) in cases {
            XCTAssertEqual(HTTP2ConnectionGuard.isConnectionError(error), closes, "\(error)")
            let channel = EmbeddedChannel(handler: HTTP2ConnectionGuard())
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            channel.pipeline.fireErrorCaught(error)
            XCTAssertEqual(channel.isActive, !closes, "\(error)")
            if !closes { XCTAssertThrowsError(try channel.throwIfErrorCaught()) }
            _ = try? channel.finish()
        }
    }
}
