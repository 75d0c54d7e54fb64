// OpenBLAS's CBLAS interface and its build-introspection functions
// (openblas_get_config, openblas_get_corename, openblas_get_num_threads).
// pkg-config `openblas` supplies the include path (Debian: libopenblas-dev).
#include <cblas.h>

// Cache prefetch hints for perwatt's own kernels (not part of CBLAS). Swift has no prefetch
// intrinsic; these compile to PREFETCHT0 / PREFETCHW. The corresponding builtin is __builtin_prefetch.
static inline void perwatt_prefetch_read(const void *address) { __builtin_prefetch(address, 0, 3); }
static inline void perwatt_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
