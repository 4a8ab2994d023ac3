#include <vramplan/check.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/sched.hpp>
#include <vramplan/vllm.hpp>

#include "fit_order.hpp"

namespace vramplan {

std::string_view to_string(CheckVerdict verdict) {
  switch (verdict) {
    case CheckVerdict::fits:
      return "fits";
    case CheckVerdict::spills:
      return "spills";
    case CheckVerdict::out_of_memory:
      return "out_of_memory";
    case CheckVerdict::take_turns:
      return "take_turns";
    case CheckVerdict::does_not_start:
      return "does_not_start";
  }
  return "";
}

namespace {

// Bounds on the searches: every fix is a binary search over at most 2^25 values, and the
// models are few (the command line caps them).
constexpr std::int64_t max_evaluations = 4096;
constexpr std::int64_t min_fix_ctx = 2048;  // a shorter context is no fix a person accepts
constexpr std::int64_t min_fix_len = 1024;  // vLLM's likewise

// The settings evaluated, as the engine reads them; a fix changes one of them.
struct Knobs {
  std::optional<std::int64_t> ctx;
  std::optional<std::int32_t> parallel;
  GgmlType kv_k = GgmlType::f16;
  GgmlType kv_v = GgmlType::f16;
  std::optional<bool> flash;               // nullopt: auto (on where supported)
  std::optional<std::int32_t> gpu_layers;  // nullopt: the engine places them; -2: all
  std::optional<std::int64_t> batch;
  std::optional<std::int64_t> ubatch;
  std::int32_t max_loaded = 0;  // 0: Ollama's default
  bool spread = false;          // OLLAMA_SCHED_SPREAD
  // llama-server's placement flags (Ollama's runner sets none of them).
  std::optional<std::int32_t> cpu_moe;  // --n-cpu-moe N; --cpu-moe: every block (max)
  bool kv_offload = true;               // -nkvo: the KV cache of every layer in host memory
  bool op_offload = true;               // --no-op-offload
  bool mmproj_offload = true;           // --no-mmproj-offload: the projector in host memory
  // llama.cpp's --fit (common/fit.cpp at the modelled build): on by default; its free-memory
  // target per GPU (-fitt, MiB; the engine's default past the list) and the shortest context it
  // may choose (-fitc; `-c 0` asks for the model's full context: no shortening).
  bool fit = true;
  std::vector<Bytes> fit_target;
  std::int64_t fit_min_ctx = 4096;
  // vLLM
  std::optional<std::int64_t> max_model_len;
  std::optional<std::int32_t> util_x10000;
  std::optional<std::int32_t> max_num_seqs;
  std::optional<std::int64_t> max_num_batched_tokens;
  VllmDtype dtype = VllmDtype::bf16;
  bool dtype_given = false;
  VllmKvDtype kv_dtype = VllmKvDtype::model;
  bool enforce_eager = false;
  // The models served: the request's, or a smaller quantization of one.
  std::vector<const Model*> models;
};

std::int32_t to_int32(std::int64_t value) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(value, -2, 1 << 30));
}

// --fit-ctx's value that never shortens a context (llama.cpp's UINT32_MAX).
constexpr std::int64_t no_shortening = std::numeric_limits<std::uint32_t>::max();

std::optional<GgmlType> kv_type_of(const SettingValue& v) {
  const std::optional<GgmlType> type = parse_ggml_type(v.text);
  if (!type || !is_kv_cache_type(*type)) return std::nullopt;
  return type;
}

Knobs read_knobs(const Deployment& d, const CheckRequest& request) {
  Knobs k;
  for (const SettingValue& v : d.settings) {
    switch (v.setting) {
      case EngineSetting::context:
        if (v.integer > 0) k.ctx = v.integer;
        if (v.integer == 0) k.fit_min_ctx = no_shortening;  // common/arg.cpp, -c
        break;
      case EngineSetting::fit:
        k.fit = v.text != "off";
        break;
      case EngineSetting::fit_target:
        if (auto t = parse_fit_target(v.text)) k.fit_target = std::move(*t);
        break;
      case EngineSetting::fit_ctx:  // an int in llama.cpp, stored unsigned: -1 is no floor
        k.fit_min_ctx = v.integer < 0 ? no_shortening : v.integer;
        break;
      case EngineSetting::parallel:
        if (v.integer > 0) k.parallel = to_int32(v.integer);
        break;
      case EngineSetting::max_loaded_models:
        if (v.integer > 0) k.max_loaded = to_int32(v.integer);
        break;
      case EngineSetting::sched_spread:
        k.spread = v.boolean;
        break;
      case EngineSetting::kv_cache_type:
        if (const auto t = kv_type_of(v)) k.kv_k = k.kv_v = *t;
        break;
      case EngineSetting::kv_cache_type_k:
        if (const auto t = kv_type_of(v)) k.kv_k = *t;
        break;
      case EngineSetting::kv_cache_type_v:
        if (const auto t = kv_type_of(v)) k.kv_v = *t;
        break;
      case EngineSetting::flash_attention:
        if (v.text == "on") k.flash = true;
        if (v.text == "off") k.flash = false;
        break;
      case EngineSetting::gpu_layers:
        if (v.integer >= 0 || v.integer == -2) k.gpu_layers = to_int32(v.integer);
        break;
      case EngineSetting::batch:
        if (v.integer > 0) k.batch = v.integer;
        break;
      case EngineSetting::ubatch:
        if (v.integer > 0) k.ubatch = v.integer;
        break;
      case EngineSetting::max_model_len:
        if (v.integer > 0) k.max_model_len = v.integer;
        break;
      case EngineSetting::gpu_memory_utilization:
        if (v.number > 0 && v.number <= 1) {
          k.util_x10000 = static_cast<std::int32_t>(std::lround(v.number * 10000));
        }
        break;
      case EngineSetting::max_num_seqs:
        if (v.integer > 0) k.max_num_seqs = to_int32(v.integer);
        break;
      case EngineSetting::max_num_batched_tokens:
        if (v.integer > 0) k.max_num_batched_tokens = v.integer;
        break;
      case EngineSetting::dtype:
        if (const auto t = parse_vllm_dtype(v.text); t && *t != VllmDtype::checkpoint) {
          k.dtype = *t;
          k.dtype_given = true;
        }
        break;
      case EngineSetting::quantization:
        if (v.text == "fp8") {
          k.dtype = VllmDtype::fp8;
          k.dtype_given = true;
        }
        break;
      case EngineSetting::kv_cache_dtype:
        if (const auto t = parse_vllm_kv_dtype(v.text)) k.kv_dtype = *t;
        break;
      case EngineSetting::enforce_eager:
        k.enforce_eager = v.boolean;
        break;
      case EngineSetting::n_cpu_moe:
        if (v.integer >= 0) k.cpu_moe = to_int32(v.integer);
        break;
      case EngineSetting::cpu_moe:
        if (v.boolean) k.cpu_moe = std::numeric_limits<std::int32_t>::max();
        break;
      case EngineSetting::kv_offload:
        k.kv_offload = v.boolean;
        break;
      case EngineSetting::op_offload:
        k.op_offload = v.boolean;
        break;
      case EngineSetting::mmproj_offload:
        k.mmproj_offload = v.boolean;
        break;
      default:
        break;
    }
  }
  for (const CheckModel& m : request.models) k.models.push_back(&m.model);
  return k;
}

