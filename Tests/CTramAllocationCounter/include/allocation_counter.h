#ifndef TRAM_ALLOCATION_COUNTER_H
#define TRAM_ALLOCATION_COUNTER_H

/// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
/// made by the threads that opted in, for tests that assert a hot path allocates nothing.
///
/// Linking this target into a test executable replaces those functions process-wide with thin
/// wrappers around glibc's own (`__libc_malloc`, ...), so every allocation still comes from the
/// one allocator and `free` needs no wrapper. Threads that have not opted in pay one
/// thread-local load per allocation.

/// Starts (1) or stops (0) counting this thread's allocations.
void tram_allocation_counting(int enabled);

/// Allocations counted so far, over all counting threads.
long tram_allocation_count(void);

/// Whether this build really replaced malloc (false on platforms without glibc's __libc_*
/// entry points, where the count would always be zero and a test must not trust it).
int tram_allocation_counter_active(void);

#endif
