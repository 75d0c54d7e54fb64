// Counts heap allocations made by the calling thread, for tests that assert a code path allocates
// nothing (the model runtime's per-token step). The test binary's own `malloc`, `calloc` and
// `realloc` count, then forward to glibc's (`__libc_malloc` …), so every library in the process
// allocates through them; `free` stays glibc's. Elsewhere than glibc the counter is unavailable.
#ifndef PERWATT_ALLOCATION_COUNTING_H
#define PERWATT_ALLOCATION_COUNTING_H

/// 1 when this build counts allocations (Linux with glibc), 0 otherwise.
int perwatt_allocation_counting_available(void);

/// Starts counting this thread's allocations from zero.
void perwatt_allocation_counting_start(void);

/// Stops counting and returns the number of malloc, calloc and realloc calls this thread made since
/// `perwatt_allocation_counting_start`.
long perwatt_allocation_counting_stop(void);

#endif