// vLLM's settings among the knobs, without GPUs.
VllmRequest vllm_settings(const Knobs& k) {
  VllmRequest r;
  r.dtype = k.dtype;
  r.max_model_len = k.max_model_len;
  r.util_x10000 = k.util_x10000;
  r.max_num_seqs = k.max_num_seqs;
  r.max_num_batched_tokens = k.max_num_batched_tokens;
  r.kv_cache_dtype = k.kv_dtype;
  r.enforce_eager = k.enforce_eager;
  return r;
}

}  // namespace

std::optional<std::vector<Bytes>> parse_fit_target(std::string_view text) {
  constexpr std::size_t max_devices = 16;  // llama_max_devices()
  constexpr std::int64_t max_mib = std::int64_t{1} << 40;
  std::vector<Bytes> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const std::size_t end = std::min(text.find_first_of(",/", at), text.size());
    const std::string_view item = text.substr(at, end - at);
    if (!item.empty()) {
      std::int64_t mebibytes = 0;
      for (const char c : item) {
        if (c < '0' || c > '9' || mebibytes > max_mib) return std::nullopt;
        mebibytes = mebibytes * 10 + (c - '0');
      }
      if (mebibytes > max_mib || out.size() + 1 >= max_devices) return std::nullopt;
      out.push_back(mebibytes * mib);
    }
    at = end + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

VllmRequest vllm_request_of(const Deployment& deployment) {
  return vllm_settings(read_knobs(deployment, CheckRequest{}));
}

namespace {

const Engine& llama_engine(DeployEngine e) {
  return engine(e == DeployEngine::ollama ? EngineId::ollama : EngineId::llamacpp);
}

// The largest component of a device's use, named as the JSON keys are.
std::string largest_component(const CheckedDevice& d) {
  std::string name = "weights";
  Bytes most = d.weights;
  if (d.kv_cache > most) {
    name = "kv_cache";
    most = d.kv_cache;
  }
  if (d.compute > most) {
    name = "compute";
    most = d.compute;
  }
  if (d.other > most) name = "other";
  return name;
}

// One evaluation of a whole configuration.
struct Evaluation {
  CheckVerdict verdict = CheckVerdict::fits;
  std::int32_t max_loaded = 0;
  bool resident_together = true;
  std::vector<CheckedModel> models;
  std::vector<CheckedDevice> devices;
  std::vector<Finding> findings;
  [[nodiscard]] Bytes largest_gpu_use() const {
    Bytes most = 0;
    for (std::size_t i = 0; i + 1 < devices.size(); ++i) most = std::max(most, devices[i].used);
    return most;
  }
};

class Checker {
 public:
  Checker(const Deployment& d, const CheckRequest& r) : deployment_(d), request_(r) {}

  CheckResult run() {
    if (request_.models.empty()) {
      throw Error(ErrorKind::invalid_setting, "check: no model to check");
    }
    if (request_.gpus.empty()) throw Error(ErrorKind::invalid_setting, "check: no GPU given");
    if (deployment_.engine != DeployEngine::ollama && request_.models.size() > 1) {
      throw Error(ErrorKind::invalid_setting,
                  fmt::format("{} serves one model per server; check each server separately",
                              deploy_engine_name(deployment_.engine)));
    }
    const Knobs knobs = read_knobs(deployment_, request_);
    Evaluation e = evaluate(knobs);
    CheckResult result;
    result.engine = deployment_.engine;
    result.verdict = e.verdict;
    result.max_loaded = e.max_loaded;
    result.resident_together = e.resident_together;
    result.models = std::move(e.models);
    result.devices = std::move(e.devices);
    result.findings = std::move(e.findings);
    not_modelled(result.findings);
    if (result.verdict != CheckVerdict::fits) {
      std::vector<CheckFix> fixes = deployment_.engine == DeployEngine::vllm
                                        ? vllm_fixes(knobs)
                                        : llama_fixes(knobs, result.verdict);
      for (CheckFix& fix : fixes) {
        if (!fix.fits) continue;
        if (!result.fix) {
          result.fix = std::move(fix);
        } else if (result.alternatives.size() < 4) {
          result.alternatives.push_back(std::move(fix));
        }
      }
      if (!result.fix && deployment_.engine != DeployEngine::vllm) {
        result.fix = combined_llama(knobs);
      }
    }
    result.evaluations = evaluations_;
    return result;
  }

 private:
  const Deployment& deployment_;
  const CheckRequest& request_;

  // llama-server settings that move memory between devices and that check does not apply: the
  // figures are those of the deployment without them, and the result says so.
  void not_modelled(std::vector<Finding>& findings) const {
    for (const SettingValue& v : deployment_.settings) {
      bool unmodelled = false;
      switch (v.setting) {
        case EngineSetting::override_tensor:
          unmodelled = true;  // a regular expression over tensor names
          break;
        case EngineSetting::swa_full:
          unmodelled = v.boolean;
          break;
        case EngineSetting::split_mode:
          unmodelled = v.text != "layer";  // row, tensor, none
          break;
        case EngineSetting::mmproj_offload:  // Ollama's runner chooses it (run_model)
          unmodelled = deployment_.engine == DeployEngine::ollama && !v.boolean;
          break;
        case EngineSetting::fit_target:  // a value llama-server refuses
          unmodelled = !parse_fit_target(v.text);
          break;
        case EngineSetting::fit:  // Ollama's runner: whether its own flags beat it is not known
          unmodelled = deployment_.engine == DeployEngine::ollama && v.text == "off";
          break;
        default:
          break;
      }
      if (unmodelled) {
        findings.push_back(
            Finding(FindingKind::check_not_modelled, {{"name", v.name}, {"value", v.raw}}));
      }
    }
  }
  std::int64_t evaluations_ = 0;

  void count() {
    if (++evaluations_ > max_evaluations) {
      throw Error(ErrorKind::internal, "check: too many configurations evaluated");
    }
  }

  // The adapter onto the planner's estimate (the one call to re-point at a plan envelope):
  // a usage-kind refusal of a value read from a file becomes an invalid setting.
  Estimate estimate_one(const Model& model, const Engine& engine, const Config& config,
                        const std::vector<Bytes>& gpus) {
    count();
    try {
      // One GPU with a rebuilt graph: the compute buffers of the scheduler replay with CUDA's
      // rules, as fit and plan print them (docs/memory-model.md); else the closed forms.
      return estimate(model, engine, Backend::cuda, config, gpus, nullptr, &sched::cuda());
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::bad_input || e.kind() == ErrorKind::internal) throw;
      throw Error(ErrorKind::invalid_setting, e.what());
    }
  }

  // The adapter onto vLLM's estimate.
  VllmEstimate vllm_one(const Model& model, const VllmRequest& r) {
    count();
    try {
      return vllm_estimate(model, r);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::bad_input || e.kind() == ErrorKind::internal) throw;
      throw Error(ErrorKind::invalid_setting, e.what());
    }
  }

  // The free memory llama.cpp's --fit keeps on each GPU `model` is placed on: -fitt's value
  // (one value is every GPU's), else Ollama's target for an offloaded vision projector, else
  // the engine's default. llama-server adds the projector's own use to its GPU's margin
  // (tools/server/server-context.cpp, mtmd_get_memory_usage into fit_params_target): the
  // estimate's totals count it on that GPU, which comes to the same fit.
  std::vector<Bytes> fit_margins(const Model& model, const Knobs& k,
                                 const std::vector<Bytes>& place_on,
                                 ProjectorOffload projector) const {
    Bytes fallback = llama_engine(deployment_.engine).fit_margin;
    if (deployment_.engine == DeployEngine::ollama && k.fit_target.empty() &&
        projector == ProjectorOffload::gpu) {
      fallback = ollama_projector_fit_target(model.projector, place_on, k.gpu_layers,
                                             model.spec.n_layer + 1)
                     .value_or(fallback);
    }
    std::vector<Bytes> margins;
    for (std::size_t i = 0; i < place_on.size(); ++i) {
      margins.push_back(k.fit_target.size() == 1  ? k.fit_target.front()
                        : i < k.fit_target.size() ? k.fit_target[i]
                                                  : fallback);
    }
    return margins;
  }

  // Whether every GPU keeps its margin free (all zero: whether it fits at all).
  static bool within_fit(const Estimate& est, const std::vector<Bytes>& gpus,
                         const std::vector<Bytes>& margins) {
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      if (checked_add(est.devices[i].total(), margins[i], "a GPU's use") > gpus[i]) return false;
    }
    return true;
  }

  struct ModelRun {
    CheckedModel checked;
    Estimate estimate;
    std::optional<std::int64_t> ctx_shortened_from;  // --fit lowered the unset context
    bool projector_retried = false;  // Ollama's second start, the projector in host memory
  };

  // llama.cpp's --fit, step 2 (common/fit.cpp at the modelled build): when the GPUs together
  // cannot keep their margins, an unset context is shortened before any layer moves, whether
  // or not -ngl pins the layers. llama.cpp measures the use at the model's context and at the
  // floor (-fitc) and interpolates linearly to the context whose use meets the free memory
  // less the margins (on several GPUs less a share of a layer per GPU, for the whole layers a
  // GPU takes), rounded down to a multiple of 256. On one GPU the fit ends there, measured or
  // not; else the layers are placed at that context. nullopt: the context stays.
  struct ShorterContext {
    std::int64_t ctx = 0;
    bool fit_ends = false;  // one GPU and a context between the floor and the maximum
  };
  std::optional<ShorterContext> shorter_context(const Model& model, const Knobs& k,
                                                const Estimate& at_max, std::int32_t gpu_layers,
                                                const std::vector<Bytes>& gpus,
                                                const std::vector<Bytes>& margins,
                                                const std::function<Estimate(std::int64_t)>& at) {
    const std::int64_t max_ctx = at_max.config.ctx;
    if (gpus.empty() || k.fit_min_ctx >= max_ctx || within_fit(at_max, gpus, margins)) {
      return std::nullopt;
    }
    const std::size_t nd = gpus.size();
    Bytes target = 0;
    Bytes used_max = 0;
    Bytes weights = 0;
    for (std::size_t i = 0; i < nd; ++i) {
      target = checked_add(target, gpus[i] - margins[i], "the GPUs' free memory");
      used_max = checked_add(used_max, at_max.devices[i].total(), "the GPUs' use");
      weights = checked_add(weights, at_max.devices[i].weights, "the GPUs' weights");
    }
    if (at_max.projector_on_gpu > 0) weights -= model.projector;  // fit measures the text model
    if (used_max <= target) return std::nullopt;  // short on one GPU, not in total: layers move
    const std::int64_t n_block = model.spec.n_layer;
    const std::int64_t pinned =
        gpu_layers < 0 ? n_block : std::min<std::int64_t>(gpu_layers, n_block);
    if (nd > 1 && pinned > 0) {
      const Bytes per_layer = weights / pinned;
      target -= static_cast<Bytes>(nd + 1) * per_layer / (model.spec.moe.present() ? 6 : 2);
    }
    const Estimate at_min = at(k.fit_min_ctx);
    Bytes used_min = 0;
    for (std::size_t i = 0; i < nd; ++i) {
      used_min = checked_add(used_min, at_min.devices[i].total(), "the GPUs' use");
    }
    if (target <= used_min || used_max <= used_min) return ShorterContext{k.fit_min_ctx, false};
    __extension__ typedef __int128 Wide;  // (max - min) x bytes overflows 64 bits
    std::int64_t ctx = k.fit_min_ctx + static_cast<std::int64_t>(Wide{max_ctx - k.fit_min_ctx} *
                                                                 Wide{target - used_min} /
                                                                 Wide{used_max - used_min});
    ctx = std::max(ctx - ctx % 256, k.fit_min_ctx);
    return ShorterContext{ctx, nd == 1};
  }

  // `model` as the engine runs it (`own_ctx`: its own num_ctx, beating the server's context)
  // with its layers placed on `place_on` (the request's GPUs, or the one GPU Ollama chose).
  // `projector_retry`: Ollama's second start with the projector in host memory.
  ModelRun run_model(const Model& model, std::optional<std::int64_t> own_ctx, const Knobs& k,
                     const std::vector<Bytes>& place_on, bool projector_retry = false) {
    const Engine& eng = llama_engine(deployment_.engine);
    const std::vector<Bytes>& gpus = request_.gpus;
    const bool llama_server = deployment_.engine == DeployEngine::llama_server;
    Config c;
    const Slots slots = engine_slots(eng, k.parallel);
    c.parallel = slots.parallel;
    c.kv_unified = slots.kv_unified;
    c.ctx = own_ctx ? *own_ctx : k.ctx.value_or(engine_default_ctx(model, eng, gpus));
    c.flash_attn = k.flash.value_or(true);
    c.kv_offload = k.kv_offload;
    c.op_offload = k.op_offload;
    // --n-cpu-moe keeps the experts of its first N blocks in host memory; on a dense model
    // llama.cpp's override pattern matches no tensor.
    if (k.cpu_moe && model.spec.moe.present()) c.cpu_moe = std::min(*k.cpu_moe, model.spec.n_layer);
    c.type_k = k.kv_k;
    c.type_v = k.kv_v;
    const std::int32_t total = model.spec.n_layer + 1;
    // A vision projector: llama-server offloads it to the first GPU unless --no-mmproj-offload,
    // whatever -ngl says (tools/server/server-context.cpp: mparams.use_gpu =
    // mmproj_use_gpu). Ollama decides (ollama_offloads_projector): with num_gpu unset it
    // offloads it even where --fit then offloads only some layers.
    if (projector_retry) {
      c.projector_offload = ProjectorOffload::cpu;
    } else if (model.projector > 0) {
      const bool offload =
          llama_server ? k.mmproj_offload
                       : ollama_offloads_projector(model.projector, place_on, k.gpu_layers, total);
      c.projector_offload = offload ? ProjectorOffload::gpu : ProjectorOffload::cpu;
    }
    if (!c.flash_attn && is_quantized(c.type_v)) {
      // Context creation fails: "quantized V cache was requested, but this requires Flash
      // Attention" (llama.cpp src/llama-context.cpp; Ollama passes the type on, engines.md
      // §1.3). The engine refuses the files as they are.
      throw Error(ErrorKind::bad_input,
                  fmt::format("a {} V cache needs flash attention, which the files turn off: "
                              "the engine does not start",
                              to_string(c.type_v)));
    }
    const std::pair<GgmlType, std::int64_t> heads[] = {{c.type_k, model.spec.head_dim_k()},
                                                       {c.type_v, model.spec.head_dim_v()}};
    for (const auto& [t, head] : heads) {
      if (c.flash_attn && !cache_type_fits_head(t, head)) {
        // llama_init_from_model refuses it with flash attention on or auto ("K cache type
        // q8_0 with block size 32 does not divide n_embd_head_k=80"); Ollama passes the type on
        // (fs/ggml/ggml.go SupportsFlashAttention compares the K and V heads only).
        throw Error(ErrorKind::bad_input,
                    fmt::format("a {} cache with flash attention needs heads that are a "
                                "multiple of {} elements, and {}'s are {}: the engine does not "
                                "start",
                                to_string(t), info(t).block_size, model.name, head));
      }
    }
    auto set_ctx = [&](Config& x, std::int64_t ctx) {
      x.ctx = ctx;
      const Batches b = engine_batches(model, eng, Backend::cuda, x.ctx, x.parallel, x.flash_attn,
                                       gpus, k.batch, k.ubatch);
      x.n_batch = b.n_batch;
      x.n_ubatch = b.n_ubatch;
    };
    set_ctx(c, c.ctx);
    // The layers the files pin: -ngl / num_gpu; with llama-server's --fit off, -ngl auto
    // is every layer (llama_model::n_gpu_layers, src/llama-model.cpp).
    std::optional<std::int32_t> pinned;
    if (k.gpu_layers) {
      pinned = *k.gpu_layers < 0 ? total : std::min(*k.gpu_layers, total);
    } else if (llama_server && !k.fit) {
      pinned = total;
    }
    ModelRun run;
    CheckedModel& m = run.checked;
    m.name = model.name;
    m.total_layers = total;
    m.embedding = !model.spec.causal;
    m.layers_chosen = !pinned.has_value();
    c.gpu_layers = pinned.value_or(total);

    const std::vector<Bytes> margins = fit_margins(model, k, place_on, c.projector_offload);
    bool fit_ends = false;
    std::optional<Estimate> as_is;  // the estimate of `c` when the context step made one
    if (llama_server && k.fit && !own_ctx && !k.ctx) {
      Estimate at_max = estimate_one(model, eng, c, place_on);
      const auto shorter = shorter_context(model, k, at_max, k.gpu_layers.value_or(-1), place_on,
                                           margins, [&](std::int64_t ctx) {
                                             Config x = c;
                                             set_ctx(x, ctx);
                                             return estimate_one(model, eng, x, place_on);
                                           });
      if (shorter) {
        run.ctx_shortened_from = c.ctx;
        set_ctx(c, shorter->ctx);
        fit_ends = shorter->fit_ends;
      } else {
        as_is = std::move(at_max);
      }
    }
    run.estimate = as_is ? std::move(*as_is) : estimate_one(model, eng, c, place_on);

    if (pinned || fit_ends) {
      m.verdict = within_fit(run.estimate, place_on, std::vector<Bytes>(place_on.size(), 0))
                      ? CheckVerdict::fits
                      : CheckVerdict::out_of_memory;
    } else {
      // llama.cpp's --fit (Ollama 0.30+ and llama-server): every layer if that leaves its
      // margin free on each GPU, else as many as do.
      const std::int32_t n_block = model.spec.n_layer;
      const bool experts_movable =
          eng.expert_offload && model.spec.moe.present() && !k.cpu_moe && n_block > 0;
      if (!within_fit(run.estimate, place_on, margins) && experts_movable) {
        // llama.cpp's --fit on a mixture of experts (fit_order.hpp, as the planner's step 2):
        // the routed experts go to RAM before whole layers leave the GPU.
        const std::optional<fit_order::ExpertPlacement> placed = fit_order::place_experts(
            total, n_block, [&](std::int32_t layers, std::int32_t cpu_moe) {
              Config x = c;
              x.gpu_layers = layers;
              x.cpu_moe = cpu_moe;
              return within_fit(estimate_one(model, eng, x, place_on), place_on, margins);
            });
        if (placed) {
          c.gpu_layers = placed->gpu_layers;
          c.cpu_moe = placed->cpu_moe;
          run.estimate = estimate_one(model, eng, c, place_on);
          m.verdict = CheckVerdict::spills;
        }
      }
      if (!within_fit(run.estimate, place_on, margins) && c.cpu_moe == 0) {
        // Every layer does not fit: the most of the others that do.
        c.gpu_layers = fit_order::most_gpu_layers(total - 1, [&](std::int32_t layers) {
          Config x = c;
          x.gpu_layers = layers;
          return within_fit(estimate_one(model, eng, x, place_on), place_on, margins);
        });
        run.estimate = estimate_one(model, eng, c, place_on);
        m.verdict = CheckVerdict::spills;
      }
    }
    if (m.verdict == CheckVerdict::out_of_memory && !llama_server && !projector_retry &&
        run.estimate.projector_on_gpu > 0) {
      // Ollama restarts llama-server once with the projector in host memory, and without its
      // fit target, when the start with it offloaded runs out of memory (llm/llama_server.go
      // retryWithMMProjCPUOffload, forceNoMMProjOffload).
      ModelRun again = run_model(model, own_ctx, k, place_on, true);
      again.projector_retried = true;
      return again;
    }
    const Estimate& est = run.estimate;
    m.ctx = est.config.ctx;
    m.parallel = est.config.parallel;
    m.kv_type = std::string(to_string(est.config.type_v));
    if (est.config.type_k != est.config.type_v) {
      m.kv_type = fmt::format("{}/{}", to_string(est.config.type_k), to_string(est.config.type_v));
    }
    m.flash_attention = est.config.flash_attn;
    m.gpu_layers = est.config.gpu_layers;
    m.cpu_moe = est.config.cpu_moe;
    for (std::size_t i = 0; i < place_on.size(); ++i) m.gpu_bytes.push_back(est.devices[i].total());
    m.ram_bytes = est.host().total();
    return run;
  }

  // Ollama on several GPUs without OLLAMA_SCHED_SPREAD runs a model on one GPU when its
  // preflight prediction fits 80 % of that GPU's free memory: the one with the most free
  // (server/sched.go; docs/engines.md §1.6 "Spreading"). The prediction is Ollama's own: the
  // file's size plus an f16 KV cache of min(num_ctx, trained) x slots tokens with the fewest KV
  // heads of any layer (llm.PredictServerVRAM). nullopt: spread over every GPU.
  std::optional<std::size_t> single_gpu(const Model& model, std::optional<std::int64_t> own_ctx,
                                        const Knobs& k,
                                        const std::vector<CheckedDevice>& devices) const {
    const std::vector<Bytes>& gpus = request_.gpus;
    if (deployment_.engine != DeployEngine::ollama || gpus.size() < 2 || k.spread) {
      return std::nullopt;
    }
    if (k.gpu_layers && *k.gpu_layers == 0) return std::nullopt;
    const ModelSpec& spec = model.spec;
    const Engine& eng = llama_engine(deployment_.engine);
    const Slots slots = engine_slots(eng, k.parallel);
    const std::int64_t ctx =
        own_ctx ? *own_ctx : k.ctx.value_or(engine_default_ctx(model, eng, gpus));
    const std::int64_t trained = spec.n_ctx_train > 0 ? spec.n_ctx_train : ctx;
    const std::int64_t tokens = std::min(ctx, trained) * (spec.causal ? slots.parallel : 1);
    std::int64_t kv_heads = spec.n_head_kv;
    for (const std::int32_t h : spec.n_head_kv_per_layer) {
      if (h > 0) kv_heads = std::min<std::int64_t>(kv_heads, h);
    }
    constexpr std::string_view what = "Ollama's prediction";
    const Bytes per_token_row =
        spec.n_head > 0 ? checked_mul(kv_heads, spec.n_embd / spec.n_head, what) : 0;
    const Bytes kv = checked_mul(
        checked_mul(checked_mul(4, spec.n_layer, what), per_token_row, what), tokens, what);
    const Bytes predicted = checked_add(model.weights.file_tensor_bytes, kv, what);
    std::optional<std::size_t> best;
    Bytes best_free = 0;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      const Bytes free =
          devices[i].capacity > devices[i].used ? devices[i].capacity - devices[i].used : 0;
      // predicted <= 0.8 x free, in integers
      if (checked_mul(predicted, 5, what) <= checked_mul(free, 4, what) &&
          (!best || free > best_free)) {
        best = i;
        best_free = free;
      }
    }
    return best;
  }

  void add_usage(CheckedDevice& d, const DeviceUsage& u) {
    constexpr std::string_view what = "a device's use";
    d.used = checked_add(d.used, u.total(), what);
    d.weights = checked_add(d.weights, u.weights, what);
    d.kv_cache = checked_add(d.kv_cache, u.kv_cache, what);
    d.compute = checked_add(d.compute, checked_add(u.compute, u.output, what), what);
    d.other = checked_add(d.other, u.overhead, what);
  }

  Evaluation evaluate(const Knobs& k) {
    return deployment_.engine == DeployEngine::vllm ? evaluate_vllm(k) : evaluate_llama(k);
  }

  Evaluation evaluate_llama(const Knobs& k) {
    Evaluation e;
    const std::vector<Bytes>& gpus = request_.gpus;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      e.devices.push_back(CheckedDevice{.name = fmt::format("GPU{}", i), .capacity = gpus[i]});
    }
    e.devices.push_back(CheckedDevice{.name = "RAM", .capacity = request_.ram});
    const std::int32_t n = static_cast<std::int32_t>(k.models.size());
    // OLLAMA_MAX_LOADED_MODELS: 0 is 3 per GPU (server/sched.go, defaultModelsPerGPU).
    e.max_loaded = k.max_loaded > 0 ? k.max_loaded : 3 * static_cast<std::int32_t>(gpus.size());
    bool any_oom = false;
    bool any_spill = false;
    for (std::size_t index = 0; index < k.models.size(); ++index) {
      const Model* model = k.models[index];
      const std::optional<std::int64_t> own_ctx = request_.models[index].ctx;
      const std::optional<std::size_t> one = single_gpu(*model, own_ctx, k, e.devices);
      ModelRun run = run_model(*model, own_ctx, k, one ? std::vector<Bytes>{gpus[*one]} : gpus);
      CheckedModel& m = run.checked;
      if (one) {
        add_usage(e.devices[*one], run.estimate.devices.front());
        add_usage(e.devices.back(), run.estimate.host());
        std::vector<Bytes> per_gpu(gpus.size(), 0);
        per_gpu[*one] = m.gpu_bytes.front();
        m.gpu_bytes = std::move(per_gpu);
      } else {
        for (std::size_t i = 0; i < e.devices.size(); ++i) {
          add_usage(e.devices[i], run.estimate.devices[i]);
        }
      }
      if (run.projector_retried) {
        e.findings.push_back(Finding(FindingKind::check_projector_retry, {{"model", m.name}}));
      }
      if (run.ctx_shortened_from) {
        e.findings.push_back(
            Finding(FindingKind::check_fit_ctx,
                    {{"model", m.name}, {"ctx", m.ctx}, {"model_max", *run.ctx_shortened_from}}));
      }
      if (m.verdict == CheckVerdict::out_of_memory) any_oom = true;
      if (m.verdict == CheckVerdict::spills) {
        any_spill = true;
        e.findings.push_back(
            Finding(FindingKind::check_spills, {{"model", m.name},
                                                {"gpu_layers", std::int64_t{m.gpu_layers}},
                                                {"total_layers", std::int64_t{m.total_layers}},
                                                {"cpu_moe", std::int64_t{m.cpu_moe}},
                                                {"ram_bytes", m.ram_bytes}}));
      } else if (m.gpu_layers < m.total_layers) {  // pinned by the files
        e.findings.push_back(Finding(FindingKind::check_pinned_layers,
                                     {{"model", m.name},
                                      {"gpu_layers", std::int64_t{m.gpu_layers}},
                                      {"total_layers", std::int64_t{m.total_layers}}}));
      }
      for (const Finding& note : run.estimate.notes) {
        if (note.kind == FindingKind::ctx_clamped || note.kind == FindingKind::embedding_one_slot ||
            note.kind == FindingKind::arch_one_slot) {
          Finding named = note;
          named.facts.insert(named.facts.begin(), Fact{"model", m.name});
          e.findings.push_back(std::move(named));
        }
      }
      e.models.push_back(std::move(m));
    }
    bool gpu_over = false;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      const CheckedDevice& d = e.devices[i];
      if (d.over() == 0) continue;
      gpu_over = true;
      if (n > 1 && !any_oom) continue;  // said once below, for the set
      e.findings.push_back(
          Finding(FindingKind::check_gpu_over, {{"device", d.name},
                                                {"used_bytes", d.used},
                                                {"capacity_bytes", d.capacity},
                                                {"over_bytes", d.over()},
                                                {"component", largest_component(d)}}));
    }
    if (n > 1 && gpu_over && !any_oom) {
      e.resident_together = false;
      const CheckedDevice& d = e.devices.front();
      e.findings.push_back(
          Finding(FindingKind::check_not_resident, {{"models", std::int64_t{n}},
                                                    {"used_bytes", d.used},
                                                    {"capacity_bytes", d.capacity},
                                                    {"over_bytes", d.over()},
                                                    {"max_loaded", std::int64_t{e.max_loaded}}}));
    }
    if (e.max_loaded < n) {
      e.resident_together = false;
      e.findings.push_back(
          Finding(FindingKind::check_max_loaded,
                  {{"max_loaded", std::int64_t{e.max_loaded}}, {"models", std::int64_t{n}}}));
    }
    const CheckedDevice& ram = e.devices.back();
    const bool ram_over = ram.over() > 0;
    if (ram_over) {
      e.findings.push_back(Finding(FindingKind::check_ram_over, {{"used_bytes", ram.used},
                                                                 {"capacity_bytes", ram.capacity},
                                                                 {"over_bytes", ram.over()}}));
    }
    if (any_oom || ram_over) {
      e.verdict = CheckVerdict::out_of_memory;
    } else if (any_spill) {
      e.verdict = CheckVerdict::spills;
    } else if (!e.resident_together) {
      e.verdict = CheckVerdict::take_turns;
    }
    return e;
  }

  VllmRequest vllm_request(const Knobs& k) const {
    VllmRequest r = vllm_settings(k);
    r.gpus = request_.gpus;
    return r;
  }

  // The model as vLLM loads it: a catalog entry as its checkpoint in the deployment's dtype.
  Model vllm_model(const Knobs& k) const {
    const CheckModel& m = request_.models.front();
    if (!m.from_catalog) return *k.models.front();
    return vllm_checkpoint_model(*k.models.front(), k.dtype);
  }

  Evaluation evaluate_vllm(const Knobs& k) {
    Evaluation e;
    const Model model = vllm_model(k);
    const VllmEstimate v = vllm_one(model, vllm_request(k));
    CheckedModel m;
    m.name = model.name;
    m.ctx = v.max_model_len;
    m.parallel = v.max_num_seqs;
    m.kv_type = std::string(to_string(v.kv_cache_dtype));
    m.total_layers = model.spec.n_layer + 1;
    m.gpu_layers = m.total_layers;
    for (const VllmDevice& d : v.devices) {
      // The budget: weights, activation peak, non-torch memory, CUDA graphs and the KV cache
      // of one request at full length (vLLM's own start-up condition).
      CheckedDevice c{.name = d.name, .capacity = d.total};
      constexpr std::string_view what = "a device's use";
      c.weights = d.weights;
      c.kv_cache = v.kv_needed;
      c.compute = d.activation;
      c.other = checked_add(checked_add(d.pre_snapshot, d.non_torch, what),
                            checked_add(d.cuda_graph, d.outside_budget, what), what);
      c.used = checked_add(checked_add(c.weights, c.kv_cache, what),
                           checked_add(c.compute, c.other, what), what);
      m.gpu_bytes.push_back(c.used);
      e.devices.push_back(c);
    }
    e.devices.push_back(CheckedDevice{.name = "RAM", .capacity = request_.ram});
    if (!v.startup_ok && !v.devices.empty()) {
      const VllmDevice& d = v.devices.front();
      const Bytes free = d.total - d.pre_snapshot;
      e.findings.push_back(
          Finding(FindingKind::check_vllm_startup, {{"device", d.name},
                                                    {"free_bytes", free},
                                                    {"requested_bytes", v.requested},
                                                    {"over_bytes", v.requested - free}}));
    }
    if (!v.kv_ok && !v.devices.empty()) {
      const VllmDevice& d = v.devices.front();
      const Bytes available = std::max<Bytes>(d.kv_cache, 0);
      e.findings.push_back(
          Finding(FindingKind::check_vllm_no_kv, {{"device", d.name},
                                                  {"kv_needed_bytes", v.kv_needed},
                                                  {"kv_available_bytes", available},
                                                  {"over_bytes", v.kv_needed - d.kv_cache},
                                                  {"weights_bytes", d.weights}}));
    }
    m.verdict = v.fits() ? CheckVerdict::fits : CheckVerdict::does_not_start;
    e.verdict = m.verdict;
    e.models.push_back(std::move(m));
    return e;
  }

  bool fits(const Knobs& k) { return evaluate(k).verdict == CheckVerdict::fits; }

  CheckFix make_fix(const Knobs& k, Finding what, std::vector<SettingChange> changes) {
    CheckFix fix;
    fix.what = std::move(what);
    fix.changes = std::move(changes);
    const Evaluation e = evaluate(k);
    fix.fits = e.verdict == CheckVerdict::fits;
    fix.gpu_used = e.largest_gpu_use();
    for (const CheckedModel& m : e.models) {
      fix.gpu_layers += m.gpu_layers;
      fix.total_layers += m.total_layers;
      fix.cpu_moe += m.cpu_moe;
    }
    return fix;
  }

  // Whether a fix may change `setting` (CheckRequest::keep).
  bool may_change(EngineSetting setting) const {
    const auto kept = [&](EngineSetting s) {
      return std::find(request_.keep.begin(), request_.keep.end(), s) != request_.keep.end();
    };
    if (setting == EngineSetting::kv_cache_type || setting == EngineSetting::kv_cache_type_k ||
        setting == EngineSetting::kv_cache_type_v) {
      return !kept(EngineSetting::kv_cache_type) && !kept(EngineSetting::kv_cache_type_k) &&
             !kept(EngineSetting::kv_cache_type_v);
    }
    return !kept(setting);
  }

  bool may_use_q8_cache(const Knobs& k) const {
    return (!is_quantized(k.kv_k) || !is_quantized(k.kv_v)) &&
           std::all_of(
               k.models.begin(), k.models.end(),
               [](const Model* m) { return cache_type_fits_heads(m->spec, GgmlType::q8_0); }) &&
           may_change(EngineSetting::kv_cache_type) &&
           (k.flash == std::optional<bool>(true) || may_change(EngineSetting::flash_attention));
  }

  // The q8_0 cache's changes: both types, and flash attention unless it is on already.
  std::vector<SettingChange> kv_q8_changes(const Knobs& base) const {
    std::vector<SettingChange> changes;
    if (deployment_.engine == DeployEngine::ollama) {
      changes.push_back({EngineSetting::kv_cache_type, "q8_0"});
    } else {
      changes.push_back({EngineSetting::kv_cache_type_k, "q8_0"});
      changes.push_back({EngineSetting::kv_cache_type_v, "q8_0"});
    }
    if (base.flash != std::optional<bool>(true)) {
      changes.push_back({EngineSetting::flash_attention, "on"});
    }
    return changes;
  }

  // The model with the largest weights (the one a smaller quantization helps most).
  static std::size_t biggest_model(const Knobs& k) {
    std::size_t biggest = 0;
    for (std::size_t i = 1; i < k.models.size(); ++i) {
      if (k.models[i]->weights.file_tensor_bytes > k.models[biggest]->weights.file_tensor_bytes) {
        biggest = i;
      }
    }
    return biggest;
  }

  // Smaller quantizations of model `i`, largest first.
  std::vector<const Model*> smaller_models(const Knobs& k, std::size_t i) const {
    std::vector<const Model*> smaller;
    for (const Model& alt : request_.models[i].alternatives) {
      if (alt.weights.file_tensor_bytes < k.models[i]->weights.file_tensor_bytes) {
        smaller.push_back(&alt);
      }
    }
    std::sort(smaller.begin(), smaller.end(), [](const Model* a, const Model* b) {
      return a->weights.file_tensor_bytes > b->weights.file_tensor_bytes;
    });
    return smaller;
  }

  // When no single change fits: the same changes in the same order, each on top of the last,
  // until it fits; when even all of them do not, the last configuration (the closest).
  std::optional<CheckFix> combined_llama(const Knobs& base) {
    const CheckedModel probe =
        run_model(*base.models.front(), request_.models.front().ctx, base, request_.gpus).checked;
    Knobs k = base;
    std::vector<SettingChange> changes;
    if (may_use_q8_cache(k)) {
      changes = kv_q8_changes(k);
      k.kv_k = k.kv_v = GgmlType::q8_0;
      k.flash = true;
    }
    const auto finish = [&] {
      return make_fix(k, Finding(FindingKind::check_fix_combined), changes);
    };
    if (!changes.empty() && fits(k)) return finish();
    if (probe.parallel > 1 && may_change(EngineSetting::parallel)) {
      const auto p = largest_fitting(k, 1, probe.parallel - 1, 1, [](Knobs& x, std::int64_t v) {
        x.parallel = static_cast<std::int32_t>(v);
      });
      k.parallel = static_cast<std::int32_t>(p.value_or(1));
      changes.push_back({EngineSetting::parallel, std::to_string(*k.parallel)});
      if (p) return finish();
    }
    if (probe.ctx > min_fix_ctx && may_change(EngineSetting::context)) {
      const auto c = largest_fitting(k, min_fix_ctx, probe.ctx - 1, 1024,
                                     [](Knobs& x, std::int64_t v) { x.ctx = v; });
      k.ctx = c.value_or(min_fix_ctx);
      changes.push_back({EngineSetting::context, std::to_string(*k.ctx)});
      if (c) return finish();
    }
    const std::size_t biggest = biggest_model(k);
    const std::vector<const Model*> smaller = smaller_models(k, biggest);
    for (const Model* alt : smaller) {
      Knobs q = k;
      q.models[biggest] = alt;
      if (!fits(q)) continue;
      k = q;
      changes.push_back({EngineSetting::model, quantized_name(*alt)});
      return finish();
    }
    if (changes.empty()) return std::nullopt;
    return finish();  // the closest: it does not fit (fits = false)
  }

  // The largest value in [lo, hi] for which `set` then `fits` holds, assuming fewer never
  // fits worse; nullopt when even `lo` does not fit.
  template <class Set>
  std::optional<std::int64_t> largest_fitting(Knobs k, std::int64_t lo, std::int64_t hi,
                                              std::int64_t step, Set set) {
    if (lo > hi) return std::nullopt;
    set(k, lo);
    if (!fits(k)) return std::nullopt;
    std::int64_t a = lo / step;  // in units of `step`
    std::int64_t b = hi / step;
    while (a < b) {
      const std::int64_t mid = a + (b - a + 1) / 2;
      set(k, mid * step);
      if (fits(k)) {
        a = mid;
      } else {
        b = mid - 1;
      }
    }
    return std::max(lo, a * step);
  }

  std::vector<CheckFix> llama_fixes(const Knobs& base, CheckVerdict verdict) {
    std::vector<CheckFix> fixes;
    const bool ollama = deployment_.engine == DeployEngine::ollama;
    const CheckedModel probe =
        run_model(*base.models.front(), request_.models.front().ctx, base, request_.gpus).checked;
    // 1. A q8_0 cache, with flash attention on.
    if (may_use_q8_cache(base)) {
      Knobs k = base;
      k.kv_k = k.kv_v = GgmlType::q8_0;
      k.flash = true;
      fixes.push_back(make_fix(k, Finding(FindingKind::check_fix_kv_q8_0), kv_q8_changes(base)));
    }
    // 2. Fewer parallel slots: the most that fit.
    const std::int64_t slots = probe.parallel;
    if (slots > 1 && may_change(EngineSetting::parallel)) {
      const auto p = largest_fitting(base, 1, slots - 1, 1, [](Knobs& k, std::int64_t v) {
        k.parallel = static_cast<std::int32_t>(v);
      });
      if (p) {
        Knobs k = base;
        k.parallel = static_cast<std::int32_t>(*p);
        fixes.push_back(make_fix(k, Finding(FindingKind::check_fix_parallel, {{"parallel", *p}}),
                                 {{EngineSetting::parallel, std::to_string(*p)}}));
      }
    }
    // 3. A shorter context: the longest that fits, in steps of 1024.
    const std::int64_t ctx = probe.ctx;
    if (ctx > min_fix_ctx && may_change(EngineSetting::context)) {
      const auto c = largest_fitting(base, min_fix_ctx, ctx - 1, 1024,
                                     [](Knobs& k, std::int64_t v) { k.ctx = v; });
      if (c) {
        Knobs k = base;
        k.ctx = *c;
        fixes.push_back(make_fix(k, Finding(FindingKind::check_fix_ctx, {{"ctx", *c}}),
                                 {{EngineSetting::context, std::to_string(*c)}}));
      }
    }
    // 4. Fewer GPU layers, where the layers are pinned and the load runs out of memory.
    if (base.gpu_layers && verdict == CheckVerdict::out_of_memory && base.models.size() == 1) {
      const auto g = largest_fitting(
          base, 0, probe.gpu_layers - 1, 1,
          [](Knobs& k, std::int64_t v) { k.gpu_layers = static_cast<std::int32_t>(v); });
      if (g) {
        Knobs k = base;
        k.gpu_layers = static_cast<std::int32_t>(*g);
        fixes.push_back(make_fix(
            k,
            Finding(FindingKind::check_fix_gpu_layers,
                    {{"gpu_layers", *g}, {"total_layers", std::int64_t{probe.total_layers}}}),
            {{EngineSetting::gpu_layers, std::to_string(*g)}}));
      }
    }
    // 5. A smaller quantization of the largest model: the largest alternative that fits.
    const std::size_t biggest = biggest_model(base);
    const std::vector<const Model*> smaller = smaller_models(base, biggest);
    for (const Model* alt : smaller) {
      Knobs k = base;
      k.models[biggest] = alt;
      if (!fits(k)) continue;
      fixes.push_back(
          make_fix(k,
                   Finding(FindingKind::check_fix_quant,
                           {{"model", quantized_name(*alt)}, {"from", base.models[biggest]->name}}),
                   {{EngineSetting::model, quantized_name(*alt)}}));
      break;
    }
    // 6. Fewer models loaded at once (Ollama): the most that fit together.
    if (ollama && base.models.size() > 1 && verdict == CheckVerdict::take_turns &&
        request_.take_turns && may_change(EngineSetting::max_loaded_models)) {
      std::vector<Bytes> use;
      const Evaluation e = evaluate(base);
      for (const CheckedModel& m : e.models) use.push_back(m.gpu_bytes.front());
      std::sort(use.begin(), use.end());  // smallest first: the most that fit together
      Bytes sum = 0;
      std::int64_t together = 0;
      for (const Bytes b : use) {
        sum += b;
        if (sum > request_.gpus.front()) break;
        ++together;
      }
      if (together >= 1 && together < static_cast<std::int64_t>(base.models.size())) {
        CheckFix fix;
        fix.what = Finding(FindingKind::check_fix_max_loaded, {{"max_loaded", together}});
        fix.changes = {{EngineSetting::max_loaded_models, std::to_string(together)}};
        fix.fits = true;  // the scheduler keeps at most that many: they take turns
        fix.gpu_used = e.largest_gpu_use();
        fixes.push_back(std::move(fix));
      }
    }
    return fixes;
  }

  std::vector<CheckFix> vllm_fixes(const Knobs& base) {
    std::vector<CheckFix> fixes;
    const Evaluation now = evaluate(base);
    // 1. An fp8 KV cache.
    if (base.kv_dtype != VllmKvDtype::fp8) {
      Knobs k = base;
      k.kv_dtype = VllmKvDtype::fp8;
      fixes.push_back(make_fix(k, Finding(FindingKind::check_fix_vllm_kv_fp8),
                               {{EngineSetting::kv_cache_dtype, "fp8"}}));
    }
    // 2. Fewer sequences at once.
    const std::int64_t seqs = now.models.front().parallel;
    if (seqs > 1) {
      const auto s = largest_fitting(base, 1, seqs - 1, 1, [](Knobs& k, std::int64_t v) {
        k.max_num_seqs = static_cast<std::int32_t>(v);
      });
      if (s) {
        Knobs k = base;
        k.max_num_seqs = static_cast<std::int32_t>(*s);
        fixes.push_back(make_fix(k,
                                 Finding(FindingKind::check_fix_vllm_seqs, {{"max_num_seqs", *s}}),
                                 {{EngineSetting::max_num_seqs, std::to_string(*s)}}));
      }
    }
    // 3. A shorter maximum length, in vLLM's blocks of 16.
    const std::int64_t len = now.models.front().ctx;
    if (len > min_fix_len) {
      const auto l = largest_fitting(base, min_fix_len, len - 1, vllm_block_size,
                                     [](Knobs& k, std::int64_t v) { k.max_model_len = v; });
      if (l) {
        Knobs k = base;
        k.max_model_len = *l;
        fixes.push_back(make_fix(k,
                                 Finding(FindingKind::check_fix_vllm_len, {{"max_model_len", *l}}),
                                 {{EngineSetting::max_model_len, std::to_string(*l)}}));
      }
    }
    // 4. fp8 weights, for a 16-bit checkpoint.
    if (request_.models.front().from_catalog && base.dtype != VllmDtype::fp8) {
      Knobs k = base;
      k.dtype = VllmDtype::fp8;
      fixes.push_back(make_fix(k, Finding(FindingKind::check_fix_vllm_fp8),
                               {{EngineSetting::quantization, "fp8"}}));
    }
    return fixes;
  }
};

}  // namespace

std::string quantized_name(const Model& model) {
  const std::string_view quant = to_string(model.file_type);
  const auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  if (lower(model.name).ends_with(lower(std::string(quant)))) return model.name;
  return fmt::format("{} {}", model.name, quant);
}

CheckResult check_deployment(const Deployment& deployment, const CheckRequest& request) {
  return Checker(deployment, request).run();
}

}  // namespace vramplan
