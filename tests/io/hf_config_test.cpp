#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/hf_config.hpp>

#include "support/hf_fixtures.hpp"
#include "support/specs.hpp"

namespace vramplan::io {
namespace {

using test::deepseek_v3_config;
using test::error_of;
using test::gemma3_27b_config;
using test::llama31_8b_config;
using test::mixtral_config;
using test::qwen25_7b_config;

std::string config_error(std::string_view json) {
  return error_of([&] { (void)spec_from_hf_config(json, "config.json"); });
}

TEST(HfConfig, Llama31MapsToTheCatalogSpec) {
  const HfConfig c = spec_from_hf_config(llama31_8b_config, "config.json");
  ModelSpec expected = test::llama31_8b();
  expected.rope_freqs = true;  // rope_type llama3
  EXPECT_EQ(c.spec, expected);
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_FALSE(c.quant_method.has_value());
  EXPECT_TRUE(c.known_architecture);
  EXPECT_TRUE(c.tie_explicit);
  const LayerAttention a = layer_attention(c.spec, 31);
  EXPECT_TRUE(a.has_kv);
  EXPECT_FALSE(a.swa);
  EXPECT_EQ(a.k_width, 8 * 128);
  EXPECT_EQ(a.v_width, 8 * 128);
}

// Llama 3.1-style rope scaling converts with rope_freqs.weight (conversion/llama.py
// generate_extra_tensors; Ollama's convert_llama.go ropeFactors): under rope_scaling or
// rope_parameters (per layer type where it has full_attention), rope_type or the older type.
TEST(HfConfig, Llama3RopeScalingMeansTheFileHasRopeFreqs) {
  const std::string base(llama31_8b_config);
  const auto rope_freqs = [](const std::string& json) {
    return spec_from_hf_config(json, "config.json").spec.rope_freqs;
  };
  const std::string scaling =
      R"("rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},)";
  ASSERT_NE(base.find(scaling), std::string::npos);
  const auto with = [&](const std::string& replacement) {
    std::string json = base;
    json.replace(json.find(scaling), scaling.size(), replacement);
    return json;
  };
  EXPECT_TRUE(rope_freqs(base));
  EXPECT_TRUE(rope_freqs(with(R"("rope_scaling": {"type": "Llama3", "factor": 8.0},)")));
  EXPECT_TRUE(rope_freqs(
      with(R"("rope_parameters": {"full_attention": {"rope_type": "llama3"}, "sliding_attention":
             {"rope_type": "default"}},)")));
  EXPECT_TRUE(rope_freqs(with(R"("rope_parameters": {"rope_type": "llama3"},)")));
  EXPECT_FALSE(rope_freqs(with("")));  // Llama 3.0: no scaling
  EXPECT_FALSE(rope_freqs(with(R"("rope_scaling": null,)")));
  EXPECT_FALSE(rope_freqs(with(R"("rope_scaling": {"type": "linear", "factor": 2.0},)")));
  EXPECT_FALSE(rope_freqs(with(R"("rope_scaling": {"rope_type": "yarn", "factor": 4.0},)")));
  EXPECT_NE(config_error(with(R"("rope_scaling": 8,)")).find("'rope_scaling' must be an object"),
            std::string::npos);
  EXPECT_NE(config_error(with(R"("rope_scaling": {"rope_type": 3},)"))
                .find("'rope_scaling.rope_type' must be a string"),
            std::string::npos);
  // qwen2's converter writes no such tensor whatever the config says.
  std::string qwen(qwen25_7b_config);
  qwen.replace(qwen.find(R"("rope_theta")"), 0,
               R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0}, )");
  EXPECT_FALSE(rope_freqs(qwen));
}

