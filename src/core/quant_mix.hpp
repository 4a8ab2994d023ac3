// llama.cpp's quantization mix: which ggml type each tensor of a file gets for a given
// llama_ftype. Mirrors src/llama-quant.cpp (llama_tensor_get_type and the code around it:
// tensor_allows_quantization, tensor_type_fallback, init_quantize_state_counters) as of
// ggml-org/llama.cpp@007dbbf3; the rules are restated here, not copied.
//
// Internal to the core library (generate_tensors in tensors.cpp is its only user).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan::detail {

// tensor_category in llama-quant.cpp: broad roles found by substring, in this priority.
enum class Category {
  token_embd,
  attn_q,
  attn_v,
  attn_k,
  attn_qkv,
  attn_kv_b,
  attn_output,
  ffn_up,
  ffn_gate,
  ffn_down,
  output,
  other,
};

// What the type choice reads of a tensor's name and shape and never of its type: the same for
// every file type, so TensorLayout (tensors.cpp) works it out once per tensor.
struct TensorRole {
  Category category = Category::other;  // tensor_category
  bool quantizable = false;             // allows_quantization
  bool stays_f32 = false;               // converted_type keeps it F32 in a float file
  std::int32_t block = -1;              // tensor_block(name): layer_info of MoE models
  bool operator==(const TensorRole&) const = default;
};
[[nodiscard]] TensorRole tensor_role(const TensorInfo& t);

// The counters llama-quantize keeps while it walks the tensors (quantize_state_impl).
// i_* advance in the order llama-quantize visits the tensors: by block, then by name.
struct QuantState {
  int n_attention_wv = 0;  // attn_v / attn_qkv / attn_kv_b tensors in the file
  int n_layer = 0;         // n_ffn_down = n_ffn_gate = n_ffn_up = n_layer_all
  int i_attention_wv = 0;
  int i_ffn_down = 0;
  int i_ffn_gate = 0;
  int i_ffn_up = 0;
  int n_fallback = 0;               // tensors whose row length forced another type
  bool has_tied_embeddings = true;  // until an output.weight is seen
};

// init_quantize_state_counters: counts over the whole tensor list before any type is chosen.
// It reads names only; TensorLayout (tensors.cpp) counts once and reuses the counts for every
// file type, so a new counter set here must be carried there too.
[[nodiscard]] QuantState make_quant_state(const ModelSpec& spec,
                                          const std::vector<TensorInfo>& tensors);
// The same from the tensors' roles (roles[i] = tensor_role(tensors[i]), in any order).
[[nodiscard]] QuantState make_quant_state(const ModelSpec& spec,
                                          const std::vector<TensorRole>& roles);

// True when the build `who` made of an `arch` model keeps the tensor `name` at the type the
// converter wrote, where llama-quantize would quantize it (Quantizer::ollama, ollama_065).
[[nodiscard]] bool keeps_converted(Quantizer who, std::string_view arch, std::string_view name);

// The type llama_ftype_get_default_type gives the bulk of the weights.
[[nodiscard]] GgmlType default_type(FileType ftype);

// Type convert_hf_to_gguf.py writes for a tensor when asked for `ftype` (F32, F16, BF16;
// any other ftype is treated as a F16 conversion, the usual input of llama-quantize):
// 1-D tensors, norms, biases, the MoE router, position and token-type embeddings stay F32.
[[nodiscard]] GgmlType converted_type(const TensorInfo& t, FileType ftype);
// The same from the tensor's role (tensor_role(t).stays_f32).
[[nodiscard]] GgmlType converted_type(bool stays_f32, FileType ftype);

// tensor_allows_quantization: false for tensors llama-quantize copies as they are.
[[nodiscard]] bool allows_quantization(const TensorInfo& t);

// The type llama-quantize (no imatrix, no overrides) gives `t` in a file of type `ftype`.
// `t.type` must be the tensor's type in the converted input file: it is kept for tensors
// that are not quantized. Updates the counters in `state`. Throws Error{bad_input} where
// llama-quantize itself would fail (a row length no fallback type can take).
[[nodiscard]] GgmlType quantized_type(const ModelSpec& spec, FileType ftype, const TensorInfo& t,
                                      QuantState& state);
// The same with the tensor's role worked out beforehand (`role` must be tensor_role(t)).
[[nodiscard]] GgmlType quantized_type(const ModelSpec& spec, FileType ftype, const TensorInfo& t,
                                      const TensorRole& role, QuantState& state);

}  // namespace vramplan::detail
