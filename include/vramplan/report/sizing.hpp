// `vramplan size` and `vramplan recommend` as a table and as JSON (docs/sizing.md §7.4, §8.6,
// §8.7).
#pragma once

#include <string>

#include <vramplan/recommend.hpp>
#include <vramplan/sizing.hpp>

namespace vramplan::report {

// The model's memory, the cards that run it alone, then one row per card with its smallest
// set: count, layout (TP x PP for vLLM), nodes, per-GPU memory. `max_rows` caps the per-card
// rows (0 = all); the count of the rest is said.
[[nodiscard]] std::string render_size_table(const SizeResult& result, std::size_t max_rows = 0);
// {"schema_version": 1, "model", "engine", "ctx", "parallel", "vram_needed_bytes",
// "ram_needed_bytes", "ram_cpu_only_bytes", "single_gpu": [ids], "smallest": option|null,
// "options": [{"gpu", "gpu_name", "gpu_memory_bytes", "gpus", "tensor_parallel",
// "pipeline_parallel", "nodes", "layout", "per_gpu_bytes", "per_gpu_headroom_bytes",
// "per_gpu_weights_bytes", "kv_tokens"}], "skipped": [{"gpu", "reason"}], "notes"}.
[[nodiscard]] std::string render_size_json(const SizeResult& result);

// Two ranked tables (on the GPU; with offload), each row: model, quant, parameters, quality,
// context, KV type, layers on the GPU, GPU and RAM memory, decode speed when known.
[[nodiscard]] std::string render_recommend_table(const RecommendResult& result);
// {"schema_version": 1, "quality_rule", "full_gpu": [...], "offload": [...], "notes", "work"}
// with each item's fields (speed null when unknown).
[[nodiscard]] std::string render_recommend_json(const RecommendResult& result);

}  // namespace vramplan::report