// LongRoPE (Phi-3 128k): rope_scaling.long_factor, one value per rotated pair, converts with
// rope_factors_long/short.weight of that length (conversion/phi.py; convert_phi3.go).
TEST(HfConfig, LongRopeFactorsGiveTheFactorTensorsLength) {
  const auto config = [](const std::string& rope_scaling) {
    return R"({"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 3072,
      "intermediate_size": 8192, "num_attention_heads": 32, "num_hidden_layers": 32,
      "num_key_value_heads": 32, "vocab_size": 32064, "max_position_embeddings": 131072,
      "original_max_position_embeddings": 4096, )" +
           rope_scaling + R"( "tie_word_embeddings": false})";
  };
  std::string factors = "[1.0";
  for (int i = 1; i < 48; ++i) factors += ", 1.0";
  factors += "]";
  const std::string longrope = R"("rope_scaling": {"type": "longrope", "long_factor": )" + factors +
                               R"(, "short_factor": )" + factors + "},";
  const ModelSpec s = spec_from_hf_config(config(longrope), "config.json").spec;
  EXPECT_EQ(s.arch, "phi3");
  EXPECT_EQ(s.rope_factors, 48);
  EXPECT_FALSE(s.rope_freqs);
  EXPECT_EQ(spec_from_hf_config(config(""), "config.json").spec.rope_factors, 0);  // 4k model
  EXPECT_EQ(
      spec_from_hf_config(config(R"("rope_scaling": null,)"), "config.json").spec.rope_factors, 0);
  EXPECT_NE(config_error(config(R"("rope_scaling": {"type": "longrope", "long_factor": 4},)"))
                .find("'rope_scaling.long_factor' must be an array"),
            std::string::npos);
  // A llama config's long_factor is not LongRoPE to llama's converter.
  std::string llama(llama31_8b_config);
  llama.replace(llama.find(R"("rope_type": "llama3")"), 0, R"("long_factor": [1.0, 2.0], )");
  EXPECT_EQ(spec_from_hf_config(llama, "config.json").spec.rope_factors, 0);
}

TEST(HfConfig, Qwen25WithUseSlidingWindowFalseHasNoSlidingWindow) {
  const HfConfig c = spec_from_hf_config(qwen25_7b_config, "config.json");
  const ModelSpec& s = c.spec;
  EXPECT_EQ(s.arch, "qwen2");
  EXPECT_EQ(s.n_layer, 28);
  EXPECT_EQ(s.n_embd, 3584);
  EXPECT_EQ(s.n_ff, 18944);
  EXPECT_EQ(s.n_head, 28);
  EXPECT_EQ(s.n_head_kv, 4);
  EXPECT_EQ(s.n_vocab, 152064);
  EXPECT_EQ(s.n_ctx_train, 32768);
  EXPECT_FALSE(s.tied_embeddings);
  EXPECT_EQ(s.swa, SlidingWindow{});
  for (std::int32_t il = 0; il < s.n_layer; ++il) EXPECT_FALSE(layer_attention(s, il).swa);
  EXPECT_EQ(layer_attention(s, 0).k_width, 4 * 128);
}

TEST(HfConfig, Qwen2WithUseSlidingWindowSlidesFromMaxWindowLayers) {
  std::string json(qwen25_7b_config);
  json.replace(json.find("\"use_sliding_window\": false"), 27, "\"use_sliding_window\": true");
  json.replace(json.find("\"sliding_window\": 131072"), 24, "\"sliding_window\": 4096");
  json.replace(json.find("\"max_window_layers\": 28"), 23, "\"max_window_layers\": 20");
  const ModelSpec s = spec_from_hf_config(json, "config.json").spec;
  EXPECT_EQ(s.swa.window, 4096);
  ASSERT_EQ(s.swa.layers.size(), 28U);  // not a llama.cpp period: explicit flags
  EXPECT_FALSE(layer_attention(s, 19).swa);
  EXPECT_TRUE(layer_attention(s, 20).swa);
  EXPECT_TRUE(layer_attention(s, 27).swa);
}

