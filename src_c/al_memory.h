/* Ring memory for agentlog._tracer: whole pages from the OS, given back on free.
 *
 * A ring freed with free() often stays resident: glibc keeps it in the arena of
 * the thread that allocated it, or raises its mmap threshold after the first
 * large free and serves the next rings from the heap. Rings come and go with
 * threads, so they are mapped and unmapped directly: after a pool of threads
 * exits, its rings leave the process's RSS. Untouched pages of a mapping cost
 * no RSS either. Elsewhere (no mmap) plain malloc/free.
 */
#ifndef AL_MEMORY_H
#define AL_MEMORY_H

#include <stddef.h>
#include <stdlib.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>

static inline void *al_pages_alloc(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static inline void al_pages_free(void *p, size_t bytes) {
    if (p != NULL) munmap(p, bytes);
}
#else
static inline void *al_pages_alloc(size_t bytes) { return malloc(bytes); }
static inline void al_pages_free(void *p, size_t bytes) { (void)bytes; free(p); }
#endif

#endif /* AL_MEMORY_H */
