#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <vramplan/report/json.hpp>
#include <vramplan/report/table.hpp>

#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

Json strings(const std::vector<std::string>& values) {
  Json array = Json::array();
  for (const std::string& v : values) array.push_back(v);
  return array;
}

}  // namespace

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
