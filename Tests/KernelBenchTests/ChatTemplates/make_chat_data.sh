#!/usr/bin/env bash
# make_chat_data.sh: regenerate the chat template test data from llama.cpp itself.
#
# Not run by CI: it needs a llama.cpp source tree with libllama built (static, the default of
# `cmake -B build -DBUILD_SHARED_LIBS=OFF && cmake --build build --target llama`).
#
#   LLAMA_CPP=/path/to/llama.cpp Tests/KernelBenchTests/ChatTemplates/make_chat_data.sh
#
# What it does:
#   1. copies the template files listed in TEMPLATES below from $LLAMA_CPP/models/templates into this
#      folder (at least one per family that llama.cpp detects in a file there, and two it cannot detect);
#   2. extracts `conversation` and `test_cases` from $LLAMA_CPP/tests/test-chat-template.cpp
#      verbatim, so llama.cpp's own reference conversation and expected outputs are compiled, not
#      retyped;
#   3. compiles make_chat_data.cpp against $LLAMA_CPP_BUILD/src/libllama.a and ggml, and runs it:
#      it writes chat_data.json with, from llama.cpp's own functions,
#        - families: every `enum llm_chat_template` value (index, and its LLM_CHAT_TEMPLATES name),
#        - renderings: llm_chat_apply_template for every family x conversation x add_ass,
#        - detections: llm_chat_detect_template of every copied file, every built-in name and a few
#          edge texts,
#        - test_cases: test-chat-template.cpp's cases through llama_chat_apply_template, with their
#          expected_output (the program fails if llama.cpp itself disagrees with its test).
# ChatTemplateTests.swift checks perwatt's port against chat_data.json byte for byte.
set -euo pipefail

LLAMA_CPP=${LLAMA_CPP:-/tmp/scratch/llama_cpp_python-0.3.36/vendor/llama.cpp}
LLAMA_CPP_BUILD=${LLAMA_CPP_BUILD:-$LLAMA_CPP/build}
CXX=${CXX:-g++}
HERE=$(cd "$(dirname "$0")" && pwd)

TEMPLATES=(
    # chatml
    Qwen-Qwen2.5-7B-Instruct.jinja
    HuggingFaceTB-SmolLM3-3B.jinja
    # command-r
    CohereForAI-c4ai-command-r-plus-tool_use.jinja
    # chatglm4
    GLM-4.7-Flash.jinja
    # deepseek3 (a Llama-based distill, detected by its DeepSeek tokens)
    deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja
    # gemma
    google-gemma-2-2b-it.jinja
    # granite, granite-4.0, granite-4.1
    ibm-granite-granite-3.3-2B-Instruct.jinja
    ibm-granite-granite-4.0.jinja
    ibm-granite-granite-4.1.jinja
    # bailing2
    inclusionai-ling-3.0-flash.jinja
    # kimi-k2
    moonshotai-Kimi-K2.jinja
    # llama3
    meta-llama-Llama-3.1-8B-Instruct.jinja
    # mistral-v3-tekken, mistral-v7
    mistralai-Mistral-Nemo-Instruct-2407.jinja
    Mistral-Small-3.2-24B-Instruct-2506.jinja
    # phi3
    microsoft-Phi-3.5-mini-instruct.jinja
    # rwkv-world
    llama-cpp-rwkv-world.jinja
    # seed_oss
    ByteDance-Seed-OSS.jinja
    # gpt-oss
    openai-gpt-oss-120b.jinja
    # solar-open
    upstage-Solar-Open-100B.jinja
    # not detected by llama.cpp's built-in templates (need --jinja there, raw prompts here)
    google-gemma-4-31B-it.jinja
    MiniMax-M1.jinja
)

for lib in "$LLAMA_CPP_BUILD/src/libllama.a" "$LLAMA_CPP_BUILD/ggml/src/libggml-base.a"; do
    if [ ! -f "$lib" ]; then
        echo "make_chat_data.sh: $lib is missing; build llama.cpp (static) first, or set LLAMA_CPP_BUILD" >&2
        exit 1
    fi
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for name in "${TEMPLATES[@]}"; do
    cp "$LLAMA_CPP/models/templates/$name" "$HERE/$name"
done

# From `std::vector<llama_chat_message> conversation {` to the end of `std::vector<TestCase> test_cases {`.
awk '/std::vector<llama_chat_message> conversation \{/ { on = 1 }
     on { print }
     on && /std::vector<TestCase> test_cases \{/ { cases = 1 }
     cases && /^    \};$/ { exit }' "$LLAMA_CPP/tests/test-chat-template.cpp" >"$WORK/test_cases.inc"
if ! grep -q 'test_cases {' "$WORK/test_cases.inc"; then
    echo "make_chat_data.sh: test_cases not found in $LLAMA_CPP/tests/test-chat-template.cpp" >&2
    exit 1
fi

COMMIT=$(git -C "$LLAMA_CPP" rev-parse HEAD 2>/dev/null || echo unknown)
"$CXX" -std=c++17 -O1 -DLLAMA_CPP_COMMIT="\"$COMMIT\"" \
    -I"$LLAMA_CPP/include" -I"$LLAMA_CPP/src" -I"$LLAMA_CPP/ggml/include" -I"$WORK" \
    "$HERE/make_chat_data.cpp" \
    "$LLAMA_CPP_BUILD/src/libllama.a" "$LLAMA_CPP_BUILD/ggml/src/libggml.a" \
    "$LLAMA_CPP_BUILD/ggml/src/libggml-cpu.a" "$LLAMA_CPP_BUILD/ggml/src/libggml-base.a" \
    -fopenmp -lpthread -ldl -o "$WORK/make_chat_data"

files=()
for name in "${TEMPLATES[@]}"; do
    files+=("$HERE/$name")
done
"$WORK/make_chat_data" "$HERE/chat_data.json" "${files[@]}"
