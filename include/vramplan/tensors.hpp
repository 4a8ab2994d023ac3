// The tensor list of a model, generated from its spec and a file type the way
// convert_hf_to_gguf.py + llama-quantize would produce it: names and shapes per
// architecture (llama.cpp src/llama-arch.cpp, src/models/*.cpp) and each tensor's type per
// llama.cpp's quantization mix (src/llama-quant.cpp, llama_tensor_get_type).
//
// Used for catalog models (no file present) and to write test/oracle GGUFs with the exact
// shapes llama.cpp expects.
#pragma once

#include <cstddef>
#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>
#include <vramplan/weights.hpp>

namespace vramplan {

namespace detail {
struct TensorRole;  // src/core/quant_mix.hpp
}  // namespace detail

// All tensors of the text model, in GGUF order (token_embd, blocks, output_norm, output).
// Throws Error{bad_input} for an architecture it has no layout for.
[[nodiscard]] std::vector<TensorInfo> generate_tensors(const ModelSpec& spec, FileType ftype);

// generate_tensors in two steps, for a spec wanted in several file types (the quantizations of
// a catalog entry): the names, shapes and llama-quantize's visiting order are built once, then
// typed() gives one file type's list. typed(t) equals generate_tensors(spec, t) for every t
// (generate_tensors is TensorLayout(spec).typed(t)); typed() keeps no state between calls.
class TensorLayout {
 public:
  // Throws what generate_tensors throws for the spec.
  explicit TensorLayout(const ModelSpec& spec);
  TensorLayout(const TensorLayout&);
  TensorLayout(TensorLayout&&) noexcept;
  TensorLayout& operator=(const TensorLayout&);
  TensorLayout& operator=(TensorLayout&&) noexcept;
  ~TensorLayout();

  [[nodiscard]] std::vector<TensorInfo> typed(FileType ftype) const;
  // typed(ftype) written over `tensors`, a list typed() gave (in any file type): only the
  // types change, so the names are not copied again (recommend re-types one entry's list for
  // each of its quantizations). Throws std::invalid_argument when the list is not this
  // layout's (another length, or a tensor of another name or shape).
  void retype(std::vector<TensorInfo>& tensors, FileType ftype) const;
  [[nodiscard]] const ModelSpec& spec() const { return spec_; }
  // weight_slot(name) of each tensor, in the order of typed()'s list: what layout_weights
  // reads of the names, the same in every file type.
  [[nodiscard]] const std::vector<WeightSlot>& weight_slots() const { return weight_slots_; }
  // detail::tensor_role of each tensor (src/core/quant_mix.hpp), in the same order.
  [[nodiscard]] const std::vector<detail::TensorRole>& roles() const { return roles_; }

 private:
  // Sets every type of `tensors` (this layout's list) for ftype.
  void assign_types(std::vector<TensorInfo>& tensors, FileType ftype) const;
  // llama-quantize's pass over the converted list (a quantized ftype).
  void assign_quantized_types(std::vector<TensorInfo>& tensors, FileType ftype) const;

  ModelSpec spec_;
  std::vector<TensorInfo> tensors_;    // GGUF order; types are set by typed()
  std::vector<std::size_t> order_;     // llama-quantize's visiting order (indices into tensors_)
  std::vector<bool> native_mxfp4_;     // experts a gpt-oss file keeps in MXFP4 whatever the type
  std::vector<bool> keeps_converted_;  // tensors the spec's quantizer leaves as converted
  std::vector<detail::TensorRole> roles_;  // what the type choice reads of each tensor
  std::vector<WeightSlot> weight_slots_;   // what the weight layout reads of each tensor
  int n_attention_wv_ = 0;                 // quant_mix.hpp QuantState counts over the whole list
  bool has_tied_embeddings_ = true;
};

// True when generate_tensors knows the architecture.
[[nodiscard]] bool has_tensor_layout(const std::string& arch);

// Total parameter count (elements) of a tensor list.
[[nodiscard]] std::int64_t parameter_count(const std::vector<TensorInfo>& tensors);

}  // namespace vramplan
