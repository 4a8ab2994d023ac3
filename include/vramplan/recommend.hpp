// `vramplan recommend` as a library (issue 12 part 4, docs/sizing.md §8): the catalog models
// and quantizations that fit a GPU entirely, then those that fit with offload to RAM, each with
// the largest context it allows and, when the GPU is known, its speed, ranked by a stated
// quality proxy (parameters x a per-quantization factor from llama.cpp's published perplexity
// deltas).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/catalog.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/speed.hpp>

namespace vramplan {

// What a model is for (docs/sizing.md §8.3 says how each is decided from the catalog).
enum class ModelTask { any, chat, code, embed, vision };
[[nodiscard]] std::string_view to_string(ModelTask task);
// "chat", "code", "embed" (also "embedding"), "vision", "any"; nullopt otherwise.
[[nodiscard]] std::optional<ModelTask> parse_model_task(std::string_view text);
[[nodiscard]] bool serves(const CatalogEntry& entry, ModelTask task);

// The quality factor of a file type: 1 / (1 + d), d the perplexity increase llama.cpp's
// quantize tool publishes for it (docs/sizing.md §8.2, with the table and its source).
struct QuantQuality {
  FileType type;
  double ppl_delta;        // llama.cpp's "+x ppl @ Llama-3-8B"; 0 for float types and MXFP4
  std::string_view basis;  // where the delta comes from, or which type it is taken from
};
[[nodiscard]] std::span<const QuantQuality> quant_quality_table();
[[nodiscard]] double quant_quality(FileType type);
// The ranking proxy: parameters in billions x quant_quality(quant). Parameters: the catalog's
// published count, else the count of the generated tensors.
[[nodiscard]] double quality_score(double params, FileType quant);

// A lower bound on the weight bytes of `entry` in `quant` without generating its tensors (the
// sweep's first prefilter, docs/sizing.md §8.4): 90 % of the published parameter count at the
// bytes per weight of the file type's bulk type (the smallest type llama-quantize gives a
// matrix in it; MXFP4 for gpt-oss, whose experts stay MXFP4). `gpu`: without the input
// embeddings (n_vocab x n_embd), which llama.cpp keeps in RAM. 0 without a published count.
[[nodiscard]] Bytes weights_lower_bound(const CatalogEntry& entry, FileType quant, bool gpu);

struct RecommendRequest {
  std::vector<Bytes> vram;   // GPU memory per device (--vram, or --gpu through selected_memory)
  Bytes ram = 0;             // system RAM; 0 = no offload list
  const Gpu* gpu = nullptr;  // the card, when known: the speed estimate needs its bandwidth
  double ram_bandwidth_gbps = 0;  // host RAM bandwidth, for the speed of offloaded models
  ModelTask task = ModelTask::any;
  const Engine* engine = nullptr;  // llama.cpp family; nullptr = llama-server
  Backend backend = Backend::cuda;
  Headroom headroom = fit_headroom();
  std::int64_t min_ctx = 4096;  // the shortest context that counts (or the model's maximum)
  // At most this many items per list, the best ones (0 = every combination that fits). The
  // sweep walks the catalog best quality first and stops when both lists are full.
  std::size_t limit = 0;
};

struct RecommendItem {
  const CatalogEntry* entry = nullptr;
  FileType quant = FileType::mostly_q4_k_m;
  std::string name;    // "llama3.2:3b-q4_k_m"
  double params = 0;   // parameters
  double quality = 0;  // quality_score
  bool full_gpu = false;
  std::int32_t gpu_layers = 0;
  std::int32_t total_layers = 0;
  std::int32_t cpu_moe = 0;
  std::int64_t ctx = 0;      // the largest context that fits (engine terms), up to the model's max
  std::int64_t max_ctx = 0;  // the model's maximum
  GgmlType kv_type = GgmlType::f16;  // q8_0 when only a q8_0 cache puts it all on the GPU
  Bytes weights = 0;                 // file tensor bytes
  Bytes gpu_bytes = 0;               // all GPUs, the plan's estimate
  Bytes ram_bytes = 0;               // host
  std::optional<SpeedEstimate> speed;
  std::int64_t order = 0;  // position in the catalog sweep (entries, then their quants)
};

struct RecommendResult {
  std::vector<RecommendItem> full_gpu;  // ranked, best first
  std::vector<RecommendItem> offload;   // ranked, best first
  // Work done: combinations (entry x quant) of the task, those the weights-only prefilter
  // dropped, fits run and the engine estimates they made.
  std::int64_t candidates = 0;
  std::int64_t prefiltered = 0;
  std::int64_t fits = 0;
  std::int64_t estimates = 0;
  // Compute buffers worked out for those estimates (a graph replay or the closed forms; the
  // ComputeCache's misses): the other estimates found theirs in the memo.
  std::int64_t graphs = 0;
  bool stopped_early = false;  // the limit was reached before the end of the catalog
  std::vector<std::string> notes;
};

// Throws Error{usage} without GPUs or with a non-positive size.
[[nodiscard]] RecommendResult recommend(const Catalog& catalog, const RecommendRequest& request);

// The order of both lists: quality descending, then fewer weight bytes, then the catalog's
// order (entry, then quant as listed). True when `a` comes first.
[[nodiscard]] bool ranks_before(const RecommendItem& a, const RecommendItem& b);

}  // namespace vramplan
