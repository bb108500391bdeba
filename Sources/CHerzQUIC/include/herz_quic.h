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
/* A QUIC server session: TLS 1.3 only, ALPN "h3" mandatory, no 0-RTT, ngtcp2's crypto hooks; the
 * session's pointer is |conn_ref| (what ngtcp2's GnuTLS helper expects). 0 or a GnuTLS error code. */
int herz_quic_tls_session_new(gnutls_session_t *session, gnutls_certificate_credentials_t cred,
                              ngtcp2_crypto_conn_ref *conn_ref);

#ifdef __cplusplus
}
#endif

#endif
