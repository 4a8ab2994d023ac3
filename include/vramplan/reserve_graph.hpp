// The worst-case graph llama.cpp reserves its compute buffer for (sched_reserve), rebuilt
// node by node for the architectures whose graph builders vramplan mirrors, and sized with
// the allocator model of graph_alloc.hpp. For these architectures the compute buffer is not a
// formula but a replay of what ggml-alloc does; others use the closed forms of compute.hpp.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include <vramplan/bytes.hpp>
#include <vramplan/compute_params.hpp>
#include <vramplan/graph_alloc.hpp>
#include <vramplan/model_spec.hpp>

namespace vramplan {

// Whether reserve_graph() can build this model's graph (the architecture and its features:
// llama, internlm2, qwen2, qwen3, qwen3moe, phi2, phi3, gemma, gemma2, gemma3, olmo2,
// starcoder2, command-r, gpt-oss, V2-Lite-style deepseek2, granitehybrid (with or without
// experts) and qwen3next decoders, gemma3n, and the bert, nomic-bert and gemma-embedding
// encoders; not other encoders, other recurrent or NextN models, or other layouts).
[[nodiscard]] bool graph_modelled(const ModelSpec& spec);

// Whether the scheduler replay (sched.hpp) can place that graph on GPU backends: a rebuilt
// graph without recurrent blocks (the backends' rules for SSM_CONV, SSM_SCAN,
// GATED_DELTA_NET and the state copies are not modelled, so a hybrid's GPU buffers stay the
// CPU replay's), other than gemma3n's and the encoders' (no GPU run of them was measured).
[[nodiscard]] bool schedule_modelled(const ModelSpec& spec);

// Bytes of the model's weight `role` ("attn_q.weight") of block `layer`, or of a tensor
// outside the blocks ("token_embd.weight", "output.weight") for layer -1: the sizes the
// scheduler replay (sched.hpp) needs for weights copied to a GPU. Without it weights are 0.
using WeightBytes = std::function<Bytes(std::int32_t layer, std::string_view role)>;

// The prompt-processing graph of one ubatch (n_ubatch tokens, n_outputs outputs), with the
// output head (final norm and logits) when with_output is set. Requires graph_modelled().
[[nodiscard]] graph::Graph reserve_graph(const ModelSpec& spec, const ComputeParams& params,
                                         bool with_output, const WeightBytes* weights = nullptr);
// The same graph for n_tokens tokens and n_outputs outputs, with its output head. With
// `storage`, the graph is built in its memory (a graph an earlier call returned, moved from):
// the scheduler replay's graphs, built one after another, then neither allocate nor first
// touch a new tensor array.
[[nodiscard]] graph::Graph reserve_graph(const ModelSpec& spec, const ComputeParams& params,
                                         std::int64_t n_tokens, std::int64_t n_outputs,
                                         const WeightBytes* weights,
                                         graph::Graph* storage = nullptr);
// The token count llama_context::graph_reserve uses for the prompt graph (n_ubatch rounded up
// to a multiple of n_seq_max).
[[nodiscard]] std::int64_t reserve_n_tokens(const ComputeParams& params);

// The CPU backend's compute buffer for that graph: ggml-alloc's high-water mark at the CPU
// backend's 32-byte alignment. nullopt when the architecture is not modelled.
struct GraphCompute {
  Bytes with_output = 0;     // the backend that runs the output head
  Bytes without_output = 0;  // a backend holding only repeating layers
};
[[nodiscard]] std::optional<GraphCompute> graph_compute_buffer(const ModelSpec& spec,
                                                               const ComputeParams& params);

}  // namespace vramplan
