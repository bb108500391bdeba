import Foundation
import HerzCore
import NIOCore
import XCTest

@testable import HerzHTTP

/// ``FlowRedisClient`` against a real `redis-server`: pipelining, EVALSHA with the EVAL fallback,
/// deadlines while the server is stopped (SIGSTOP), reconnecting with backoff after it is killed
/// and started again, the pipeline bound, AUTH.
final class FlowRedisClientTests: XCTestCase {
    private var server: RedisServerProcess!

    override func setUpWithError() throws { server = try RedisServerProcess() }
    override func tearDown() { server = nil }

    func testPipelinedCallsAreAnsweredInOrder() throws {
        let redis = FlowRedisTestClient(port: server.port)
        let results = try redis.onLoop { client -> EventLoopFuture<[Result<RESPValue, FlowRedisCallError>]> in
            let futures = (0..<500).map { index -> EventLoopFuture<Result<RESPValue, FlowRedisCallError>> in
                let promise = client.eventLoop.makePromise(of: Result<RESPValue, FlowRedisCallError>.self)
                client.call(["INCRBY", "n", String(index)]) { promise.succeed($0) }
                return promise.futureResult
            }
            return EventLoopFuture.whenAllSucceed(futures, on: client.eventLoop)
        }.wait()
        let totals = results.map { result -> Int64 in
            if case .success(.integer(let value)) = result { return value }
            return -1
        }
        XCTAssertEqual(totals, (0..<500).map { Int64($0 * ($0 + 1) / 2) })
    }

    func testScriptCallsUseEvalshaAndFallBackToEvalAfterTheScriptCacheIsFlushed() throws {
        let redis = FlowRedisTestClient(port: server.port)
        let bucket = try XCTUnwrap(FlowGlobalBucket(rate: FlowRate(count: 1, periodNanos: 3_600_000_000_000), burst: 10))
        XCTAssertEqual(try redis.take("k", bucket, want: 1)[0], 1, "before the SHA is known: EVAL")
        let sha = try XCTUnwrap(try redis.onLoop { $0.scriptSHA }, "SCRIPT LOAD ran on connect")
        XCTAssertEqual(try redis.call("SCRIPT", "EXISTS", sha), .success(.array([.integer(1)])))
        XCTAssertEqual(try redis.take("k", bucket, want: 1)[0], 1, "EVALSHA")
        XCTAssertEqual(try redis.call("SCRIPT", "FLUSH"), .success(.simpleString("OK")))
        XCTAssertEqual(try redis.take("k", bucket, want: 1)[0], 1, "NOSCRIPT → EVAL, same call")
        XCTAssertEqual(try redis.call("SCRIPT", "EXISTS", sha), .success(.array([.integer(1)])), "EVAL cached it again")
    }

    func testAStoppedServerTimesCallsOutAtTheirDeadlineThenTheStalledConnectionIsReplaced() throws {
        let redis = FlowRedisTestClient(port: server.port, callTimeout: .milliseconds(5)) { $0.stallTimeout = .milliseconds(200) }
        XCTAssertEqual(try redis.call("PING"), .success(.simpleString("PONG")))
        server.pause()
        defer { server.resume() }
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            XCTAssertEqual(try redis.call("PING"), .failure(.timeout))
            let waited = DispatchTime.now().uptimeNanoseconds - start
            XCTAssertLessThan(waited, 50_000_000, "a 5 ms deadline answered in \(waited / 1_000) µs")
        }
        usleep(400_000)
        XCTAssertFalse(try redis.onLoop { $0.isConnected }, "overdue by the stall timeout: closed")
        server.resume()
        usleep(50_000)
        var reply = try redis.call("PING")
        for _ in 0..<50 where reply != .success(.simpleString("PONG")) {
            usleep(20_000)
            reply = try redis.call("PING")
        }
        XCTAssertEqual(reply, .success(.simpleString("PONG")), "reconnected after the backoff")
    }

    func testAKilledServerFailsCallsAtOnceThenIsReconnectedWhenBack() throws {
        let redis = FlowRedisTestClient(port: server.port) { $0.reconnectBackoffInitial = .milliseconds(50) }
        XCTAssertEqual(try redis.call("SET", "x", "1"), .success(.simpleString("OK")))
        server.kill()
        usleep(20_000)
        XCTAssertEqual(try redis.call("PING"), .failure(.unavailable), "connection lost, or refused")
        XCTAssertEqual(try redis.call("PING"), .failure(.unavailable), "backing off: no connect attempt")
        try server.start()
        usleep(300_000)
        var reply = try redis.call("PING")
        for _ in 0..<50 where reply != .success(.simpleString("PONG")) {
            usleep(20_000)
            reply = try redis.call("PING")
        }
        XCTAssertEqual(reply, .success(.simpleString("PONG")))
        XCTAssertEqual(try redis.call("GET", "x"), .success(.bulkString(nil)), "a new, empty server")
    }

    func testThePipelineIsBounded() throws {
        let redis = FlowRedisTestClient(port: server.port, callTimeout: .seconds(1)) { $0.maxPipeline = 4 }
        XCTAssertEqual(try redis.call("PING"), .success(.simpleString("PONG")))
        server.pause()
        defer { server.resume() }
        let results = try redis.onLoop { client -> [Result<RESPValue, FlowRedisCallError>?] in
            var results = [Result<RESPValue, FlowRedisCallError>?](repeating: nil, count: 6)
            for index in 0..<6 { client.call(["PING"]) { results[index] = $0 } }
            return results
        }
        XCTAssertEqual(results.compactMap { $0 }, [.failure(.overloaded), .failure(.overloaded)], "4 in the pipeline, 2 refused at once")
    }

    func testAuthIsSentFirstAndAWrongPasswordFailsTheConnection() throws {
        XCTAssertEqual(try FlowRedisTestClient(port: server.port).call("CONFIG", "SET", "requirepass", "s3cret"), .success(.simpleString("OK")))
        let good = FlowRedisTestClient(port: server.port) { $0.password = "s3cret" }
        XCTAssertEqual(try good.call("PING"), .success(.simpleString("PONG")))
        let bad = FlowRedisTestClient(port: server.port) { $0.password = "wrong" }
        let reply = try bad.call("PING")
        XCTAssertNotEqual(reply, .success(.simpleString("PONG")))
    }
}