// google/gemma-2-9b-it: no tie_word_embeddings key (Gemma ties by default), SWA on even layers.
constexpr std::string_view gemma2_9b_config = R"({
  "architectures": ["Gemma2ForCausalLM"], "attention_bias": false,
  "attn_logit_softcapping": 50.0, "cache_implementation": "hybrid",
  "final_logit_softcapping": 30.0, "head_dim": 256, "hidden_act": "gelu_pytorch_tanh",
  "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 3584, "intermediate_size": 14336,
  "max_position_embeddings": 8192, "model_type": "gemma2", "num_attention_heads": 16,
  "num_hidden_layers": 42, "num_key_value_heads": 8, "pad_token_id": 0,
  "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_theta": 10000.0,
  "sliding_window": 4096, "sliding_window_size": 4096, "torch_dtype": "float32",
  "vocab_size": 256000})";

TEST(HfConfig, Gemma2SlidesOnEvenLayersAndTiesByDefault) {
  const HfConfig c = spec_from_hf_config(gemma2_9b_config, "config.json");
  const ModelSpec& s = c.spec;
  EXPECT_EQ(s.arch, "gemma2");
  EXPECT_EQ(s.n_layer, 42);
  EXPECT_EQ(s.key_length, 256);
  EXPECT_EQ(s.value_length, 256);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_FALSE(c.tie_explicit);
  EXPECT_EQ(s.swa, (SlidingWindow{.window = 4096, .period = 2}));
  EXPECT_TRUE(layer_attention(s, 0).swa);
  EXPECT_FALSE(layer_attention(s, 1).swa);
  EXPECT_TRUE(layer_attention(s, 40).swa);
  EXPECT_FALSE(layer_attention(s, 41).swa);
  EXPECT_EQ(layer_attention(s, 0).k_width, 8 * 256);
  EXPECT_EQ(c.torch_dtype, "float32");
}

TEST(HfConfig, Gemma3MultimodalReadsTextConfig) {
  const HfConfig c = spec_from_hf_config(gemma3_27b_config, "config.json");
  EXPECT_EQ(c.spec, test::gemma3_27b());
  EXPECT_TRUE(c.from_text_config);
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  for (std::int32_t il = 0; il < 6; ++il) EXPECT_EQ(layer_attention(c.spec, il).swa, il != 5);
  EXPECT_FALSE(layer_attention(c.spec, 59).swa);
  EXPECT_TRUE(layer_attention(c.spec, 60).swa);
  EXPECT_EQ(layer_attention(c.spec, 0).k_width, 16 * 128);
}

// google/gemma-3-4b-it's text_config leaves most fields at Gemma3TextConfig's defaults.
TEST(HfConfig, Gemma3SparseTextConfigUsesTransformersDefaults) {
  const HfConfig c = spec_from_hf_config(R"({
    "architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
    "text_config": {"hidden_size": 2560, "intermediate_size": 10240,
                    "model_type": "gemma3_text", "num_hidden_layers": 34,
                    "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                    "sliding_window": 1024},
    "torch_dtype": "bfloat16"})",
                                         "config.json");
  const ModelSpec& s = c.spec;
  EXPECT_EQ(s.arch, "gemma3");
  EXPECT_EQ(s.n_layer, 34);
  EXPECT_EQ(s.n_embd, 2560);
  EXPECT_EQ(s.n_ff, 10240);
  EXPECT_EQ(s.n_head, 8);
  EXPECT_EQ(s.n_head_kv, 4);
  EXPECT_EQ(s.key_length, 256);
  EXPECT_EQ(s.n_vocab, 262208);  // embedding rows; the tokenizer has 262144
  EXPECT_EQ(s.n_ctx_train, 131072);
  EXPECT_TRUE(s.tied_embeddings);
  EXPECT_EQ(s.swa, (SlidingWindow{.window = 1024, .period = 6}));
}

TEST(HfConfig, MixtralIsLlamaWithExperts) {
  const ModelSpec s = spec_from_hf_config(mixtral_config, "config.json").spec;
  EXPECT_EQ(s.arch, "llama");
  EXPECT_EQ(s.n_ff, 14336);
  EXPECT_EQ(s.moe, (Moe{.n_expert = 8, .n_expert_used = 2, .n_ff_exp = 14336}));
  EXPECT_EQ(s.swa, SlidingWindow{});
  EXPECT_EQ(s.n_vocab, 32000);
  EXPECT_EQ(layer_attention(s, 0).k_width, 1024);
}

