// The recommender: picks the settings the user left open so that the model fits the
// given GPUs and RAM, the way llama.cpp's --fit does (context first, then GPU layers,
// then partial offload with a RAM check; llama.cpp common/fit.cpp, docs/memory-model.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/speed.hpp>

namespace vramplan {

// Memory kept free on every GPU on top of the estimate. The command line builds it from
// --headroom (src/cli/flags.cpp), with the explanation the reports print.
struct Headroom {
  std::string profile;  // "fit" (default), "stable", "conservative", "none", "custom"
  Bytes fixed = 0;      // at least this much per GPU
  double fraction = 0;  // at least this share of each GPU's capacity
  std::string explanation;

  [[nodiscard]] Bytes for_device(Bytes capacity) const;
};

// llama.cpp's --fit default target, kept free on every GPU (common/arg.cpp, --fit-target); the
// "fit" headroom profile, and the default of the sizing searches.
inline constexpr Bytes fit_headroom_bytes = 1024 * mib;
[[nodiscard]] inline Headroom fit_headroom() {
  return {.profile = "fit", .fixed = fit_headroom_bytes};
}

struct FitRequest {
  const Engine* engine = nullptr;
  Backend backend = Backend::cuda;
  std::vector<Bytes> vram;  // GPU capacities; empty = CPU only
  Bytes ram = 0;            // system RAM; 0 = not checked
  Headroom headroom;
  // Constraints: set = fixed by the user; unset = chosen by the planner.
  std::optional<std::int64_t> ctx;
  std::optional<std::int32_t> parallel;
  std::optional<GgmlType> kv_type;
  // With kv_type unset: f16, unless f16 would put layers on the CPU or shorten the context
  // below what was asked (the model's maximum when nothing was) and a q8_0 cache with flash
  // attention keeps every layer on the GPU: then q8_0 (a decision says so). The command
  // line's default (--kv-type auto); false keeps f16.
  bool kv_auto = false;
  std::optional<bool> flash_attn;
  std::optional<std::int32_t> gpu_layers;
  std::optional<std::int32_t> cpu_moe;  // --n-cpu-moe (MoE models, llama.cpp engines)
  std::optional<std::int64_t> ubatch;
  std::optional<std::int64_t> batch;
  std::int64_t min_ctx = 4096;  // floor for an unset context (min with the model maximum)
  CpuRepack cpu_repack = CpuRepack::avx2;  // CPU_REPACK copies of host weights
  bool op_offload = true;                  // false: llama-server's --no-op-offload
  // Also plan the alternatives (LlamaPlan::alternatives) when the plan fits but puts layers on
  // the CPU or shortens the context. Up to max_alternative_plans more plans, so `fit` asks for
  // them and the sizing sweeps, which plan thousands of combinations, do not.
  bool alternatives = false;
  // The compute buffers of the configurations the plan reports from the scheduler replay with
  // the backend's rules (replay_rules: CUDA's or Metal's, with a rebuilt graph,
  // docs/memory-model.md "Compute buffers on CUDA"): the search runs on the closed forms, the
  // configuration it settles on is replayed and, when the replay no longer fits, searched again
  // with the closed forms' shortfall taken off the budgets. `fit` and `plan` ask for it; the sizing
  // sweeps, which plan thousands of combinations, do not (docs/performance.md).
  bool exact_compute = false;
};

struct Recommendation {
  std::int32_t gpu_layers = 0;
  std::int32_t total_layers = 0;
  std::int64_t ctx = 0;
  std::int32_t parallel = 1;
  GgmlType kv_type = GgmlType::f16;
  bool flash_attention = true;
  std::int64_t n_batch = 0;
  std::int64_t n_ubatch = 0;
  bool kv_unified = false;
  std::int32_t cpu_moe = 0;  // blocks whose experts stay in RAM (--n-cpu-moe), 0 = none
  bool op_offload = true;    // false: --no-op-offload
};

// A change that would make a configuration that does not fit, fit (or come closer).
struct Suggestion {
  Finding change;       // a smaller quantization, a q8_0 cache, other settings, ...
  Bytes total_gpu = 0;  // GPU bytes the changed configuration needs (incl. headroom)
  bool fits = false;
};

// Another complete plan for a request that fits only with layers (or experts) on the CPU or a
// context shorter than asked (issue 11 §4): one change the user can make, planned the same way.
struct Alternative {
  // alt_kv_q8_0, alt_fewer_slots, alt_ctx_all_layers, alt_smaller_quant, alt_more_gpus; its
  // `changes` are the settings to give.
  Finding change;
  bool fits = false;
  Recommendation recommendation;  // the settings of the changed plan
  Bytes gpu_bytes = 0;            // what it takes on the GPUs, summed (headroom not included)
  Bytes gpu_capacity = 0;         // the GPUs' capacity, summed
  std::int32_t gpus = 0;          // GPUs it plans on
  std::int64_t n_ctx_seq = 0;     // one sequence's context (as the speed estimate takes it)
  // Index in fit()'s `alternatives` of the model it plans, when a smaller quantization.
  std::optional<std::size_t> quant;
  // Filled by the caller, which knows the card (plan_speed); the planner leaves it empty.
  std::optional<SpeedEstimate> speed;
};

// The most extra plans the alternatives cost (each a context search and a layer search).
inline constexpr int max_alternative_plans = 5;
// The most alternatives kept.
inline constexpr std::size_t max_alternatives_kept = 4;

struct LlamaPlan {
  bool fits = false;
  Recommendation recommendation;
  Estimate estimate;  // of the recommended configuration
  Headroom headroom;
  std::vector<Bytes> headroom_bytes;    // per GPU
  Bytes ram_reserve = 0;                // RAM kept for the OS (when --ram is given)
  std::vector<Finding> decisions;       // what the planner chose and why
  std::vector<Finding> reasons;         // why it does not fit
  std::vector<Suggestion> suggestions;  // what would fit instead
  // Plans that keep more on the GPU (or more of the context asked), when this one fits only by
  // putting layers on the CPU or shortening the context and the request asks for them.
  std::vector<Alternative> alternatives;
  // estimate() calls made to plan, suggestions included: bounded whatever the model's shape
  // (docs/reliability.md §7), and checked by the tests.
  std::int64_t estimates = 0;
  // Plans made (each a context search and a layer search): one, one more for --kv-type auto,
  // at most max_alternative_plans for the alternatives, the suggestions' when it does not fit.
  std::int64_t plans = 0;
};

// Ollama's --fit target for a model with a vision projector (Ollama >= 0.30.11,
// llm/llama_server.go mmprojFitTargetMiB): where it offloads the projector
// (ollama_offloads_projector, estimate.hpp) and LLAMA_ARG_FIT_TARGET is not set, it sets
// llama-server's --fit target to the projector's bytes + 1 GiB in MiB, rounded up, in place of
// 1024 MiB (llama-server then adds the projector's own use on top, as vramplan counts it on
// the GPU).
// nullopt where Ollama leaves the target alone.
[[nodiscard]] std::optional<Bytes> ollama_projector_fit_target(Bytes projector,
                                                               const std::vector<Bytes>& gpus,
                                                               std::optional<std::int32_t> num_gpu,
                                                               std::int32_t total_layers);

// The context an engine uses when none is given: Ollama's VRAM tier (4096 without GPUs),
// or the model's maximum (llama-server, library).
[[nodiscard]] std::int64_t engine_default_ctx(const Model& model, const Engine& engine,
                                              const std::vector<Bytes>& gpus);

// The physical batch (-ub) an engine uses when none is given: Ollama's automatic batch
// (Ollama llm/llama_server.go; min(2048, ctx) for embedding models), else the engine's default.
// `ctx` is in the engine's terms (Ollama: per slot).
[[nodiscard]] std::int64_t engine_default_ubatch(const Model& model, const Engine& engine,
                                                 Backend backend, std::int64_t ctx,
                                                 std::int32_t parallel, bool flash_attn,
                                                 const std::vector<Bytes>& gpus);

// An engine's defaults for the slots and batch sizes left unset, applied here for both
// `estimate` and the planner.
struct Slots {
  std::int32_t parallel = 1;
  bool kv_unified = false;  // llama-server's -np auto: unified KV over its default slots
};
[[nodiscard]] Slots engine_slots(const Engine& engine, std::optional<std::int32_t> parallel);

struct Batches {
  std::int64_t n_batch = 0;
  std::int64_t n_ubatch = 0;
};
// `ubatch` unset: engine_default_ubatch(); `batch` unset: the ubatch where the engine passes one
// value as both (-b N -ub N), else its default. n_batch is never below n_ubatch.
[[nodiscard]] Batches engine_batches(const Model& model, const Engine& engine, Backend backend,
                                     std::int64_t ctx, std::int32_t parallel, bool flash_attn,
                                     const std::vector<Bytes>& gpus,
                                     std::optional<std::int64_t> batch,
                                     std::optional<std::int64_t> ubatch);

// The configuration the engine runs with the request's settings, the unset ones at the engine's
// defaults: its default context (engine_default_ctx), slots and batches (engine_slots,
// engine_batches), every layer on the GPUs with a GPU backend, f16 cache, flash attention on,
// no experts kept in RAM. `estimate` plans this; `fit` searches from the same settings.
[[nodiscard]] Config default_config(const Model& model, const FitRequest& request);

// `estimate` as a plan: the breakdown of default_config(); it fits when every device whose
// capacity is known holds its total (headroom and RAM are not checked: nothing is chosen).
[[nodiscard]] LlamaPlan estimate_plan(const Model& model, const FitRequest& request);

// Alternative models (other quantizations of the same model) to suggest from when
// nothing fits, and to offer as alternatives (request.alternatives); may be empty.
// `compute`: the compute buffers' memo its estimates share (compute.hpp), e.g. with the other
// plans of a `recommend` sweep; nullptr: one of its own. Either way the same plan.
[[nodiscard]] LlamaPlan fit(const Model& model, const FitRequest& request,
                            const std::vector<Model>& alternatives,
                            ComputeCache* compute = nullptr);

}  // namespace vramplan
