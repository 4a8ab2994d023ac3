// Compute (graph) buffers and the output (logits) buffer: what llama.cpp's sched_reserve and
// output_reserve allocate — by graph replay where the architecture is rebuilt, else by closed
// forms (llama.cpp src/llama-context.cpp, b10309; docs/memory-model.md §5 and §6 have every
// term and its source).
#pragma once

#include <cstdint>

#include <vramplan/bytes.hpp>
#include <vramplan/compute_params.hpp>
#include <vramplan/model_spec.hpp>

namespace vramplan {

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
