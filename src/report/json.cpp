#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include <vramplan/report/json.hpp>
#include <vramplan/report/table.hpp>

#include "findings_json.hpp"
#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

Json strings(const std::vector<std::string>& values) {
  Json array = Json::array();
  for (const std::string& v : values) array.push_back(v);
  return array;
}

Json device_json(const DeviceUsage& d) {
  return Json{{"name", d.name},
              {"kind", d.kind == DeviceKind::gpu ? "gpu" : "host"},
              {"bytes", d.total()},
              {"capacity_bytes", d.capacity},
              {"layers", d.layers},
              {"weights_bytes", d.weights},
              {"kv_cache_bytes", d.kv_cache},
              {"compute_bytes", d.compute},
              {"output_bytes", d.output},
              {"overhead_bytes", d.overhead}};
}

// The estimate object; `with_version` adds schema_version first (top-level use).
Json estimate_json(const Model& model, const Estimate& e, bool with_version) {
  Json j;
  if (with_version) j["schema_version"] = json_schema_version;
  j["model"] = Json{{"name", model.name},
                    {"arch", model.spec.arch},
                    {"layers", model.spec.n_layer},
                    {"source", model.source},
                    {"file_type", std::string(to_string(model.file_type))},
                    {"params", model.n_params}};
  j["engine"] = e.engine != nullptr ? Json{{"name", std::string(e.engine->name)},
                                           {"version", std::string(e.engine->version)}}
                                    : Json{{"name", nullptr}, {"version", nullptr}};
  const Config& c = e.config;
  j["config"] = Json{{"ctx", c.ctx},
                     {"parallel", c.parallel},
                     {"gpu_layers", c.gpu_layers},
                     {"total_layers", e.total_layers},
                     {"kv_type", Json{{"k", std::string(to_string(c.type_k))},
                                      {"v", std::string(to_string(c.type_v))}}},
                     {"flash_attention", on_off(c.flash_attn)},
                     {"n_batch", c.n_batch},
                     {"n_ubatch", c.n_ubatch},
                     {"kv_unified", c.kv_unified},
                     {"cpu_moe", c.cpu_moe},
                     {"backend", std::string(to_string(e.backend))},
                     {"n_ctx", e.shape.n_ctx},
                     {"n_ctx_seq", e.shape.n_ctx_seq},
                     {"n_stream", e.shape.n_stream},
                     {"n_outputs", e.n_outputs}};
  j["components"] = Json{{"weights_bytes", e.weights()},
                         {"kv_cache_bytes", e.kv_cache()},
                         {"compute_bytes", e.compute()},
                         {"output_bytes", e.output()},
                         {"overhead_bytes", e.overhead()}};
  Json devices = Json::array();
  for (const DeviceUsage& d : e.devices) devices.push_back(device_json(d));
  j["devices"] = devices;
  j["total_bytes"] = e.total();
  j["notes"] = findings_json(e.notes);
  return j;
}

}  // namespace

std::string render_estimate_json(const Model& model, const Estimate& estimate) {
  return json_text(estimate_json(model, estimate, true));
}

std::string render_fit_json(const Model& model, const Plan& plan) {
  const Recommendation& r = plan.recommendation;
  Json j;
  j["schema_version"] = json_schema_version;
  j["fits"] = plan.fits;
  j["recommendation"] = Json{{"gpu_layers", r.gpu_layers},
                             {"total_layers", r.total_layers},
                             {"ctx", r.ctx},
                             {"parallel", r.parallel},
                             {"kv_type", std::string(to_string(r.kv_type))},
                             {"flash_attention", on_off(r.flash_attention)},
                             {"n_batch", r.n_batch},
                             {"n_ubatch", r.n_ubatch},
                             {"kv_unified", r.kv_unified},
                             {"cpu_moe", r.cpu_moe}};
  Json per_gpu = Json::array();
  for (const Bytes b : plan.headroom_bytes) per_gpu.push_back(b);
  j["headroom"] = Json{{"profile", plan.headroom.profile},
                       {"fixed_bytes", plan.headroom.fixed},
                       {"fraction", plan.headroom.fraction},
                       {"explanation", plan.headroom.explanation},
                       {"bytes", per_gpu}};
  j["ram_reserve_bytes"] = plan.ram_reserve;
  j["decisions"] = findings_json(plan.decisions);
  j["reasons"] = findings_json(plan.reasons);
  Json suggestions = Json::array();
  for (const Suggestion& s : plan.suggestions) {
    Json suggestion = finding_json(s.change);
    suggestion["gpu_bytes"] = s.total_gpu;
    suggestion["fits"] = s.fits;
    suggestions.push_back(suggestion);
  }
  j["suggestions"] = suggestions;
  j["estimate"] = estimate_json(model, plan.estimate, false);
  return json_text(j);
}

std::string render_models_json(const std::vector<const CatalogEntry*>& entries) {
  Json models = Json::array();
  for (const CatalogEntry* e : entries) {
    Json quants = Json::array();
    for (const FileType q : e->quants) quants.push_back(std::string(to_string(q)));
    models.push_back(Json{{"id", e->id},
                          {"name", e->name},
                          {"ollama", strings(e->ollama)},
                          {"hf", strings(e->hf)},
                          {"arch", e->spec.arch},
                          {"params", std::llround(e->params_published)},
                          {"layers", e->spec.n_layer},
                          {"context", e->spec.n_ctx_train},
                          {"quants", quants},
                          {"default_quant", std::string(to_string(e->default_quant))},
                          {"checked", e->checked.empty() ? Json() : Json(e->checked)},
                          {"source", e->source}});
  }
  Json j;
  j["schema_version"] = json_schema_version;
  j["models"] = models;
  return json_text(j);
}

}  // namespace vramplan::report
