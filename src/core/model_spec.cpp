#include <vramplan/model_spec.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>

namespace vramplan {
namespace {

// llama_hparams::is_swa (src/llama-hparams.cpp) with set_swa_pattern's rule.
bool is_swa_layer(const SlidingWindow& swa, std::int32_t il) {
  if (swa.window <= 0) return false;
  if (!swa.layers.empty()) return swa.layers[static_cast<std::size_t>(il)];
  if (swa.period <= 0) return true;
  return swa.dense_first ? il % swa.period != 0 : il % swa.period < swa.period - 1;
}

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw Error(ErrorKind::bad_input, fmt::format("{}: {}", where, what));
}

}  // namespace

bool CrossAttention::has(std::int32_t il) const {
  return std::binary_search(layers.begin(), layers.end(), il);
}

LayerAttention layer_attention(const ModelSpec& spec, std::int32_t il) {
  LayerAttention out;
  out.recurrent =
      !spec.recurrent.layers.empty() && spec.recurrent.layers[static_cast<std::size_t>(il)];
  out.swa = is_swa_layer(spec.swa, il);
  const std::int32_t n_kv = spec.n_head_kv_at(il);

  // Encoders (bert, nomic-bert) get no KV cache (llama_model::create_memory returns none);
  // NextN/MTP blocks are filtered out of the main context's cache; a recurrent layer with
  // zero KV heads has only recurrent state (src/llama-kv-cache.cpp layer filter).
  const bool nextn = il >= spec.n_layer - spec.n_nextn;
  // Gemma 3n: blocks from kv_layers_from_start on attend to an earlier block's cache.
  const std::int32_t own_kv_until = architecture(spec.arch).kv_layers_from_start;
  const bool shared_kv = own_kv_until > 0 && il >= own_kv_until;
  // mllama's cross-attention blocks cache the image's K/V, not the context's (kv_cache.cpp).
  out.cross = spec.cross.has(il);
  if (!spec.causal || nextn || shared_kv || n_kv == 0 || out.cross) {
    out.has_kv = false;
    return out;
  }
  if (spec.mla.present()) {
    // MLA stores the compressed latent plus the rope part as K, and no V since b7832
    // ("V-less cache"; docs/memory-model.md §3).
    out.k_width = static_cast<std::int64_t>(spec.mla.kv_lora_rank) + spec.mla.qk_rope_head_dim;
    out.v_width = 0;
    return out;
  }
  out.k_width = spec.head_dim_k() * n_kv;
  out.v_width = spec.head_dim_v() * n_kv;
  return out;
}

