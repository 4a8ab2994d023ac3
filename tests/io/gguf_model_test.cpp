#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/gguf_model.hpp>

#include <unistd.h>

#include "support/gguf_writer.hpp"
#include "support/specs.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using test::GgufWriter;

// Keys and tensors of a text model; token_embd gives the vocabulary, output.weight unties.
GgufWriter model_writer(const std::string& arch, std::int64_t n_layer, std::int64_t n_embd,
                        std::int64_t n_ff, std::int64_t n_head, std::int64_t n_vocab,
                        std::int64_t n_ctx, bool tied = false) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".block_count", static_cast<std::uint32_t>(n_layer));
  w.set_u32(arch + ".context_length", static_cast<std::uint32_t>(n_ctx));
  w.set_u32(arch + ".embedding_length", static_cast<std::uint32_t>(n_embd));
  if (n_ff > 0) w.set_u32(arch + ".feed_forward_length", static_cast<std::uint32_t>(n_ff));
  w.set_u32(arch + ".attention.head_count", static_cast<std::uint32_t>(n_head));
  const std::array<std::int64_t, 2> embd{n_embd, n_vocab};
  w.add_tensor("token_embd.weight", embd, GgmlType::q8_0);
  if (!tied) w.add_tensor("output.weight", embd, GgmlType::q8_0);
  return w;
}

class GgufModel : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / (std::string("vramplan-gguf-model-test-") + info->name() +
                                        "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `w` as a sparse file and reads its header back.
  GgufFile file_of(const GgufWriter& w) {
    const std::string path = (dir_ / "m.gguf").string();
    w.write_sparse(path);
    FileSource source(path);
    return read_gguf(source, "m.gguf");
  }
  ModelSpec spec_of(const GgufWriter& w) { return spec_from_gguf(file_of(w), "m.gguf"); }

  // The message of the Error{bad_input} spec_from_gguf throws; "" when it does not.
  std::string error_of(const GgufWriter& w) {
    const GgufFile f = file_of(w);
    try {
      (void)spec_from_gguf(f, "m.gguf");
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input);
      return e.what();
    }
    return "";
  }
  std::uint64_t offset_of(const GgufWriter& w, const std::string& key) {
    return file_of(w).find(key)->offset;
  }

  fs::path dir_;
};

GgufWriter llama31_8b() {
  GgufWriter w = model_writer("llama", 32, 4096, 14336, 32, 128256, 131072);
  w.set_u32("llama.attention.head_count_kv", 8);
  w.set_u32("llama.rope.dimension_count", 128);
  w.set_f32("llama.rope.freq_base", 500000.0F);
  w.set_u32("general.file_type", 15);
  return w;
}

TEST_F(GgufModel, LlamaMatchesTheHandWrittenSpec) {
  const ModelSpec s = spec_of(llama31_8b());
  EXPECT_EQ(s, test::llama31_8b());
  const LayerAttention a = layer_attention(s, 0);
  EXPECT_TRUE(a.has_kv);
  EXPECT_FALSE(a.swa);
  EXPECT_EQ(a.k_width, 1024);
  EXPECT_EQ(a.v_width, 1024);
}

TEST_F(GgufModel, Gemma2SlidingWindowEveryOtherLayer) {
  GgufWriter w = model_writer("gemma2", 42, 3584, 14336, 16, 256000, 8192, /*tied=*/true);
  w.set_u32("gemma2.attention.head_count_kv", 8);
  w.set_u32("gemma2.attention.key_length", 256);
  w.set_u32("gemma2.attention.value_length", 256);
  w.set_u32("gemma2.attention.sliding_window", 2048);
  const ModelSpec s = spec_of(w);
  EXPECT_EQ(s.swa, (SlidingWindow{.window = 2048, .period = 2}));
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.n_vocab, 256000);
  const LayerAttention even = layer_attention(s, 0);
  const LayerAttention odd = layer_attention(s, 1);
  EXPECT_TRUE(even.swa);
  EXPECT_FALSE(odd.swa);
  EXPECT_EQ(even.k_width, 8 * 256);
  EXPECT_EQ(odd.v_width, 8 * 256);

  GgufWriter no_key = model_writer("gemma2", 42, 3584, 14336, 16, 256000, 8192, true);
  no_key.set_u32("gemma2.attention.head_count_kv", 8);
  EXPECT_EQ(spec_of(no_key).swa.window, 4096);  // llama.cpp's default for gemma2
}

