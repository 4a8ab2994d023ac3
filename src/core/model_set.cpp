// Several models on one Ollama server (model_set.hpp): the set becomes the deployment the
// command line describes, check_deployment() evaluates it, and `fit` applies the first of
// check's single changes that fits and touches nothing the user fixed.
#include <vramplan/model_set.hpp>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <vramplan/deployment.hpp>
#include <vramplan/error.hpp>
#include <vramplan/limits.hpp>

namespace vramplan {
namespace {

// The server settings of a set, as the engine reads them, by setting.
using Settings = std::map<EngineSetting, std::string>;

constexpr DeployEngine ollama = DeployEngine::ollama;

Deployment deployment_of(const Settings& settings) {
  DeploymentInput input;
  input.engine = ollama;
  for (const auto& [setting, value] : settings) {
    input.environment.push_back(EnvEntry{.name = std::string(setting_default_name(ollama, setting)),
                                         .value = setting_value_text(ollama, setting, value),
                                         .origin = {}});
  }
  return interpret_deployment(input);
}

// Applies `fix` to the settings and the models (a model change names a smaller quantization of
// one of them).
void apply(const CheckFix& fix, Settings& settings, std::vector<CheckModel>& models) {
  for (const SettingChange& c : fix.changes) {
    if (c.setting != EngineSetting::model) {
      settings[c.setting] = c.value;
      continue;
    }
    for (CheckModel& m : models) {
      const auto alt = std::find_if(m.alternatives.begin(), m.alternatives.end(),
                                    [&](const Model& a) { return quantized_name(a) == c.value; });
      if (alt != m.alternatives.end()) {
        m.model = *alt;
        m.model.name = c.value;  // the table names the quantization it now is
        break;
      }
    }
  }
}

// The first causal model's figures: the settings Ollama applies to every model of the set
// (embedding models get their own, smaller context).
const CheckedModel& chat_model(const CheckResult& result) {
  for (const CheckedModel& m : result.models) {
    if (!m.embedding) return m;
  }
  return result.models.front();
}

// The server's context as it applies to the set: the first causal model's that has none of its
// own; nullopt when there is none (the variable is then not written: Ollama's default stays).
std::optional<std::int64_t> server_ctx(const CheckResult& result,
                                       const std::vector<CheckModel>& models) {
  for (std::size_t i = 0; i < models.size() && i < result.models.size(); ++i) {
    if (!result.models[i].embedding && !models[i].ctx) return result.models[i].ctx;
  }
  return std::nullopt;  // an embedding model's context is its own maximum, not the server's
}

// The smallest utilisation, in vLLM's 0.01 steps, whose KV pool holds one request of
// r.max_model_len; nullopt when not even the whole GPU does. A larger budget only adds KV cache,
// so a binary search finds it (the start-up and warm-up checks, which a large budget fails, are
// the caller's).
std::optional<std::int32_t> smallest_util(const Model& model, VllmRequest r) {
  const auto holds = [&](std::int32_t percent) {
    r.util_x10000 = percent * 100;
    const VllmEstimate e = vllm_estimate(model, r);
    const Bytes kv = e.devices.front().kv_cache;
    return kv > 0 && e.kv_needed <= kv;
  };
  std::int32_t lo = 1;
  std::int32_t hi = 100;
  if (!holds(hi)) return std::nullopt;
  while (lo < hi) {
    const std::int32_t mid = lo + (hi - lo) / 2;
    if (holds(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo * 100;
}

// A vLLM container of the set on `gpu` bytes: as given, or (fit, no utilisation given) with
// the smallest utilisation, in vLLM's 0.01 steps, whose budget serves one request of its length.
VllmServicePlan plan_vllm_service(const VllmService& service, const SetRequest& set, Bytes gpu) {
  VllmRequest r = service.request;
  r.gpus = {gpu};
  if (!r.max_model_len) {
    const std::int64_t model_max = service.model.spec.n_ctx_train;
    r.max_model_len = set.ctx.value_or(model_max > 0 ? std::min(model_max, vllm_set_default_len)
                                                     : vllm_set_default_len);
  }
  VllmServicePlan out;
  out.model_ref = service.model_ref;
  const std::optional<std::int32_t> smallest = smallest_util(service.model, r);
  if (set.fitted && !r.util_x10000) {
    // When not even the whole GPU holds it, the closest attempt is vLLM's default.
    if (smallest) r.util_x10000 = *smallest;
    out.util_chosen = smallest.has_value();
  }
  out.plan.estimate = vllm_estimate(service.model, r);
  const VllmEstimate& e = out.plan.estimate;
  // As for one vLLM: it starts when the budget holds one request; the sampler warm-up outside
  // it is part of the footprint, so a set without room for it does not fit.
  out.plan.fits = e.fits();
  // A utilisation given (or vLLM's default) that is not the smallest: say which is.
  if (!out.util_chosen && smallest && *smallest != e.util_x10000) {
    out.plan.estimate.notes.push_back(
        Finding(FindingKind::set_vllm_smallest_util,
                {{"model", service.name.empty() ? service.model.name : service.name},
                 {"util_x10000", e.util_x10000},
                 {"smallest_x10000", *smallest},
                 {"max_model_len", e.max_model_len}}));
  }
  constexpr std::string_view what = "a vLLM container's memory";
  const VllmDevice& d = e.devices.front();
  out.footprint = checked_add(checked_add(d.pre_snapshot, e.requested, what),
                              checked_add(e.cuda_graph_outside, e.sampler_need, what), what);
  return out;
}

// The row of a vLLM container in the set's tables, and its share of the GPU's totals.
void add_vllm_row(const VllmServicePlan& service, const Model& model, const std::string& name,
                  CheckResult& result) {
  const VllmEstimate& e = service.plan.estimate;
  for (const Finding& f : e.notes) {
    if (f.kind == FindingKind::set_vllm_smallest_util) result.findings.push_back(f);
  }
  const VllmDevice& d = e.devices.front();
  CheckedModel m;
  m.name = name;
  m.engine = DeployEngine::vllm;
  m.ctx = e.max_model_len;
  m.parallel = e.max_num_seqs;
  m.kv_type = std::string(to_string(e.kv_cache_dtype));
  m.total_layers = model.spec.n_layer + 1;
  m.gpu_layers = m.total_layers;
  m.gpu_bytes = {service.footprint};
  m.verdict = service.plan.fits ? CheckVerdict::fits : CheckVerdict::does_not_start;
  result.models.push_back(std::move(m));
  constexpr std::string_view what = "a device's use";
  CheckedDevice& gpu = result.devices.front();
  gpu.weights = checked_add(gpu.weights, d.weights, what);
  gpu.kv_cache = checked_add(gpu.kv_cache, std::max<Bytes>(d.kv_cache, 0), what);
  gpu.compute = checked_add(gpu.compute, d.activation, what);
  // The budget's rest (non-torch memory, graphs inside it), the CUDA context, graphs outside
  // it and the sampler warm-up; a budget too small for the weights counts as the budget.
  const Bytes parts =
      checked_add(checked_add(d.weights, std::max<Bytes>(d.kv_cache, 0), what), d.activation, what);
  const Bytes rest = service.footprint > parts ? service.footprint - parts : 0;
  gpu.other = checked_add(gpu.other, rest, what);
  gpu.used = checked_add(gpu.used, std::max(service.footprint, parts), what);
  if (!e.kv_ok) {
    result.findings.push_back(Finding(FindingKind::check_vllm_no_kv,
                                      {{"device", d.name},
                                       {"kv_needed_bytes", e.kv_needed},
                                       {"kv_available_bytes", std::max<Bytes>(d.kv_cache, 0)},
                                       {"over_bytes", e.kv_needed - d.kv_cache},
                                       {"weights_bytes", d.weights}}));
  }
}

// The Ollama server's part of the set on `gpus` (what the vLLM containers leave).
void plan_ollama(const SetRequest& request, const std::vector<Bytes>& gpus, SetPlan& plan) {
  const std::int64_t n = static_cast<std::int64_t>(request.models.size());
  Settings settings;
  if (request.ctx) settings[EngineSetting::context] = std::to_string(*request.ctx);
  if (request.parallel) settings[EngineSetting::parallel] = std::to_string(*request.parallel);
  if (request.kv_type)
    settings[EngineSetting::kv_cache_type] = std::string(to_string(*request.kv_type));
  if (request.flash_attn)
    settings[EngineSetting::flash_attention] = *request.flash_attn ? "on" : "off";
  // fit: room for every model at once, whatever Ollama's default (3 per GPU) would allow; it
  // is never 1 while two models must stay loaded.
  if (request.fitted && n > 1) settings[EngineSetting::max_loaded_models] = std::to_string(n);
  // Several GPUs: the evaluation splits each model's layers over all of them, which Ollama does
  // only with OLLAMA_SCHED_SPREAD (otherwise it puts a model that fits in 80 % of one GPU on that
  // GPU alone: server/sched.go, docs/engines.md §1.3).
  if (gpus.size() > 1) settings[EngineSetting::sched_spread] = "on";

  std::vector<CheckModel> models = request.models;
  // What the user fixed is never changed.
  std::vector<EngineSetting> keep;
  if (request.ctx) keep.push_back(EngineSetting::context);
  if (request.parallel) keep.push_back(EngineSetting::parallel);
  if (request.kv_type) keep.push_back(EngineSetting::kv_cache_type);
  if (request.flash_attn) keep.push_back(EngineSetting::flash_attention);
  const auto evaluate = [&](bool take_turns) {
    const CheckRequest check{
        .models = models, .gpus = gpus, .ram = request.ram, .keep = keep, .take_turns = take_turns};
    return check_deployment(request.ollama ? *request.ollama : deployment_of(settings), check);
  };
  // Loaded together first: check's single changes, else its changes combined; taking turns
  // only when nothing keeps every model loaded.
  plan.result = evaluate(false);
  std::vector<EngineSetting> changed;
  if (request.fitted && !plan.result.fits()) {
    std::optional<CheckFix> chosen = plan.result.fix;
    if (!chosen || !chosen->fits) {
      CheckResult turns = evaluate(true);
      if (turns.fix && turns.fix->fits) chosen = std::move(turns.fix);
    }
    if (chosen) {
      apply(*chosen, settings, models);
      for (const SettingChange& c : chosen->changes) changed.push_back(c.setting);
      plan.changes = chosen->changes;
      plan.decisions.push_back(chosen->what);
      plan.result = evaluate(false);
    }
  }
  const CheckVerdict v = plan.result.verdict;
  const bool turns_chosen =
      std::find(changed.begin(), changed.end(), EngineSetting::max_loaded_models) != changed.end();
  plan.fits = v == CheckVerdict::fits || v == CheckVerdict::spills ||
              (v == CheckVerdict::take_turns && turns_chosen);
  // A model's own context is not the server's: it goes in its Modelfile or its requests.
  for (std::size_t i = 0; i < models.size() && i < plan.result.models.size(); ++i) {
    if (models[i].ctx) {
      plan.result.findings.push_back(
          Finding(FindingKind::set_own_ctx,
                  {{"model", plan.result.models[i].name}, {"ctx", *models[i].ctx}}));
    }
  }
  // How they take turns (server/sched.go findRunnerToUnload; docs/engines.md §1.6).
  if (v == CheckVerdict::take_turns) {
    plan.result.findings.push_back(
        Finding(FindingKind::set_eviction, {{"keep_alive", std::string("5m")}}));
  }

  // The settings written for the set: what was given or chosen, and Ollama's defaults made
  // explicit from the evaluation (the context of the chat model without its own, its slots, an
  // f16 cache).
  const CheckedModel& chat = chat_model(plan.result);
  if (const std::optional<std::int64_t> ctx = server_ctx(plan.result, models)) {
    settings.try_emplace(EngineSetting::context, std::to_string(*ctx));
  }
  settings.try_emplace(EngineSetting::parallel, std::to_string(chat.parallel));
  settings.try_emplace(EngineSetting::max_loaded_models, std::to_string(plan.result.max_loaded));
  settings.try_emplace(EngineSetting::kv_cache_type, chat.kv_type);
  settings.try_emplace(EngineSetting::flash_attention, chat.flash_attention ? "on" : "off");
  for (const auto& [setting, value] : settings) {
    const bool was_changed = std::find(changed.begin(), changed.end(), setting) != changed.end();
    plan.settings.push_back(SetSetting{.setting = setting, .value = value, .changed = was_changed});
  }
}

}  // namespace

SetPlan plan_model_set(const SetRequest& request) {
  if (request.models.size() + request.vllm.size() < 2) {
    throw Error(ErrorKind::invalid_setting, "a model set needs at least two models");
  }
  if (request.ollama && request.fitted) {
    throw Error(ErrorKind::internal, "a set read from files is evaluated, not fitted");
  }
  if (!request.vllm.empty() && request.gpus.size() != 1) {
    throw Error(ErrorKind::invalid_setting, "separate vLLM containers are planned on one GPU");
  }
  SetPlan plan;
  Bytes reserved = 0;
  for (const VllmService& s : request.vllm) {
    plan.vllm.push_back(plan_vllm_service(s, request, request.gpus.front()));
    reserved = checked_add(reserved, plan.vllm.back().footprint, "the vLLM containers' memory");
  }
  std::vector<Bytes> gpus = request.gpus;
  // What Ollama finds free once the vLLM containers run (at least a MiB, so that a set whose
  // containers take everything is still evaluated: it places nothing on the GPU).
  if (!request.vllm.empty()) gpus.front() = std::max<Bytes>(gpus.front() - reserved, mib);
  if (!request.models.empty()) {
    plan_ollama(request, gpus, plan);
  } else {
    plan.result.engine = DeployEngine::vllm;
    plan.result.devices = {CheckedDevice{.name = "GPU0", .capacity = request.gpus.front()},
                           CheckedDevice{.name = "RAM", .capacity = request.ram}};
    plan.fits = true;
  }
  if (request.vllm.empty()) return plan;

  CheckedDevice& gpu = plan.result.devices.front();
  const Bytes ollama_used = gpu.used;
  gpu.capacity = request.gpus.front();
  for (std::size_t i = 0; i < plan.vllm.size(); ++i) {
    const VllmService& s = request.vllm[i];
    add_vllm_row(plan.vllm[i], s.model, s.name.empty() ? s.model.name : s.name, plan.result);
    plan.fits = plan.fits && plan.vllm[i].plan.fits;
  }
  plan.result.findings.push_back(
      Finding(FindingKind::set_vllm_reserved,
              {{"device", gpu.name},
               {"containers", static_cast<std::int64_t>(plan.vllm.size())},
               {"reserved_bytes", reserved},
               {"left_bytes", gpu.capacity > reserved ? gpu.capacity - reserved : 0},
               {"ollama_bytes", ollama_used},
               {"ollama_models", static_cast<std::int64_t>(request.models.size())}}));
  if (gpu.over() > 0) {
    plan.fits = false;
    plan.result.findings.push_back(
        Finding(FindingKind::check_gpu_over, {{"device", gpu.name},
                                              {"used_bytes", gpu.used},
                                              {"capacity_bytes", gpu.capacity},
                                              {"over_bytes", gpu.over()},
                                              {"component", std::string("vLLM budgets")}}));
  }
  if (!plan.fits && plan.result.verdict == CheckVerdict::fits) {
    plan.result.verdict = CheckVerdict::out_of_memory;
  }
  return plan;
}

}  // namespace vramplan
