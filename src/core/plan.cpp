#include <vramplan/plan.hpp>

#include <string>
#include <utility>

namespace vramplan {
namespace {

constexpr std::string_view on_off(bool value) { return value ? "on" : "off"; }

std::vector<PlanValue> llama_settings(const Recommendation& r) {
  return {
      {"gpu_layers", Setting::gpu_layers, std::int64_t{r.gpu_layers}},
      {"total_layers", Setting::none, std::int64_t{r.total_layers}},
      {"ctx", Setting::ctx, r.ctx},
      {"parallel", Setting::parallel, std::int64_t{r.parallel}},
      {"kv_type", Setting::kv_type, std::string(to_string(r.kv_type))},
      {"flash_attention", Setting::flash_attn, std::string(on_off(r.flash_attention))},
      {"n_batch", Setting::batch, r.n_batch},
      {"n_ubatch", Setting::ubatch, r.n_ubatch},
      {"kv_unified", Setting::none, r.kv_unified},
      {"cpu_moe", Setting::cpu_moe, std::int64_t{r.cpu_moe}},
      {"op_offload", Setting::none, std::string(on_off(r.op_offload))},
  };
}

std::vector<PlanDevice> llama_devices(const Estimate& e) {
  std::vector<PlanDevice> devices;
  for (const DeviceUsage& d : e.devices) {
    devices.push_back(PlanDevice{.name = d.name,
                                 .kind = d.kind,
                                 .capacity = d.capacity,
                                 .layers = d.layers,
                                 .components = {{"weights", d.weights},
                                                {"kv_cache", d.kv_cache},
                                                {"compute", d.compute},
                                                {"output", d.output},
                                                {"overhead", d.overhead}}});
  }
  return devices;
}

}  // namespace

Bytes PlanDevice::total() const {
  Bytes sum = 0;
  for (const Component& c : components) sum = checked_add(sum, c.bytes, "a device's total");
  return sum;
}

Bytes Plan::total() const {
  Bytes sum = 0;
  for (const PlanDevice& d : devices) sum = checked_add(sum, d.total(), "the plan's total");
  return sum;
}

Plan to_plan(LlamaPlan plan, bool fitted) {
  Plan out;
  const Estimate& e = plan.estimate;
  out.engine = e.engine;
  out.fitted = fitted;
  out.recommendation = llama_settings(plan.recommendation);
  out.devices = llama_devices(e);
  if (fitted) {
    out.fits = plan.fits;
  } else {
    // An estimate fits when every device whose capacity is known holds its total.
    out.fits = true;
    for (const PlanDevice& d : out.devices) {
      if (d.capacity > 0 && d.total() > d.capacity) out.fits = false;
    }
    plan.fits = out.fits;
  }
  out.decisions = plan.decisions;
  out.reasons = plan.reasons;
  out.notes = e.notes;
  for (const Suggestion& s : plan.suggestions) {
    out.suggestions.push_back(PlanSuggestion{
        .change = s.change, .fits = s.fits, .figures = {{"gpu_bytes", s.total_gpu}}});
  }
  for (const Alternative& a : plan.alternatives) {
    out.alternatives.push_back(PlanAlternative{.change = a.change,
                                               .fits = a.fits,
                                               .recommendation = llama_settings(a.recommendation),
                                               .figures = {{"gpus", std::int64_t{a.gpus}},
                                                           {"gpu_bytes", a.gpu_bytes},
                                                           {"gpu_capacity_bytes", a.gpu_capacity}},
                                               .speed = a.speed});
  }
  out.detail = std::move(plan);
  return out;
}

Plan to_plan(VllmPlan plan, bool fitted) {
  Plan out;
  const VllmEstimate& e = plan.estimate;
  out.engine = &engine(EngineId::vllm);
  out.fitted = fitted;
  out.fits = fitted ? plan.fits : e.fits();
  plan.fits = out.fits;
  out.recommendation = {
      {"max_model_len", Setting::max_model_len, e.max_model_len},
      {"gpu_memory_utilization", Setting::gpu_memory_utilization, e.util()},
      {"max_num_seqs", Setting::max_num_seqs, std::int64_t{e.max_num_seqs}},
      {"max_num_batched_tokens", Setting::max_num_batched_tokens, e.max_num_batched_tokens},
      {"kv_cache_dtype", Setting::kv_cache_dtype, std::string(to_string(e.kv_cache_dtype))},
      {"tensor_parallel_size", Setting::tensor_parallel, std::int64_t{e.tensor_parallel}},
      {"dtype", Setting::dtype, std::string(to_string(e.dtype))},
      {"enforce_eager", Setting::none, e.enforce_eager},
      {"cudagraph_estimate_in_budget", Setting::none, e.cudagraph_in_budget},
      {"vllm_release", Setting::none, vllm_release_name(e.release)},  // whose rules applied
  };
  if (e.int_quant) {
    // Only for a GPTQ/AWQ plan, so that every other plan reads as before.
    out.recommendation.push_back({"quantization", Setting::none, to_string(*e.int_quant)});
  }
  for (const VllmDevice& d : e.devices) {
    // What vLLM takes: everything but the room it leaves outside its budget.
    out.devices.push_back(PlanDevice{.name = d.name,
                                     .kind = DeviceKind::gpu,
                                     .capacity = d.total,
                                     .layers = std::nullopt,
                                     .components = {{"pre_snapshot", d.pre_snapshot},
                                                    {"weights", d.weights},
                                                    {"activation", d.activation},
                                                    {"non_torch", d.non_torch},
                                                    {"cuda_graph", d.cuda_graph},
                                                    {"kv_cache", d.kv_cache}}});
  }
  out.decisions = plan.decisions;
  out.reasons = plan.reasons;
  out.notes = e.notes;
  for (const VllmSuggestion& s : plan.suggestions) {
    out.suggestions.push_back(PlanSuggestion{
        .change = s.change,
        .fits = s.fits,
        .figures = {{"max_model_len", s.max_model_len}, {"kv_tokens", s.kv_tokens}}});
  }
  out.detail = std::move(plan);
  return out;
}

}  // namespace vramplan
