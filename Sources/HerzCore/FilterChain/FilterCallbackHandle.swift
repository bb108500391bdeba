import NIOCore
import NIOHTTP1

/// The ``FilterCallbacks`` of one filter position, created once per stream. Holds its manager
/// weakly: a filter that keeps its callbacks past the stream's end talks to nothing.
final class FilterCallbackHandle: FilterCallbacks {
    weak var manager: FilterManager?
    let filterIndex: Int
    let streamInfo: StreamInfo

    init(filterIndex: Int, streamInfo: StreamInfo) {
        self.filterIndex = filterIndex
        self.streamInfo = streamInfo
    }

    func continueDecoding() { self.manager?.record(.resume(filterIndex: self.filterIndex, decode: true)) }
    func continueEncoding() { self.manager?.record(.resume(filterIndex: self.filterIndex, decode: false)) }

    func addDecodedData(_ data: ByteBuffer) { self.manager?.record(.addData(filterIndex: self.filterIndex, decode: true, data)) }
    func addEncodedData(_ data: ByteBuffer) { self.manager?.record(.addData(filterIndex: self.filterIndex, decode: false, data)) }

    func injectDecodedData(_ data: ByteBuffer, endStream: Bool) {
        self.manager?.record(.inject(filterIndex: self.filterIndex, decode: true, data, endStream: endStream))
    }

    func injectEncodedData(_ data: ByteBuffer, endStream: Bool) {
        self.manager?.record(.inject(filterIndex: self.filterIndex, decode: false, data, endStream: endStream))
    }

    var decodingBuffer: ByteBuffer? { self.manager?.bufferedData(ofFilter: self.filterIndex, in: DecodeDirection.self) }
    var encodingBuffer: ByteBuffer? { self.manager?.bufferedData(ofFilter: self.filterIndex, in: EncodeDirection.self) }

    func modifyHeldRequestHead(_ edit: (inout HTTPRequestHead) -> Void) -> Bool {
        self.manager?.modifyHeldHead(ofFilter: self.filterIndex, in: DecodeDirection.self, edit) ?? false
    }

    func modifyHeldResponseHead(_ edit: (inout HTTPResponseHead) -> Void) -> Bool {
        self.manager?.modifyHeldHead(ofFilter: self.filterIndex, in: EncodeDirection.self, edit) ?? false
    }

    func modifyHeldRequestTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool {
        self.manager?.modifyHeldTrailers(ofFilter: self.filterIndex, in: DecodeDirection.self, edit) ?? false
    }

    func modifyHeldResponseTrailers(_ edit: (inout HTTPHeaders) -> Void) -> Bool {
        self.manager?.modifyHeldTrailers(ofFilter: self.filterIndex, in: EncodeDirection.self, edit) ?? false
    }

    func sendLocalReply(status: HTTPResponseStatus, body: String, headers: HTTPHeaders) {
        self.manager?.record(.localReply(filterIndex: self.filterIndex, status: status, body: body, headers: headers))
    }
}

/// A callback effect. Recorded while any filter callback runs and applied once it returned; applied
/// at once otherwise.
enum DeferredOp {
    case resume(filterIndex: Int, decode: Bool)
    case addData(filterIndex: Int, decode: Bool, ByteBuffer)
    case inject(filterIndex: Int, decode: Bool, ByteBuffer, endStream: Bool)
    /// `filterIndex == filterCount` is the terminal.
    case localReply(filterIndex: Int, status: HTTPResponseStatus, body: String, headers: HTTPHeaders)
    case reset(StreamResetReason)
}
