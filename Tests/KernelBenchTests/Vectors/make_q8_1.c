// Makes q8_1.bin: ggml's own quantize_row_q8_1_ref (ggml-quants.c) on input.f32, which gguf-py has
// no port of. Build against a llama.cpp/ggml checkout (never committed), for example the one vendored
// in the PyPI source distribution of llama-cpp-python 0.3.36, after building it with cmake:
//
//   LLAMA=/path/to/llama.cpp
//   cc -x c -O1 -c Tests/KernelBenchTests/Vectors/make_q8_1.c -o /tmp/make_q8_1.o -I$LLAMA/ggml/include -I$LLAMA/ggml/src
//   c++ -o /tmp/make_q8_1 /tmp/make_q8_1.o $LLAMA/build/ggml/src/libggml-base.a -fopenmp -lm -lpthread
//   (cd Tests/KernelBenchTests/Vectors && /tmp/make_q8_1)
//
// Writes q8_1.bin: 64 blocks × 36 bytes (fp16 d, fp16 s = d·Σq, 32 × int8).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ggml-common.h"
#include "ggml-quants.h"

int main(void) {
    enum { N = 2048 };
    float x[N];
    FILE *in = fopen("input.f32", "rb");
    if (!in || fread(x, sizeof(float), N, in) != N) { fprintf(stderr, "cannot read input.f32\n"); return 1; }
    fclose(in);
    block_q8_1 y[N / 32];
    quantize_row_q8_1_ref(x, y, N);
    FILE *out = fopen("q8_1.bin", "wb");
    if (!out || fwrite(y, sizeof(block_q8_1), N / 32, out) != N / 32) { fprintf(stderr, "cannot write\n"); return 1; }
    fclose(out);
    printf("wrote q8_1.bin (%zu bytes per block)\n", sizeof(block_q8_1));
    return 0;
}
