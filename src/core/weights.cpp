#include <vramplan/weights.hpp>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include <vramplan/error.hpp>

namespace vramplan {
namespace {

// ggml-cuda.cu: quantized tensors whose rows are not a multiple of MATRIX_ROW_PADDING get
// one extra padded row-chunk, and every allocation is aligned to 128 bytes.
constexpr std::int64_t cuda_matrix_row_padding = 512;
constexpr std::int64_t cuda_alignment = 128;
// The Vulkan and Metal buffer types allocate a weight's ggml_nbytes at their alignment:
// minStorageBufferOffsetAlignment (16 on lavapipe and the common discrete GPUs; sched.cpp's
// Vulkan rules) and Metal's 32.
constexpr std::int64_t vulkan_alignment = 16;
constexpr std::int64_t metal_alignment = 32;

// Names the size in overflow errors (docs/reliability.md §4): tensor sizes come from files.
constexpr std::string_view weights_what = "the total of the model's weights";

// `bytes` padded to a buffer's alignment, as ggml_tallocr places tensors.
Bytes aligned(Bytes bytes, Bytes alignment) {
  (void)checked_add(bytes, alignment - 1, weights_what);  // pad_to's sum
  return pad_to(bytes, alignment);
}

// `bytes` is tensor.bytes(), worked out once by the caller.
Bytes cuda_alloc_size(const TensorInfo& tensor, Bytes bytes) {
  Bytes size = bytes;
  if (is_quantized(tensor.type) && tensor.ne[0] % cuda_matrix_row_padding != 0) {
    size = checked_add(
        size,
        row_bytes(tensor.type, cuda_matrix_row_padding - tensor.ne[0] % cuda_matrix_row_padding),
        weights_what);
  }
  return aligned(size, cuda_alignment);
}

}  // namespace

std::string_view to_string(CpuRepack repack) {
  switch (repack) {
    case CpuRepack::off:
      return "off";
    case CpuRepack::avx2:
      return "avx2";
    case CpuRepack::avx512:
      return "avx512";
    case CpuRepack::arm:
      return "arm";
  }
  return "off";
}

std::optional<CpuRepack> parse_cpu_repack(std::string_view text) {
  for (CpuRepack r : {CpuRepack::off, CpuRepack::avx2, CpuRepack::avx512, CpuRepack::arm}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

namespace {

// is_repacked past its name test: `embedding` is weight_slot(name).embedding.
bool is_repacked(const TensorInfo& tensor, bool embedding, CpuRepack repack) {
  // ggml_backend_cpu_repack_buffer_type: only 2-D+ matmul weights with rows in groups of 8.
  if (repack == CpuRepack::off || tensor.ne[1] % 8 != 0 || tensor.ne[1] < 8) return false;
  if (embedding) return false;
  switch (tensor.type) {
    case GgmlType::q4_0:
    case GgmlType::q4_k:
    case GgmlType::iq4_nl:
      return true;
    case GgmlType::mxfp4:
      return repack != CpuRepack::arm;
    case GgmlType::q2_k:
      return repack == CpuRepack::avx512;
    case GgmlType::q5_k:
    case GgmlType::q6_k:
    case GgmlType::q8_0:
      return repack == CpuRepack::arm;
    default:
      return false;
  }
}

bool is_embedding_name(const std::string& name) {
  return name.starts_with("token_embd.") || name.starts_with("token_types.") ||
         name.starts_with("position_embd.");
}

}  // namespace

bool is_repacked(const TensorInfo& tensor, CpuRepack repack) {
  // The shape test first: most tensors are ruled out without reading the name.
  if (repack == CpuRepack::off || tensor.ne[1] % 8 != 0 || tensor.ne[1] < 8) return false;
  return is_repacked(tensor, is_embedding_name(tensor.name), repack);
}

namespace {

// WeightGroup::add with the tensor's size (and its CUDA allocation) worked out once for the
// groups it joins (layout_weights adds a tensor to its block and to the block's experts).
struct SizedTensor {
  const TensorInfo& tensor;
  Bytes bytes;
  Bytes cuda;
  Bytes vulkan;
  Bytes metal;
  bool embedding;  // weight_slot(name).embedding: never repacked
};

SizedTensor sized(const TensorInfo& tensor, Bytes bytes, bool embedding) {
  return SizedTensor{tensor,
                     bytes,
                     cuda_alloc_size(tensor, bytes),
                     aligned(bytes, vulkan_alignment),
                     aligned(bytes, metal_alignment),
                     embedding};
}

void add_to(WeightGroup& group, const SizedTensor& t) {
  group.host = checked_add(group.host, t.bytes, weights_what);
  group.cuda = checked_add(group.cuda, t.cuda, weights_what);
  group.vulkan = checked_add(group.vulkan, t.vulkan, weights_what);
  group.metal = checked_add(group.metal, t.metal, weights_what);
  group.largest_tensor = std::max(group.largest_tensor, t.bytes);
  for (CpuRepack r : {CpuRepack::avx2, CpuRepack::avx512, CpuRepack::arm}) {
    Bytes& copy = group.repack[static_cast<std::size_t>(r)];
    if (is_repacked(t.tensor, t.embedding, r)) copy = checked_add(copy, t.bytes, weights_what);
  }
}

}  // namespace

void WeightGroup::add(const TensorInfo& tensor) {
  add_to(*this, sized(tensor, tensor.bytes(), is_embedding_name(tensor.name)));
}

bool is_expert_tensor(const std::string& name) {
  static constexpr std::array<std::string_view, 8> needles = {
      ".ffn_up_exps",   ".ffn_down_exps",   ".ffn_gate_exps",   ".ffn_gate_up_exps",
      ".ffn_up_chexps", ".ffn_down_chexps", ".ffn_gate_chexps", ".ffn_gate_up_chexps"};
  // Every needle contains "exps": a search for its 'x' (rare in tensor names), then for
  // "exps", rules out most of a model's tensors before the eight searches (the per-tensor
  // loops of `recommend` and the speed estimate).
  if (name.find('x') == std::string::npos || name.find("exps") == std::string::npos) {
    return false;
  }
  return std::any_of(needles.begin(), needles.end(), [&](std::string_view needle) {
    return name.find(needle) != std::string::npos;
  });
}

WeightSlot weight_slot(const std::string& name) {
  WeightSlot slot;
  // The embeddings' norm (bert, nomic-bert, bloom, rwkv, ...) is created with block 0's number
  // (tn(LLM_TENSOR_TOKEN_EMBD_NORM, "weight", 0), a repeating-layer tensor in llama-arch.cpp),
  // so it goes where block 0 goes, not to the input layer's CPU; so do gemma3n's per-layer
  // input projection and its norm (LLM_TENSOR_PER_LAYER_MODEL_PROJ, _PROJ_NORM, created with
  // block 0's number in src/models/gemma3n.cpp).
  const bool block0 = name.starts_with("token_embd_norm.") ||
                      name.starts_with("per_layer_model_proj.") ||
                      name.starts_with("per_layer_proj_norm.");
  slot.block = block0 ? 0 : tensor_block(name);
  slot.expert = is_expert_tensor(name);
  slot.output_weight = name == "output.weight";
  slot.output_norm = name.starts_with("output_norm.");
  // The output layer: the head and its norm, gemma-embedding's dense projections
  // (LLM_TENSOR_DENSE_2_OUT / _3_OUT) and gemma3n's AltUp projections (LLM_TENSOR_ALTUP_PROJ,
  // _UNEMBD_PROJ): output-layer tensors in llama-arch.cpp.
  slot.output_group =
      slot.block < 0 && (name.starts_with("output.") || slot.output_norm ||
                         name.starts_with("dense_2.") || name.starts_with("dense_3.") ||
                         name.starts_with("altup_proj.") || name.starts_with("altup_unembd_proj."));
  slot.token_embd = name == "token_embd.weight";
  slot.embedding = is_embedding_name(name);
  slot.per_device = slot.block < 0 &&
                    (name.starts_with("rope_freqs.") || name.starts_with("rope_factors_long.") ||
                     name.starts_with("rope_factors_short."));
  return slot;
}

WeightLayout layout_weights(const std::vector<TensorInfo>& tensors, std::int32_t n_layer) {
  std::vector<WeightSlot> slots;
  slots.reserve(tensors.size());
  for (const TensorInfo& t : tensors) slots.push_back(weight_slot(t.name));
  return layout_weights(tensors, slots, n_layer);
}

WeightLayout layout_weights(const std::vector<TensorInfo>& tensors,
                            const std::vector<WeightSlot>& slots, std::int32_t n_layer) {
  if (slots.size() != tensors.size()) {
    throw std::invalid_argument("layout_weights: one slot per tensor expected");
  }
  WeightLayout layout;
  layout.blocks.resize(static_cast<std::size_t>(n_layer));
  layout.experts.resize(static_cast<std::size_t>(n_layer));
  const TensorInfo* token_embd = nullptr;
  bool token_embd_embedding = false;
  bool has_output = false;
  bool has_output_norm = false;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    const WeightSlot& slot = slots[i];
    const Bytes bytes = t.bytes();
    layout.file_tensor_bytes = checked_add(layout.file_tensor_bytes, bytes, weights_what);
    const std::int32_t block = slot.block;
    if (block >= 0) {
      if (block >= n_layer) {
        throw Error(ErrorKind::bad_input,
                    fmt::format("tensor '{}' belongs to block {} but the model has {} blocks",
                                t.name, block, n_layer));
      }
      const SizedTensor st = sized(t, bytes, slot.embedding);
      add_to(layout.blocks[static_cast<std::size_t>(block)], st);
      if (slot.expert) add_to(layout.experts[static_cast<std::size_t>(block)], st);
    } else if (slot.output_group) {
      add_to(layout.output, sized(t, bytes, slot.embedding));
      has_output = has_output || slot.output_weight;
      has_output_norm = has_output_norm || slot.output_norm;
    } else if (slot.per_device) {
      add_to(layout.per_device, sized(t, bytes, slot.embedding));
    } else {
      // token_embd, position/token-type embeddings, their norms: llama.cpp keeps the input
      // layer on the CPU (llama-model.cpp, "very little benefit").
      add_to(layout.input, sized(t, bytes, slot.embedding));
      if (slot.token_embd) {
        token_embd = &t;
        token_embd_embedding = slot.embedding;
      }
    }
  }
  // A decoder without output.weight reuses token_embd as the output projection and loads
  // it a second time onto the output layer's device (TENSOR_DUPLICATED).
  if (!has_output && has_output_norm && token_embd != nullptr) {
    const Bytes bytes = token_embd->bytes();
    add_to(layout.output, sized(*token_embd, bytes, token_embd_embedding));
    layout.output_tied = true;
    layout.tied_copy = bytes;
  }
  return layout;
}

}  // namespace vramplan
