// The extern "C" shim of include/herz_capnp.h: copies fields between the flat views and the generated
// builders/readers of ring.capnp and control.capnp. No protocol logic lives here (see WireCodec).
#include "herz_capnp.h"

#include "control.capnp.h"
#include "ring.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

namespace {

/// Limits for reading one small frame: no legitimate reader touches a word more than once, so four
/// times the frame (plus a little for tiny frames) bounds amplification; the schemas nest ≤ 7 deep.
constexpr uint64_t kTraversalFactor = 4;
constexpr uint64_t kTraversalSlackWords = 64;
constexpr int kNestingLimit = 16;

/// Words of the reused, zeroed first segment: most frames (headers-only calls, answers, control
/// messages) fit and need no allocation; larger ones continue in malloc'd segments.
constexpr size_t kScratchWords = 2048;

void setError(herz_error *err, const char *message) {
    if (err == nullptr) return;
    std::strncpy(err->message, message, sizeof(err->message) - 1);
    err->message[sizeof(err->message) - 1] = '\0';
}

/// Runs `body`, turning every exception into `failure` with its description in `err`.
template <typename Body>
int guarded(herz_error *err, int failure, Body &&body) noexcept {
    try {
        return body();
    } catch (const kj::Exception &e) {
        setError(err, e.getDescription().cStr());
    } catch (const std::exception &e) {
        setError(err, e.what());
    } catch (...) {
        setError(err, "unknown exception");
    }
    return failure;
}

int usage(herz_error *err, const char *message) {
    setError(err, message);
    return HERZ_ERR_USAGE;
}

herz_bytes viewOf(capnp::Data::Reader data) { return herz_bytes{data.begin(), data.size()}; }
herz_bytes viewOf(capnp::Text::Reader text) {
    return herz_bytes{reinterpret_cast<const uint8_t *>(text.begin()), text.size()};
}

/// Copies `bytes` into a freshly initialised Data or Text field. Empty blobs (and empty lists, see the
/// callers) stay null pointers: they read back as empty and keep frames minimal.
template <typename Init>
void copyBlob(herz_bytes bytes, Init &&init) {
    if (bytes.len == 0) return;
    auto dst = init(bytes.len);
    std::memcpy(dst.begin(), bytes.ptr, bytes.len);
}

} // namespace

// MARK: - encoder

struct herz_encoder {
    capnp::word *scratch = nullptr;  // kScratchWords, zero except while a message uses it
    alignas(capnp::MallocMessageBuilder) unsigned char storage[sizeof(capnp::MallocMessageBuilder)];
    capnp::MallocMessageBuilder *builder = nullptr;
    capnp::List<Header>::Builder headerLists[HERZ_LIST_COUNT];
    capnp::List<capnp::Data>::Builder dataLists[HERZ_LIST_COUNT];
    capnp::List<capnp::Text>::Builder textLists[HERZ_LIST_COUNT];

    ~herz_encoder() {
        end();
        std::free(scratch);
    }

    /// Destroys the message (its destructor re-zeroes the used part of `scratch`).
    void end() noexcept {
        for (int i = 0; i < HERZ_LIST_COUNT; i++) {
            headerLists[i] = {};
            dataLists[i] = {};
            textLists[i] = {};
        }
        if (builder == nullptr) return;
        try {
            builder->~MallocMessageBuilder();
        } catch (...) {
        }
        builder = nullptr;
    }
};

namespace {

thread_local std::unique_ptr<herz_encoder> threadEncoder;

void encodeMutation(herz_encoder *enc, HeaderMutation::Builder mutation, const herz_answer *view) {
    if (view->setCount > 0) enc->headerLists[HERZ_LIST_MUTATION_SET] = mutation.initSet(view->setCount);
    if (view->appendCount > 0) enc->headerLists[HERZ_LIST_MUTATION_APPEND] = mutation.initAppend(view->appendCount);
    if (view->removeCount > 0) enc->dataLists[HERZ_LIST_MUTATION_REMOVE] = mutation.initRemove(view->removeCount);
}

void encodeHeartbeat(Heartbeat::Builder heartbeat, const herz_control *view) {
    heartbeat.setSequence(view->sequence);
    heartbeat.setSentNanos(view->sentNanos);
}

template <typename Body>
int encoding(herz_encoder *enc, herz_error *err, Body &&body) noexcept {
    if (enc == nullptr || enc->builder == nullptr) return usage(err, "no message begun");
    return guarded(err, HERZ_ERR_ENCODE, body);
}

void putLE32(uint8_t *p, uint32_t v) {
    p[0] = uint8_t(v);
    p[1] = uint8_t(v >> 8);
    p[2] = uint8_t(v >> 16);
    p[3] = uint8_t(v >> 24);
}

} // namespace

