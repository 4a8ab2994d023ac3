// The one place where `size` and `recommend` (sizing.cpp, recommend.cpp) call the engines:
// estimate()/fit() for the llama.cpp family, vllm_estimate() for vLLM. Everything the searches
// need from an engine goes through these few functions, so re-pointing them at another engine
// interface is a change to sizing_engines.cpp alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/catalog.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/model.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan::sizing_engines {

// A catalog entry in one of its quantizations, as io::load_model builds it (tensor list
// generated for the file type, the projector counted).
[[nodiscard]] Model catalog_model(const CatalogEntry& entry, FileType quant);
// The same from the entry's tensor layout (TensorLayout(entry.spec)), built once for all its
// quantizations.
[[nodiscard]] Model catalog_model(const CatalogEntry& entry, FileType quant,
                                  const TensorLayout& layout);
// catalog_model(entry, quant, layout) written over `model`, a catalog_model of the same entry
// and layout in another quantization: its tensor list is re-typed in place (TensorLayout::
// retype), not copied. The result equals catalog_model(entry, quant, layout).
void retype_catalog_model(Model& model, const CatalogEntry& entry, FileType quant,
                          const TensorLayout& layout);

// llama.cpp family, every layer on the GPUs (split in proportion to their memory).
struct FullOffload {
  bool fits = false;  // every GPU's total + headroom <= its capacity
  Bytes max_gpu = 0;  // the largest GPU total
  Bytes max_gpu_weights = 0;
  Bytes max_headroom = 0;  // the headroom of that GPU
  Bytes host = 0;          // what stays in RAM
};
[[nodiscard]] FullOffload llama_full_offload(const Model& model, const Engine& engine,
                                             Backend backend, std::int64_t ctx,
                                             std::optional<std::int32_t> parallel,
                                             const std::vector<Bytes>& gpus,
                                             const Headroom& headroom, ComputeCache* cache);
// CPU only: the host total.
[[nodiscard]] Bytes llama_cpu_only(const Model& model, const Engine& engine, std::int64_t ctx,
                                   std::optional<std::int32_t> parallel, ComputeCache* cache);

// llama.cpp family, the planner's choice (fit()): context first, then layers, RAM checked.
struct FitOutcome {
  bool fits = false;
  std::int32_t gpu_layers = 0;
  std::int32_t total_layers = 0;
  std::int32_t cpu_moe = 0;
  std::int64_t ctx = 0;
  GgmlType kv_type = GgmlType::f16;
  Bytes gpu = 0;  // all GPUs together
  Bytes host = 0;
  std::int64_t estimates = 0;
};
// `cache`: the compute buffers' memo fit() shares with other plans (nullptr: its own).
[[nodiscard]] FitOutcome llama_fit(const Model& model, const Engine& engine, Backend backend,
                                   const std::vector<Bytes>& vram, Bytes ram,
                                   const Headroom& headroom, std::int64_t min_ctx,
                                   GgmlType kv_type = GgmlType::f16, ComputeCache* cache = nullptr);

// fit()'s first step alone (planner.cpp plan_once): every layer on the GPUs at the model's
// training context, an f16 cache, the engine's default slots and batches. When that fits every
// GPU's budget (capacity - headroom) and the RAM (when given, less 1 GiB for the OS), fit()
// returns exactly that configuration, so this is fit()'s outcome (estimates = 1); otherwise
// nullopt and fit() has to search. `cache` may serve every plan of a sweep: the compute graph
// depends on the spec and the shapes only (not on the weight types), and the memo is keyed on
// both (compute.hpp).
[[nodiscard]] std::optional<FitOutcome> llama_fit_whole(const Model& model, const Engine& engine,
                                                        Backend backend,
                                                        const std::vector<Bytes>& vram, Bytes ram,
                                                        const Headroom& headroom,
                                                        ComputeCache* cache);

// vLLM: the weights as vLLM loads a catalog model's checkpoint in `dtype`.
[[nodiscard]] Model vllm_model(const Model& model, VllmDtype dtype);
// Whether tp splits the attention heads (vllm_check_tensor_parallel).
[[nodiscard]] bool vllm_tp_valid(const ModelSpec& spec, std::int32_t tp);
struct VllmOutcome {
  bool fits = false;
  Bytes per_gpu = 0;  // pre-snapshot + weights + activation + non-torch + graphs + KV needed
  // The smallest card for it: pre-snapshot + (per_gpu - pre-snapshot) / utilisation.
  Bytes card_needed = 0;
  Bytes weights = 0;
  std::int64_t kv_tokens = 0;
};
// One pipeline stage on `tp` GPUs of `gpu_memory` each, serving `max_model_len`.
[[nodiscard]] VllmOutcome vllm_stage(const Model& stage, std::int32_t tp, Bytes gpu_memory,
                                     std::string_view gpu_name, std::int64_t max_model_len,
                                     std::optional<std::int32_t> max_num_seqs, VllmDtype dtype);

}  // namespace vramplan::sizing_engines
