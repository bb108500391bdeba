// CHerzSys: thin C shims over Linux system calls and C11 atomics that the coprocessor transport
// needs. No logic lives here: every function maps to one call (or a fixed short sequence of them).
//
// Why C: Swift cannot do these portably or cheaply otherwise. `memfd_create`, `F_ADD_SEALS`,
// `SO_PEERCRED` and `MSG_CMSG_CLOEXEC` are Linux-only and partly missing from Glibc's Swift overlay;
// `CMSG_*` are macros Swift cannot import; `sockaddr_un.sun_path` is a tuple in Swift; signal
// handlers must be async-signal-safe C. And the ring's atomics operate on raw pointers into memory
// shared with another process, which Swift's own atomics (types owning their storage) do not
// express: the `static inline` C11 helpers below compile to single instructions inlined into Swift.
#ifndef HERZ_SYS_H
#define HERZ_SYS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

// MARK: shared memory

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING). Returns the fd or -1 (errno set).
int herz_memfd_create(const char *name);
/// fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW). Returns 0 or -1.
int herz_memfd_seal_size(int fd);
/// fcntl(fd, F_GET_SEALS). Returns the seal bits or -1.
int herz_memfd_seals(int fd);
/// The F_SEAL_SHRINK | F_SEAL_GROW bits, for comparing with herz_memfd_seals.
int herz_memfd_size_seals(void);

// MARK: unix sockets

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK). Returns 0 or -1.
int herz_socketpair_nonblocking(int fds[2]);
/// socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) + bind(path). Returns the fd or -1 (ENAMETOOLONG when
/// the path does not fit sun_path).
int herz_unix_bind(const char *path);
/// socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC) + connect(path). Returns the fd or -1.
int herz_unix_connect(const char *path);
/// accept4(fd, NULL, NULL, SOCK_CLOEXEC) (accept4 is a GNU extension Glibc's overlay hides).
int herz_accept_cloexec(int fd);
/// sendmsg(MSG_NOSIGNAL) of `len` bytes with `nfds` descriptors in one SCM_RIGHTS message (none
/// when nfds == 0). Returns bytes sent or -1.
ssize_t herz_send_with_fds(int sock, const void *buf, size_t len, const int *fds, size_t nfds);
/// recvmsg(MSG_CMSG_CLOEXEC) of up to `len` bytes; descriptors received go to fds[0..<*nfds]
/// (at most maxfds). *truncated is 1 when the kernel dropped descriptors (MSG_CTRUNC).
/// Returns bytes read (0 = EOF) or -1.
ssize_t herz_recv_with_fds(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds, int *truncated);
/// getsockopt(SO_PEERCRED). Returns 0 or -1.
int herz_peer_credentials(int sock, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// pipe2(fds, O_CLOEXEC | O_NONBLOCK) (pipe2 is a GNU extension Glibc's overlay hides). Returns 0 or -1.
int herz_pipe_nonblocking(int fds[2]);

// MARK: signals

/// Installs a handler for SIGTERM and SIGINT that writes the signal number (one byte) to a
/// non-blocking pipe, and returns the pipe's read end (-1 on failure). Idempotent.
int herz_termination_pipe(void);

// MARK: clock

/// CLOCK_MONOTONIC in nanoseconds (the clock of `deadlineNanos`).
static inline uint64_t herz_monotonic_nanos(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// MARK: atomics on shared memory (pointers must be naturally aligned)

static inline uint64_t herz_load_acquire_u64(const void *p) {
    return atomic_load_explicit((const _Atomic uint64_t *)p, memory_order_acquire);
}
static inline void herz_store_release_u64(void *p, uint64_t v) {
    atomic_store_explicit((_Atomic uint64_t *)p, v, memory_order_release);
}
static inline uint32_t herz_load_seqcst_u32(const void *p) {
    return atomic_load_explicit((const _Atomic uint32_t *)p, memory_order_seq_cst);
}
static inline void herz_store_seqcst_u32(void *p, uint32_t v) {
    atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_seq_cst);
}
static inline uint32_t herz_exchange_seqcst_u32(void *p, uint32_t v) {
    return atomic_exchange_explicit((_Atomic uint32_t *)p, v, memory_order_seq_cst);
}
static inline void herz_fence_seqcst(void) {
    atomic_thread_fence(memory_order_seq_cst);
}

#endif
