// Gemma 3n's worst-case graph (src/core/graph_gemma3n.cpp), which reserve_graph.cpp hands
// gemma3n models to: AltUp's four hidden-state streams, LAuReL, the per-layer inputs and the
// blocks that reuse an earlier block's KV cache do not fit the shared block builder.
#pragma once

#include <cstdint>

#include <vramplan/compute_params.hpp>
#include <vramplan/graph_alloc.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/reserve_graph.hpp>

namespace vramplan::detail {

// Whether the spec is a Gemma 3n text model of the shape the builder was checked on (dense,
// a sliding window, KV caches in the first blocks only).
[[nodiscard]] bool gemma3n_graph(const ModelSpec& spec);

// The graph of a ubatch of n_tokens tokens with n_outputs outputs, built into `storage`
// (emptied first). share_externals: one external stands for every weight and cache view
// (only the allocator's high-water mark is wanted). Without the output the graph ends with
// the last block (the streams' merge and the head run with the output layer).
[[nodiscard]] graph::Graph gemma3n_reserve_graph(const ModelSpec& spec, const ComputeParams& p,
                                                 std::int64_t n_tokens, std::int64_t n_outputs,
                                                 const WeightBytes* weights, bool share_externals,
                                                 graph::Graph&& storage, bool with_output = true);

}  // namespace vramplan::detail
