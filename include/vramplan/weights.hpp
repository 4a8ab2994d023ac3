// Weight bytes grouped the way llama.cpp offloads them (llama.cpp src/llama-model.cpp;
// docs/memory-model.md §4): the input layer (token_embd, always on the CPU), one entry per
// repeating block, and the output layer (output_norm + output, or a duplicate of token_embd when
// tied).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan {

// llama.cpp's CPU backend copies some weights into a SIMD-friendly layout (CPU_REPACK buffer,
// ggml-cpu/repack.cpp): matmul weights of certain types whose row count is a multiple of 8.
// Which types depends on the CPU: x86 AVX2 Q4_0, Q4_K, IQ4_NL, MXFP4; AVX-512 also Q2_K; ARM
// (NEON dotprod/i8mm, SVE) Q4_0, Q4_K, IQ4_NL, Q5_K, Q6_K, Q8_0 (the ARM list is read from the
// source, not measured). `off` = llama.cpp's --no-repack.
enum class CpuRepack { off, avx2, avx512, arm };

[[nodiscard]] std::string_view to_string(CpuRepack repack);
[[nodiscard]] std::optional<CpuRepack> parse_cpu_repack(std::string_view text);

// True when `tensor` gets a CPU_REPACK copy under `repack` (token_embd never does: it is read
// with get_rows, not multiplied).
[[nodiscard]] bool is_repacked(const TensorInfo& tensor, CpuRepack repack);

// Bytes of a group of tensors, as stored on the host (plain tensor sum, what CPU_Mapped
// reports) and as allocated on a CUDA device (each tensor padded: MATRIX_ROW_PADDING for
// quantized rows not a multiple of 512, then 128-byte alignment; ggml-cuda.cu).
struct WeightGroup {
  Bytes host = 0;
  Bytes cuda = 0;
  // As allocated on a Vulkan device (each tensor's ggml_nbytes padded to the 16-byte
  // minStorageBufferOffsetAlignment of lavapipe and of the common discrete GPUs: no row
  // padding, ggml_backend_vk_buffer_type_get_alloc_size) and in a Metal buffer (32 bytes,
  // ggml_backend_metal_buffer_type_get_alloc_size of a weight).
  Bytes vulkan = 0;
  Bytes metal = 0;
  Bytes largest_tensor = 0;  // biggest single tensor (op-offload staging at partial offload)
  // CPU_REPACK copies of this group's tensors, indexed by CpuRepack (off = 0).
  std::array<Bytes, 4> repack{};

  void add(const TensorInfo& tensor);
  bool operator==(const WeightGroup&) const = default;
};

struct WeightLayout {
  WeightGroup input;                // token_embd, position/token-type embeddings
  std::vector<WeightGroup> blocks;  // blk.0 .. blk.(n_layer-1)
  // Repeating-layer tensors without a block number (rope_freqs, rope_factors_long/short):
  // llama.cpp loads one copy on each device that holds a block (LLM_TENSOR_LAYER_REPEATING,
  // TENSOR_DUPLICATED after block 0; llama_model_loader::create_tensor).
  WeightGroup per_device;
  // Of each block, its routed-expert tensors (already counted in `blocks`): what llama.cpp's
  // --n-cpu-moe keeps in host memory (is_expert_tensor).
  std::vector<WeightGroup> experts;
  WeightGroup output;           // output_norm + output (+ token_embd copy when tied)
  bool output_tied = false;     // output uses a duplicate of token_embd
  Bytes tied_copy = 0;          // host bytes of that duplicate (shares mmap pages on CPU)
  Bytes file_tensor_bytes = 0;  // sum of all tensors in the file (no duplicate)

  bool operator==(const WeightLayout&) const = default;
};

// Groups a tensor list. Tensors of blocks >= n_layer are an error (Error{bad_input}).
// Routed-expert tensors, as llama.cpp's --cpu-moe / --n-cpu-moe select them (common.h
// LLM_FFN_EXPS_REGEX `\.ffn_(up|down|gate|gate_up)_(ch|)exps`, weights and biases).
[[nodiscard]] bool is_expert_tensor(const std::string& name);

[[nodiscard]] WeightLayout layout_weights(const std::vector<TensorInfo>& tensors,
                                          std::int32_t n_layer);

// What layout_weights and is_repacked read of a tensor's name: never its type nor its shape,
// so a list typed in several file types (TensorLayout, tensors.hpp) works it out once.
struct WeightSlot {
  std::int32_t block = -1;     // tensor_block(name)
  bool expert = false;         // is_expert_tensor(name)
  bool output_group = false;   // not in a block, an output-layer tensor (weight_slot)
  bool output_weight = false;  // name == "output.weight"
  bool output_norm = false;    // "output_norm."
  bool token_embd = false;     // name == "token_embd.weight"
  bool embedding = false;      // "token_embd.", "token_types.", "position_embd.": never repacked
  bool per_device = false;     // rope_freqs / rope_factors_*: WeightLayout::per_device
  bool operator==(const WeightSlot&) const = default;
};
[[nodiscard]] WeightSlot weight_slot(const std::string& name);

// layout_weights(tensors, n_layer) with each tensor's slot given: slots[i] must be
// weight_slot(tensors[i].name) (std::invalid_argument when the lengths differ). The result is
// the same; only the names are not read again.
[[nodiscard]] WeightLayout layout_weights(const std::vector<TensorInfo>& tensors,
                                          const std::vector<WeightSlot>& slots,
                                          std::int32_t n_layer);

// llama.cpp's -ngl rule since b7467: of the n_layer + 1 offloadable layers (blocks, then
// the output layer), the last `gpu_layers` go to the GPU, the output layer first.
// Returns true when block `il` (or the output layer, il == n_layer) is on the GPU.
[[nodiscard]] constexpr bool layer_on_gpu(std::int32_t il, std::int32_t n_layer,
                                          std::int32_t gpu_layers) {
  return il >= n_layer + 1 - gpu_layers;
}

}  // namespace vramplan
