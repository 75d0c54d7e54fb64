#!/usr/bin/env python3
"""Writes small random-weight GGUF models of the llama, qwen2 and qwen3 architectures (not run by CI).

Each file exercises one branch of perwatt's transformer and a mix of tensor types, so that the runtime
is checked against llama.cpp on every architecture without downloading weights:
    tiny-llama.gguf  llama: RoPE on adjacent pairs, separate output head; q4_0 attention, q4_1 FFN,
                     q8_0 embedding and output, f32 norms
    tiny-qwen2.gguf  qwen2: QKV biases, NeoX RoPE, tied embedding; f16 matrices, q8_0 embedding
    tiny-qwen3.gguf  qwen3: per-head q/k RMSNorm, NeoX RoPE, tied; bf16 attention, q4_1 FFN, f32 embedding
Widths: hidden 64, 2 layers, 4 heads of 16 with 2 KV heads, FFN 128, a 288-token SentencePiece-style
vocabulary (<unk>, <s>, </s>, the 256 byte tokens, 29 words) so that llama.cpp loads them.
Run with the gguf package (gguf-py 0.19.0 and numpy), then make_model_data.sh for llama.cpp's outputs:
    python3 -m venv /tmp/gv && /tmp/gv/bin/pip install gguf==0.19.0
    /tmp/gv/bin/python Tests/KernelBenchTests/Model/make_models.py
"""
import os
import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as T, quants

here = os.path.dirname(os.path.abspath(__file__))
HIDDEN, LAYERS, HEADS, KV, HEAD, FFN = 64, 2, 4, 2, 16, 128
words = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "are", "as", "with",
         "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but", "not"]
tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581" + w for w in words]
VOCAB = len(tokens)


def tensor(writer, name, values, kind):
    values = values.astype(np.float32)
    if kind == T.F32:
        writer.add_tensor(name, values)
    elif kind in (T.F16, T.BF16):
        data = quants.quantize(values, kind)
        writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=kind)
    else:
        data = quants.quantize(values, kind)
        writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=kind)


def write(arch, seed, types, tied, bias=False, qk_norm=False):
    rng = np.random.default_rng(seed)
    path = os.path.join(here, f"tiny-{arch}.gguf")
    w = GGUFWriter(path, arch)
    w.add_name(f"tiny random {arch}")
    w.add_context_length(256)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV)
    w.add_key_length(HEAD)
    w.add_value_length(HEAD)
    w.add_rope_dimension_count(HEAD)
    w.add_rope_freq_base(10000.0 if arch == "llama" else 1000000.0)
    w.add_layer_norm_rms_eps(1e-6 if arch != "llama" else 1e-5)
    w.add_file_type(0)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(words))])
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * len(words))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)

    def m(rows, cols, scale):
        return rng.standard_normal((rows, cols)) * scale

    tensor(w, "token_embd.weight", m(VOCAB, HIDDEN, 1.0), types["embedding"])
    for l in range(LAYERS):
        p = f"blk.{l}."
        tensor(w, p + "attn_norm.weight", 1 + 0.1 * rng.standard_normal(HIDDEN), T.F32)
        tensor(w, p + "attn_q.weight", m(HEADS * HEAD, HIDDEN, 0.15), types["attention"])
        tensor(w, p + "attn_k.weight", m(KV * HEAD, HIDDEN, 0.15), types["attention"])
        tensor(w, p + "attn_v.weight", m(KV * HEAD, HIDDEN, 0.15), types["attention"])
        tensor(w, p + "attn_output.weight", m(HIDDEN, HEADS * HEAD, 0.15), types["attention"])
        if bias:
            tensor(w, p + "attn_q.bias", 0.1 * rng.standard_normal(HEADS * HEAD), T.F32)
            tensor(w, p + "attn_k.bias", 0.1 * rng.standard_normal(KV * HEAD), T.F32)
            tensor(w, p + "attn_v.bias", 0.1 * rng.standard_normal(KV * HEAD), T.F32)
        if qk_norm:
            tensor(w, p + "attn_q_norm.weight", 1 + 0.1 * rng.standard_normal(HEAD), T.F32)
            tensor(w, p + "attn_k_norm.weight", 1 + 0.1 * rng.standard_normal(HEAD), T.F32)
        tensor(w, p + "ffn_norm.weight", 1 + 0.1 * rng.standard_normal(HIDDEN), T.F32)
        tensor(w, p + "ffn_gate.weight", m(FFN, HIDDEN, 0.15), types["ffn"])
        tensor(w, p + "ffn_up.weight", m(FFN, HIDDEN, 0.15), types["ffn"])
        tensor(w, p + "ffn_down.weight", m(HIDDEN, FFN, 0.1), types["ffn"])
    tensor(w, "output_norm.weight", 1 + 0.1 * rng.standard_normal(HIDDEN), T.F32)
    if not tied:
        tensor(w, "output.weight", m(VOCAB, HIDDEN, 0.3), types["output"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", path, os.path.getsize(path), "bytes")


write("llama", 1, {"embedding": T.Q8_0, "attention": T.Q4_0, "ffn": T.Q4_1, "output": T.Q8_0}, tied=False)
write("qwen2", 2, {"embedding": T.Q8_0, "attention": T.F16, "ffn": T.F16}, tied=True, bias=True)
write("qwen3", 3, {"embedding": T.F32, "attention": T.BF16, "ffn": T.Q4_1}, tied=True, qk_norm=True)

# Prompts of token ids for llama_reference.cpp --ids: BOS then random ids, lengths 1 to 70 (the last
# one crosses llama.cpp's 64-query switch to its tiled flash-attention kernel).
rng = np.random.default_rng(7)
prompts = []
for length in [1, 2, 5, 9, 17, 33, 63, 70]:
    prompts.append(" ".join(str(t) for t in [1] + list(rng.integers(3, VOCAB, size=length - 1))))
open(os.path.join(here, "tiny_prompts.txt"), "w").write("\n__perwatt_prompt__\n".join(prompts) + "\n")
