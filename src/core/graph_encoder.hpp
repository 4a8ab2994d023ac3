// The worst-case graph of the bidirectional encoders (src/core/graph_encoder.cpp), which
// reserve_graph.cpp hands them to: no KV cache (build_attn_inp_no_cache: K and V are the
// ubatch's own rows, the mask n_tokens x n_tokens), BERT's post-norm blocks with token-type
// and position embeddings and no output head, or EmbeddingGemma's gemma3 blocks.
#pragma once

#include <cstdint>

#include <vramplan/compute_params.hpp>
#include <vramplan/graph_alloc.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/reserve_graph.hpp>

namespace vramplan::detail {

// Whether the spec is a non-causal model of a family whose encoder graph was checked
// (GraphRules::dense on an encoder or bidirectional architecture: bert, nomic-bert,
// gemma-embedding), dense, without a recurrent, MLA or NextN part.
[[nodiscard]] bool encoder_graph(const ModelSpec& spec);

// The graph of a ubatch of n_tokens tokens with n_outputs outputs, built into `storage`
// (emptied first). share_externals: one external stands for every weight (only the
// allocator's high-water mark is wanted). An encoder has no output head: the graph ends with
// the last block (bert) or the final norm (gemma-embedding), the embeddings it returns.
[[nodiscard]] graph::Graph encoder_reserve_graph(const ModelSpec& spec, const ComputeParams& p,
                                                 std::int64_t n_tokens, std::int64_t n_outputs,
                                                 const WeightBytes* weights, bool share_externals,
                                                 graph::Graph&& storage);

}  // namespace vramplan::detail
