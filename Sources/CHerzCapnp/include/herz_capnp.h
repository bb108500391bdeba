// Plain-C view of the Herz Cap'n Proto messages (schemas/ring.capnp, schemas/control.capnp).
//
// The shim only copies fields between these flat view structs and libcapnp's builders/readers; the
// Swift side (HerzCoproc's WireCodec) owns every decision. Guarantees:
//   * no function ever lets an exception escape: kj::Exception and std::exception become
//     HERZ_ERR_MALFORMED (decoding) or HERZ_ERR_ENCODE (encoding) with the message in `err`;
//   * decoding is zero-copy: herz_bytes in a decoded view point into the caller's input, which must
//     stay alive and unchanged until the next herz_dec_open on the same thread;
//   * encoder and decoder are per-thread contexts (no allocation per message once warm); each thread
//     has one of each, used strictly one message at a time.
#ifndef HERZ_CAPNP_H
#define HERZ_CAPNP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes of every function returning int.
enum {
    HERZ_OK = 0,
    HERZ_ERR_MALFORMED = 1,   // the input is not a valid message (libcapnp/kj said why)
    HERZ_ERR_TOO_SMALL = 2,   // herz_enc_finish: the output buffer is too small
    HERZ_ERR_ENCODE = 3,      // libcapnp refused to build the message (e.g. a blob over 512 MiB)
    HERZ_ERR_USAGE = 4,       // wrong call order or an unknown list/variant id
};

/// A human-readable reason for a non-zero result, NUL-terminated (truncated to fit).
typedef struct {
    char message[256];
} herz_error;

/// A byte range. Empty ranges may have a NULL ptr.
typedef struct {
    const uint8_t *ptr;
    size_t len;
} herz_bytes;

/// Lists addressed by id after the message's scalars are set (encode) or read (decode).
typedef enum {
    HERZ_LIST_CALL_HEADERS = 0,     // Call.headers                       List(Header)
    HERZ_LIST_MUTATION_SET = 1,     // {Headers,Trailers}Answer.mutation.set   List(Header)
    HERZ_LIST_MUTATION_APPEND = 2,  // {Headers,Trailers}Answer.mutation.append List(Header)
    HERZ_LIST_MUTATION_REMOVE = 3,  // {Headers,Trailers}Answer.mutation.remove List(Data)
    HERZ_LIST_REPLY_HEADERS = 4,    // LocalReply.headers                 List(Header)
    HERZ_LIST_CAPABILITIES = 5,     // Hello.capabilities                 List(Text)
    HERZ_LIST_COUNT = 6
} herz_list_id;

// Union discriminants, equal to the schemas' ordinals. A decoded `which` may hold any other value
// (a newer peer); callers must treat it as unknown.
enum { HERZ_K2C_CALL = 0, HERZ_K2C_STREAM_END = 1 };
enum { HERZ_ANSWER_HEADERS = 0, HERZ_ANSWER_DATA = 1, HERZ_ANSWER_TRAILERS = 2, HERZ_ANSWER_LOCAL_REPLY = 3, HERZ_ANSWER_FAILURE = 4 };
enum {
    HERZ_CONTROL_HELLO = 0, HERZ_CONTROL_REFUSE = 1, HERZ_CONTROL_HEARTBEAT = 2, HERZ_CONTROL_HEARTBEAT_ACK = 3,
    HERZ_CONTROL_DRAIN = 4, HERZ_CONTROL_DRAINED = 5, HERZ_CONTROL_STATS_REQUEST = 6, HERZ_CONTROL_STATS = 7,
    HERZ_CONTROL_RELOAD = 8, HERZ_CONTROL_RELOAD_RESULT = 9
};
enum { HERZ_ATTACH_ATTACH = 0, HERZ_ATTACH_ACK = 1 };

/// KernelToCoprocessor. `headerCount` is Call.headers' length (elements via the list functions).
typedef struct {
    uint16_t which;
    // call
    uint64_t callId;
    uint64_t streamId;
    uint64_t deadlineNanos;
    uint16_t phase;              // raw enum value
    bool endStream;
    uint32_t headerCount;
    herz_bytes body;
    herz_bytes route;
    herz_bytes filterConfig;
    // streamEnd (streamId above)
    bool reset;
} herz_k2c;

