// What llama.cpp's tokenizer says about a vocabulary beyond test-tokenizer-0's ids: special ids, the
// EOG set, ids with add_special and parse_special, detokenized text, token pieces, and which codepoints
// and tokens fail test-tokenizer-1's round trip. Built and run by make_tokenizer_data.sh.
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

static std::string hex(const std::string & bytes) {
    if (bytes.empty()) return "-";
    static const char * digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) { out += digits[c >> 4]; out += digits[c & 15]; }
    return out;
}

static std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add, bool parse) {
    std::vector<llama_token> ids(text.size() + 8);
    int n = llama_tokenize(vocab, text.data(), (int) text.size(), ids.data(), (int) ids.size(), add, parse);
    if (n < 0) { ids.resize(-n); n = llama_tokenize(vocab, text.data(), (int) text.size(), ids.data(), (int) ids.size(), add, parse); }
    ids.resize(n);
    return ids;
}

static std::string detokenize(const llama_vocab * vocab, const std::vector<llama_token> & ids, bool remove, bool unparse) {
    std::string text(ids.size() * 8 + 8, '\0');
    int n = llama_detokenize(vocab, ids.data(), (int) ids.size(), &text[0], (int) text.size(), remove, unparse);
    if (n < 0) { text.resize(-n); n = llama_detokenize(vocab, ids.data(), (int) ids.size(), &text[0], (int) text.size(), remove, unparse); }
    text.resize(n);
    return text;
}

static std::string piece(const llama_vocab * vocab, llama_token id, bool special) {
    std::string text(64, '\0');
    int n = llama_token_to_piece(vocab, id, &text[0], (int) text.size(), 0, special);
    if (n < 0) { text.resize(-n); n = llama_token_to_piece(vocab, id, &text[0], (int) text.size(), 0, special); }
    text.resize(n);
    return text;
}

int main(int argc, char ** argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s VOCAB.gguf CASES.inp > VOCAB.ref\n", argv[0]); return 1; }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    auto params = llama_model_default_params();
    params.vocab_only = true;
    llama_model * model = llama_model_load_from_file(argv[1], params);
    if (!model) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    std::ifstream input(argv[2], std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
    const std::string separator = "\n__ggml_vocab_test__\n";
    std::vector<std::string> cases;
    for (size_t position = 0; position < raw.size();) {  // as test-tokenizer-0's read_tests
        size_t next = raw.find(separator, position);
        if (next == std::string::npos) { cases.push_back(raw.substr(position)); break; }
        cases.push_back(raw.substr(position, next - position));
        position = next + separator.size();
    }

    printf("vocab %d bos %d eos %d eot %d add_bos %d add_eos %d\n", n_vocab, llama_vocab_bos(vocab),
           llama_vocab_eos(vocab), llama_vocab_eot(vocab), llama_vocab_get_add_bos(vocab), llama_vocab_get_add_eos(vocab));
    printf("eog");
    for (llama_token id = 0; id < n_vocab; ++id) if (llama_vocab_is_eog(vocab, id)) printf(" %d", id);
    printf("\n");
    for (size_t index = 0; index < cases.size(); ++index) {
        const std::string & text = cases[index];
        const auto plain = tokenize(vocab, text, false, false);
        const auto special = tokenize(vocab, text, true, true);
        printf("case %zu\nspecial", index);
        for (auto id : special) printf(" %d", id);
        printf("\ndecode %s\n", hex(detokenize(vocab, plain, false, false)).c_str());
        printf("decode-special %s\n", hex(detokenize(vocab, special, true, true)).c_str());
    }
    // test-tokenizer-1-{bpe,spm}: a codepoint's text, tokenized (parse_special for SPM only, as there)
    // and detokenized with special, should come back; so should a token's own text (parse_special).
    const bool spm = llama_vocab_type(vocab) == LLAMA_VOCAB_TYPE_SPM;
    printf("codepoint-failures");
    for (uint32_t cp = 0; cp < 0x110000; ++cp) {
        if ((0xD800 <= cp && cp <= 0xDFFF) || (0x40000 <= cp && cp <= 0xE0000)) continue;
        std::string text;
        if (cp < 0x80) { text += (char) cp; }
        else if (cp < 0x800) { text += (char) (0xC0 | (cp >> 6)); text += (char) (0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { text += (char) (0xE0 | (cp >> 12)); text += (char) (0x80 | ((cp >> 6) & 0x3F)); text += (char) (0x80 | (cp & 0x3F)); }
        else { text += (char) (0xF0 | (cp >> 18)); text += (char) (0x80 | ((cp >> 12) & 0x3F)); text += (char) (0x80 | ((cp >> 6) & 0x3F)); text += (char) (0x80 | (cp & 0x3F)); }
        if (detokenize(vocab, tokenize(vocab, text, false, spm), false, true) != text) printf(" %u", cp);
    }
    printf("\ntoken-failures");
    for (llama_token id = 0; id < n_vocab; ++id) {
        const std::string text = detokenize(vocab, {id}, false, true);
        if (detokenize(vocab, tokenize(vocab, text, false, true), false, true) != text) printf(" %d", id);
    }
    printf("\n");
    for (llama_token id = 0; id < n_vocab; ++id) {
        if (id % 101 != 0 && llama_vocab_get_attr(vocab, id) == LLAMA_TOKEN_ATTR_NORMAL) continue;
        printf("piece %d %s %s\n", id, hex(piece(vocab, id, false)).c_str(), hex(piece(vocab, id, true)).c_str());
    }
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
