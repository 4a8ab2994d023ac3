// The llama.cpp memory model's front (Ollama, llama-server, the library): its flags become one
// FitRequest for `fit` and `estimate` alike (resolve_request), with the model's own defaults (an
// Ollama .params layer) acting as settings the user made; core plans it (planner.hpp).
#include <algorithm>

#include <fmt/format.h>

#include <vramplan/planner.hpp>
#include <vramplan/speed.hpp>

#include "devices.hpp"
#include "engine_front.hpp"
#include "flags.hpp"

namespace vramplan::cli {
namespace {

// The flags that only vLLM reads, refused here rather than ignored.
void refuse_vllm_flags(const PlanOptions& o) {
  const VllmFlags& f = o.vllm;
  const std::pair<bool, const char*> given[] = {
      {f.max_model_len.has_value(), "--max-model-len"},
      {f.gpu_memory_utilization.has_value(), "--gpu-memory-utilization"},
      {f.max_num_seqs.has_value(), "--max-num-seqs"},
      {f.max_num_batched_tokens.has_value(), "--max-num-batched-tokens"},
      {f.kv_cache_dtype.has_value(), "--kv-cache-dtype"},
      {f.dtype.has_value(), "--dtype"},
      {f.quantization.has_value(), "--quantization"},
      {f.gpu_name.has_value(), "--gpu-name"},
      {f.enforce_eager, "--enforce-eager"},
      {f.cudagraph_estimate.has_value(), "--cudagraph-estimate"}};
  for (const auto& [is_given, flag] : given) {
    if (is_given) throw Error(ErrorKind::usage, fmt::format("{} needs --engine vllm", flag));
  }
}

// The settings the flags fix, before the model is known.
FitRequest parse_settings(const PlanOptions& o, const Engine& engine, const Devices& devices,
                          Context& context) {
  FitRequest request;
  request.engine = &engine;
  request.vram = devices.vram;  // --vram, --gpu, auto: devices.hpp
  request.backend = parse_backend_flag(o.model.backend, !request.vram.empty());
  if (o.ram.has_value()) request.ram = parse_ram(*o.ram, "--ram", context);  // SIZE or auto
  if (o.fitted) request.headroom = parse_headroom(o.headroom);
  request.cpu_repack = parse_cpu_repack_flag(o.model.cpu_repack);
  if (o.op_offload.has_value()) {
    request.op_offload = op_offload_on(o);
    if (engine.id == EngineId::ollama) {
      throw Error(ErrorKind::usage,
                  "--op-offload needs --engine llamacpp or llamacpp-lib (Ollama starts "
                  "llama-server with op offload on)");
    }
  }
  if (o.ctx.has_value()) request.ctx = parse_token_count("--ctx", *o.ctx, 1, max_ctx_setting);
  if (o.parallel.has_value()) {
    request.parallel = static_cast<std::int32_t>(parse_integer("--parallel", *o.parallel, 1, 256));
  }
  // --kv-type auto (the default): fit chooses (FitRequest::kv_auto), estimate takes f16.
  if (o.kv_type.has_value() && *o.kv_type != "auto") request.kv_type = parse_kv_type(*o.kv_type);
  request.kv_auto = o.fitted;
  request.alternatives = o.fitted;  // fit offers other plans when this one spills (issue 11)
  if (o.flash_attn.has_value()) {
    request.flash_attn = parse_on_off_auto("--flash-attn", *o.flash_attn, true);
  }
  const BatchFlags batch = parse_batch_flags(engine, o.batch, o.ubatch, context);
  request.batch = batch.batch;
  request.ubatch = batch.ubatch;
  if (o.min_ctx.has_value()) {
    request.min_ctx = parse_token_count("--min-ctx", *o.min_ctx, 1, max_ctx_setting);
  }
  if (o.fitted && request.backend != Backend::cpu && request.vram.empty()) {
    throw Error(ErrorKind::usage, fmt::format("--backend {} needs --vram (the size of each GPU)",
                                              to_string(request.backend)));
  }
  check_kv_flash_attn(request.kv_type.value_or(GgmlType::f16), request.flash_attn.value_or(true));
  return request;
}

// The settings that need the model (layer counts), then its own defaults for those left unset:
// Ollama applies a .params layer to every request that does not override it. Returns what was
// taken from the model, as decisions.
std::vector<Finding> resolve_request(FitRequest& request, const PlanOptions& o,
                                     const io::LoadedModel& resolved, Context& context) {
  const Model& model = resolved.model;
  if (o.gpu_layers.has_value()) {
    request.gpu_layers = parse_gpu_layers(*o.gpu_layers, model.spec.n_layer + 1);
  }
  if (o.cpu_moe.has_value()) request.cpu_moe = parse_cpu_moe(*o.cpu_moe, model.spec.n_layer);
  std::vector<Finding> from_model;
  const io::ModelDefaults& defaults = resolved.defaults;
  if (!request.ctx && defaults.num_ctx) {
    request.ctx = *defaults.num_ctx;
    from_model.push_back(Finding(FindingKind::ctx_from_model,
                                 {{"ctx", *defaults.num_ctx}, {"origin", defaults.origin}}));
    if (!o.fitted) {
      warn(context, fmt::format("context {} from {}", *defaults.num_ctx, defaults.origin));
    }
  }
  if (!request.ubatch && defaults.num_batch) {
    request.ubatch = *defaults.num_batch;
    from_model.push_back(Finding(FindingKind::batch_from_model,
                                 {{"batch", *defaults.num_batch}, {"origin", defaults.origin}}));
  }
  if (!request.gpu_layers && defaults.num_gpu) {
    request.gpu_layers = std::min(*defaults.num_gpu, model.spec.n_layer + 1);
    from_model.push_back(
        Finding(FindingKind::gpu_layers_from_model,
                {{"gpu_layers", *request.gpu_layers}, {"origin", defaults.origin}}));
  }
  if (request.backend == Backend::cpu) {
    if (!request.vram.empty()) warn(context, "--vram is ignored with --backend cpu");
    if (request.gpu_layers.value_or(0) > 0) {
      warn(context, "--gpu-layers is ignored with --backend cpu");
      request.gpu_layers = 0;
    }
  }
  if (o.fitted && request.vram.empty() && request.ram == 0) {
    warn(context, "neither --vram nor --ram given: nothing to fit into, only the sizes are shown");
  }
  check_cpu_moe_engine(*request.engine, model, request.cpu_moe.value_or(0));
  return from_model;
}

PlannedModel plan_llamacpp(const PlanOptions& o, Context& context) {
  const Engine& engine = parse_engine(o.model.engine);
  const Devices devices = resolve_devices(o.model, context);
  FitRequest request = parse_settings(o, engine, devices, context);
  const double ram_bandwidth =
      o.ram_bandwidth
          ? static_cast<double>(parse_integer("--ram-bandwidth", *o.ram_bandwidth, 1, 100000))
          : 0.0;
  const Catalog catalog = load_catalog(o.model.catalogs, context);
  io::LoadedModel resolved = resolve_model(catalog, o.model, context, o.fitted);
  warn_notes(context, resolved.notes);
  const std::vector<Finding> from_model = resolve_request(request, o, resolved, context);

  request.exact_compute = true;  // the CUDA buffers of what is printed: the scheduler replay
  LlamaPlan plan = o.fitted ? fit(resolved.model, request, resolved.alternatives)
                            : estimate_plan(resolved.model, request);
  plan.decisions.insert(plan.decisions.begin(), from_model.begin(), from_model.end());
  warn_notes(context, plan.estimate.notes);
  // The speed of the plan on a known card (every GPU the same one).
  std::optional<SpeedEstimate> speed;
  const Gpu* card = devices.same_card();
  if (card != nullptr && request.backend != Backend::cpu) {
    const Recommendation& r = plan.recommendation;
    speed = plan_speed(resolved.model, *card, ram_bandwidth, {r.gpu_layers, r.cpu_moe}, r.kv_type,
                       plan.estimate.shape.n_ctx_seq);
    for (Alternative& a : plan.alternatives) {
      const Model& m = a.quant ? resolved.alternatives.at(*a.quant) : resolved.model;
      const Recommendation& ar = a.recommendation;
      a.speed =
          plan_speed(m, *card, ram_bandwidth, {ar.gpu_layers, ar.cpu_moe}, ar.kv_type, a.n_ctx_seq);
    }
  }
  PlannedModel out{.model = std::move(resolved.model),
                   .plan = to_plan(std::move(plan), o.fitted),
                   .model_ref = {}};
  out.plan.speed = speed;
  out.model_ref = out.model.name;
  return out;
}

}  // namespace

const EngineFront llamacpp_front{MemoryModel::llamacpp, nullptr, refuse_vllm_flags, plan_llamacpp};

}  // namespace vramplan::cli