TEST_F(GgufModel, Gemma3AndGptOssAndLlama4Patterns) {
  GgufWriter g3 = model_writer("gemma3", 62, 5376, 21504, 32, 262144, 131072, true);
  g3.set_u32("gemma3.attention.head_count_kv", 16);
  g3.set_u32("gemma3.attention.key_length", 128);
  g3.set_u32("gemma3.attention.value_length", 128);
  g3.set_u32("gemma3.attention.sliding_window", 1024);
  g3.set_u32("gemma3.attention.sliding_window_pattern", 2);  // ignored: gemma3 is period 6
  EXPECT_EQ(spec_of(g3), test::gemma3_27b());

  GgufWriter oss = model_writer("gpt-oss", 24, 2880, 0, 64, 201088, 131072);
  oss.set_u32("gpt-oss.attention.head_count_kv", 8);
  oss.set_u32("gpt-oss.attention.key_length", 64);
  oss.set_u32("gpt-oss.attention.value_length", 64);
  oss.set_u32("gpt-oss.attention.sliding_window", 128);
  oss.set_u32("gpt-oss.expert_count", 32);
  oss.set_u32("gpt-oss.expert_used_count", 4);
  oss.set_u32("gpt-oss.expert_feed_forward_length", 2880);
  EXPECT_EQ(spec_of(oss), test::gpt_oss_20b());

  GgufWriter l4 = model_writer("llama4", 48, 5120, 16384, 40, 202048, 10485760);
  l4.set_u32("llama4.attention.head_count_kv", 8);
  EXPECT_EQ(spec_of(l4).swa, (SlidingWindow{.window = 8192, .period = 4}));
  l4.set_u32("llama4.attention.sliding_window", 0);
  EXPECT_EQ(spec_of(l4).swa, SlidingWindow{});
}

// The remaining per-family window rules of llama.cpp's load_hparams (src/models/<arch>.cpp):
// exaone4 slides only in its 64-block model (default window 4096), smallthinker uses its own
// 4096 window dense-first, cohere2moe reads the period from the pattern key (else 4),
// dense-first, and an unknown architecture only with both keys.
TEST_F(GgufModel, FamilyWindowRules) {
  GgufWriter ex = model_writer("exaone4", 64, 5120, 27392, 40, 102400, 131072);
  EXPECT_EQ(spec_of(ex).swa, (SlidingWindow{.window = 4096, .period = 4}));
  GgufWriter ex32 = model_writer("exaone4", 30, 2048, 4096, 32, 102400, 65536);
  ex32.set_u32("exaone4.attention.sliding_window", 4096);
  EXPECT_EQ(spec_of(ex32).swa, SlidingWindow{});

  GgufWriter st = model_writer("smallthinker", 32, 2560, 6912, 32, 151936, 32768);
  st.set_u32("smallthinker.attention.sliding_window", 2048);
  EXPECT_EQ(spec_of(st).swa, (SlidingWindow{.window = 4096, .period = 4, .dense_first = true}));

  GgufWriter c2 = model_writer("cohere2moe", 24, 2048, 8192, 16, 256000, 8192);
  c2.set_u32("cohere2moe.attention.sliding_window", 1024);
  EXPECT_EQ(spec_of(c2).swa, (SlidingWindow{.window = 1024, .period = 4, .dense_first = true}));
  c2.set_u32("cohere2moe.attention.sliding_window_pattern", 3);
  EXPECT_EQ(spec_of(c2).swa, (SlidingWindow{.window = 1024, .period = 3, .dense_first = true}));

  GgufWriter other = model_writer("no-such-arch", 8, 1024, 4096, 8, 32000, 8192);
  other.set_u32("no-such-arch.attention.sliding_window", 512);
  EXPECT_EQ(spec_of(other).swa, SlidingWindow{});
  other.set_u32("no-such-arch.attention.sliding_window_pattern", 2);
  EXPECT_EQ(spec_of(other).swa, (SlidingWindow{.window = 512, .period = 2}));
}

