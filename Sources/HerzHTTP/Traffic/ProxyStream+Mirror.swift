import HerzCore
import NIOCore
import NIOHTTP1

/// A ``ProxyStream``'s request mirrors: started once the route is known, fed every request part the
/// stream forwards upstream, let go when the stream ends (an unfinished request abandons them).
/// Nothing here can hold, slow or fail the client's stream.
extension ProxyStream {
    func startMirrors(_ route: RouteEntry, head: HTTPRequestHead, endStream: Bool) {
        mirrors = RequestMirror.start(for: route, head: head, endStream: endStream, worker: worker,
                                      snapshot: snapshot, metrics: worker.metrics.shared.traffic)
    }

    func mirrorBody(_ data: ByteBuffer, endStream: Bool) {
        for mirror in mirrors {
            mirror.body(data)
            if endStream { mirror.end(nil) }
        }
    }

    func mirrorRequestEnd(_ trailers: HTTPHeaders?) {
        for mirror in mirrors { mirror.end(trailers) }
    }

    func endMirrors() {
        for mirror in mirrors { mirror.clientStreamEnded() }
        mirrors.removeAll()
    }
}
