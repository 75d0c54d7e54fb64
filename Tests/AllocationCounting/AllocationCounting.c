#include "AllocationCounting.h"

#include <stddef.h>
#include <stdlib.h>

#if defined(__linux__) && defined(__GLIBC__)

// glibc's own entry points, exported for exactly this use (malloc hooks were removed in 2.34).
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);

// Per thread, so that tests running in parallel on other threads do not count here. initial-exec:
// reading them must not itself allocate (the executable's TLS block is static).
static __thread int counting __attribute__((tls_model("initial-exec")));
static __thread long allocations __attribute__((tls_model("initial-exec")));

void *malloc(size_t size) {
    if (counting) allocations += 1;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    if (counting) allocations += 1;
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    if (counting) allocations += 1;
    return __libc_realloc(pointer, size);
}

int perwatt_allocation_counting_available(void) { return 1; }

void perwatt_allocation_counting_start(void) {
    allocations = 0;
    counting = 1;
}

long perwatt_allocation_counting_stop(void) {
    counting = 0;
    return allocations;
}

#else

int perwatt_allocation_counting_available(void) { return 0; }
void perwatt_allocation_counting_start(void) {}
long perwatt_allocation_counting_stop(void) { return 0; }

#endif
