/*
 * Thin C glue between Swift and Debian's QUIC stack (ngtcp2 0.12.1 with its GnuTLS crypto helper,
 * nghttp3 0.8.0, GnuTLS 3.7.9). No logic lives here:
 *   - the libraries' entry points that are function-like versioned macros (Swift cannot import
 *     them) become one small function each;
 *   - the GnuTLS server session for QUIC (priorities, ALPN "h3" enforced in a ClientHello hook,
 *     the ngtcp2 crypto hooks) is set up in one function, since it is a fixed recipe of C calls.
 * Every function returns the library's own return code; Swift checks each one.
 */
#ifndef HERZ_QUIC_H
#define HERZ_QUIC_H

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <nghttp3/nghttp3.h>
#include <gnutls/gnutls.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ngtcp2 versioned macros. */
void herz_ngtcp2_settings_default(ngtcp2_settings *settings);
void herz_ngtcp2_transport_params_default(ngtcp2_transport_params *params);
int herz_ngtcp2_conn_server_new(ngtcp2_conn **pconn, const ngtcp2_cid *dcid, const ngtcp2_cid *scid,
                                const ngtcp2_path *path, uint32_t client_chosen_version,
                                const ngtcp2_callbacks *callbacks, const ngtcp2_settings *settings,
                                const ngtcp2_transport_params *params, void *user_data);
int herz_ngtcp2_conn_read_pkt(ngtcp2_conn *conn, const ngtcp2_path *path, const ngtcp2_pkt_info *pi,
                              const uint8_t *pkt, size_t pktlen, ngtcp2_tstamp ts);
ngtcp2_ssize herz_ngtcp2_conn_writev_stream(ngtcp2_conn *conn, ngtcp2_path *path, ngtcp2_pkt_info *pi,
                                            uint8_t *dest, size_t destlen, ngtcp2_ssize *pdatalen,
                                            uint32_t flags, int64_t stream_id, const ngtcp2_vec *datav,
                                            size_t datavcnt, ngtcp2_tstamp ts);
ngtcp2_ssize herz_ngtcp2_conn_write_connection_close(ngtcp2_conn *conn, ngtcp2_path *path,
                                                     ngtcp2_pkt_info *pi, uint8_t *dest, size_t destlen,
                                                     const ngtcp2_connection_close_error *ccerr,
                                                     ngtcp2_tstamp ts);
/* Smoothed RTT, latest RTT and bytes in flight (ngtcp2_conn_get_conn_stat is a versioned macro). */
void herz_ngtcp2_conn_get_rtt(ngtcp2_conn *conn, uint64_t *smoothed_rtt, uint64_t *latest_rtt,
                              uint64_t *bytes_in_flight);

/* nghttp3 versioned macros. */
void herz_nghttp3_settings_default(nghttp3_settings *settings);
int herz_nghttp3_conn_server_new(nghttp3_conn **pconn, const nghttp3_callbacks *callbacks,
                                 const nghttp3_settings *settings, void *user_data);

/* GnuTLS: certificate credentials from PEM files (0 or a GnuTLS error code). */
int herz_quic_credentials_new(gnutls_certificate_credentials_t *cred, const char *cert_file,
                              const char *key_file);
/* A listener's session resumption state, shared read-only by its sessions on every worker: the
 * session ticket key (64 bytes, HMAC-SHA-512 of the listener's token secret, so tickets outlive a
 * restart when the secret does) and, when 0-RTT is on, GnuTLS' anti-replay context whose add
 * function records each early-data ClientHello (it must return GNUTLS_E_DB_ENTRY_EXISTS for a
 * replay, which makes GnuTLS refuse that ClientHello's early data). */
typedef struct herz_quic_resumption {
    unsigned char ticket_key_bytes[64];
    gnutls_datum_t ticket_key;
    gnutls_anti_replay_t anti_replay; /* NULL: 0-RTT off */
} herz_quic_resumption;

int herz_quic_resumption_init(herz_quic_resumption *resumption, const uint8_t *secret, size_t secretlen,
                              int early_data, gnutls_db_add_func add, void *add_ptr);
void herz_quic_resumption_free(herz_quic_resumption *resumption);

/* A QUIC server session: TLS 1.3 only, ALPN "h3" mandatory, ngtcp2's crypto hooks, session tickets
 * from |resumption| and 0-RTT when its anti-replay context is set; the session's pointer is
 * |conn_ref| (what ngtcp2's GnuTLS helper expects). 0 or a GnuTLS error code. */
int herz_quic_tls_session_new(gnutls_session_t *session, gnutls_certificate_credentials_t cred,
                              const herz_quic_resumption *resumption, ngtcp2_crypto_conn_ref *conn_ref);
/* Whether the server accepted the client's early data (0-RTT) on this session. */
int herz_quic_tls_early_data_accepted(gnutls_session_t session);

#ifdef __cplusplus
}
#endif

#endif
