#!/usr/bin/env bash
# Makes the requantization reference (not run by CI): llama-quantize --pure --allow-requantize on each
# random-weight test model to every type perwatt writes, and the SHA-256 of every tensor's bytes, into
# quantize.llama.json; with SMOLLM2 set, also on SmolLM2-135M-Instruct.Q4_1.gguf (smollm2-quantize.llama.json,
# checked by the opt-in test when PERWATT_SMOLLM2_GGUF is set).
#
#   LLAMA=/path/to/llama.cpp (built with cmake, any CPU options: llama-quantize's reference quantizers are
#   plain C) PYTHON=/path/to/python-with-gguf [SMOLLM2=...gguf] Tests/KernelBenchTests/Model/make_quantize_data.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
: "${LLAMA:?set LLAMA to a llama.cpp checkout with build/bin/llama-quantize}"
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
hashes() {  # OUT.json then model files
    local out="$1"; shift
    "$PYTHON" - "$out" "$@" <<'PY'
import hashlib, json, sys
from gguf import GGUFReader
out, result = sys.argv[1], {}
for path in sys.argv[2:]:
    name = path.rsplit("/", 1)[-1]
    result[name] = {t.name: [t.tensor_type.name.lower(), hashlib.sha256(t.data.tobytes()).hexdigest()]
                    for t in GGUFReader(path).tensors}
json.dump(result, open(out, "w"), indent=1, sort_keys=True)
PY
}
files=()
for arch in llama qwen2 qwen3; do
    for type in F32 F16 BF16 Q8_0 Q4_0 Q4_1; do
        "$LLAMA/build/bin/llama-quantize" --allow-requantize --pure "$here/tiny-$arch.gguf" \
            "$work/tiny-$arch.$type.gguf" "$type" > /dev/null 2>&1
        files+=("$work/tiny-$arch.$type.gguf")
    done
done
hashes "$here/quantize.llama.json" "${files[@]}"
echo "wrote $here/quantize.llama.json"
if [[ -n "${SMOLLM2:-}" ]]; then
    files=()
    for type in F16 Q8_0 Q4_0 Q4_1; do
        "$LLAMA/build/bin/llama-quantize" --allow-requantize --pure "$SMOLLM2" "$work/smollm2.$type.gguf" "$type" \
            > /dev/null 2>&1
        files+=("$work/smollm2.$type.gguf")
    done
    hashes "$here/smollm2-quantize.llama.json" "${files[@]}"
    echo "wrote $here/smollm2-quantize.llama.json"
fi