// Mistral-7B-v0.1: a 4096 window on every layer.
TEST(HfConfig, MistralV01SlidesOnEveryLayer) {
  std::string json(mixtral_config);
  json.replace(json.find("\"sliding_window\": null"), 22, "\"sliding_window\": 4096");
  json.replace(json.find("\"MixtralForCausalLM\""), 20, "\"MistralForCausalLM\"");
  json.replace(json.find("\"num_local_experts\": 8,"), 23, "");
  const ModelSpec s = spec_from_hf_config(json, "config.json").spec;
  EXPECT_EQ(s.arch, "llama");
  EXPECT_FALSE(s.moe.present());
  EXPECT_EQ(s.swa, (SlidingWindow{.window = 4096, .period = 0}));
  EXPECT_TRUE(layer_attention(s, 0).swa);
  EXPECT_TRUE(layer_attention(s, 31).swa);
}

TEST(HfConfig, DeepSeekV3HasMlaExpertsAndLeadingDenseLayers) {
  const HfConfig c = spec_from_hf_config(deepseek_v3_config, "config.json");
  EXPECT_EQ(c.spec, test::deepseek_v3());
  EXPECT_EQ(c.quant_method, "fp8");
  const LayerAttention a = layer_attention(c.spec, 0);
  EXPECT_EQ(a.k_width, 512 + 64);  // the compressed latent
  EXPECT_EQ(a.v_width, 0);
}

TEST(HfConfig, DeepSeekV2LiteHasNoQueryCompression) {
  const ModelSpec s = spec_from_hf_config(R"({
    "architectures": ["DeepseekV2ForCausalLM"], "first_k_dense_replace": 1,
    "hidden_size": 2048, "intermediate_size": 10944, "kv_lora_rank": 512,
    "max_position_embeddings": 163840, "model_type": "deepseek_v2",
    "moe_intermediate_size": 1408, "n_routed_experts": 64, "n_shared_experts": 2,
    "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27,
    "num_key_value_heads": 16, "q_lora_rank": null, "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 102400})",
                                          "config.json")
                          .spec;
  EXPECT_EQ(s.arch, "deepseek2");
  EXPECT_EQ(s.mla, (Mla{.q_lora_rank = 0,
                        .kv_lora_rank = 512,
                        .qk_nope_head_dim = 128,
                        .qk_rope_head_dim = 64,
                        .v_head_dim = 128}));
  EXPECT_EQ(s.moe, (Moe{.n_expert = 64,
                        .n_expert_used = 6,
                        .n_ff_exp = 1408,
                        .n_expert_shared = 2,
                        .n_ff_shexp = 2816,
                        .n_leading_dense = 1}));
}

std::string gpt_oss_layer_types() {
  std::string out = "[";
  for (int il = 0; il < 24; ++il) {
    out += il % 2 == 0 ? "\"sliding_attention\"" : "\"full_attention\"";
    out += il < 23 ? ", " : "]";
  }
  return out;
}

// openai/gpt-oss-20b config.json.
std::string gpt_oss_20b_config() {
  return R"({
  "architectures": ["GptOssForCausalLM"], "attention_bias": true, "experts_per_token": 4,
  "head_dim": 64, "hidden_act": "silu", "hidden_size": 2880, "initial_context_length": 4096,
  "intermediate_size": 2880, "layer_types": )" +
         gpt_oss_layer_types() + R"(,
  "max_position_embeddings": 131072, "model_type": "gpt_oss", "num_attention_heads": 64,
  "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 8,
  "num_local_experts": 32,
  "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn",
                          "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
                          "quant_method": "mxfp4"},
  "rms_norm_eps": 1e-05, "rope_theta": 150000, "sliding_window": 128, "swiglu_limit": 7.0,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 201088})";
}

