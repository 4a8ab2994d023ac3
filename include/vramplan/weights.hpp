// Weight bytes grouped the way llama.cpp offloads them (shared/reference/llamacpp.md §A3):
// the input layer (token_embd, always on the CPU), one entry per repeating block, and the
// output layer (output_norm + output, or a duplicate of token_embd when tied).
#pragma once

#include <cstdint>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/model.hpp>

namespace vramplan {

// Bytes of a group of tensors, as stored on the host (plain tensor sum, what CPU_Mapped
// reports) and as allocated on a CUDA device (each tensor padded: MATRIX_ROW_PADDING for
// quantized rows not a multiple of 512, then 128-byte alignment; ggml-cuda.cu).
struct WeightGroup {
  Bytes host = 0;
  Bytes cuda = 0;
  Bytes largest_tensor = 0;  // biggest single tensor (op-offload staging at partial offload)

  void add(const TensorInfo& tensor);
  bool operator==(const WeightGroup&) const = default;
};

struct WeightLayout {
  WeightGroup input;                // token_embd, position/token-type embeddings, rope_freqs
  std::vector<WeightGroup> blocks;  // blk.0 .. blk.(n_layer-1)
  WeightGroup output;               // output_norm + output (+ token_embd copy when tied)
  bool output_tied = false;         // output uses a duplicate of token_embd
  Bytes tied_copy = 0;              // host bytes of that duplicate (shares mmap pages on CPU)
  Bytes file_tensor_bytes = 0;      // sum of all tensors in the file (no duplicate)

  bool operator==(const WeightLayout&) const = default;
};

// Groups a tensor list. Tensors of blocks >= n_layer are an error (Error{bad_input}).
[[nodiscard]] WeightLayout layout_weights(const std::vector<TensorInfo>& tensors,
                                          std::int32_t n_layer);

// llama.cpp's -ngl rule since b7467: of the n_layer + 1 offloadable layers (blocks, then
// the output layer), the last `gpu_layers` go to the GPU, the output layer first.
// Returns true when block `il` (or the output layer, il == n_layer) is on the GPU.
[[nodiscard]] constexpr bool layer_on_gpu(std::int32_t il, std::int32_t n_layer,
                                          std::int32_t gpu_layers) {
  return il >= n_layer + 1 - gpu_layers;
}

}  // namespace vramplan
