import NIOCore
import NIOHTTP1
import XCTest
@testable import HerzCore

/// Every header status × every data status, for three message shapes, in both directions.
///
/// Chain: `A` (passes everything), `F` (scripted), `C` (passes everything, records what got past
/// `F`). After the whole message arrived, `F` is resumed asynchronously twice (`~` in the views; a
/// resume of a filter that is not stopped is a no-op). Views list what each filter saw, in order.
final class FilterManagerStatusMatrixTests: XCTestCase {
    enum Shape: CaseIterable {
        /// head, "a", "b" + end
        case body
        /// head + end
        case headersOnly
        /// head, "a", trailers
        case trailers
    }

    struct Row {
        let headers: FilterHeadersStatus
        let data: FilterDataStatus
        let shape: Shape
        /// What `F` saw.
        let f: [String]
        /// What `C` (and so the terminal) saw.
        let c: [String]
    }

    static let headerStatuses: [FilterHeadersStatus] = [
        .continue, .stopIteration, .continueAndDontEndStream, .stopAllIterationAndBuffer, .stopAllIterationAndWatermark,
    ]
    static let dataStatuses: [FilterDataStatus] = [
        .continue, .stopIterationAndBuffer, .stopIterationAndWatermark, .stopIterationNoBuffer,
    ]

    /// The expected outcome for one combination (the spec, restated per case).
    static func expected(_ h: FilterHeadersStatus, _ d: FilterDataStatus, _ shape: Shape) -> (f: [String], c: [String]) {
        let stopAll = h == .stopAllIterationAndBuffer || h == .stopAllIterationAndWatermark
        let buffers = d == .stopIterationAndBuffer || d == .stopIterationAndWatermark
        switch shape {
        case .headersOnly:
            // Data statuses never matter: there is no body.
            let f = ["dh(E)", "~", "~"]
            switch h {
            case .continue: return (f, ["dh(E)", "~", "~"])
            case .continueAndDontEndStream: return (f, ["dh", "~", "dd(,E)", "~"])  // F ends it on continue
            default: return (f, ["~", "dh(E)", "~"])  // held at F until resumed
            }
        case .body:
            if stopAll {
                // The body is queued *before* F and handed to F after its headers went on.
                let f = ["dh", "~", "dd(ab,E)", "~"]
                if d == .continue { return (f, ["~", "dh", "dd(ab,E)", "~"]) }
                if buffers { return (f, ["~", "dh", "~", "dd(ab,E)"]) }
                return (f, ["~", "dh", "~", "dd(,E)"])  // no-buffer: F kept the body, resume ends it
            }
            let f = ["dh", "dd(a)", "dd(b,E)", "~", "~"]
            if d == .continue { return (f, ["dh", "dd(a)", "dd(b,E)", "~", "~"]) }
            let held = h == .stopIteration ? ["~", "dh"] : ["dh", "~"]
            if buffers { return (f, held + ["dd(ab,E)", "~"]) }
            return (f, held + ["dd(,E)", "~"])
        case .trailers:
            if stopAll {
                let f = ["dh", "~", "dd(a)", "dt", "~"]
                // Continuing trailers release whatever F buffered; no-buffer dropped "a".
                return (f, d == .stopIterationNoBuffer ? ["~", "dh", "dt", "~"] : ["~", "dh", "dd(a)", "dt", "~"])
            }
            let f = ["dh", "dd(a)", "dt", "~", "~"]
            return (f, d == .stopIterationNoBuffer ? ["dh", "dt", "~", "~"] : ["dh", "dd(a)", "dt", "~", "~"])
        }
    }

    static var rows: [Row] {
        var rows: [Row] = []
        for shape in Shape.allCases {
            for h in Self.headerStatuses {
                for d in Self.dataStatuses {
                    let (f, c) = Self.expected(h, d, shape)
                    rows.append(Row(headers: h, data: d, shape: shape, f: f, c: c))
                }
            }
        }
        return rows
    }

