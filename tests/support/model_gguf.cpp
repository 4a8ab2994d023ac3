#include "support/model_gguf.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::test {
namespace {

std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(v); }

bool uses_layer_norm_eps(const std::string& arch) {
  return arch == "command-r" || arch == "starcoder2" || arch == "bert" || arch == "nomic-bert" ||
         arch == "phi2";
}

// Per-layer values as a uint32 array when the spec has them, else the scalar.
template <class T>
void scalar_or_array(GgufWriter& w, const std::string& key, std::int64_t scalar,
                     const std::vector<T>& per_layer) {
  if (per_layer.empty()) {
    w.set_u32(key, u32(scalar));
    return;
  }
  std::vector<std::uint32_t> values;
  values.reserve(per_layer.size());
  for (const T v : per_layer) values.push_back(u32(v));
  w.set_array_u32(key, values);
}

// The hyperparameter keys of src/llama-model.cpp (load_hparams) and
// src/models/<arch>.cpp (load_arch_hparams).
void write_hparams(GgufWriter& w, const ModelSpec& s) {
  const std::string a = s.arch;
  const auto key = [&](std::string_view name) { return fmt::format("{}.{}", a, name); };
  const std::int64_t head_k = s.head_dim_k();
  const std::int64_t head_v = s.head_dim_v();

  w.set_u32(key("block_count"), u32(s.n_layer));
  w.set_u32(key("context_length"), u32(s.n_ctx_train));
  w.set_u32(key("embedding_length"), u32(s.n_embd));
  w.set_u32(key("vocab_size"), u32(s.n_vocab));
  if (s.n_ff > 0 || !s.n_ff_per_layer.empty()) {
    scalar_or_array(w, key("feed_forward_length"), s.n_ff, s.n_ff_per_layer);
  }
  w.set_u32(key("attention.head_count"), u32(s.n_head));
  if (s.n_nextn > 0) w.set_u32(key("nextn_predict_layers"), u32(s.n_nextn));
  // Written whenever the family reads it, 0 included, as convert_hf_to_gguf.py
  // (conversion/qwen3vl.py: len(vision_config.deepstack_visual_indexes)) and Ollama's
  // convert_qwen3vl.go do.
  if (architecture(a).deepstack_layers) w.set_u32(key("n_deepstack_layers"), u32(s.n_deepstack));

  if (s.mla.present()) {
    // The converter's MLA form (convert_hf_to_gguf.py): one latent "head" of K = kv_lora_rank +
    // rope dims and V = kv_lora_rank; the decompressed head sizes in the *_mla keys.
    const Mla& m = s.mla;
    w.set_u32(key("attention.head_count_kv"), 1);
    w.set_u32(key("attention.key_length"), u32(m.kv_lora_rank + m.qk_rope_head_dim));
    w.set_u32(key("attention.value_length"), u32(m.kv_lora_rank));
    w.set_u32(key("attention.key_length_mla"), u32(m.qk_nope_head_dim + m.qk_rope_head_dim));
    w.set_u32(key("attention.value_length_mla"), u32(m.v_head_dim));
    w.set_u32(key("attention.kv_lora_rank"), u32(m.kv_lora_rank));
    if (m.q_lora_rank > 0) w.set_u32(key("attention.q_lora_rank"), u32(m.q_lora_rank));
    w.set_u32(key("rope.dimension_count"), u32(m.qk_rope_head_dim));
  } else if (architecture(a).recurrence == Recurrence::interval) {
    // One scalar head_count_kv, as the converter writes it; llama.cpp keeps KV only on the
    // blocks attention.recurrent_layers leaves out.
    w.set_u32(key("attention.head_count_kv"), u32(s.n_head_kv));
    w.set_u32(key("attention.key_length"), u32(head_k));
    w.set_u32(key("attention.value_length"), u32(head_v));
    w.set_u32(key("rope.dimension_count"), u32(head_k));
  } else {
    scalar_or_array(w, key("attention.head_count_kv"), s.n_head_kv, s.n_head_kv_per_layer);
    w.set_u32(key("attention.key_length"), u32(head_k));
    w.set_u32(key("attention.value_length"), u32(head_v));
    w.set_u32(key("rope.dimension_count"), u32(head_k));
  }
  w.set_f32(key("rope.freq_base"), 10000.0F);
  w.set_f32(key(uses_layer_norm_eps(a) ? "attention.layer_norm_epsilon"
                                       : "attention.layer_norm_rms_epsilon"),
            1e-5F);
  if (!s.causal) {
    w.set_bool(key("attention.causal"), false);
    w.set_u32(key("pooling_type"), 1);  // mean
  }
  if (a == "gemma-embedding") {  // the dense_2/dense_3 projections' widths (load_hparams)
    w.set_u32(key("dense_2_feat_in"), u32(s.n_embd));
    w.set_u32(key("dense_2_feat_out"), u32(4 * s.n_embd));
    w.set_u32(key("dense_3_feat_in"), u32(4 * s.n_embd));
    w.set_u32(key("dense_3_feat_out"), u32(s.n_embd));
  }

  // Sliding window: the window, and the pattern when it is not the architecture's default
  // (a per-layer bool array wins).
  if (s.swa.window > 0) {
    w.set_u32(key("attention.sliding_window"), u32(s.swa.window));
    if (!s.swa.layers.empty()) {
      w.set_array_bool(key("attention.sliding_window_pattern"), s.swa.layers);
    } else if (s.swa.period > 0) {
      w.set_u32(key("attention.sliding_window_pattern"), u32(s.swa.period));
    }
  }

  if (s.moe.present()) {
    const Moe& m = s.moe;
    w.set_u32(key("expert_count"), u32(m.n_expert));
    w.set_u32(key("expert_used_count"), u32(m.n_expert_used));
    if (m.n_ff_exp > 0) w.set_u32(key("expert_feed_forward_length"), u32(m.n_ff_exp));
    if (m.n_leading_dense > 0) w.set_u32(key("leading_dense_block_count"), u32(m.n_leading_dense));
    if (m.n_expert_shared > 0 || a == "deepseek2") {
      w.set_u32(key("expert_shared_count"), u32(m.n_expert_shared));
    }
    if (m.n_ff_shexp > 0) w.set_u32(key("expert_shared_feed_forward_length"), u32(m.n_ff_shexp));
    if (a == "llama4") w.set_u32(key("interleave_moe_layer_step"), u32(std::max(m.every_n, 1)));
    if (a == "deepseek2") {
      w.set_f32(key("expert_weights_scale"), 1.0F);
      w.set_bool(key("expert_weights_norm"), m.n_expert >= 256);
      w.set_u32(key("expert_gating_func"), m.n_expert >= 256 ? 2 : 1);  // sigmoid : softmax
    }
  }

  // Recurrent state (load_arch_hparams of the hybrid families): the ssm.* widths, and the
  // recurrent blocks where the architecture reads them from a flag list.
  const Recurrent& r = s.recurrent;
  if (!r.layers.empty() && r.conv_kernel > 0) {
    w.set_u32(key("ssm.conv_kernel"), u32(r.conv_kernel));
    w.set_u32(key("ssm.inner_size"), u32(r.inner_size));
    w.set_u32(key("ssm.state_size"), u32(r.state_size));
    w.set_u32(key("ssm.time_step_rank"), u32(r.time_step_rank));
    w.set_u32(key("ssm.group_count"), u32(r.group_count));
    if (architecture(a).recurrence == Recurrence::interval) {
      w.set_array_bool(key("attention.recurrent_layers"), r.layers);
    }
  }

  if (a == "qwen3vl" || a == "qwen3vlmoe") {
    // M-RoPE's sections (load_arch_hparams of src/models/qwen3vl.cpp and qwen3vlmoe.cpp require
    // 4): Qwen3-VL's config.json mrope_section [24, 20, 20] for its 128-wide heads; they decide
    // no buffer size.
    const std::array<std::int32_t, 4> sections{24, 20, 20, 0};
    w.set_array_i32(key("rope.dimension_sections"), sections);
  }
  if (a == "qwen2vl" || a == "qwen25vl") {
    // Qwen2-VL / Qwen2.5-VL config.json mrope_section [16, 24, 24] for 128-wide heads (a
    // quarter and three eighths twice of the rotated pairs here). llama.cpp's converter writes
    // rope.dimension_sections with 4 (src/models/qwen2vl.cpp's load_arch_hparams requires 4);
    // Ollama's qwen25vl file rope.mrope_section with 3 (convert/convert_qwen25vl.go), padded by
    // its compat layer (llama/compat/llama-ollama-compat.cpp, handle_qwen25vl).
    const auto half = static_cast<std::int32_t>(head_k / 2);
    const std::int32_t t = half / 4;
    const std::int32_t hw = (half - t) / 2;
    if (a == "qwen2vl") {
      const std::array<std::int32_t, 4> sections{t, hw, half - t - hw, 0};
      w.set_array_i32(key("rope.dimension_sections"), sections);
    } else {
      const std::array<std::int32_t, 3> sections{t, hw, half - t - hw};
      w.set_array_i32(key("rope.mrope_section"), sections);
    }
  }
  if (a == "granite") w.set_f32(key("logit_scale"), 1.0F);
  if (a == "command-r") w.set_f32(key("logit_scale"), 1.0F);
}

