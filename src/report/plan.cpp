#include <vramplan/report/plan.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/report/json.hpp>

#include "findings_json.hpp"
#include "json_text.hpp"
#include "plan_sections.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;  // clang 14 does not deduce aggregate bases by itself

Json value_json(const PlanValue& v) {
  return std::visit([](const auto& value) { return Json(value); }, v.value);
}

std::string bytes_key(std::string_view component) { return std::string(component) + "_bytes"; }

Json device_json(const PlanDevice& d) {
  Json components = Json::object();
  for (const Component& c : d.components) components[bytes_key(c.name)] = c.bytes;
  Json j{{"name", d.name},
         {"kind", d.kind == DeviceKind::gpu ? "gpu" : "host"},
         {"bytes", d.total()},
         {"capacity_bytes", d.capacity}};
  j["layers"] = d.layers ? Json(*d.layers) : Json();
  j["components"] = components;
  return j;
}

// Per component over every device, in the order the components first appear.
Json components_json(const Plan& plan) {
  Json sums = Json::object();
  for (const PlanDevice& d : plan.devices) {
    for (const Component& c : d.components) {
      const std::string key = bytes_key(c.name);
      const Bytes before = sums.contains(key) ? sums[key].get<Bytes>() : 0;
      sums[key] = checked_add(before, c.bytes, "a component's total");
    }
  }
  return sums;
}

Json llama_details_json(const LlamaPlan& plan, bool fitted) {
  const Estimate& e = plan.estimate;
  const Config& c = e.config;
  Json j;
  j["backend"] = std::string(to_string(e.backend));
  j["kv_type"] =
      Json{{"k", std::string(to_string(c.type_k))}, {"v", std::string(to_string(c.type_v))}};
  j["n_ctx"] = e.shape.n_ctx;
  j["n_ctx_seq"] = e.shape.n_ctx_seq;
  j["n_stream"] = e.shape.n_stream;
  j["n_outputs"] = e.n_outputs;
  if (fitted) {
    Json per_gpu = Json::array();
    for (const Bytes b : plan.headroom_bytes) per_gpu.push_back(b);
    j["headroom"] = Json{{"profile", plan.headroom.profile},
                         {"fixed_bytes", plan.headroom.fixed},
                         {"fraction", plan.headroom.fraction},
                         {"explanation", plan.headroom.explanation},
                         {"bytes", per_gpu}};
    j["ram_reserve_bytes"] = plan.ram_reserve;
  }
  return j;
}

Json speed_json(const std::optional<SpeedEstimate>& speed) {
  if (!speed) return Json();
  return Json{{"decode_tokens_per_s", speed->decode_tokens_per_s},
              {"decode_at_ctx_tokens_per_s", speed->decode_at_ctx_tokens_per_s},
              {"ctx", speed->n_ctx},
              {"prefill_tokens_per_s", speed->prefill_tokens_per_s}};
}

Json figure_json(const Fact& f) {
  return std::visit([](const auto& v) { return Json(v); }, f.value);
}

// A finding plus `fits`, the changed plan's settings, figures and speed.
Json alternative_json(const PlanAlternative& a) {
  Json j = finding_json(a.change);
  j["fits"] = a.fits;
  Json settings = Json::object();
  for (const PlanValue& v : a.recommendation) settings[std::string(v.key)] = value_json(v);
  j["recommendation"] = settings;
  for (const Fact& f : a.figures) j[f.name] = figure_json(f);
  j["speed"] = speed_json(a.speed);
  return j;
}

std::string file_type(const Model& model, const Plan& plan) {
  if (const auto* vllm = std::get_if<VllmPlan>(&plan.detail)) return vllm_file_type(model, *vllm);
  return std::string(to_string(model.file_type));
}

}  // namespace

std::string render_plan_table(const Model& model, const Plan& plan, const TableOptions& options) {
  return std::visit(Overloaded{[&](const LlamaPlan& p) {
                                 return plan.fitted
                                            ? llama_fit_table(model, p, plan.speed, options)
                                            : llama_estimate_table(model, p, plan.speed, options);
                               },
                               [&](const VllmPlan& p) {
                                 return vllm_table(model, p, plan.fitted, plan.speed, options);
                               }},
                    plan.detail);
}

std::string render_plan_json(const Model& model, const Plan& plan) {
  Json j;
  j["schema_version"] = json_schema_version;
  j["command"] = plan.fitted ? "fit" : "estimate";
  j["fits"] = plan.fits;
  j["model"] = Json{{"name", model.name},
                    {"arch", model.spec.arch},
                    {"layers", model.spec.n_layer},
                    {"source", model.source},
                    {"file_type", file_type(model, plan)},
                    {"params", model.n_params}};
  j["engine"] = plan.engine != nullptr ? Json{{"name", std::string(plan.engine->name)},
                                              {"version", std::string(plan.engine->version)}}
                                       : Json{{"name", nullptr}, {"version", nullptr}};
  Json settings = Json::object();
  for (const PlanValue& v : plan.recommendation) settings[std::string(v.key)] = value_json(v);
  j["recommendation"] = settings;
  Json devices = Json::array();
  for (const PlanDevice& d : plan.devices) devices.push_back(device_json(d));
  j["estimate"] = Json{
      {"devices", devices}, {"components", components_json(plan)}, {"total_bytes", plan.total()}};
  j["decisions"] = findings_json(plan.decisions);
  j["reasons"] = findings_json(plan.reasons);
  Json suggestions = Json::array();
  for (const PlanSuggestion& s : plan.suggestions) {
    Json suggestion = finding_json(s.change);
    suggestion["fits"] = s.fits;
    for (const Fact& f : s.figures) suggestion[f.name] = figure_json(f);
    suggestions.push_back(suggestion);
  }
  j["suggestions"] = suggestions;
  Json alternatives = Json::array();
  for (const PlanAlternative& a : plan.alternatives) alternatives.push_back(alternative_json(a));
  j["alternatives"] = alternatives;
  j["notes"] = findings_json(plan.notes);
  j["speed"] = speed_json(plan.speed);
  j["details"] =
      std::visit(Overloaded{[&](const LlamaPlan& p) { return llama_details_json(p, plan.fitted); },
                            [](const VllmPlan& p) { return vllm_details_json(p); }},
                 plan.detail);
  return json_text(j);
}

std::string render_plan_env(const Model& model, const Plan& plan, const EnvOptions& options) {
  return std::visit(Overloaded{[&](const LlamaPlan& p) { return llama_env(model, p, options); },
                               [&](const VllmPlan& p) { return vllm_env(model, p, options); }},
                    plan.detail);
}

}  // namespace vramplan::report