    func testDecodeMatrix() {
        XCTAssertEqual(Self.rows.count, 60)
        for row in Self.rows {
            let h = Harness(["A", "F", "C"])
            h["F"].dh = [row.headers]
            h["F"].ddDefault = row.data
            switch row.shape {
            case .body:
                h.request()
                h.data("a")
                h.data("b", end: true)
            case .headersOnly:
                h.request(end: true)
            case .trailers:
                h.request()
                h.data("a")
                h.trailers()
            }
            h.continueDecoding("F")
            h.continueDecoding("F")

            let label = "\(row.headers) × \(row.data) × \(row.shape)"
            XCTAssertEqual(h.log.view("A"), Self.sourceView(row.shape, marks: 2), label)
            XCTAssertEqual(h.log.view("F"), row.f, label)
            XCTAssertEqual(h.log.view("C"), row.c, label)
            XCTAssertEqual(h.log.sink, row.c.map(Self.forwarded), label)
            XCTAssertEqual(h.violations, [], label)
        }
    }

    /// The same table on the response path: config order `C, F, A` makes the encode order `A, F, C`.
    func testEncodeMatrix() {
        for row in Self.rows {
            let h = Harness(["C", "F", "A"])
            h.request(end: true)
            h["F"].eh = [row.headers]
            h["F"].edDefault = row.data
            h.log.entries.removeAll()
            switch row.shape {
            case .body:
                h.response()
                h.responseData("a")
                h.responseData("b", end: true)
            case .headersOnly:
                h.response(end: true)
            case .trailers:
                h.response()
                h.responseData("a")
                h.responseTrailers()
            }
            h.continueEncoding("F")
            h.continueEncoding("F")

            let label = "encode \(row.headers) × \(row.data) × \(row.shape)"
            // The response end completes the stream: every filter gets `done` once, checked below.
            XCTAssertEqual(h.log.view("A").filter { $0 != "done" }, Self.sourceView(row.shape, marks: 2).map(Self.encoded), label)
            XCTAssertEqual(h.log.view("F").filter { $0 != "done" }, row.f.map(Self.encoded), label)
            XCTAssertEqual(h.filters.map(\.completions), [1, 1, 1], label)
            let c = row.c.map(Self.encoded)
            XCTAssertEqual(h.log.view("C").filter { $0 != "done" }, c, label)
            let ended = row.c.contains { $0.hasSuffix("E)") || $0 == "dt" }
            XCTAssertTrue(ended, label)
            XCTAssertEqual(h.log.sink.filter { $0 != "complete" }, c.map(Self.sent), label)
            XCTAssertEqual(h.log.sink.filter { $0 == "complete" }.count, 1, label)
            XCTAssertTrue(h.manager.isComplete, label)
            XCTAssertEqual(h.violations, [], label)
        }
    }

    static func sourceView(_ shape: Shape, marks: Int) -> [String] {
        let tail = Array(repeating: "~", count: marks)
        switch shape {
        case .body: return ["dh", "dd(a)", "dd(b,E)"] + tail
        case .headersOnly: return ["dh(E)"] + tail
        case .trailers: return ["dh", "dd(a)", "dt"] + tail
        }
    }

    static func forwarded(_ seen: String) -> String {
        if seen == "~" { return seen }
        if seen.hasPrefix("dh") { return seen == "dh(E)" ? "fwd.head(E)" : "fwd.head" }
        if seen.hasPrefix("dd") { return "fwd.data" + seen.dropFirst(2) }
        return "fwd.trailers"
    }

    static func encoded(_ seen: String) -> String {
        if seen == "~" { return seen }
        if seen.hasPrefix("dh") { return seen == "dh(E)" ? "eh(200,E)" : "eh(200)" }
        if seen.hasPrefix("dd") { return "ed" + seen.dropFirst(2) }
        return "et"
    }

    static func sent(_ seen: String) -> String {
        if seen == "~" { return seen }
        if seen.hasPrefix("eh") { return "resp.head" + seen.dropFirst(2) }
        if seen.hasPrefix("ed") { return "resp.data" + seen.dropFirst(2) }
        return "resp.trailers"
    }
}
