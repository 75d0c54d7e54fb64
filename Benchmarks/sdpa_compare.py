#!/usr/bin/env python3
"""Side-by-side: perwatt's f32 attention against PyTorch's scaled_dot_product_attention on the CPU.

Runs, in one invocation and on the same shapes, PyTorch SDPA (f32, causal, GQA through
enable_gqa) and then `perwatt kernels --attention ...` (which verifies its kernel against the
Double reference before timing it), and prints both rates and their ratio. FLOPs count only the
attended pairs (the causal half), 4·d per (query, key) pair, for both sides.

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy
    swift build -c release
    /tmp/torch/bin/python Benchmarks/sdpa_compare.py [--threads 2] [--min-time 1] [--repetitions 5]

Needs PyTorch >= 2.5 (for enable_gqa). Not run by CI: PyTorch is a multi-gigabyte download.
"""
import argparse
import json
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

# (T queries, L keys, H heads, Hkv KV heads, d): the shapes of perwatt-bench-kernels.
SHAPES = [(512, 512, 32, 32, 128), (2048, 2048, 32, 32, 128), (1, 512, 32, 8, 128), (1, 2048, 32, 8, 128),
          (1, 4096, 32, 8, 128)]


def attended_pairs(t, l, h):
    # Query i of T sits at position L - T + i and sees keys 0 ... L - T + i.
    return h * sum(l - t + i + 1 for i in range(t))


def sdpa_seconds(t, l, h, hkv, d, min_time, repetitions):
    gen = torch.Generator().manual_seed(0)
    q = torch.rand(1, h, t, d, generator=gen) * 2 - 1
    k = torch.rand(1, hkv, l, d, generator=gen) * 2 - 1
    v = torch.rand(1, hkv, l, d, generator=gen) * 2 - 1
    # is_causal in PyTorch aligns the mask to the top-left corner; a decode query (T = 1 < L) must
    # see every key, so causal only when T = L (prefill), exactly perwatt's mask.
    causal = t == l

    def call():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=hkv != h)

    with torch.inference_mode():
        call()
        calls, elapsed = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(calls):
                call()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
            calls *= 2
        samples = []
        for _ in range(repetitions):
            start = time.perf_counter()
            for _ in range(calls):
                call()
            samples.append((time.perf_counter() - start) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--perwatt", default=".build/release/perwatt")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--min-time", type=float, default=1.0)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    print(f"PyTorch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), {threads} threads", flush=True)

    # perwatt first: its process has exited before PyTorch's OpenMP threads exist.
    spec = ",".join(f"{t}x{l}x{h}x{hkv}x{d}" for t, l, h, hkv, d in SHAPES)
    command = [args.perwatt, "kernels", "--json", "--energy", "none", "--attention", spec, "--threads", str(threads),
               "--min-time", str(args.min_time), "--repetitions", str(args.repetitions)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode not in (0, 3):
        sys.exit(f"{' '.join(command)} exited {completed.returncode}: {completed.stderr}")
    report = json.loads(completed.stdout)
    triad = report.get("triadBytesPerSecond")

    torch_rates = {}
    for t, l, h, hkv, d in SHAPES:
        seconds = sdpa_seconds(t, l, h, hkv, d, args.min_time, args.repetitions)
        torch_rates[(t, l, h, hkv, d)] = 4 * d * attended_pairs(t, l, h) / seconds / 1e9

    print(f"{'shape':40} {'SDPA GFLOP/s':>13} {'perwatt GFLOP/s':>16} {'ratio':>7} {'perwatt KV GB/s (% triad)':>27}")
    for kernel in report["kernels"]:
        a = kernel["attention"]
        key = (a["queries"], a["keys"], a["heads"], a["kvHeads"], a["headDim"])
        label = f"T={key[0]} L={key[1]} H={key[2]} Hkv={key[3]} d={key[4]}"
        if not kernel["verified"]:
            print(f"{label:40} {torch_rates[key]:13.1f} {'FAILED verification: not timed':>16}")
            continue
        ours = kernel["gflopsPerSecond"]
        kv = 2 * 4 * key[1] * key[3] * key[4] / kernel["medianSecondsPerCall"]
        share = f"{kv / 1e9:8.1f} ({100 * kv / triad:5.1f}%)" if triad else f"{kv / 1e9:8.1f}"
        print(f"{label:40} {torch_rates[key]:13.1f} {ours:16.1f} {ours / torch_rates[key]:6.2f}x {share:>27}")


if __name__ == "__main__":
    main()
