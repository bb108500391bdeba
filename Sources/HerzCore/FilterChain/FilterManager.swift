import NIOCore
import NIOHTTP1

/// The per-stream filter-chain state machine (Envoy's filter manager, kept pure).
///
/// Events come in through the `decode…`/`encode…` methods (from the downstream codec and the
/// upstream/terminal respectively) and through the ``FilterCallbacks`` filters call; actions go out,
/// in order, to the ``FilterManagerSink``. No I/O, no timers, no locks: one instance per stream,
/// owned by the stream's event loop.
///
/// Guarantees (each covered by `FilterManagerTests`):
/// - every filter sees a message's headers before any of its body, and its body before its trailers;
/// - every body byte reaches each filter at most once and in order: buffered data is kept per filter
///   position, so the shared-buffer hazard (a later filter seeing data twice or out of turn) cannot
///   arise;
/// - a local reply or reset requested while a filter runs takes effect after that filter returns, and
///   no filter is called after the stream completed;
/// - buffered bytes never exceed the limit: `…AndBuffer` overflows become a local 413 (request) or
///   500 (response; a reset if the response already started), `…AndWatermark` overflows pause the peer.
public final class FilterManager {
    // TODO(helper): implementation
    // Implementation: see the FilterManager+*.swift files.
}
