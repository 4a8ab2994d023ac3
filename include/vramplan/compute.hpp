// Compute (graph) buffers and the output (logits) buffer: what llama.cpp's sched_reserve and
// output_reserve allocate — by graph replay where the architecture is rebuilt, else by closed
// forms (llama.cpp src/llama-context.cpp, b10309; docs/memory-model.md §5 and §6 have every
// term and its source).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

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

// A memo of compute_buffer(): the buffers already worked out, for the estimates that need one
// again. The planner's searches over GPU layers and --n-cpu-moe leave the graph unchanged; the
// quantizations of one catalog entry share its spec, so their context searches probe the same
// shapes; and a graph replay is most of an estimate's time (docs/performance.md). A buffer is
// keyed on everything compute_buffer() reads: the spec by value (a copy is kept and compared
// field by field, so a spec changed in place or another one at the same address misses) and
// every ComputeParams field. What it returns is therefore always what compute_buffer() would.
// One may serve any number of models and plans (a whole `recommend` sweep); past `max_entries`
// buffers it starts over, which bounds its memory whatever the planner asks.
class ComputeCache {
 public:
  static constexpr std::size_t max_entries = std::size_t{1} << 16;

  // compute_buffer(spec, params), from the memo when it has it (exceptions pass through and
  // store nothing).
  [[nodiscard]] ComputeBuffer buffer(const ModelSpec& spec, const ComputeParams& params);

  [[nodiscard]] std::size_t size() const { return buffers_.size(); }
  [[nodiscard]] std::int64_t hits() const { return hits_; }
  [[nodiscard]] std::int64_t misses() const { return misses_; }

 private:
  struct Key {
    std::size_t spec = 0;  // index into specs_
    ComputeParams params;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& key) const;
  };

  // The index of `spec` in specs_, copied there when new.
  std::size_t spec_index(const ModelSpec& spec);

  std::vector<ModelSpec> specs_;
  std::unordered_multimap<std::size_t, std::size_t> spec_by_hash_;  // hash -> index
  std::size_t last_spec_ = 0;  // specs_ index of the last lookup (consecutive calls share it)
  std::unordered_map<Key, ComputeBuffer, KeyHash> buffers_;
  std::int64_t hits_ = 0;
  std::int64_t misses_ = 0;
};

// Graph inputs allocated on the host backend when a GPU runs the graph (CUDA_Host compute
// buffer): token ids, embeddings, positions, the F32 KQ mask and out_ids.
[[nodiscard]] Bytes host_input_buffer(const ModelSpec& spec, const ComputeParams& params);

// The logits (+ embeddings) output buffer in host memory: 4 * n_vocab * max(n_seq, 1) at
// init (llama_context::output_reserve).
[[nodiscard]] Bytes output_buffer(const ModelSpec& spec, std::int32_t n_seq);

}  // namespace vramplan