/// CoprocessorToKernel (its one Answer). Counts are list lengths (elements via the list functions).
typedef struct {
    uint64_t callId;
    uint16_t which;
    uint16_t status;             // headers/data/trailers: the raw status enum; failure: the raw kind
    // headers, trailers
    uint32_t setCount;
    uint32_t appendCount;
    uint32_t removeCount;
    // data
    bool replaceBody;
    herz_bytes body;             // data.body, localReply.body
    // localReply
    uint16_t httpStatus;
    uint32_t headerCount;
    herz_bytes text;             // localReply.reason, failure.message
} herz_answer;

/// ControlMessage. `text` is refuse.reason, reload.payload or reloadResult.message.
typedef struct {
    uint16_t which;
    // hello
    uint32_t protocolVersion;
    uint32_t ringVersion;
    herz_bytes name;
    herz_bytes buildVersion;
    uint32_t capabilityCount;
    uint32_t pid;
    uint64_t sessionId;
    uint64_t generation;
    // refuse, reload, reloadResult
    herz_bytes text;
    bool ok;                     // reloadResult
    // heartbeat, heartbeatAck
    uint64_t sequence;
    uint64_t sentNanos;
    uint32_t deadlineMillis;     // drain
    uint32_t inFlight;           // drained, stats
    // stats
    uint64_t callsServed;
    uint64_t callsFailed;
    uint64_t rssBytes;
    uint64_t uptimeMillis;
} herz_control;

/// AttachFrame.
typedef struct {
    uint16_t which;
    uint64_t sessionId;          // attach, attachAck
    // attach.layout
    uint32_t workers;
    uint32_t ringBytes;
    uint64_t regionBytes;
    uint32_t layoutVersion;
    // attachAck
    bool ok;
    herz_bytes error;
    herz_bytes controlEndpoint;
    uint32_t pid;
} herz_attach_frame;

// MARK: encoding
//
// herz_enc_begin → one herz_enc_<root> → list elements → herz_enc_size / herz_enc_finish.
// herz_enc_begin discards any message left unfinished on this thread.

typedef struct herz_encoder herz_encoder;

/// This thread's encoder with a fresh, empty message, or NULL when out of memory.
herz_encoder *herz_enc_begin(void);
int herz_enc_k2c(herz_encoder *enc, const herz_k2c *view, herz_error *err);
int herz_enc_answer(herz_encoder *enc, const herz_answer *view, herz_error *err);
int herz_enc_control(herz_encoder *enc, const herz_control *view, herz_error *err);
int herz_enc_attach_frame(herz_encoder *enc, const herz_attach_frame *view, herz_error *err);
/// Sets element `index` of a List(Header) initialised by the root call.
int herz_enc_list_header(herz_encoder *enc, herz_list_id list, uint32_t index, herz_bytes name, herz_bytes value, herz_error *err);
/// Sets element `index` of a List(Data) or List(Text) initialised by the root call.
int herz_enc_list_blob(herz_encoder *enc, herz_list_id list, uint32_t index, herz_bytes bytes, herz_error *err);
/// Bytes the message takes in stream framing (segment table + segments), a multiple of 8.
size_t herz_enc_size(herz_encoder *enc);
/// Writes the stream-framed message to `out` and ends it. HERZ_ERR_TOO_SMALL (with `*written` set to
/// the size needed) when `capacity` is too small; the message is ended either way.
int herz_enc_finish(herz_encoder *enc, void *out, size_t capacity, size_t *written, herz_error *err);

// MARK: decoding
//
// herz_dec_open → one herz_dec_<root> → list elements. `words` must be 8-byte aligned, `len` a
// multiple of 8 and exactly one stream-framed message.

typedef struct herz_decoder herz_decoder;

/// This thread's decoder reading `words`, or NULL with `err` set. Limits: traversal 4 × len/8 + 64
/// words, nesting 16.
herz_decoder *herz_dec_open(const void *words, size_t len, herz_error *err);
int herz_dec_k2c(herz_decoder *dec, herz_k2c *view, herz_error *err);
int herz_dec_answer(herz_decoder *dec, herz_answer *view, herz_error *err);
int herz_dec_control(herz_decoder *dec, herz_control *view, herz_error *err);
int herz_dec_attach_frame(herz_decoder *dec, herz_attach_frame *view, herz_error *err);
int herz_dec_list_header(herz_decoder *dec, herz_list_id list, uint32_t index, herz_bytes *name, herz_bytes *value, herz_error *err);
int herz_dec_list_blob(herz_decoder *dec, herz_list_id list, uint32_t index, herz_bytes *bytes, herz_error *err);

#ifdef __cplusplus
}
#endif

#endif
