// A model's architecture as the formulas need it (ModelSpec): layers, attention shape,
// sliding window, MLA, experts, recurrent state. A spec comes from the catalog or from a
// model file's header; its tensors (tensor_info.hpp) from the file, or generated from the
// spec and a file type (tensors.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/ggml_type.hpp>

namespace vramplan {

// Sliding-window attention (llama.cpp's iSWA cache; docs/memory-model.md §3).
struct SlidingWindow {
  std::int64_t window = 0;  // n_swa in tokens; 0 = no sliding window
  // Period p of llama.cpp's set_swa_pattern(p, dense_first): layer il is SWA iff
  // il % p < p - 1 (dense_first = false) or il % p != 0 (dense_first = true).
  // p == 0 with window > 0: every layer is SWA.
  std::int32_t period = 0;
  bool dense_first = false;
  std::vector<bool> layers;  // explicit per-layer flags (GGUF bool array); wins if non-empty

  bool operator==(const SlidingWindow&) const = default;
};

// Multi-head latent attention (deepseek2 family; docs/memory-model.md §3). All zero when absent.
struct Mla {
  std::int32_t q_lora_rank = 0;  // 0 = no q compression ("lite" variants)
  std::int32_t kv_lora_rank = 0;
  std::int32_t qk_nope_head_dim = 0;
  std::int32_t qk_rope_head_dim = 0;
  std::int32_t v_head_dim = 0;

  [[nodiscard]] bool present() const { return kv_lora_rank > 0; }
  bool operator==(const Mla&) const = default;
};

// Mixture of experts. All zero for dense models.
struct Moe {
  std::int32_t n_expert = 0;
  std::int32_t n_expert_used = 0;
  std::int64_t n_ff_exp = 0;         // per-expert FFN width
  std::int32_t n_expert_shared = 0;  // shared experts (deepseek2: one block of n_ff_shexp)
  std::int64_t n_ff_shexp = 0;       // shared-expert FFN width (0 -> n_ff_exp * n_expert_shared)
  std::int32_t n_leading_dense = 0;  // first N blocks use a dense FFN of width n_ff
  std::int32_t every_n = 1;          // MoE on every n-th block (llama4 maverick: 2)

  [[nodiscard]] bool present() const { return n_expert > 0; }
  // Total width of the shared experts, run as one FFN; 0 when there are none.
  [[nodiscard]] std::int64_t shared_width() const {
    return n_ff_shexp > 0 ? n_ff_shexp : n_ff_exp * n_expert_shared;
  }
  bool operator==(const Moe&) const = default;
};

// Recurrent / SSM state of hybrid and recurrent models (llama.cpp
// src/llama-memory-recurrent.cpp; docs/memory-model.md §3). Zero when absent.
struct Recurrent {
  std::int32_t conv_kernel = 0;  // ssm.conv_kernel
  std::int64_t inner_size = 0;   // ssm.inner_size
  std::int64_t state_size = 0;   // ssm.state_size
  std::int32_t group_count = 0;  // ssm.group_count
  // ssm.time_step_rank: Mamba2's head count (one dt, A and D per head); shapes the mixer's
  // tensors only, not the state.
  std::int32_t time_step_rank = 0;
  // Layers with recurrent state. Empty = none. A layer may have both state and KV
  // (falcon-h1); a recurrent layer with n_head_kv 0 has no KV.
  std::vector<bool> layers;

  bool operator==(const Recurrent&) const = default;
};

// Cross-attention blocks (mllama, Llama 3.2 Vision, as Ollama's own engine runs it:
// model/models/mllama at v0.24.0). Such a block attends to the encoded image instead of the
// context: it has no context cache; Ollama keeps its K and V for one image in an encoder cache
// (kvcache/encoder.go, kv_cache.hpp). Empty when absent.
struct CrossAttention {
  std::vector<std::int32_t> layers;  // block indices, ascending (attention.cross_attention_layers)
  // Vision tokens cached per image: max_num_tiles x ((image_size / patch_size)^2 + 1); Ollama
  // pads every image to the maximum tile count (mllama EncodeMultimodal).
  std::int64_t tokens = 0;

  [[nodiscard]] bool present() const { return !layers.empty(); }
  [[nodiscard]] bool has(std::int32_t il) const;
  bool operator==(const CrossAttention&) const = default;
};

// What made a file whose tensor types are generated rather than read (a catalog entry).
enum class Quantizer : std::uint8_t {
  llama_quantize,  // llama.cpp's llama-quantize with no overrides
  // The Ollama library's build (`ollama create --quantize`): llama-quantize's mix, except the
  // tensors Ollama keeps at their converted type (detail::keeps_converted).
  ollama,
  // The library's builds quantized by Ollama 0.6.5 to 0.6.8 (March to early May 2025), whose
  // llama.cpp quantizer left every tensor with "v." or "mm." in its name as converted: attn_v
  // among them (detail::keeps_converted).
  ollama_065,
};

struct ModelSpec {
  std::string arch;  // general.architecture: llama, qwen2, qwen3, qwen3moe, gemma2, ...

