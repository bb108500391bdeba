// bench/run --allocs: an LD_PRELOAD shim that counts heap allocation calls (malloc, calloc, realloc,
// posix_memalign, aligned_alloc) of the process it is loaded into and writes the running total to
// $MCOUNT_FILE when the process gets SIGUSR2 (herz-kernel does not use that signal). bench.py builds
// it with the Swift toolchain's clang, signals before and after a fixed number of requests and
// divides: allocations per proxied request, a figure the machine's load does not move.
#define _GNU_SOURCE
#include <stdlib.h>
#include <stdio.h>
#include <signal.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <malloc.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static atomic_long count;
void *malloc(size_t n) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); return __libc_realloc(p, n); }
int posix_memalign(void **out, size_t al, size_t n) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); void *p = __libc_memalign(al, n); if (!p) return 12; *out = p; return 0; }
void *aligned_alloc(size_t al, size_t n) { atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); return __libc_memalign(al, n); }
static void dump(int sig) {
    (void)sig; const char *f = getenv("MCOUNT_FILE"); if (!f) return;
    int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644); if (fd < 0) return;
    char buf[32]; long v = atomic_load(&count); int len = 0; char tmp[32]; int i = 0;
    if (v == 0) tmp[i++] = '0'; while (v > 0) { tmp[i++] = '0' + v % 10; v /= 10; }
    while (i > 0) buf[len++] = tmp[--i]; buf[len++] = '\n';
    write(fd, buf, len); close(fd);
}
__attribute__((constructor)) static void init(void) { signal(SIGUSR2, dump); }