extern "C" herz_encoder *herz_enc_begin(void) {
    try {
        if (!threadEncoder) {
            auto enc = std::unique_ptr<herz_encoder>(new (std::nothrow) herz_encoder());
            if (!enc) return nullptr;
            enc->scratch = static_cast<capnp::word *>(std::calloc(kScratchWords, sizeof(capnp::word)));
            if (enc->scratch == nullptr) return nullptr;
            threadEncoder = std::move(enc);
        }
        herz_encoder *enc = threadEncoder.get();
        enc->end();
        enc->builder = new (enc->storage) capnp::MallocMessageBuilder(kj::arrayPtr(enc->scratch, kScratchWords));
        return enc;
    } catch (...) {
        return nullptr;
    }
}

extern "C" int herz_enc_k2c(herz_encoder *enc, const herz_k2c *view, herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        auto root = enc->builder->initRoot<KernelToCoprocessor>();
        switch (view->which) {
        case HERZ_K2C_CALL: {
            auto call = root.initCall();
            call.setCallId(view->callId);
            call.setStreamId(view->streamId);
            call.setDeadlineNanos(view->deadlineNanos);
            call.setPhase(static_cast<Phase>(view->phase));
            call.setEndStream(view->endStream);
            if (view->headerCount > 0) enc->headerLists[HERZ_LIST_CALL_HEADERS] = call.initHeaders(view->headerCount);
            copyBlob(view->body, [&](size_t n) { return call.initBody(n); });
            copyBlob(view->route, [&](size_t n) { return call.initRoute(n); });
            copyBlob(view->filterConfig, [&](size_t n) { return call.initFilterConfig(n); });
            return HERZ_OK;
        }
        case HERZ_K2C_STREAM_END: {
            auto end = root.initStreamEnd();
            end.setStreamId(view->streamId);
            end.setReset(view->reset);
            return HERZ_OK;
        }
        default:
            return usage(err, "unknown KernelToCoprocessor variant");
        }
    });
}

extern "C" int herz_enc_answer(herz_encoder *enc, const herz_answer *view, herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        auto answer = enc->builder->initRoot<CoprocessorToKernel>().initAnswer();
        answer.setCallId(view->callId);
        switch (view->which) {
        case HERZ_ANSWER_HEADERS: {
            auto headers = answer.initHeaders();
            headers.setStatus(static_cast<HeadersStatus>(view->status));
            encodeMutation(enc, headers.initMutation(), view);
            return HERZ_OK;
        }
        case HERZ_ANSWER_DATA: {
            auto data = answer.initData();
            data.setStatus(static_cast<DataStatus>(view->status));
            data.setReplaceBody(view->replaceBody);
            copyBlob(view->body, [&](size_t n) { return data.initBody(n); });
            return HERZ_OK;
        }
        case HERZ_ANSWER_TRAILERS: {
            auto trailers = answer.initTrailers();
            trailers.setStatus(static_cast<TrailersStatus>(view->status));
            encodeMutation(enc, trailers.initMutation(), view);
            return HERZ_OK;
        }
        case HERZ_ANSWER_LOCAL_REPLY: {
            auto reply = answer.initLocalReply();
            reply.setStatus(view->httpStatus);
            if (view->headerCount > 0) enc->headerLists[HERZ_LIST_REPLY_HEADERS] = reply.initHeaders(view->headerCount);
            copyBlob(view->body, [&](size_t n) { return reply.initBody(n); });
            copyBlob(view->text, [&](size_t n) { return reply.initReason(n); });
            return HERZ_OK;
        }
        case HERZ_ANSWER_FAILURE: {
            auto failure = answer.initFailure();
            failure.setKind(static_cast<FailureKind>(view->status));
            copyBlob(view->text, [&](size_t n) { return failure.initMessage(n); });
            return HERZ_OK;
        }
        default:
            return usage(err, "unknown Answer variant");
        }
    });
}