  std::int32_t n_layer = 0;  // block_count, incl. NextN/MTP blocks
  std::int32_t n_nextn = 0;  // nextn_predict_layers: trailing blocks without KV in the main context
  // n_deepstack_layers (Qwen3-VL): the vision tower's DeepStack features, one per entry of its
  // config's deepstack_visual_indexes, are added to the outputs of the first this many blocks;
  // the embeddings input is n_embd * (1 + n_deepstack) wide (llama_hparams::n_embd_inp).
  std::int32_t n_deepstack = 0;
  std::int64_t n_embd = 0;
  std::int64_t n_ff = 0;  // dense FFN width (0 for all-MoE models with no dense block)
  std::int32_t n_head = 0;
  std::int32_t n_head_kv = 0;
  // Per-head K and V sizes as stored (GGUF attention.key_length / value_length, config.json
  // head_dim); 0 = not given. Read them through head_dim_k() / head_dim_v().
  std::int32_t key_length = 0;
  std::int32_t value_length = 0;
  std::int64_t n_vocab = 0;
  std::int64_t n_ctx_train = 0;  // context_length
  bool tied_embeddings = false;  // no output.weight: token_embd doubles as the output head
  // The GGUF stores output.weight although the config ties the head (its converter wrote one,
  // e.g. a duplicate lm_head the checkpoint holds). Only the generated GGUF tensors have it: the
  // quantizer then sees an untied file; vLLM ties the head as the config says.
  bool stored_output = false;
  bool causal = true;  // false for embedding encoders (bert, nomic-bert): no KV reuse
  // The file carries rope_freqs.weight (F32 {head_dim / 2}): the frequency factors of Llama
  // 3.1-style rope scaling (config rope_type "llama3"), which the converters write as a tensor.
  // llama.cpp loads it on the buffer type of every block's device (LLM_TENSOR_LAYER_REPEATING,
  // TENSOR_DUPLICATED after block 0) and every ROPE node reads it, so with blocks on the host
  // and op offload it starts splits of its own (src/models/llama.cpp; reserve_graph.cpp).
  bool rope_freqs = false;
  // LongRoPE (Phi-3 128k, Phi-3.5, Phi-4-mini: config rope_scaling with long_factor and
  // short_factor): the file carries rope_factors_long.weight and rope_factors_short.weight, F32
  // {rope_factors} each (n_rot / 2), which llama.cpp places and reads like rope_freqs (one of the
  // two per ROPE, by the context; llama_model::get_rope_factors). 0: none.
  std::int32_t rope_factors = 0;

  // Optional per-layer overrides (GGUF arrays). Empty = use the scalar for every layer.
  std::vector<std::int32_t> n_head_kv_per_layer;
  std::vector<std::int64_t> n_ff_per_layer;

  SlidingWindow swa;
  Mla mla;
  Moe moe;
  Recurrent recurrent;
  CrossAttention cross;

  // Only read when the tensor types are generated (tensors.hpp); a file's types are its own.
  Quantizer quantizer = Quantizer::llama_quantize;
  // The type token_embd.weight has in the file whatever the file type, where the build that is
  // modelled stored it so (llama-quantize's --token-embedding-type, or an older tool); empty:
  // the quantizer's rule. Also only read when the tensor types are generated.
  std::optional<GgmlType> token_embd_type;

  // The head sizes llama.cpp uses: the stored length, else n_embd / n_head
  // (llama_model::load_hparams, src/llama-model.cpp). 0 while n_head is 0.
  [[nodiscard]] std::int64_t head_dim_k() const { return head_dim(key_length); }
  [[nodiscard]] std::int64_t head_dim_v() const { return head_dim(value_length); }
  // Per-layer values: the layer's entry of the per-layer list, else the scalar.
  // il in [0, n_layer).
  [[nodiscard]] std::int32_t n_head_kv_at(std::int32_t il) const {
    return n_head_kv_per_layer.empty() ? n_head_kv
                                       : n_head_kv_per_layer[static_cast<std::size_t>(il)];
  }
  [[nodiscard]] std::int64_t n_ff_at(std::int32_t il) const {
    return n_ff_per_layer.empty() ? n_ff : n_ff_per_layer[static_cast<std::size_t>(il)];
  }

  bool operator==(const ModelSpec&) const = default;

 private:
  [[nodiscard]] std::int64_t head_dim(std::int32_t stored) const {
    if (stored > 0) return stored;
    return n_head > 0 ? n_embd / n_head : 0;
  }
};

// The resolved attention shape of one layer.
struct LayerAttention {
  bool has_kv = true;        // false: recurrent-only layer, NextN block, KV-less encoder
  bool swa = false;          // sliding-window layer
  bool recurrent = false;    // carries recurrent state
  bool cross = false;        // cross-attention block (mllama): K/V in the image cache, not here
  std::int64_t k_width = 0;  // n_embd_k_gqa: elements of K per token
  std::int64_t v_width = 0;  // n_embd_v_gqa: elements of V per token (0 with an MLA V-less cache)
};

// Applies defaults (head dims from n_embd / n_head) and the per-layer rules of llama.cpp
// (SWA pattern, per-layer kv heads, MLA widths, NextN blocks). il in [0, n_layer).
[[nodiscard]] LayerAttention layer_attention(const ModelSpec& spec, std::int32_t il);

// Checks a spec for values the formulas cannot take (zero layers, heads not dividing, ...).
// Throws Error{bad_input} naming `where` and the field.
void validate(const ModelSpec& spec, const std::string& where);

}  // namespace vramplan