TEST(HfConfig, GptOssLayerTypesBecomeLlamaCppPeriodTwo) {
  const HfConfig c = spec_from_hf_config(gpt_oss_20b_config(), "config.json");
  ModelSpec expected = test::gpt_oss_20b();
  expected.n_ff = 2880;  // intermediate_size, as the catalog's ffn
  EXPECT_EQ(c.spec, expected);
  EXPECT_EQ(c.quant_method, "mxfp4");
  EXPECT_TRUE(layer_attention(c.spec, 0).swa);
  EXPECT_FALSE(layer_attention(c.spec, 1).swa);
  EXPECT_EQ(layer_attention(c.spec, 1).k_width, 8 * 64);
}

TEST(HfConfig, ArchitectureTable) {
  auto arch_of = [](const std::string& hf_class, const std::string& model_type) {
    const std::string json = R"({"architectures": [")" + hf_class + R"("], "model_type": ")" +
                             model_type + R"(", "num_hidden_layers": 2, "hidden_size": 64,
      "intermediate_size": 128, "num_attention_heads": 4, "vocab_size": 100,
      "max_position_embeddings": 1024})";
    return spec_from_hf_config(json, "config.json").spec.arch;
  };
  EXPECT_EQ(arch_of("Qwen3ForCausalLM", "qwen3"), "qwen3");
  EXPECT_EQ(arch_of("Phi3ForCausalLM", "phi3"), "phi3");
  EXPECT_EQ(arch_of("Starcoder2ForCausalLM", "starcoder2"), "starcoder2");
  EXPECT_EQ(arch_of("CohereForCausalLM", "cohere"), "command-r");
  EXPECT_EQ(arch_of("Olmo2ForCausalLM", "olmo2"), "olmo2");
  EXPECT_EQ(arch_of("GraniteForCausalLM", "granite"), "granite");
  EXPECT_EQ(arch_of("InternLM2ForCausalLM", "internlm2"), "internlm2");
  EXPECT_EQ(arch_of("DeepseekV2ForCausalLM", "deepseek_v2"), "deepseek2");
  // An unknown class falls back to a known model_type, then to model_type itself.
  EXPECT_EQ(arch_of("MyLlamaForCausalLM", "llama"), "llama");
  EXPECT_EQ(arch_of("FalconForCausalLM", "falcon"), "falcon");
  const HfConfig c = spec_from_hf_config(R"({"model_type": "falcon", "num_hidden_layers": 2,
    "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
    "vocab_size": 100, "max_position_embeddings": 1024})",
                                         "config.json");
  EXPECT_FALSE(c.known_architecture);
  EXPECT_FALSE(c.spec.tied_embeddings);
  EXPECT_EQ(c.spec.n_head_kv, 4);  // defaults to the head count
}

TEST(HfConfig, Qwen3MoeExperts) {
  const ModelSpec s = spec_from_hf_config(R"({
    "architectures": ["Qwen3MoeForCausalLM"], "decoder_sparse_step": 1, "head_dim": 128,
    "hidden_size": 2048, "intermediate_size": 6144, "max_position_embeddings": 40960,
    "max_window_layers": 48, "mlp_only_layers": [], "model_type": "qwen3_moe",
    "moe_intermediate_size": 768, "num_attention_heads": 32, "num_experts": 128,
    "num_experts_per_tok": 8, "num_hidden_layers": 48, "num_key_value_heads": 4,
    "sliding_window": null, "tie_word_embeddings": false, "use_sliding_window": false,
    "vocab_size": 151936})",
                                          "config.json")
                          .spec;
  EXPECT_EQ(s.arch, "qwen3moe");
  EXPECT_EQ(s.n_ff, 6144);
  EXPECT_EQ(s.moe, (Moe{.n_expert = 128, .n_expert_used = 8, .n_ff_exp = 768}));
}