// A `llama` (SPM) vocabulary of n_vocab tokens: <unk>, <s>, </s>, the 256 byte tokens,
// then filler. llama.cpp reads it whatever the architecture.
void write_tokenizer(GgufWriter& w, std::int64_t n_vocab) {
  const auto n = static_cast<std::size_t>(n_vocab);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  tokens.reserve(n);
  scores.reserve(n);
  types.reserve(n);
  const auto push = [&](std::string text, std::int32_t type) {
    scores.push_back(-static_cast<float>(tokens.size()));
    tokens.push_back(std::move(text));
    types.push_back(type);
  };
  push("<unk>", 2);  // LLAMA_TOKEN_TYPE_UNKNOWN
  push("<s>", 3);    // CONTROL
  push("</s>", 3);
  for (int b = 0; b < 256 && tokens.size() < n; ++b) push(fmt::format("<0x{:02X}>", b), 6);
  while (tokens.size() < n) push(fmt::format("tok{}", tokens.size()), 1);
  tokens.resize(n);
  scores.resize(n);
  types.resize(n);

  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
}

// The encoders' token_types.weight rows (tensors.cpp writes 2); llama.cpp refuses a bert or
// nomic-bert file without the count.
void write_token_type_count(GgufWriter& w, const ModelSpec& s) {
  if (s.arch == "bert" || s.arch == "nomic-bert") w.set_u32("tokenizer.ggml.token_type_count", 2);
}

}  // namespace

GgufWriter model_gguf(const ModelSpec& spec, FileType ftype, const std::vector<TensorInfo>& tensors,
                      const std::string& description) {
  GgufWriter w;
  w.set_string("general.architecture", spec.arch);
  // A neutral general.name: llama.cpp's vocab loader keys token quirks off it ("phi3" wants an
  // <|endoftext|> token). The model's name goes in the description.
  w.set_string("general.name", "vramplan synthetic model");
  w.set_string("general.description", description);
  w.set_u32("general.file_type", static_cast<std::uint32_t>(ftype));
  w.set_u32("general.quantization_version", 2);
  write_hparams(w, spec);
  write_tokenizer(w, spec.n_vocab);
  write_token_type_count(w, spec);
  for (const TensorInfo& t : tensors) w.add_tensor(t);
  return w;
}

void write_catalog_gguf(const Catalog& catalog, const std::string& name, const std::string& path) {
  const std::optional<ModelRef> ref = catalog.resolve(name);
  if (!ref || ref->entry == nullptr)
    throw std::runtime_error("unknown catalog model '" + name + "'");
  model_gguf(ref->entry->spec, ref->quant, generate_tensors(ref->entry->spec, ref->quant), name)
      .write_sparse(path);
}

}  // namespace vramplan::test
