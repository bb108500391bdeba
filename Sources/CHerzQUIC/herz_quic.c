#include "herz_quic.h"

#include <string.h>
#include <gnutls/crypto.h>

void herz_ngtcp2_settings_default(ngtcp2_settings *settings) { ngtcp2_settings_default(settings); }

void herz_ngtcp2_transport_params_default(ngtcp2_transport_params *params) {
    ngtcp2_transport_params_default(params);
}

int herz_ngtcp2_conn_server_new(ngtcp2_conn **pconn, const ngtcp2_cid *dcid, const ngtcp2_cid *scid,
                                const ngtcp2_path *path, uint32_t client_chosen_version,
                                const ngtcp2_callbacks *callbacks, const ngtcp2_settings *settings,
                                const ngtcp2_transport_params *params, void *user_data) {
    return ngtcp2_conn_server_new(pconn, dcid, scid, path, client_chosen_version, callbacks, settings, params,
                                  NULL, user_data);
}

int herz_ngtcp2_conn_read_pkt(ngtcp2_conn *conn, const ngtcp2_path *path, const ngtcp2_pkt_info *pi,
                              const uint8_t *pkt, size_t pktlen, ngtcp2_tstamp ts) {
    return ngtcp2_conn_read_pkt(conn, path, pi, pkt, pktlen, ts);
}

ngtcp2_ssize herz_ngtcp2_conn_writev_stream(ngtcp2_conn *conn, ngtcp2_path *path, ngtcp2_pkt_info *pi,
                                            uint8_t *dest, size_t destlen, ngtcp2_ssize *pdatalen,
                                            uint32_t flags, int64_t stream_id, const ngtcp2_vec *datav,
                                            size_t datavcnt, ngtcp2_tstamp ts) {
    return ngtcp2_conn_writev_stream(conn, path, pi, dest, destlen, pdatalen, flags, stream_id, datav, datavcnt, ts);
}

ngtcp2_ssize herz_ngtcp2_conn_write_connection_close(ngtcp2_conn *conn, ngtcp2_path *path,
                                                     ngtcp2_pkt_info *pi, uint8_t *dest, size_t destlen,
                                                     const ngtcp2_connection_close_error *ccerr,
                                                     ngtcp2_tstamp ts) {
    return ngtcp2_conn_write_connection_close(conn, path, pi, dest, destlen, ccerr, ts);
}

void herz_ngtcp2_conn_get_rtt(ngtcp2_conn *conn, uint64_t *smoothed_rtt, uint64_t *latest_rtt,
                              uint64_t *bytes_in_flight) {
    ngtcp2_conn_stat stat;
    ngtcp2_conn_get_conn_stat(conn, &stat);
    *smoothed_rtt = stat.smoothed_rtt;
    *latest_rtt = stat.latest_rtt;
    *bytes_in_flight = stat.bytes_in_flight;
}

void herz_nghttp3_settings_default(nghttp3_settings *settings) { nghttp3_settings_default(settings); }

int herz_nghttp3_conn_server_new(nghttp3_conn **pconn, const nghttp3_callbacks *callbacks,
                                 const nghttp3_settings *settings, void *user_data) {
    return nghttp3_conn_server_new(pconn, callbacks, settings, nghttp3_mem_default(), user_data);
}

int herz_quic_credentials_new(gnutls_certificate_credentials_t *cred, const char *cert_file,
                              const char *key_file) {
    int rv = gnutls_certificate_allocate_credentials(cred);
    if (rv != 0) return rv;
    rv = gnutls_certificate_set_x509_key_file(*cred, cert_file, key_file, GNUTLS_X509_FMT_PEM);
    if (rv < 0) {
        gnutls_certificate_free_credentials(*cred);
        *cred = NULL;
        return rv;
    }
    return 0;
}

static const char h3_alpn[] = "h3";

