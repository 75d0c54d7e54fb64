#!/usr/bin/env python3
"""Makes the ggml test vectors KernelBench's quantizers must reproduce byte for byte.

Uses the NumPy ports of ggml's reference quantizers in the `gguf` package (gguf-py, which states
that its Q8_0 is "bit-exact" with ggml-quants.c quantize_row_q8_0_ref; Q4_0 and BF16 follow
quantize_row_q4_0_ref and ggml_compute_fp32_to_bf16). Run in a throwaway virtual environment:

    python3 -m venv /tmp/gv && /tmp/gv/bin/pip install gguf==0.19.0
    /tmp/gv/bin/python Tests/KernelBenchTests/Vectors/make_vectors.py

Writes, next to this script (all little-endian):
    input.f32    2048 float32 values = 64 blocks of 32
    q8_0.bin     64 blocks × 34 bytes (fp16 scale, 32 × int8)
    q4_0.bin     64 blocks × 18 bytes (fp16 scale, 16 bytes: low nibbles values 0-15, high nibbles 16-31)
    q4_1.bin     64 blocks × 20 bytes (fp16 scale, fp16 minimum, 16 bytes of nibbles as q4_0), as
                 quantize_row_q4_1_ref
    q4_1-dequantized.f32  those blocks dequantized (dequantize_row_q4_1)
    bf16-input.f32  the same values with NaN, ±inf, ±0, ties and FLT_MAX in the first 8
    bf16.bin     2048 × uint16 (from bf16-input.f32)
"""
import os
import numpy as np
from gguf import quants, GGMLQuantizationType as T

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261123)
blocks = []
blocks.append(np.zeros(32))                                   # all zero: d = 0, id = 0
blocks.append(np.full(32, 0.75))                              # all equal
blocks.append(np.full(32, -3.5))                              # all equal, negative
b = rng.standard_normal(32); b[7] = -5.0; blocks.append(b)    # signed max is negative (q4_0: d > 0)
b = rng.standard_normal(32); b[3] = 5.0; b[20] = -5.0; blocks.append(b)  # |max| tie: first occurrence wins
blocks.append(np.arange(32) - 15.5)                           # evenly spaced, half-integer steps
blocks.append((np.arange(32) - 16) * (127 / 16) / 127 * 3)    # many exact .5 ties after scaling
blocks.append(rng.standard_normal(32) * 1e-6)                 # tiny values
blocks.append(rng.standard_normal(32) * 6e4)                  # near the fp16 range
blocks.append(np.where(np.arange(32) % 2 == 0, 1.0, -1.0))     # alternating signs
b = np.zeros(32); b[31] = 1e-3; blocks.append(b)              # a single non-zero at the end
while len(blocks) < 64:
    blocks.append(rng.standard_normal(32) * rng.choice([0.01, 0.3, 1.0, 10.0]))
x = np.concatenate(blocks).astype(np.float32)
# Also special values for bf16 only: NaN, infinities, round-to-nearest-even ties.
bf_in = x.copy()
bf_in[:8] = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0,
                      np.frombuffer(np.uint32(0x3F808000).tobytes(), np.float32)[0],   # tie, even below
                      np.frombuffer(np.uint32(0x3F818000).tobytes(), np.float32)[0],   # tie, odd below: rounds up
                      np.frombuffer(np.uint32(0x7F7FFFFF).tobytes(), np.float32)[0]],  # FLT_MAX rounds to inf
                     dtype=np.float32)

x.tofile(os.path.join(here, "input.f32"))
bf_in.tofile(os.path.join(here, "bf16-input.f32"))
quants.quantize(x.reshape(64, 32), T.Q8_0).tofile(os.path.join(here, "q8_0.bin"))
quants.quantize(x.reshape(64, 32), T.Q4_0).tofile(os.path.join(here, "q4_0.bin"))
q4_1 = quants.quantize(x.reshape(64, 32), T.Q4_1)
q4_1.tofile(os.path.join(here, "q4_1.bin"))
quants.dequantize(q4_1, T.Q4_1).astype(np.float32).tofile(os.path.join(here, "q4_1-dequantized.f32"))
quants.quantize(bf_in, T.BF16).tofile(os.path.join(here, "bf16.bin"))
print("wrote", sorted(f for f in os.listdir(here) if not f.endswith(".py")))
