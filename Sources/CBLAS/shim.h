// OpenBLAS's CBLAS interface and its build-introspection functions
// (openblas_get_config, openblas_get_corename, openblas_get_num_threads).
// pkg-config `openblas` supplies the include path (Debian: libopenblas-dev).
#include <cblas.h>