TEST(HfConfig, MalformedConfigsNameTheKey) {
  EXPECT_EQ(config_error("{\"a\": "), "config.json: invalid JSON: ends early, after 6 bytes");
  EXPECT_EQ(config_error("{\"a\": x}"), "config.json: invalid JSON at byte 7");
  EXPECT_EQ(config_error("{\"a\": 12E8001}"),
            "config.json: invalid JSON: a number is out of range");
  EXPECT_EQ(config_error("[1, 2]"), "config.json: expected a JSON object");
  EXPECT_EQ(config_error(std::string(100, '[') + std::string(100, ']')),
            "config.json: JSON nested deeper than 64 levels");

  auto with = [](std::string_view from, std::string_view to) {
    std::string json(llama31_8b_config);
    const std::size_t at = json.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    json.replace(at, from.size(), to);
    return json;
  };
  EXPECT_EQ(config_error(with("\"hidden_size\": 4096,", "")), "config.json: missing 'hidden_size'");
  EXPECT_EQ(config_error(with("\"hidden_size\": 4096", "\"hidden_size\": \"4096\"")),
            "config.json: 'hidden_size' must be an integer, got string");
  EXPECT_EQ(config_error(with("\"num_hidden_layers\": 32", "\"num_hidden_layers\": 32.5")),
            "config.json: 'num_hidden_layers' must be an integer, got a number with a fraction");
  EXPECT_EQ(config_error(with("\"num_attention_heads\": 32", "\"num_attention_heads\": 0")),
            "config.json: 'num_attention_heads' is 0, outside [1, 2147483647]");
  EXPECT_EQ(config_error(with("\"num_hidden_layers\": 32", "\"num_hidden_layers\": -1")),
            "config.json: 'num_hidden_layers' is -1, outside [1, 1024]");
  EXPECT_EQ(config_error(with("\"intermediate_size\": 14336,", "")),
            "config.json: missing 'intermediate_size'");
  EXPECT_EQ(config_error(with("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0")),
            "config.json: 'tie_word_embeddings' must be a boolean, got number");
  EXPECT_EQ(config_error(with("[\"LlamaForCausalLM\"]", "\"LlamaForCausalLM\"")),
            "config.json: 'architectures' must be an array of strings");
  // validate() runs last: more KV heads than heads.
  EXPECT_EQ(config_error(with("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 64")),
            "config.json: kv_heads must be in [0, 32], got 64");
  EXPECT_EQ(config_error(R"({"architectures": ["FooForCausalLM"], "num_hidden_layers": 2})"),
            "config.json: missing 'model_type'");

  EXPECT_EQ(config_error(R"({"architectures": ["LlavaForConditionalGeneration"],
                             "text_config": [1]})"),
            "config.json: 'text_config' must be an object, got array");
  EXPECT_EQ(config_error(R"({"architectures": ["LlavaForConditionalGeneration"],
                             "text_config": {"model_type": "llama", "hidden_size": 64}})"),
            "config.json: missing 'text_config.num_hidden_layers'");

  std::string moe(mixtral_config);
  moe.replace(moe.find("\"num_experts_per_tok\": 2,"), 25, "");
  EXPECT_EQ(config_error(moe), "config.json: missing 'num_experts_per_tok'");

  std::string oss = gpt_oss_20b_config();
  oss.replace(oss.find("\"sliding_attention\", "), 21, "");
  EXPECT_EQ(config_error(oss), "config.json: 'layer_types' must be an array of 24 strings");
}

TEST(HfConfig, BoundsWhatTheDomKeeps) {
  std::string zeros = "0";
  for (int i = 0; i < 70000; ++i) zeros += ",0";
  EXPECT_EQ(config_error(R"({"a":[)" + zeros + "]}"),
            "config.json: JSON has more than 65536 values");
  EXPECT_EQ(config_error(R"({"a":")" + std::string(2u << 20, 'v') + R"("})"),
            "config.json: JSON string of 2097152 bytes exceeds the limit of 1048576");
}

}  // namespace
}  // namespace vramplan::io
