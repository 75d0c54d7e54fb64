#!/usr/bin/env python3
"""Makes tiny.gguf and tiny.json: a small GGUF v3 file written by the `gguf` package (gguf-py, the
reader and writer llama.cpp itself uses) and what a reader must find in it.

Run in a throwaway virtual environment (not by CI):

    python3 -m venv /tmp/gv && /tmp/gv/bin/pip install gguf==0.19.0 numpy
    /tmp/gv/bin/python Tests/KernelBenchTests/GGUF/make_gguf.py

tiny.gguf holds one metadata value of every GGUF type (nested arrays included) and tensors of the
types perwatt reads: f32, f16, bf16, q8_0, q4_0 and q4_1 (quantized by gguf-py's ports of ggml's
reference quantizers). tiny.json lists every key with its type and value and every tensor with its
type, dimensions (ne order, as stored), data offset, size, its bytes (hex) and their SHA-256, read back
with gguf-py's own GGUFReader.
"""
import hashlib
import json
import os

import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType as T, quants

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "tiny.gguf")
rng = np.random.default_rng(20261203)

w = GGUFWriter(path, "llama")
w.add_name("perwatt test")
w.add_uint8("test.u8", 200)
w.add_int8("test.i8", -5)
w.add_uint16("test.u16", 60000)
w.add_int16("test.i16", -30000)
w.add_uint32("test.u32", 4000000000)
w.add_int32("test.i32", -2000000000)
w.add_float32("test.f32", 1.5)
w.add_uint64("test.u64", 1 << 40)
w.add_int64("test.i64", -(1 << 40))
w.add_float64("test.f64", 3.141592653589793)
w.add_bool("test.bool", True)
w.add_string("test.string", "héllo, wörld")
w.add_array("test.array.i32", [1, 2, 3])
w.add_array("test.array.string", ["a", "bc", ""])
w.add_array("test.array.nested", [[1, 2], [3]])
w.add_context_length(64)
# A model's shape, as llama.cpp's converter writes it for a llama model (perwatt builds its spec from these).
w.add_block_count(2)
w.add_embedding_length(32)
w.add_head_count(4)
w.add_head_count_kv(2)
w.add_feed_forward_length(64)
w.add_tokenizer_model("gpt2")
w.add_tokenizer_pre("smollm")
w.add_token_list([f"t{i}" for i in range(100)])

tensors = {
    "f32": (np.arange(15, dtype=np.float32).reshape(3, 5) - 7, None),
    "f16": (rng.standard_normal((2, 4)).astype(np.float16), None),
    "bf16": (quants.quantize(rng.standard_normal((2, 8)).astype(np.float32), T.BF16), T.BF16),
    "q8_0": (quants.quantize(rng.standard_normal((2, 64)).astype(np.float32), T.Q8_0), T.Q8_0),
    "q4_0": (quants.quantize(rng.standard_normal((1, 32)).astype(np.float32), T.Q4_0), T.Q4_0),
    "q4_1": (quants.quantize(rng.standard_normal((3, 32)).astype(np.float32), T.Q4_1), T.Q4_1),
}
for name, (data, raw) in tensors.items():
    w.add_tensor(name, data, raw_dtype=raw)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

reader = GGUFReader(path)
def value(field):
    kind = field.types[0].name
    if kind == "ARRAY":
        return field.contents()
    return field.contents()
metadata = [{"key": f.name, "type": [t.name for t in f.types], "value": value(f)} for f in reader.fields.values()
            if not f.name.startswith("GGUF.")]
out = {
    "version": 3,
    "alignment": 32,
    "dataOffset": int(reader.data_offset),
    "metadata": metadata,
    "tensors": [{
        "name": t.name, "type": t.tensor_type.name.lower(), "typeID": int(t.tensor_type),
        "dims": [int(d) for d in t.shape], "offset": int(t.data_offset - reader.data_offset),
        "bytes": int(t.n_bytes), "sha256": hashlib.sha256(bytes(t.data.tobytes())).hexdigest(),
        "hex": bytes(t.data.tobytes()).hex(),
    } for t in reader.tensors],
}
with open(os.path.join(here, "tiny.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"wrote {path} ({os.path.getsize(path)} bytes) and tiny.json")
