// Catalog models by name for the accuracy tests: each name is resolved and its tensor list
// generated once, however many measured cases use it.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <vramplan/catalog.hpp>
#include <vramplan/model.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::test {

class CatalogModels {
 public:
  explicit CatalogModels(Catalog catalog) : catalog_(std::move(catalog)) {}

  // The model `name` resolves to, built on first use; throws for a name not in the catalog.
  [[nodiscard]] const Model& get(const std::string& name) {
    auto it = models_.find(name);
    if (it == models_.end()) {
      const std::optional<ModelRef> ref = catalog_.resolve(name);
      if (!ref || ref->entry == nullptr) throw std::runtime_error("not in catalog: " + name);
      ModelSpec spec = ref->entry->spec;
      // The measured files were written by vramplan_make_gguf from the catalog before its qwen3
      // entries described Ollama 0.6.5's build (attn_v F16, 2026-12-05): their tensors are
      // llama-quantize's mix (the CPU records' tensor_bytes say so). Re-measured files would
      // follow the entry.
      if (spec.quantizer == Quantizer::ollama_065) spec.quantizer = Quantizer::llama_quantize;
      it = models_
               .emplace(name, make_model(name, "catalog", spec, ref->quant,
                                         generate_tensors(spec, ref->quant)))
               .first;
    }
    return it->second;
  }

 private:
  Catalog catalog_;
  std::map<std::string, Model> models_;
};

}  // namespace vramplan::test
