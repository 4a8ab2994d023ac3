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
  // `tensor_bytes`, the measured file's (0: unknown), picks how its tensors were typed: an
  // entry with an Ollama quantizer rule (qwen3's `ollama-0.6.5`, 2026-12-05) describes Ollama's
  // file, but files written by vramplan_make_gguf before the rule was added hold llama-quantize's
  // mix; the variant whose tensor bytes equal the file's is the one measured (the entry's own
  // when neither does, so a wrong file still fails the weights check).
  [[nodiscard]] const Model& get(const std::string& name, Bytes tensor_bytes = 0) {
    const std::optional<ModelRef> ref = catalog_.resolve(name);
    if (!ref || ref->entry == nullptr) throw std::runtime_error("not in catalog: " + name);
    const Model& own = build(name, ref->entry->spec, ref->quant);
    if (tensor_bytes == 0 || ref->entry->spec.quantizer == Quantizer::llama_quantize ||
        own.weights.file_tensor_bytes == tensor_bytes) {
      return own;
    }
    ModelSpec plain = ref->entry->spec;
    plain.quantizer = Quantizer::llama_quantize;
    const Model& quantized = build(name + " (llama-quantize)", plain, ref->quant);
    return quantized.weights.file_tensor_bytes == tensor_bytes ? quantized : own;
  }

 private:
  const Model& build(const std::string& key, const ModelSpec& spec, FileType quant) {
    auto it = models_.find(key);
    if (it == models_.end()) {
      it = models_
               .emplace(key, make_model(key, "catalog", spec, quant, generate_tensors(spec, quant)))
               .first;
    }
    return it->second;
  }

  Catalog catalog_;
  std::map<std::string, Model> models_;
};

}  // namespace vramplan::test