/* After the ClientHello: refuse the handshake unless ALPN selected "h3" (RFC 9114 §3.1). */
static int herz_quic_client_hello_hook(gnutls_session_t session, unsigned int htype, unsigned when,
                                       unsigned int incoming, const gnutls_datum_t *msg) {
    (void)htype; (void)when; (void)incoming; (void)msg;
    gnutls_datum_t alpn;
    if (gnutls_alpn_get_selected_protocol(session, &alpn) != 0) return GNUTLS_E_NO_APPLICATION_PROTOCOL;
    if (alpn.size != sizeof(h3_alpn) - 1 || memcmp(alpn.data, h3_alpn, alpn.size) != 0) {
        return GNUTLS_E_NO_APPLICATION_PROTOCOL;
    }
    return 0;
}

static const char ticket_key_label[] = "herz quic session ticket key";

int herz_quic_resumption_init(herz_quic_resumption *resumption, const uint8_t *secret, size_t secretlen,
                              int early_data, gnutls_db_add_func add, void *add_ptr) {
    memset(resumption, 0, sizeof(*resumption));
    int rv = gnutls_hmac_fast(GNUTLS_MAC_SHA512, secret, secretlen, ticket_key_label, sizeof(ticket_key_label) - 1,
                              resumption->ticket_key_bytes);
    if (rv != 0) return rv;
    resumption->ticket_key.data = resumption->ticket_key_bytes;
    resumption->ticket_key.size = sizeof(resumption->ticket_key_bytes);
    if (!early_data) return 0;
    rv = gnutls_anti_replay_init(&resumption->anti_replay);
    if (rv != 0) return rv;
    gnutls_anti_replay_set_add_function(resumption->anti_replay, add);
    gnutls_anti_replay_set_ptr(resumption->anti_replay, add_ptr);
    return 0;
}

void herz_quic_resumption_free(herz_quic_resumption *resumption) {
    if (resumption->anti_replay) gnutls_anti_replay_deinit(resumption->anti_replay);
    resumption->anti_replay = NULL;
}

int herz_quic_tls_early_data_accepted(gnutls_session_t session) {
    return (gnutls_session_get_flags(session) & GNUTLS_SFLAGS_EARLY_DATA) != 0;
}

int herz_quic_tls_session_new(gnutls_session_t *session, gnutls_certificate_credentials_t cred,
                              const herz_quic_resumption *resumption, ngtcp2_crypto_conn_ref *conn_ref) {
    unsigned flags = GNUTLS_SERVER | GNUTLS_NO_END_OF_EARLY_DATA;
    if (resumption->anti_replay) flags |= GNUTLS_ENABLE_EARLY_DATA;
    int rv = gnutls_init(session, flags);
    if (rv != 0) return rv;
    rv = gnutls_priority_set_direct(*session,
                                    "%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"
                                    "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305",
                                    NULL);
    if (rv == 0) {
        gnutls_handshake_set_hook_function(*session, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
                                           herz_quic_client_hello_hook);
        rv = ngtcp2_crypto_gnutls_configure_server_session(*session);
    }
    if (rv == 0) rv = gnutls_credentials_set(*session, GNUTLS_CRD_CERTIFICATE, cred);
    if (rv == 0) rv = gnutls_session_ticket_enable_server(*session, &resumption->ticket_key);
    if (rv == 0 && resumption->anti_replay) {
        gnutls_anti_replay_enable(*session, resumption->anti_replay);
        /* QUIC requires max_early_data_size 0xffffffff in tickets (RFC 9001 §4.6.1). */
        rv = gnutls_record_set_max_early_data_size(*session, 0xffffffffu);
    }
    if (rv == 0) {
        gnutls_datum_t alpn = {.data = (unsigned char *)h3_alpn, .size = sizeof(h3_alpn) - 1};
        rv = gnutls_alpn_set_protocols(*session, &alpn, 1, GNUTLS_ALPN_MANDATORY | GNUTLS_ALPN_SERVER_PRECEDENCE);
    }
    if (rv != 0) {
        gnutls_deinit(*session);
        *session = NULL;
        return rv;
    }
    gnutls_session_set_ptr(*session, conn_ref);
    return 0;
}
