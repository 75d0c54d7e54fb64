// llama.cpp's greedy continuations and logits for perwatt's agreement tests (not built by CI).
//
// For each prompt: clear the KV cache, decode the prompt in one batch, then take the largest logit
// (the first on a tie, as llama.cpp's greedy sampler) N times, stopping at an end-of-generation token.
// Writes JSON: per prompt its token ids, the generated ids, and at every step the top logits.
// Prompts come one per block separated by a line "__perwatt_prompt__"; with --ids a block holds
// token ids (space separated), otherwise text tokenized with llama_tokenize(add_special = true,
// parse_special = true), as llama-simple and llama-cli do.
//
// Build and run: see make_model_data.sh (llama.cpp built for AVX2, not -march=native). By hand:
// g++ -O2 -std=c++17 llama_reference.cpp -I$LLAMA/include
//   -I$LLAMA/ggml/include $LLAMA/build-avx2/src/libllama.a $LLAMA/build-avx2/ggml/src/libggml.a
//   $LLAMA/build-avx2/ggml/src/libggml-cpu.a $LLAMA/build-avx2/ggml/src/libggml-base.a -fopenmp -lpthread
// Run: llama_reference MODEL PROMPTS OUT.json [--ids] [--n 64] [--top 16] [--ctx 256] [--threads 2]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <algorithm>

#include "llama.h"

static void quiet(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_WARN || strstr(text, "flash_attn") || strstr(text, "abled") || strstr(text, "lash")) fputs(text, stderr);
}

int main(int argc, char ** argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s MODEL PROMPTS OUT.json [--ids] [--n N] [--top K] [--ctx C] [--threads T]\n", argv[0]); return 2; }
    std::string modelPath = argv[1], promptsPath = argv[2], outPath = argv[3];
    bool ids = false; int n = 64, top = 16, ctxSize = 256, threads = 2;
    for (int i = 4; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--ids") ids = true;
        else if (a == "--n") n = atoi(argv[++i]);
        else if (a == "--top") top = atoi(argv[++i]);
        else if (a == "--ctx") ctxSize = atoi(argv[++i]);
        else if (a == "--threads") threads = atoi(argv[++i]);
    }
    std::ifstream in(promptsPath);
    std::stringstream raw; raw << in.rdbuf();
    std::string text = raw.str(), sep = "\n__perwatt_prompt__\n";
    std::vector<std::string> prompts;
    for (size_t pos = 0; pos < text.size();) {
        size_t next = text.find(sep, pos);
        if (next == std::string::npos) { std::string last = text.substr(pos); if (!last.empty() && last.back() == '\n') last.pop_back(); prompts.push_back(last); break; }
        prompts.push_back(text.substr(pos, next - pos)); pos = next + sep.size();
    }
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(modelPath.c_str(), mp);
    if (!model) { fprintf(stderr, "cannot load %s\n", modelPath.c_str()); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = ctxSize; cp.n_batch = 512; cp.n_threads = threads; cp.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, cp);
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int nv = llama_vocab_n_tokens(vocab);
    FILE * out = fopen(outPath.c_str(), "w");
    fprintf(out, "{\"model\": \"%s\", \"context\": %d, \"threads\": %d, \"generated\": %d, \"prompts\": [\n", strrchr(modelPath.c_str(), '/') ? strrchr(modelPath.c_str(), '/') + 1 : modelPath.c_str(), ctxSize, threads, n);
    for (size_t p = 0; p < prompts.size(); p++) {
        std::vector<llama_token> toks;
        if (ids) { std::stringstream s(prompts[p]); int t; while (s >> t) toks.push_back(t); }
        else {
            int count = -llama_tokenize(vocab, prompts[p].c_str(), prompts[p].size(), nullptr, 0, true, true);
            toks.resize(count);
            llama_tokenize(vocab, prompts[p].c_str(), prompts[p].size(), toks.data(), count, true, true);
        }
        llama_memory_clear(llama_get_memory(ctx), true);
        fprintf(out, "%s{\"promptTokens\": [", p ? ",\n" : "");
        for (size_t i = 0; i < toks.size(); i++) fprintf(out, "%s%d", i ? ", " : "", toks[i]);
        fprintf(out, "], \"steps\": [");
        std::vector<llama_token> batch = toks;
        std::vector<int> generated;
        for (int step = 0; step < n; step++) {
            if (llama_decode(ctx, llama_batch_get_one(batch.data(), batch.size())) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
            const float * logits = llama_get_logits_ith(ctx, -1);
            std::vector<int> order(nv); for (int i = 0; i < nv; i++) order[i] = i;
            std::partial_sort(order.begin(), order.begin() + top, order.end(), [&](int a, int b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
            int best = 0; for (int i = 1; i < nv; i++) if (logits[i] > logits[best]) best = i;
            fprintf(out, "%s[", step ? ", " : "");
            for (int i = 0; i < top; i++) fprintf(out, "%s[%d, %.9g]", i ? ", " : "", order[i], logits[order[i]]);
            fprintf(out, "]");
            generated.push_back(best);
            if (llama_vocab_is_eog(vocab, best)) break;
            batch = {best};
        }
        fprintf(out, "], \"tokens\": [");
        for (size_t i = 0; i < generated.size(); i++) fprintf(out, "%s%d", i ? ", " : "", generated[i]);
        fprintf(out, "]}");
    }
    fprintf(out, "\n]}\n");
    fclose(out);
    llama_free(ctx); llama_model_free(model);
    return 0;
}
