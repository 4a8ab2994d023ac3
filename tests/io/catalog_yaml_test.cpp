// parse_catalog / load_catalog: a valid document, and every malformed case with its exact
// message and 1-based position.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/weights.hpp>

namespace vramplan::io {
namespace {

// A valid two-model document; malformed cases edit one line of it.
const std::string valid = R"(models:
  - id: tiny-1b
    name: Tiny 1B
    ollama: ["tiny:1b", "tiny:mini"]
    latest: true
    hf: [org/Tiny-1B, org/Tiny-1B-Instruct]
    aliases: [tiny-one]
    params: 1.2e9
    quants: [Q4_K_M, q8_0, F16]
    notes: "a test model"
    source: "models.md tiny-1b"
    arch: llama
    layers: 16
    embd: 2048
    ffn: 8192
    heads: 32
    kv_heads: 8
    head_dim: 64
    vocab: 128256
    context: 131072
    tied_embeddings: true
  - id: moe-mla
    name: MoE MLA
    quants: [Q4_0]
    arch: deepseek2
    layers: 4
    embd: 1024
    ffn: 4096
    heads: 8
    vocab: 1000
    context: 4096
    causal: true
    nextn_layers: 1
    sliding_window: {window: 128, period: 2, dense_first: true}
    mla: {q_lora_rank: 0, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64,
          v_head_dim: 128}
    moe: {experts: 8, experts_used: 2, ffn_exp: 512, shared_experts: 1, ffn_shexp: 512,
          leading_dense: 1, every: 1}
    projector: {bytes: 624000000, description: "CLIP + MLP"}
)";

// The message parse_catalog throws for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    static_cast<void>(parse_catalog(text, "models/x.yaml"));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(CatalogYaml, ParsesAValidDocument) {
  const std::vector<CatalogEntry> entries = parse_catalog(valid, "models/x.yaml");
  ASSERT_EQ(entries.size(), 2u);
  const CatalogEntry& a = entries[0];
  EXPECT_EQ(a.id, "tiny-1b");
  EXPECT_EQ(a.name, "Tiny 1B");
  EXPECT_EQ(a.ollama, (std::vector<std::string>{"tiny:1b", "tiny:mini"}));
  EXPECT_TRUE(a.ollama_latest);
  EXPECT_EQ(a.hf, (std::vector<std::string>{"org/Tiny-1B", "org/Tiny-1B-Instruct"}));
  EXPECT_EQ(a.aliases, std::vector<std::string>{"tiny-one"});
  EXPECT_DOUBLE_EQ(a.params_published, 1.2e9);
  EXPECT_EQ(a.quants, (std::vector<FileType>{FileType::mostly_q4_k_m, FileType::mostly_q8_0,
                                             FileType::mostly_f16}));
  EXPECT_EQ(a.default_quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(a.notes, "a test model");
  EXPECT_TRUE(a.checked.empty());
  EXPECT_EQ(a.source, "models/x.yaml");
  EXPECT_FALSE(a.projector.has_value());
  EXPECT_EQ(a.spec.arch, "llama");
  EXPECT_EQ(a.spec.n_layer, 16);
  EXPECT_EQ(a.spec.n_embd, 2048);
  EXPECT_EQ(a.spec.n_ff, 8192);
  EXPECT_EQ(a.spec.n_head, 32);
  EXPECT_EQ(a.spec.n_head_kv, 8);
  EXPECT_EQ(a.spec.key_length, 64);
  EXPECT_EQ(a.spec.value_length, 64);
  EXPECT_EQ(a.spec.n_vocab, 128256);
  EXPECT_EQ(a.spec.n_ctx_train, 131072);
  EXPECT_TRUE(a.spec.tied_embeddings);
  EXPECT_TRUE(a.spec.causal);

  const CatalogEntry& b = entries[1];
  EXPECT_FALSE(b.ollama_latest);
  EXPECT_EQ(b.spec.n_head_kv, 8);  // defaults to heads
  EXPECT_EQ(b.spec.key_length, 0);
  EXPECT_EQ(b.spec.n_nextn, 1);
  EXPECT_EQ(b.spec.swa, (SlidingWindow{128, 2, true, {}}));
  EXPECT_EQ(b.spec.mla, (Mla{0, 512, 128, 64, 128}));
  EXPECT_EQ(b.spec.moe, (Moe{8, 2, 512, 1, 512, 1, 1}));
  ASSERT_TRUE(b.projector.has_value());
  EXPECT_EQ(b.projector->bytes, 624000000);
  EXPECT_EQ(b.projector->description, "CLIP + MLP");
}

TEST(CatalogYaml, ProjectorEncoderShape) {
  const std::string enc =
      "    projector: {bytes: 624000000, description: \"CLIP + MLP\", encoder: mlp, layers: 23, "
      "width: 1024, ffn: 4096, heads: 16, patch: 14, image: 336}\n";
  const std::string text =
      replace(valid, "    projector: {bytes: 624000000, description: \"CLIP + MLP\"}\n", enc);
  ASSERT_EQ(error_of(text), "");
  const std::vector<CatalogEntry> entries = parse_catalog(text, "<test>");
  ASSERT_TRUE(entries.back().projector.has_value());
  EXPECT_EQ(entries.back().projector->encoder,
            (VisionEncoder{VisionEncoderKind::mlp, 23, 1024, 4096, 16, 14, 336, 4}));
  EXPECT_NE(error_of(replace(text, "encoder: mlp", "encoder: qwen2vl"))
                .find("must be gemma3, mlp, qwen2.5vl_merger, qwen3vl_merger, pixtral, resampler, "
                      "llama4, mlp_siglip, qwen2vl_merger, idefics3 or internvl"),
            std::string::npos);
  EXPECT_NE(error_of(replace(text, "image: 336", "image: 337")).find("whole number"),
            std::string::npos);
  EXPECT_NE(error_of(replace(text, "heads: 16, ", "")).find("missing required key 'heads'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(text, "encoder: mlp, ", "")).find("needs 'encoder'"),
            std::string::npos);

  // Qwen3-VL: the position grid and the DeepStack blocks, a list.
  const std::string qwen = replace(
      text, "encoder: mlp, layers: 23, width: 1024, ffn: 4096, heads: 16, patch: 14, image: 336",
      "encoder: qwen3vl_merger, layers: 27, width: 1152, ffn: 4304, heads: 16, patch: 16, "
      "image: 1472, merge: 2, positions: 48, deepstack: [8, 16, 24]");
  ASSERT_EQ(error_of(qwen), "");
  VisionEncoder want{VisionEncoderKind::qwen3vl, 27, 1152, 4304, 16, 16, 1472, 2};
  want.positions = 48;
  want.deepstack = {8, 16, 24};
  EXPECT_EQ(parse_catalog(qwen, "<test>").back().projector->encoder, want);
  EXPECT_NE(error_of(replace(qwen, "[8, 16, 24]", "[8, 16, 27]")).find("DeepStack layer 27"),
            std::string::npos);
  EXPECT_NE(error_of(replace(qwen, "positions: 48, ", "")).find("positions 0 is outside"),
            std::string::npos);
  EXPECT_NE(error_of(replace(text, "image: 336", "image: 336, deepstack: [1]")).find("more than 0"),
            std::string::npos);
  // pixtral's patch merger has no default side: merge is required, and taken as given.
  const std::string pixtral = replace(text, "encoder: mlp", "encoder: pixtral");
  EXPECT_NE(error_of(pixtral).find("missing required key 'merge'"), std::string::npos);
  const std::string merged = replace(pixtral, "image: 336}", "image: 336, merge: 2}");
  ASSERT_EQ(error_of(merged), "");
  EXPECT_EQ(parse_catalog(merged, "<test>").back().projector->encoder,
            (VisionEncoder{VisionEncoderKind::pixtral, 23, 1024, 4096, 16, 14, 336, 2}));
  // MiniCPM-V's resampler: queries, default 64.
  const std::string resampler = replace(text, "encoder: mlp", "encoder: resampler");
  ASSERT_EQ(error_of(resampler), "");
  EXPECT_EQ(parse_catalog(resampler, "<test>").back().projector->encoder->queries, 64);
  const std::string queries = replace(resampler, "image: 336}", "image: 336, queries: 96}");
  EXPECT_EQ(parse_catalog(queries, "<test>").back().projector->encoder->queries, 96);
  EXPECT_NE(error_of(replace(queries, "queries: 96", "queries: 5000")).find("queries 5000"),
            std::string::npos);
  // llama4: the pixel shuffle's side (merge, no default) and the MLP's width (adapter), both
  // required; mlp_siglip (moondream2) takes adapter too, and no other kind does.
  const std::string llama4 = replace(text, "encoder: mlp", "encoder: llama4");
  EXPECT_NE(error_of(llama4).find("missing required key 'merge'"), std::string::npos);
  const std::string shuffled = replace(llama4, "image: 336}", "image: 336, merge: 2}");
  EXPECT_NE(error_of(shuffled).find("adapter 0 is outside"), std::string::npos);
  const std::string adapted = replace(shuffled, "merge: 2}", "merge: 2, adapter: 4096}");
  ASSERT_EQ(error_of(adapted), "");
  VisionEncoder l4{VisionEncoderKind::llama4, 23, 1024, 4096, 16, 14, 336, 2};
  l4.adapter = 4096;
  EXPECT_EQ(parse_catalog(adapted, "<test>").back().projector->encoder, l4);
  // 24 patches a side are not a whole number of 5 x 5 squares.
  EXPECT_NE(error_of(replace(adapted, "merge: 2", "merge: 5")).find("whole number of 5 x 5"),
            std::string::npos);
  EXPECT_NE(error_of(replace(text, "image: 336}", "image: 336, adapter: 8192}")).find("adapter"),
            std::string::npos);
  const std::string siglip = replace(text, "encoder: mlp", "encoder: mlp_siglip");
  EXPECT_NE(error_of(siglip).find("adapter 0 is outside"), std::string::npos);
  ASSERT_EQ(error_of(replace(siglip, "image: 336}", "image: 336, adapter: 8192}")), "");
}

TEST(CatalogYaml, EmptyModelListIsAllowed) {
  EXPECT_TRUE(parse_catalog("models: []\n", "x").empty());
  EXPECT_TRUE(parse_catalog("models:\n", "x").empty());
}

TEST(CatalogYaml, BadSyntaxIsLocated) {
  EXPECT_EQ(error_of("models:\n  - id: [a, b\n"),
            "models/x.yaml:3:1: end of sequence flow not found");
  EXPECT_EQ(error_of(replace(valid, "    layers: 16\n", "    layers: 16\n   bad: : x\n")),
            "models/x.yaml:14:4: end of sequence not found");
}

TEST(CatalogYaml, CheckedIsADate) {
  const auto with = [](const std::string& date) {
    return replace(valid, "    notes: \"a test model\"\n",
                   "    notes: \"a test model\"\n    checked: " + date + "\n");
  };
  EXPECT_EQ(parse_catalog(with("2026-12-03"), "x.yaml").front().checked, "2026-12-03");
  EXPECT_EQ(error_of(with("3 Dec 2026")),
            "models/x.yaml:11:14: key 'checked' in model 'tiny-1b' must be a date YYYY-MM-DD, "
            "got '3 Dec 2026'");
  EXPECT_EQ(error_of(with("2026-1-03")),
            "models/x.yaml:11:14: key 'checked' in model 'tiny-1b' must be a date YYYY-MM-DD, "
            "got '2026-1-03'");
}

// Found by tests/fuzz/catalog_fuzz.cpp: yaml-cpp quotes the offending byte in its message,
// which put a raw control character (a newline, too) into the one-line error.
TEST(CatalogYaml, YamlCppMessagesStayOnOneLine) {
  EXPECT_EQ(error_of("models: \"\\\x01\"\n"),
            "models/x.yaml:1:12: unknown escape character: \\x01");
  EXPECT_EQ(error_of("models: \"\\\r\"\n"), "models/x.yaml:1:12: unknown escape character: \\x0d");
}

// Found by tests/fuzz/catalog_fuzz.cpp: the reader's own messages quote keys and ids from the
// file, which could hold a newline.
TEST(CatalogYaml, QuotedFileValuesStayOnOneLine) {
  EXPECT_EQ(error_of("\"a\\nb\": 1\n"), "models/x.yaml:1:1: unknown top-level key 'a\\x0ab'");
}

TEST(CatalogYaml, UnknownKeyIsLocated) {
  EXPECT_EQ(error_of(replace(valid, "    layers: 16", "    n_layers: 16")),
            "models/x.yaml:13:5: unknown key 'n_layers' in model 'tiny-1b'");
  EXPECT_EQ(error_of(replace(valid, "dense_first: true", "dense_frist: true")),
            "models/x.yaml:34:46: unknown key 'dense_frist' in 'sliding_window' of model "
            "'moe-mla'");
  EXPECT_EQ(error_of("model:\n  - id: x\n"), "models/x.yaml:1:1: unknown top-level key 'model'");
}

TEST(CatalogYaml, MissingRequiredKeyNamesTheModel) {
  EXPECT_EQ(error_of(replace(valid, "    layers: 16\n", "")),
            "models/x.yaml:2:5: missing required key 'layers' in model 'tiny-1b'");
  EXPECT_EQ(error_of(replace(valid, "  - id: tiny-1b\n    name:", "  - name:")),
            "models/x.yaml:2:5: missing required key 'id' in model #1");
  EXPECT_EQ(error_of(replace(valid, "v_head_dim: 128}", "}")),
            "models/x.yaml:35:10: missing required key 'v_head_dim' in 'mla' of model 'moe-mla'");
}

TEST(CatalogYaml, WrongTypeIsLocated) {
  EXPECT_EQ(error_of(replace(valid, "    layers: 16", "    layers: abc")),
            "models/x.yaml:13:13: key 'layers' in model 'tiny-1b' must be an integer, got 'abc'");
  EXPECT_EQ(error_of(replace(valid, "    latest: true", "    latest: maybe")),
            "models/x.yaml:5:13: key 'latest' in model 'tiny-1b' must be true or false, got "
            "'maybe'");
  EXPECT_EQ(error_of(replace(valid, "    params: 1.2e9", "    params: lots")),
            "models/x.yaml:8:13: key 'params' in model 'tiny-1b' must be a non-negative number, "
            "got 'lots'");
  EXPECT_EQ(error_of(replace(valid, "    hf: [org/Tiny-1B, org/Tiny-1B-Instruct]", "    hf: org")),
            "models/x.yaml:6:9: key 'hf' in model 'tiny-1b' must be a list");
  EXPECT_EQ(error_of(replace(valid, "{experts: 8,", "{experts: 8.5,")),
            "models/x.yaml:37:20: key 'experts' of 'moe' in model 'moe-mla' must be an integer, "
            "got '8.5'");
  EXPECT_EQ(error_of(replace(valid, "    context: 131072", "    context:")),
            "models/x.yaml:20:5: key 'context' in model 'tiny-1b' has no value");
}

TEST(CatalogYaml, ZeroOrNegativeLayersAreRejected) {
  EXPECT_EQ(error_of(replace(valid, "    layers: 16", "    layers: 0")),
            "models/x.yaml:13:13: key 'layers' in model 'tiny-1b' must be at least 1, got '0'");
  EXPECT_EQ(error_of(replace(valid, "    layers: 16", "    layers: -3")),
            "models/x.yaml:13:13: key 'layers' in model 'tiny-1b' must be at least 1, got '-3'");
}

TEST(CatalogYaml, ValidateRunsOnEveryModel) {
  // kv_heads larger than heads passes the loader's checks but not validate().
  EXPECT_EQ(error_of(replace(valid, "    kv_heads: 8", "    kv_heads: 64")),
            "models/x.yaml:2:5: model 'tiny-1b': kv_heads must be in [0, 32], got 64");
}

TEST(CatalogYaml, UnknownQuantIsLocated) {
  EXPECT_EQ(error_of(replace(valid, "[Q4_K_M, q8_0, F16]", "[Q4_K_M, Q9_K, F16]")),
            "models/x.yaml:9:22: unknown quantization 'Q9_K' in model 'tiny-1b'");
  EXPECT_EQ(error_of(replace(valid, "[Q4_K_M, q8_0, F16]", "[]")),
            "models/x.yaml:9:13: key 'quants' in model 'tiny-1b' must list at least one "
            "quantization");
}

TEST(CatalogYaml, TokenEmbdTypeIsReadAndAnUnknownOneLocated) {
  const std::string q8 =
      replace(valid, "    layers: 16\n", "    layers: 16\n    token_embd_type: Q8_0\n");
  EXPECT_EQ(parse_catalog(q8, "models/x.yaml").front().spec.token_embd_type, GgmlType::q8_0);
  EXPECT_FALSE(parse_catalog(valid, "models/x.yaml").front().spec.token_embd_type.has_value());
  // A file type (a preset) is not a tensor type.
  EXPECT_EQ(
      error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    token_embd_type: Q4_K_M\n")),
      "models/x.yaml:14:22: unknown tensor type 'Q4_K_M' for token_embd_type in model "
      "'tiny-1b'");
}

TEST(CatalogYaml, QuantizerIsReadAndAnUnknownOneLocated) {
  const std::string ollama =
      replace(valid, "    layers: 16\n", "    layers: 16\n    quantizer: ollama\n");
  EXPECT_EQ(parse_catalog(ollama, "models/x.yaml").front().spec.quantizer, Quantizer::ollama);
  const std::string ollama_065 =
      replace(valid, "    layers: 16\n", "    layers: 16\n    quantizer: ollama-0.6.5\n");
  EXPECT_EQ(parse_catalog(ollama_065, "models/x.yaml").front().spec.quantizer,
            Quantizer::ollama_065);
  EXPECT_EQ(parse_catalog(valid, "models/x.yaml").front().spec.quantizer,
            Quantizer::llama_quantize);
  EXPECT_EQ(
      error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    quantizer: lmstudio\n")),
      "models/x.yaml:14:16: unknown quantizer 'lmstudio' in model 'tiny-1b' (expected "
      "'llama-quantize', 'ollama' or 'ollama-0.6.5')");
  // The version is part of the name: a bare release number is not guessed at.
  EXPECT_NE(
      error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    quantizer: ollama-0.6\n"))
          .find("unknown quantizer 'ollama-0.6'"),
      std::string::npos);
}

// stored_output: a tied head whose duplicate the GGUF stores. The generated file has
// output.weight (and token_embd takes the default type), the spec stays tied.
TEST(CatalogYaml, StoredOutputIsReadAndAddsTheHeadToTheFile) {
  const std::string stored =
      replace(valid, "    layers: 16\n", "    layers: 16\n    stored_output: true\n");
  const ModelSpec a = parse_catalog(valid, "models/x.yaml").front().spec;  // tied
  ASSERT_TRUE(a.tied_embeddings);
  const ModelSpec b = parse_catalog(stored, "models/x.yaml").front().spec;
  EXPECT_FALSE(a.stored_output);
  EXPECT_TRUE(b.stored_output);
  EXPECT_TRUE(b.tied_embeddings);
  const auto has_output = [](const ModelSpec& s) {
    for (const TensorInfo& t : generate_tensors(s, FileType::mostly_q4_k_m)) {
      if (t.name == "output.weight") return true;
    }
    return false;
  };
  EXPECT_FALSE(has_output(a));
  EXPECT_TRUE(has_output(b));
  EXPECT_NE(error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    stored_output: 2\n")),
            "");
}

// rope_freqs: the GGUF carries rope_freqs.weight (F32, head_dim / 2), first in the file.
TEST(CatalogYaml, RopeFreqsIsReadAndAddsTheFactorsToTheFile) {
  const std::string with =
      replace(valid, "    layers: 16\n", "    layers: 16\n    rope_freqs: true\n");
  const ModelSpec a = parse_catalog(valid, "models/x.yaml").front().spec;
  const ModelSpec b = parse_catalog(with, "models/x.yaml").front().spec;
  EXPECT_FALSE(a.rope_freqs);
  ASSERT_TRUE(b.rope_freqs);
  const std::vector<TensorInfo> plain = generate_tensors(a, FileType::mostly_q4_k_m);
  const std::vector<TensorInfo> tensors = generate_tensors(b, FileType::mostly_q4_k_m);
  ASSERT_EQ(tensors.size(), plain.size() + 1);
  EXPECT_EQ(tensors.front().name, "rope_freqs.weight");
  EXPECT_EQ(tensors.front().type, GgmlType::f32);
  EXPECT_EQ(tensors.front().ne[0], b.head_dim_k() / 2);
  // The other tensors and their types are unchanged (a 1-D tensor moves no quantizer counter).
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(tensors[i + 1].name, plain[i].name);
    EXPECT_EQ(tensors[i + 1].type, plain[i].type) << plain[i].name;
  }
  EXPECT_NE(error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    rope_freqs: 2\n")),
            "");
}

// rope_factors: LongRoPE's rope_factors_long/short.weight, F32 of that many values, first.
TEST(CatalogYaml, RopeFactorsAddLongRopesTwoTensors) {
  const std::string with =
      replace(valid, "    layers: 16\n", "    layers: 16\n    rope_factors: 32\n");
  const ModelSpec b = parse_catalog(with, "models/x.yaml").front().spec;
  ASSERT_EQ(b.rope_factors, 32);
  const std::vector<TensorInfo> tensors = generate_tensors(b, FileType::mostly_q8_0);
  ASSERT_GE(tensors.size(), 2U);
  EXPECT_EQ(tensors[0].name, "rope_factors_long.weight");
  EXPECT_EQ(tensors[1].name, "rope_factors_short.weight");
  for (const std::size_t i : {0U, 1U}) {
    EXPECT_EQ(tensors[i].type, GgmlType::f32);
    EXPECT_EQ(tensors[i].ne[0], 32);
  }
  const WeightLayout w = layout_weights(tensors, b.n_layer);
  EXPECT_EQ(w.per_device.host, 2 * 32 * 4);  // placed with the blocks, not the input layer
  EXPECT_NE(error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    rope_factors: -1\n")),
            "");
  EXPECT_NE(
      error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    rope_factors: 100000\n")),
      "");
}

TEST(CatalogYaml, DuplicateIdWithinAFile) {
  EXPECT_EQ(error_of(replace(valid, "  - id: moe-mla", "  - id: tiny-1b")),
            "models/x.yaml:22:9: duplicate id 'tiny-1b' (first defined on line 2)");
}

TEST(CatalogYaml, DuplicateKeyWithinAModel) {
  EXPECT_EQ(error_of(replace(valid, "    layers: 16\n", "    layers: 16\n    layers: 17\n")),
            "models/x.yaml:14:5: duplicate key 'layers' in model 'tiny-1b'");
}

TEST(CatalogYaml, OllamaNamesNeedATag) {
  EXPECT_EQ(error_of(replace(valid, R"(["tiny:1b", "tiny:mini"])", "[tiny]")),
            "models/x.yaml:4:13: Ollama name 'tiny' in model 'tiny-1b' must be 'model:tag'");
}

// Issue 9 class 6: yaml-cpp builds a node tree of a few hundred bytes per node, so a 6 MiB
// flow list took 1.6 GB. The document is counted first, by events, and refused before any
// tree is built.
TEST(CatalogYaml, LongFlowListIsRefusedBeforeTheTreeIsBuilt) {
  std::string list = "models: [0";
  for (int i = 0; i < 70000; ++i) list += ",0";
  list += "]\n";
  // The root map, the key and the list are 3 nodes; item j is at column 10 + 2j.
  EXPECT_EQ(error_of(list), "models/x.yaml:1:" + std::to_string(10 + 2 * (65536 - 3)) +
                                ": more than 65536 YAML nodes");
}

TEST(CatalogYaml, AliasesCountWhatTheyRepeat) {
  std::string text = "a: &a [0";
  for (int i = 0; i < 999; ++i) text += ",0";
  text += "]\nb: [";
  for (int i = 0; i < 70; ++i) text += i == 0 ? "*a" : ",*a";
  text += "]\n";
  // 1005 nodes before the first alias, 1001 per alias: the 65th ("*a" at column 5 + 3 * 64)
  // passes the limit.
  EXPECT_EQ(error_of(text), "models/x.yaml:2:197: more than 65536 YAML nodes");
}

TEST(CatalogYaml, DeepNestingAndLongScalarsAreRefused) {
  EXPECT_EQ(error_of("models: " + std::string(40, '[') + std::string(40, ']') + "\n"),
            "models/x.yaml:1:24: YAML nested deeper than 16 levels");  // the 16th '['
  EXPECT_EQ(error_of("models: " + std::string(70000, 'x') + "\n"),
            "models/x.yaml:1:9: a YAML scalar of 70000 bytes exceeds the limit of 65536");
  EXPECT_EQ(error_of(std::string(catalog_max_bytes + 1, '#')),
            "models/x.yaml: catalog is " + std::to_string(catalog_max_bytes + 1) +
                " bytes, more than the limit of " + std::to_string(catalog_max_bytes));
}

// A 10 MiB name padded every row of `vramplan models`: kept strings have per-key limits.
TEST(CatalogYaml, KeptStringsHaveLengthLimits) {
  EXPECT_EQ(error_of(replace(valid, "name: Tiny 1B", "name: " + std::string(200, 'n'))),
            "models/x.yaml:3:11: key 'name' in model 'tiny-1b' is 200 bytes, more than the "
            "limit of 128");
  EXPECT_EQ(error_of(replace(valid, "id: tiny-1b", "id: " + std::string(100, 'i'))),
            "models/x.yaml:2:9: key 'id' in model #1 is 100 bytes, more than the limit of 64");
  EXPECT_EQ(error_of(replace(valid, "notes: \"a test model\"", "notes: " + std::string(5000, 'o'))),
            "models/x.yaml:10:12: key 'notes' in model 'tiny-1b' is 5000 bytes, more than the "
            "limit of 4096");
}

class LoadCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const int seed = ::testing::UnitTest::GetInstance()->random_seed();
    dir_ = std::filesystem::temp_directory_path() /
           ("vramplan-catalog-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path dir_;
};

TEST_F(LoadCatalogTest, EmbeddedThenEnvironmentThenFilesLaterIdsOverride) {
  const Catalog embedded_only = load_catalog({}, "");
  ASSERT_FALSE(embedded_only.entries().empty());

  const std::string env_file = write("env.yaml", valid);
  const std::string override_file =
      write("override.yaml", replace(valid, "    name: Tiny 1B", "    name: Tiny Override"));
  const Catalog catalog = load_catalog({override_file}, ":" + env_file + "::");
  EXPECT_EQ(catalog.entries().size(), embedded_only.entries().size() + 2);
  const CatalogEntry* tiny = catalog.find_id("tiny-1b");
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->name, "Tiny Override");
  EXPECT_EQ(tiny->source, override_file);
  EXPECT_EQ(catalog.resolve("tiny:1b-q8")->entry, tiny);
}

TEST_F(LoadCatalogTest, UserFileErrorsNameTheFile) {
  const std::string path = write("bad.yaml", replace(valid, "    layers: 16", "    layers: x"));
  try {
    static_cast<void>(load_catalog({path}, ""));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_EQ(std::string(e.what()),
              path + ":13:13: key 'layers' in model 'tiny-1b' must be an integer, got 'x'");
  }
}

// Issue 9 class 6: a user catalog over catalog_max_bytes is not read at all.
TEST_F(LoadCatalogTest, FileOverTheSizeCapIsNotRead) {
  const std::string path = write("big.yaml", valid + std::string(catalog_max_bytes, '#'));
  try {
    static_cast<void>(load_catalog({path}, ""));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(std::string(e.what()),
              "cannot read '" + path + "': file is larger than the limit of 4.00 MiB");
  }
}

TEST_F(LoadCatalogTest, MissingFileIsAnIoError) {
  try {
    static_cast<void>(load_catalog({(dir_ / "missing.yaml").string()}, ""));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
  }
  EXPECT_THROW(static_cast<void>(load_catalog({}, (dir_ / "nope.yaml").string())), Error);
}

}  // namespace
}  // namespace vramplan::io