void validate(const ModelSpec& spec, const std::string& where) {
  // Caps keep every later product far from overflow and every allocation small; they are
  // an order of magnitude above any published model.
  auto in_range = [&](std::int64_t value, std::int64_t lo, std::int64_t hi, const char* name) {
    if (value < lo || value > hi) {
      invalid(where, fmt::format("{} must be in [{}, {}], got {}", name, lo, hi, value));
    }
  };
  if (spec.arch.empty()) invalid(where, "architecture is empty");
  in_range(spec.n_layer, 1, 1024, "layers");
  in_range(spec.n_embd, 1, 1 << 20, "embd");
  in_range(spec.n_ff, 0, 1 << 22, "ffn");
  in_range(spec.n_head, 1, 1 << 14, "heads");
  in_range(spec.n_head_kv, 0, spec.n_head, "kv_heads");
  in_range(spec.key_length, 0, 1 << 14, "head_dim_k");
  in_range(spec.value_length, 0, 1 << 14, "head_dim_v");
  in_range(spec.n_vocab, 1, 1 << 24, "vocab");
  in_range(spec.n_ctx_train, 1, std::int64_t{1} << 27, "context");
  in_range(spec.n_nextn, 0, spec.n_layer - 1, "nextn_layers");
  in_range(spec.n_deepstack, 0, spec.n_layer, "deepstack_layers");
  if ((spec.key_length == 0 || spec.value_length == 0) && spec.n_embd % spec.n_head != 0) {
    invalid(where, fmt::format("embd {} is not a multiple of heads {}; give head_dim", spec.n_embd,
                               spec.n_head));
  }
  // rope_freqs.weight holds head_dim / 2 values: a head of one value would give an empty tensor.
  if (spec.rope_freqs && spec.head_dim_k() < 2) {
    invalid(where,
            fmt::format("rope_freqs needs a head of at least 2 values, got {}", spec.head_dim_k()));
  }
  in_range(spec.rope_factors, 0, 1 << 13, "rope_factors");
  auto per_layer = [&](std::size_t size, const char* name) {
    if (size != 0 && size != static_cast<std::size_t>(spec.n_layer)) {
      invalid(where, fmt::format("{} has {} entries for {} layers", name, size, spec.n_layer));
    }
  };
  per_layer(spec.n_head_kv_per_layer.size(), "per-layer kv_heads");
  per_layer(spec.n_ff_per_layer.size(), "per-layer ffn");
  per_layer(spec.swa.layers.size(), "sliding_window layers");
  per_layer(spec.recurrent.layers.size(), "recurrent layers");
  for (std::int32_t kv : spec.n_head_kv_per_layer) in_range(kv, 0, spec.n_head, "kv_heads");
  for (std::int64_t ff : spec.n_ff_per_layer) in_range(ff, 0, 1 << 22, "per-layer ffn");
  if (spec.n_head_kv == 0 && spec.n_head_kv_per_layer.empty() && spec.causal) {
    invalid(where, "kv_heads must be at least 1");
  }
  in_range(spec.swa.window, 0, std::int64_t{1} << 27, "sliding_window.window");
  in_range(spec.swa.period, 0, 1024, "sliding_window.period");
  if (spec.moe.present()) {
    in_range(spec.moe.n_expert, 1, 4096, "moe.experts");
    in_range(spec.moe.n_expert_used, 1, spec.moe.n_expert, "moe.experts_used");
    in_range(spec.moe.n_ff_exp, 1, 1 << 20, "moe.ffn_exp");
    in_range(spec.moe.n_leading_dense, 0, spec.n_layer, "moe.leading_dense");
    in_range(spec.moe.every_n, 1, spec.n_layer, "moe.every");
    in_range(spec.moe.n_expert_shared, 0, 4096, "moe.shared_experts");
    in_range(spec.moe.n_ff_shexp, 0, 1 << 22, "moe.ffn_shexp");
  }
  if (spec.mla.present()) {
    in_range(spec.mla.qk_rope_head_dim, 1, 1 << 14, "mla.qk_rope_head_dim");
    in_range(spec.mla.kv_lora_rank, 1, 1 << 16, "mla.kv_lora_rank");
    in_range(spec.mla.q_lora_rank, 0, 1 << 16, "mla.q_lora_rank");
    in_range(spec.mla.qk_nope_head_dim, 0, 1 << 14, "mla.qk_nope_head_dim");
    in_range(spec.mla.v_head_dim, 0, 1 << 14, "mla.v_head_dim");
  }
  // Recurrent state (GGUF ssm.*): published models use kernels of 4, inner sizes up to
  // 16384, states up to 256 and 8 groups. With these caps one layer's state is below 2^44
  // bytes per sequence, so its sums cannot overflow (docs/reliability.md §4).
  in_range(spec.recurrent.conv_kernel, 0, 1024, "recurrent.conv_kernel (ssm.conv_kernel)");
  in_range(spec.recurrent.inner_size, 0, 1 << 20, "recurrent.inner_size (ssm.inner_size)");
  in_range(spec.recurrent.state_size, 0, 1 << 16, "recurrent.state_size (ssm.state_size)");
  in_range(spec.recurrent.group_count, 0, 1 << 14, "recurrent.group_count (ssm.group_count)");
  in_range(spec.recurrent.time_step_rank, 0, 1 << 16,
           "recurrent.time_step_rank (ssm.time_step_rank)");
  if (spec.recurrent.group_count > 0 &&
      spec.recurrent.inner_size % spec.recurrent.group_count != 0) {
    invalid(where, fmt::format("recurrent.inner_size {} is not a multiple of group_count {}",
                               spec.recurrent.inner_size, spec.recurrent.group_count));
  }
  // Cross-attention (mllama): ascending block indices; the image tokens capped far above
  // Llama 3.2 Vision's 6404 (4 tiles of 1601) so that one layer's cache stays below 2^40 bytes.
  if (spec.cross.layers.size() > static_cast<std::size_t>(spec.n_layer)) {
    invalid(where, fmt::format("cross_attention lists {} layers for {} layers",
                               spec.cross.layers.size(), spec.n_layer));
  }
  for (std::size_t i = 0; i < spec.cross.layers.size(); ++i) {
    in_range(spec.cross.layers[i], 0, spec.n_layer - 1, "cross_attention layer");
    if (i > 0 && spec.cross.layers[i] <= spec.cross.layers[i - 1]) {
      invalid(where, "cross_attention layers must be ascending and distinct");
    }
  }
  in_range(spec.cross.tokens, 0, 1 << 20, "cross_attention.tokens");
  if (spec.cross.present() && spec.cross.tokens == 0) {
    invalid(where, "cross_attention needs tokens (vision tokens cached per image)");
  }
  if (spec.n_ff == 0 && !spec.moe.present() && spec.n_ff_per_layer.empty()) {
    invalid(where, "ffn must be greater than zero for a dense model");
  }
}

}  // namespace vramplan