TEST_F(GgufModel, Phi3IgnoresItsSlidingWindowKey) {
  GgufWriter w = model_writer("phi3", 32, 3072, 8192, 32, 32064, 4096);
  w.set_u32("phi3.attention.head_count_kv", 32);
  w.set_u32("phi3.attention.sliding_window", 2047);
  const ModelSpec s = spec_of(w);
  EXPECT_EQ(s.swa, SlidingWindow{});
  for (std::int32_t il = 0; il < s.n_layer; ++il) EXPECT_FALSE(layer_attention(s, il).swa) << il;
}

GgufWriter deepseek_v3() {
  GgufWriter w = model_writer("deepseek2", 61, 7168, 18432, 128, 129280, 163840);
  w.set_u32("deepseek2.attention.head_count_kv", 1);
  w.set_u32("deepseek2.attention.key_length", 576);
  w.set_u32("deepseek2.attention.value_length", 512);
  w.set_u32("deepseek2.attention.key_length_mla", 192);
  w.set_u32("deepseek2.attention.value_length_mla", 128);
  w.set_u32("deepseek2.attention.q_lora_rank", 1536);
  w.set_u32("deepseek2.attention.kv_lora_rank", 512);
  w.set_u32("deepseek2.rope.dimension_count", 64);
  w.set_u32("deepseek2.expert_count", 256);
  w.set_u32("deepseek2.expert_used_count", 8);
  w.set_u32("deepseek2.expert_feed_forward_length", 2048);
  w.set_u32("deepseek2.expert_shared_count", 1);
  w.set_u32("deepseek2.leading_dense_block_count", 3);
  return w;
}

TEST_F(GgufModel, DeepSeekMlaCachesTheLatentOnly) {
  const ModelSpec s = spec_of(deepseek_v3());
  const ModelSpec expected = test::deepseek_v3();
  EXPECT_EQ(s.mla, expected.mla);
  EXPECT_EQ(s.moe.n_expert, 256);
  EXPECT_EQ(s.moe.n_expert_used, 8);
  EXPECT_EQ(s.moe.n_ff_exp, 2048);
  EXPECT_EQ(s.moe.n_expert_shared, 1);
  EXPECT_EQ(s.moe.n_leading_dense, 3);
  EXPECT_EQ(s.n_head, 128);
  EXPECT_EQ(s.n_head_kv, 1);  // as stored
  EXPECT_EQ(s.key_length, 192);
  EXPECT_EQ(s.value_length, 128);
  const LayerAttention a = layer_attention(s, 0);
  EXPECT_TRUE(a.has_kv);
  EXPECT_EQ(a.k_width, 576);
  EXPECT_EQ(a.v_width, 0);
  // Same cache per layer as the catalog's spec.
  EXPECT_EQ(a.k_width, layer_attention(expected, 0).k_width);
}

TEST_F(GgufModel, LegacyDeepSeekWithoutMlaKeysIsPlainAttention) {
  GgufWriter w = model_writer("deepseek2", 27, 2048, 10944, 16, 102400, 163840);
  w.set_u32("deepseek2.attention.head_count_kv", 16);
  w.set_u32("deepseek2.attention.key_length", 192);
  w.set_u32("deepseek2.attention.value_length", 128);
  w.set_u32("deepseek2.attention.kv_lora_rank", 512);
  const ModelSpec s = spec_of(w);
  EXPECT_FALSE(s.mla.present());
  EXPECT_EQ(layer_attention(s, 0).k_width, 16 * 192);
  EXPECT_EQ(layer_attention(s, 0).v_width, 16 * 128);
}

GgufWriter qwen36_27b() {
  GgufWriter w = model_writer("qwen35", 64, 5120, 17408, 24, 248320, 262144);
  w.set_u32("qwen35.attention.head_count_kv", 4);
  w.set_u32("qwen35.attention.key_length", 256);
  w.set_u32("qwen35.attention.value_length", 256);
  w.set_u32("qwen35.full_attention_interval", 4);
  w.set_u32("qwen35.ssm.conv_kernel", 4);
  w.set_u32("qwen35.ssm.inner_size", 6144);
  w.set_u32("qwen35.ssm.state_size", 128);
  w.set_u32("qwen35.ssm.group_count", 16);
  w.set_u32("qwen35.ssm.time_step_rank", 48);
  return w;
}

