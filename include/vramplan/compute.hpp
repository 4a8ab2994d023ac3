// Compute (graph) buffers and the output (logits) buffer: what llama.cpp's sched_reserve and
// output_reserve allocate — by graph replay where the architecture is rebuilt, else by closed
// forms (llama.cpp src/llama-context.cpp, b10309; docs/memory-model.md §5 and §6 have every
// term and its source).
#pragma once

#include <cstdint>

#include <vramplan/bytes.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/model_spec.hpp>

namespace vramplan {

struct ComputeParams {
  ContextShape shape;          // n_ubatch, cells per stream
  std::int64_t n_outputs = 0;  // reserved outputs (n_outputs_max clamped to n_ubatch)
  bool flash_attn = true;
  GgmlType type_k = GgmlType::f16;
  GgmlType type_v = GgmlType::f16;
  std::int32_t n_seq = 1;  // n_seq_max: the reserve rounds n_ubatch up to a multiple of it

  bool operator==(const ComputeParams&) const = default;
};

// Hadamard rotation of a quantized cache (llama-kv-cache.cpp attn_rot_k / attn_rot_v): K (with
// Q) is rotated when its type is quantized and its head size a multiple of 64, V (with the
// attention output) likewise. The K rotation matrix is nrot x nrot, nrot the largest power of
// two (>= 64) dividing the K head size; V's is 64 x 64.
struct CacheRotation {
  bool k = false;
  bool v = false;
  std::int64_t nrot = 64;
};
[[nodiscard]] CacheRotation cache_rotation(std::int64_t head_k, std::int64_t head_v,
                                           GgmlType type_k, GgmlType type_v);

// Peak of the worst-case graph on one backend, as the parts whose maximum it is. From a graph
// replay (reserve_graph.hpp): `logits` is the whole graph's peak and `ffn` the peak without
// the output head (attention 0). From the closed forms: the three phases.
struct ComputeBuffer {
  Bytes logits = 0;     // output projection phase (only where the output layer runs)
  Bytes ffn = 0;        // feed-forward phase of one layer
  Bytes attention = 0;  // attention phase of one layer
  [[nodiscard]] Bytes peak(bool holds_output) const;
};

[[nodiscard]] ComputeBuffer compute_buffer(const ModelSpec& spec, const ComputeParams& params);

// Graph inputs allocated on the host backend when a GPU runs the graph (CUDA_Host compute
// buffer): token ids, embeddings, positions, the F32 KQ mask and out_ids.
[[nodiscard]] Bytes host_input_buffer(const ModelSpec& spec, const ComputeParams& params);

// The logits (+ embeddings) output buffer in host memory: 4 * n_vocab * max(n_seq, 1) at
// init (llama_context::output_reserve).
[[nodiscard]] Bytes output_buffer(const ModelSpec& spec, std::int32_t n_seq);

}  // namespace vramplan
