import HerzCore
import NIOCore
import NIOPosix
import XCTest

@testable import HerzHTTP

/// A ``FlowRedisClient`` on its own event loop, driven synchronously from a test.
final class FlowRedisTestClient {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let client: FlowRedisClient

    init(port: Int, callTimeout: TimeAmount = .seconds(2), configure: (inout FlowRedisConfiguration) -> Void = { _ in }) {
        var configuration = FlowRedisConfiguration(port: port)
        configure(&configuration)
        client = FlowRedisClient(configuration: configuration, callTimeout: callTimeout, script: FlowGlobalScript.source,
                                 eventLoop: group.next())
    }

    deinit {
        let client = self.client
        try? client.eventLoop.submit { client.close() }.wait()
        try? group.syncShutdownGracefully()
    }

    /// Runs `start` on the loop and waits for the completion it is given.
    func run(_ start: @escaping (FlowRedisClient, @escaping FlowRedisClient.Completion) -> Void) throws -> Result<RESPValue, FlowRedisCallError> {
        let promise = client.eventLoop.makePromise(of: Result<RESPValue, FlowRedisCallError>.self)
        let client = self.client
        client.eventLoop.execute { start(client) { promise.succeed($0) } }
        return try promise.futureResult.wait()
    }

    func call(_ parts: String...) throws -> Result<RESPValue, FlowRedisCallError> {
        try run { $0.call(parts, completion: $1) }
    }

    /// The limiter's script on `key` for `bucket`, as `{granted, waitMicros, left}`.
    func take(_ key: String, _ bucket: FlowGlobalBucket, want: Int, need: Int = 1,
              file: StaticString = #filePath, line: UInt = #line) throws -> [Int64] {
        let result = try run { $0.evalScript(keys: [key], arguments: FlowGlobalScript.arguments(bucket, want: want, need: need), completion: $1) }
        guard case .success(let reply) = result, let integers = reply.integers else {
            XCTFail("script failed: \(result)", file: file, line: line)
            return []
        }
        return integers
    }

    func onLoop<T>(_ body: @escaping (FlowRedisClient) -> T) throws -> T {
        let client = self.client
        return try client.eventLoop.submit { body(client) }.wait()
    }
}