extern "C" int herz_enc_control(herz_encoder *enc, const herz_control *view, herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        auto root = enc->builder->initRoot<ControlMessage>();
        switch (view->which) {
        case HERZ_CONTROL_HELLO: {
            auto hello = root.initHello();
            hello.setProtocolVersion(view->protocolVersion);
            hello.setRingVersion(view->ringVersion);
            copyBlob(view->name, [&](size_t n) { return hello.initName(n); });
            copyBlob(view->buildVersion, [&](size_t n) { return hello.initBuildVersion(n); });
            if (view->capabilityCount > 0) enc->textLists[HERZ_LIST_CAPABILITIES] = hello.initCapabilities(view->capabilityCount);
            hello.setPid(view->pid);
            hello.setSessionId(view->sessionId);
            hello.setGeneration(view->generation);
            return HERZ_OK;
        }
        case HERZ_CONTROL_REFUSE: {
            auto refuse = root.initRefuse();
            copyBlob(view->text, [&](size_t n) { return refuse.initReason(n); });
            return HERZ_OK;
        }
        case HERZ_CONTROL_HEARTBEAT:
            encodeHeartbeat(root.initHeartbeat(), view);
            return HERZ_OK;
        case HERZ_CONTROL_HEARTBEAT_ACK:
            encodeHeartbeat(root.initHeartbeatAck(), view);
            return HERZ_OK;
        case HERZ_CONTROL_DRAIN:
            root.initDrain().setDeadlineMillis(view->deadlineMillis);
            return HERZ_OK;
        case HERZ_CONTROL_DRAINED:
            root.initDrained().setInFlight(view->inFlight);
            return HERZ_OK;
        case HERZ_CONTROL_STATS_REQUEST:
            root.initStatsRequest();
            return HERZ_OK;
        case HERZ_CONTROL_STATS: {
            auto stats = root.initStats();
            stats.setCallsServed(view->callsServed);
            stats.setCallsFailed(view->callsFailed);
            stats.setInFlight(view->inFlight);
            stats.setRssBytes(view->rssBytes);
            stats.setUptimeMillis(view->uptimeMillis);
            return HERZ_OK;
        }
        case HERZ_CONTROL_RELOAD: {
            auto reload = root.initReload();
            copyBlob(view->text, [&](size_t n) { return reload.initPayload(n); });
            return HERZ_OK;
        }
        case HERZ_CONTROL_RELOAD_RESULT: {
            auto result = root.initReloadResult();
            result.setOk(view->ok);
            copyBlob(view->text, [&](size_t n) { return result.initMessage(n); });
            return HERZ_OK;
        }
        default:
            return usage(err, "unknown ControlMessage variant");
        }
    });
}

extern "C" int herz_enc_attach_frame(herz_encoder *enc, const herz_attach_frame *view, herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        auto root = enc->builder->initRoot<AttachFrame>();
        switch (view->which) {
        case HERZ_ATTACH_ATTACH: {
            auto attach = root.initAttach();
            attach.setSessionId(view->sessionId);
            auto layout = attach.initLayout();
            layout.setWorkers(view->workers);
            layout.setRingBytes(view->ringBytes);
            layout.setRegionBytes(view->regionBytes);
            layout.setLayoutVersion(view->layoutVersion);
            return HERZ_OK;
        }
        case HERZ_ATTACH_ACK: {
            auto ack = root.initAttachAck();
            ack.setSessionId(view->sessionId);
            ack.setOk(view->ok);
            copyBlob(view->error, [&](size_t n) { return ack.initError(n); });
            copyBlob(view->controlEndpoint, [&](size_t n) { return ack.initControlEndpoint(n); });
            ack.setPid(view->pid);
            return HERZ_OK;
        }
        default:
            return usage(err, "unknown AttachFrame variant");
        }
    });
}

extern "C" int herz_enc_list_header(herz_encoder *enc, herz_list_id list, uint32_t index, herz_bytes name,
                                    herz_bytes value, herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        if (list < 0 || list >= HERZ_LIST_COUNT || index >= enc->headerLists[list].size())
            return usage(err, "header list index out of range");
        auto header = enc->headerLists[list][index];
        copyBlob(name, [&](size_t n) { return header.initName(n); });
        copyBlob(value, [&](size_t n) { return header.initValue(n); });
        return HERZ_OK;
    });
}