TEST_F(GgufModel, Qwen35HybridHasKvOnlyInFullAttentionLayers) {
  const ModelSpec s = spec_of(qwen36_27b());
  EXPECT_EQ(s, test::qwen36_27b());
  EXPECT_FALSE(layer_attention(s, 0).has_kv);
  EXPECT_TRUE(layer_attention(s, 0).recurrent);
  EXPECT_TRUE(layer_attention(s, 3).has_kv);
  EXPECT_FALSE(layer_attention(s, 3).recurrent);
  EXPECT_EQ(layer_attention(s, 3).k_width, 4 * 256);

  // The same layout given as an explicit per-layer list.
  GgufWriter w = qwen36_27b();
  std::vector<bool> recurrent(64);
  for (std::size_t il = 0; il < 64; ++il) recurrent[il] = (il + 1) % 4 != 0;
  w.set_array_bool("qwen35.attention.recurrent_layers", recurrent);
  w.set_u32("qwen35.full_attention_interval", 2);  // ignored when the list is there
  EXPECT_EQ(spec_of(w), test::qwen36_27b());
}

// mllama as Ollama's converter writes it (convert/convert_mllama.go): the cross-attention block
// list and the vision keys that size one image's cache, 4 x ((560 / 14)^2 + 1) = 6404 tokens.
TEST_F(GgufModel, MllamaReadsItsCrossAttentionBlocksAndImageTokens) {
  GgufWriter w = model_writer("mllama", 40, 4096, 14336, 32, 128256, 131072);
  w.set_u32("mllama.attention.head_count_kv", 8);
  const std::array<std::int32_t, 8> cross{3, 8, 13, 18, 23, 28, 33, 38};
  w.set_array_i32("mllama.attention.cross_attention_layers", cross);
  w.set_u32("mllama.vision.image_size", 560);
  w.set_u32("mllama.vision.patch_size", 14);
  w.set_u32("mllama.vision.max_num_tiles", 4);
  const ModelSpec s = spec_of(w);
  EXPECT_EQ(s.cross.layers, std::vector<std::int32_t>(cross.begin(), cross.end()));
  EXPECT_EQ(s.cross.tokens, 6404);
  EXPECT_FALSE(layer_attention(s, 3).has_kv);
  EXPECT_TRUE(layer_attention(s, 3).cross);
  EXPECT_TRUE(layer_attention(s, 4).has_kv);

  const std::array<std::int32_t, 2> outside{3, 40};  // block 40 of 40
  w.set_array_i32("mllama.attention.cross_attention_layers", outside);
  EXPECT_THROW((void)spec_of(w), Error);
}

TEST_F(GgufModel, Lfm2PerLayerKvHeadsMarkConvLayers) {
  GgufWriter w = model_writer("lfm2", 16, 2048, 8192, 32, 65536, 128000, true);
  std::vector<std::int32_t> kv(16, 0);
  for (std::size_t il : {2U, 5U, 8U, 10U, 12U, 14U}) kv[il] = 8;
  w.set_array_i32("lfm2.attention.head_count_kv", kv);
  w.set_u32("lfm2.shortconv.l_cache", 3);
  const ModelSpec s = spec_of(w);
  EXPECT_EQ(s.n_head_kv, 8);
  EXPECT_EQ(s.n_head_kv_per_layer, std::vector<std::int32_t>(kv.begin(), kv.end()));
  EXPECT_EQ(s.recurrent.conv_kernel, 3);
  EXPECT_EQ(s.recurrent.inner_size, 2048);
  ASSERT_EQ(s.recurrent.layers.size(), 16U);
  EXPECT_TRUE(layer_attention(s, 0).recurrent);
  EXPECT_FALSE(layer_attention(s, 0).has_kv);
  EXPECT_FALSE(layer_attention(s, 2).recurrent);
  EXPECT_EQ(layer_attention(s, 2).k_width, 8 * 64);
}

TEST_F(GgufModel, NemotronHMlpOnlyLayersHaveNeitherKvNorState) {
  GgufWriter w = model_writer("nemotron_h", 6, 1024, 0, 16, 32000, 8192);
  const std::array<std::int32_t, 6> kv{0, 8, 0, 0, 8, 0};
  const std::array<std::int32_t, 6> ff{0, 0, 4096, 0, 0, 4096};
  w.set_array_i32("nemotron_h.attention.head_count_kv", kv);
  w.set_array_i32("nemotron_h.feed_forward_length", ff);
  const ModelSpec s = spec_of(w);
  EXPECT_EQ(s.recurrent.layers, (std::vector<bool>{true, false, false, true, false, false}));
  EXPECT_EQ(s.n_ff, 4096);
  EXPECT_EQ(s.n_ff_per_layer, (std::vector<std::int64_t>{0, 0, 4096, 0, 0, 4096}));
  const LayerAttention mlp = layer_attention(s, 2);
  EXPECT_FALSE(mlp.has_kv);
  EXPECT_FALSE(mlp.recurrent);
  EXPECT_TRUE(layer_attention(s, 1).has_kv);
}

TEST_F(GgufModel, PerLayerArraysThatAreUniformCollapse) {
  GgufWriter w = llama31_8b();
  const std::vector<std::int32_t> kv(32, 8);
  w.set_array_i32("llama.attention.head_count_kv", kv);
  const std::vector<std::uint32_t> ff(32, 14336);
  w.set_array_u32("llama.feed_forward_length", ff);
  EXPECT_EQ(spec_of(w), test::llama31_8b());
}

TEST_F(GgufModel, EncodersAreNotCausal) {
  GgufWriter bert = model_writer("bert", 12, 768, 3072, 12, 30522, 512, true);
  const ModelSpec s = spec_of(bert);
  EXPECT_FALSE(s.causal);
  EXPECT_EQ(s.n_head_kv, 12);  // defaults to head_count
  EXPECT_FALSE(layer_attention(s, 0).has_kv);

  GgufWriter embed = llama31_8b();
  embed.set_bool("llama.attention.causal", false);
  EXPECT_FALSE(spec_of(embed).causal);
}

TEST_F(GgufModel, UnknownArchitectureWithGenericKeys) {
  GgufWriter w = model_writer("mytransformer", 8, 1024, 4096, 16, 32000, 4096);
  w.set_u32("mytransformer.attention.head_count_kv", 4);
  w.set_u32("mytransformer.attention.sliding_window", 512);  // no pattern: not applied
  ModelSpec s = spec_of(w);
  EXPECT_EQ(s.arch, "mytransformer");
  EXPECT_EQ(s.swa, SlidingWindow{});
  EXPECT_EQ(layer_attention(s, 7).k_width, 4 * 64);

  w.set_u32("mytransformer.attention.sliding_window_pattern", 4);
  s = spec_of(w);
  EXPECT_EQ(s.swa, (SlidingWindow{.window = 512, .period = 4}));
  EXPECT_TRUE(layer_attention(s, 0).swa);
  EXPECT_FALSE(layer_attention(s, 3).swa);

  std::vector<bool> flags(8, false);
  flags[1] = true;
  w.set_array_bool("mytransformer.attention.sliding_window_pattern", flags);
  s = spec_of(w);
  EXPECT_EQ(s.swa.layers, flags);
  EXPECT_TRUE(layer_attention(s, 1).swa);
  EXPECT_FALSE(layer_attention(s, 0).swa);
}

TEST_F(GgufModel, VocabularySources) {
  GgufWriter w = llama31_8b();
  EXPECT_EQ(vocab_size_from_gguf(file_of(w), "m.gguf"), 128256);  // token_embd ne[1]
  const std::vector<std::string> tokens(70000, "t");  // a big array: only its count is kept
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  EXPECT_EQ(vocab_size_from_gguf(file_of(w), "m.gguf"), 70000);
  w.set_u32("llama.vocab_size", 128000);
  EXPECT_EQ(vocab_size_from_gguf(file_of(w), "m.gguf"), 128000);
  EXPECT_EQ(spec_of(w).n_vocab, 128000);

  GgufWriter none;
  none.set_string("general.architecture", "llama");
  EXPECT_EQ(vocab_size_from_gguf(file_of(none), "m.gguf"), std::nullopt);
}