extern "C" int herz_enc_list_blob(herz_encoder *enc, herz_list_id list, uint32_t index, herz_bytes bytes,
                                  herz_error *err) {
    return encoding(enc, err, [&]() -> int {
        if (list < 0 || list >= HERZ_LIST_COUNT) return usage(err, "unknown list");
        if (index < enc->dataLists[list].size()) {
            copyBlob(bytes, [&](size_t n) { return enc->dataLists[list].init(index, n); });
        } else if (index < enc->textLists[list].size()) {
            copyBlob(bytes, [&](size_t n) { return enc->textLists[list].init(index, n); });
        } else {
            return usage(err, "blob list index out of range");
        }
        return HERZ_OK;
    });
}

extern "C" size_t herz_enc_size(herz_encoder *enc) {
    if (enc == nullptr || enc->builder == nullptr) return 0;
    try {
        auto segments = enc->builder->getSegmentsForOutput();
        size_t words = segments.size() / 2 + 1;
        for (auto segment : segments) words += segment.size();
        return words * sizeof(capnp::word);
    } catch (...) {
        return 0;
    }
}

extern "C" int herz_enc_finish(herz_encoder *enc, void *out, size_t capacity, size_t *written, herz_error *err) {
    int result = encoding(enc, err, [&]() -> int {
        size_t needed = herz_enc_size(enc);
        *written = needed;
        if (needed == 0) return usage(err, "empty message");
        if (needed > capacity || out == nullptr) {
            setError(err, "output buffer too small");
            return int(HERZ_ERR_TOO_SMALL);
        }
        auto segments = enc->builder->getSegmentsForOutput();
        auto *bytes = static_cast<uint8_t *>(out);
        size_t tableBytes = (segments.size() / 2 + 1) * sizeof(capnp::word);
        std::memset(bytes, 0, tableBytes);
        putLE32(bytes, uint32_t(segments.size() - 1));
        for (size_t i = 0; i < segments.size(); i++) putLE32(bytes + 4 + 4 * i, uint32_t(segments[i].size()));
        size_t offset = tableBytes;
        for (auto segment : segments) {
            std::memcpy(bytes + offset, segment.begin(), segment.size() * sizeof(capnp::word));
            offset += segment.size() * sizeof(capnp::word);
        }
        return HERZ_OK;
    });
    if (enc != nullptr) enc->end();
    return result;
}

// MARK: - decoder

struct herz_decoder {
    alignas(capnp::FlatArrayMessageReader) unsigned char storage[sizeof(capnp::FlatArrayMessageReader)];
    capnp::FlatArrayMessageReader *reader = nullptr;
    capnp::List<Header>::Reader headerLists[HERZ_LIST_COUNT];
    capnp::List<capnp::Data>::Reader dataLists[HERZ_LIST_COUNT];
    capnp::List<capnp::Text>::Reader textLists[HERZ_LIST_COUNT];

    ~herz_decoder() { close(); }

    void close() noexcept {
        for (int i = 0; i < HERZ_LIST_COUNT; i++) {
            headerLists[i] = {};
            dataLists[i] = {};
            textLists[i] = {};
        }
        if (reader == nullptr) return;
        try {
            reader->~FlatArrayMessageReader();
        } catch (...) {
        }
        reader = nullptr;
    }
};

namespace {

thread_local std::unique_ptr<herz_decoder> threadDecoder;

void decodeMutation(herz_decoder *dec, HeaderMutation::Reader mutation, herz_answer *view) {
    dec->headerLists[HERZ_LIST_MUTATION_SET] = mutation.getSet();
    dec->headerLists[HERZ_LIST_MUTATION_APPEND] = mutation.getAppend();
    dec->dataLists[HERZ_LIST_MUTATION_REMOVE] = mutation.getRemove();
    view->setCount = dec->headerLists[HERZ_LIST_MUTATION_SET].size();
    view->appendCount = dec->headerLists[HERZ_LIST_MUTATION_APPEND].size();
    view->removeCount = dec->dataLists[HERZ_LIST_MUTATION_REMOVE].size();
}

void decodeHeartbeat(Heartbeat::Reader heartbeat, herz_control *view) {
    view->sequence = heartbeat.getSequence();
    view->sentNanos = heartbeat.getSentNanos();
}

template <typename View, typename Body>
int decoding(herz_decoder *dec, View *view, herz_error *err, Body &&body) noexcept {
    if (dec == nullptr || dec->reader == nullptr) return usage(err, "no message open");
    *view = View{};
    return guarded(err, HERZ_ERR_MALFORMED, body);
}

} // namespace

extern "C" herz_decoder *herz_dec_open(const void *words, size_t len, herz_error *err) {
    if (reinterpret_cast<uintptr_t>(words) % sizeof(capnp::word) != 0 || len % sizeof(capnp::word) != 0) {
        setError(err, "input not 8-byte aligned or not a whole number of words");
        return nullptr;
    }
    herz_decoder *result = nullptr;
    guarded(err, HERZ_ERR_MALFORMED, [&]() -> int {
        if (!threadDecoder) threadDecoder.reset(new herz_decoder());
        herz_decoder *dec = threadDecoder.get();
        dec->close();
        capnp::ReaderOptions options;
        uint64_t wordCount = len / sizeof(capnp::word);
        options.traversalLimitInWords = wordCount * kTraversalFactor + kTraversalSlackWords;
        options.nestingLimit = kNestingLimit;
        auto array = kj::arrayPtr(static_cast<const capnp::word *>(words), wordCount);
        dec->reader = new (dec->storage) capnp::FlatArrayMessageReader(array, options);
        result = dec;
        return HERZ_OK;
    });
    return result;
}

extern "C" int herz_dec_k2c(herz_decoder *dec, herz_k2c *view, herz_error *err) {
    return decoding(dec, view, err, [&]() -> int {
        auto root = dec->reader->getRoot<KernelToCoprocessor>();
        view->which = uint16_t(root.which());
        switch (root.which()) {
        case KernelToCoprocessor::CALL: {
            auto call = root.getCall();
            view->callId = call.getCallId();
            view->streamId = call.getStreamId();
            view->deadlineNanos = call.getDeadlineNanos();
            view->phase = uint16_t(call.getPhase());
            view->endStream = call.getEndStream();
            dec->headerLists[HERZ_LIST_CALL_HEADERS] = call.getHeaders();
            view->headerCount = dec->headerLists[HERZ_LIST_CALL_HEADERS].size();
            view->body = viewOf(call.getBody());
            view->route = viewOf(call.getRoute());
            view->filterConfig = viewOf(call.getFilterConfig());
            break;
        }
        case KernelToCoprocessor::STREAM_END: {
            auto end = root.getStreamEnd();
            view->streamId = end.getStreamId();
            view->reset = end.getReset();
            break;
        }
        }
        return HERZ_OK;
    });
}

extern "C" int herz_dec_answer(herz_decoder *dec, herz_answer *view, herz_error *err) {
    return decoding(dec, view, err, [&]() -> int {
        auto answer = dec->reader->getRoot<CoprocessorToKernel>().getAnswer();
        view->callId = answer.getCallId();
        view->which = uint16_t(answer.which());
        switch (answer.which()) {
        case Answer::HEADERS: {
            auto headers = answer.getHeaders();
            view->status = uint16_t(headers.getStatus());
            decodeMutation(dec, headers.getMutation(), view);
            break;
        }
        case Answer::DATA: {
            auto data = answer.getData();
            view->status = uint16_t(data.getStatus());
            view->replaceBody = data.getReplaceBody();
            view->body = viewOf(data.getBody());
            break;
        }
        case Answer::TRAILERS: {
            auto trailers = answer.getTrailers();
            view->status = uint16_t(trailers.getStatus());
            decodeMutation(dec, trailers.getMutation(), view);
            break;
        }
        case Answer::LOCAL_REPLY: {
            auto reply = answer.getLocalReply();
            view->httpStatus = reply.getStatus();
            dec->headerLists[HERZ_LIST_REPLY_HEADERS] = reply.getHeaders();
            view->headerCount = dec->headerLists[HERZ_LIST_REPLY_HEADERS].size();
            view->body = viewOf(reply.getBody());
            view->text = viewOf(reply.getReason());
            break;
        }
        case Answer::FAILURE: {
            auto failure = answer.getFailure();
            view->status = uint16_t(failure.getKind());
            view->text = viewOf(failure.getMessage());
            break;
        }
        }
        return HERZ_OK;
    });
}