TEST_F(GgufModel, FileType) {
  GgufWriter w = llama31_8b();
  EXPECT_EQ(file_type_from_gguf(file_of(w), "m.gguf"), FileType::mostly_q4_k_m);
  w.set_u32("general.file_type", 15 | 1024);  // "guessed"
  EXPECT_EQ(file_type_from_gguf(file_of(w), "m.gguf"), FileType::mostly_q4_k_m);
  w.set_u32("general.file_type", 999);
  EXPECT_EQ(file_type_from_gguf(file_of(w), "m.gguf"), std::nullopt);
  EXPECT_EQ(file_type_from_gguf(file_of(model_writer("llama", 1, 64, 64, 1, 32, 32)), "m.gguf"),
            std::nullopt);
}

TEST_F(GgufModel, ModelFromFiles) {
  const std::string path = (dir_ / "llama.gguf").string();
  llama31_8b().write_sparse(path);
  const Model m = model_from_gguf(read_gguf_model_files(path), "llama.gguf");
  EXPECT_EQ(m.name, "llama.gguf");
  EXPECT_EQ(m.source, "GGUF " + path);
  EXPECT_EQ(m.file_type, FileType::mostly_q4_k_m);
  EXPECT_EQ(m.spec, test::llama31_8b());
  ASSERT_EQ(m.tensors.size(), 2U);
  EXPECT_EQ(m.n_params, 2 * 4096 * 128256LL);
  EXPECT_FALSE(m.weights.output_tied);

  GgufWriter no_type = model_writer("llama", 1, 64, 64, 1, 32, 32);
  no_type.write_sparse(path);
  EXPECT_EQ(model_from_gguf(read_gguf_model_files(path), "x").file_type, FileType::mostly_q8_0);
}

TEST_F(GgufModel, Errors) {
  GgufWriter w;
  EXPECT_EQ(error_of(w), "m.gguf: missing key 'general.architecture'");
  w.set_u32("general.architecture", 1);
  EXPECT_EQ(error_of(w), "m.gguf: offset " + std::to_string(offset_of(w, "general.architecture")) +
                             ": key 'general.architecture' must be a non-empty string");

  GgufWriter clip;
  clip.set_string("general.architecture", "clip");
  EXPECT_EQ(error_of(clip),
            "m.gguf: is a vision/audio projector (mmproj, architecture 'clip'), not a text model");

  GgufWriter missing;
  missing.set_string("general.architecture", "llama");
  EXPECT_EQ(error_of(missing), "m.gguf: missing key 'llama.block_count'");

  GgufWriter typed = llama31_8b();
  typed.set_string("llama.block_count", "32");
  EXPECT_EQ(error_of(typed), "m.gguf: offset " +
                                 std::to_string(offset_of(typed, "llama.block_count")) +
                                 ": key 'llama.block_count' must be an integer, got string");

  GgufWriter zero = llama31_8b();
  zero.set_u32("llama.block_count", 0);
  EXPECT_EQ(error_of(zero), "m.gguf: offset " +
                                std::to_string(offset_of(zero, "llama.block_count")) +
                                ": key 'llama.block_count' is 0, outside [1, 1024]");

  GgufWriter short_array = llama31_8b();
  const std::array<std::int32_t, 3> kv{8, 8, 8};
  short_array.set_array_i32("llama.attention.head_count_kv", kv);
  EXPECT_EQ(error_of(short_array),
            "m.gguf: offset " +
                std::to_string(offset_of(short_array, "llama.attention.head_count_kv")) +
                ": key 'llama.attention.head_count_kv' has 3 entries for 32 layers");

  GgufWriter too_many_kv = llama31_8b();
  too_many_kv.set_u32("llama.attention.head_count_kv", 64);
  EXPECT_EQ(error_of(too_many_kv), "m.gguf: kv_heads must be in [0, 32], got 64");

  GgufWriter interval = qwen36_27b();
  interval.set_u32("qwen35.full_attention_interval", 0);
  EXPECT_EQ(error_of(interval),
            "m.gguf: offset " +
                std::to_string(offset_of(interval, "qwen35.full_attention_interval")) +
                ": key 'qwen35.full_attention_interval' is 0, outside [1, 1024]");
}

}  // namespace
}  // namespace vramplan::io