extern "C" int herz_dec_control(herz_decoder *dec, herz_control *view, herz_error *err) {
    return decoding(dec, view, err, [&]() -> int {
        auto root = dec->reader->getRoot<ControlMessage>();
        view->which = uint16_t(root.which());
        switch (root.which()) {
        case ControlMessage::HELLO: {
            auto hello = root.getHello();
            view->protocolVersion = hello.getProtocolVersion();
            view->ringVersion = hello.getRingVersion();
            view->name = viewOf(hello.getName());
            view->buildVersion = viewOf(hello.getBuildVersion());
            dec->textLists[HERZ_LIST_CAPABILITIES] = hello.getCapabilities();
            view->capabilityCount = dec->textLists[HERZ_LIST_CAPABILITIES].size();
            view->pid = hello.getPid();
            view->sessionId = hello.getSessionId();
            view->generation = hello.getGeneration();
            break;
        }
        case ControlMessage::REFUSE:
            view->text = viewOf(root.getRefuse().getReason());
            break;
        case ControlMessage::HEARTBEAT:
            decodeHeartbeat(root.getHeartbeat(), view);
            break;
        case ControlMessage::HEARTBEAT_ACK:
            decodeHeartbeat(root.getHeartbeatAck(), view);
            break;
        case ControlMessage::DRAIN:
            view->deadlineMillis = root.getDrain().getDeadlineMillis();
            break;
        case ControlMessage::DRAINED:
            view->inFlight = root.getDrained().getInFlight();
            break;
        case ControlMessage::STATS_REQUEST:
            root.getStatsRequest();
            break;
        case ControlMessage::STATS: {
            auto stats = root.getStats();
            view->callsServed = stats.getCallsServed();
            view->callsFailed = stats.getCallsFailed();
            view->inFlight = stats.getInFlight();
            view->rssBytes = stats.getRssBytes();
            view->uptimeMillis = stats.getUptimeMillis();
            break;
        }
        case ControlMessage::RELOAD:
            view->text = viewOf(root.getReload().getPayload());
            break;
        case ControlMessage::RELOAD_RESULT: {
            auto result = root.getReloadResult();
            view->ok = result.getOk();
            view->text = viewOf(result.getMessage());
            break;
        }
        }
        return HERZ_OK;
    });
}

extern "C" int herz_dec_attach_frame(herz_decoder *dec, herz_attach_frame *view, herz_error *err) {
    return decoding(dec, view, err, [&]() -> int {
        auto root = dec->reader->getRoot<AttachFrame>();
        view->which = uint16_t(root.which());
        switch (root.which()) {
        case AttachFrame::ATTACH: {
            auto attach = root.getAttach();
            view->sessionId = attach.getSessionId();
            auto layout = attach.getLayout();
            view->workers = layout.getWorkers();
            view->ringBytes = layout.getRingBytes();
            view->regionBytes = layout.getRegionBytes();
            view->layoutVersion = layout.getLayoutVersion();
            break;
        }
        case AttachFrame::ATTACH_ACK: {
            auto ack = root.getAttachAck();
            view->sessionId = ack.getSessionId();
            view->ok = ack.getOk();
            view->error = viewOf(ack.getError());
            view->controlEndpoint = viewOf(ack.getControlEndpoint());
            view->pid = ack.getPid();
            break;
        }
        }
        return HERZ_OK;
    });
}

extern "C" int herz_dec_list_header(herz_decoder *dec, herz_list_id list, uint32_t index, herz_bytes *name,
                                    herz_bytes *value, herz_error *err) {
    if (dec == nullptr || dec->reader == nullptr) return usage(err, "no message open");
    return guarded(err, HERZ_ERR_MALFORMED, [&]() -> int {
        if (list < 0 || list >= HERZ_LIST_COUNT || index >= dec->headerLists[list].size())
            return usage(err, "header list index out of range");
        auto header = dec->headerLists[list][index];
        *name = viewOf(header.getName());
        *value = viewOf(header.getValue());
        return int(HERZ_OK);
    });
}

extern "C" int herz_dec_list_blob(herz_decoder *dec, herz_list_id list, uint32_t index, herz_bytes *bytes,
                                  herz_error *err) {
    if (dec == nullptr || dec->reader == nullptr) return usage(err, "no message open");
    return guarded(err, HERZ_ERR_MALFORMED, [&]() -> int {
        if (list < 0 || list >= HERZ_LIST_COUNT) return usage(err, "unknown list");
        if (index < dec->dataLists[list].size()) {
            *bytes = viewOf(dec->dataLists[list][index]);
        } else if (index < dec->textLists[list].size()) {
            *bytes = viewOf(dec->textLists[list][index]);
        } else {
            return usage(err, "blob list index out of range");
        }
        return int(HERZ_OK);
    });
}
