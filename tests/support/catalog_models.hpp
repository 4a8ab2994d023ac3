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
  // `tensor_bytes`, the measured file's (0: unknown), picks the variant of the entry that was
  // measured, since vramplan_make_gguf wrote some files before a catalog rule was added:
  // - an entry with an Ollama quantizer rule (qwen3's `ollama-0.6.5`, 2026-12-05) describes
  //   Ollama's file, but earlier files hold llama-quantize's mix;
  // - an entry with `rope_freqs` (Llama 3.1-style rope scaling) or `rope_factors` (LongRoPE,
  //   2026-12-06) has rope_freqs.weight or rope_factors_long/short.weight, which earlier files
  //   lack (the H200 runs and the CPU runs of Llama 3.x and Phi-3 128k).
  // The variant whose tensor bytes equal the file's is the one measured (the entry's own when
  // none does, so a wrong file still fails the weights check).
  [[nodiscard]] const Model& get(const std::string& name, Bytes tensor_bytes = 0) {
    const std::optional<ModelRef> ref = catalog_.resolve(name);
    if (!ref || ref->entry == nullptr) throw std::runtime_error("not in catalog: " + name);
    const ModelSpec& spec = ref->entry->spec;
    const Model& own = build(name, spec, ref->quant);
    if (tensor_bytes == 0 || own.weights.file_tensor_bytes == tensor_bytes) return own;
    for (const bool older_quantizer : {false, true}) {
      for (const bool without_rope_freqs : {false, true}) {
        if ((older_quantizer && spec.quantizer == Quantizer::llama_quantize) ||
            (without_rope_freqs && !spec.rope_freqs && spec.rope_factors == 0) ||
            (!older_quantizer && !without_rope_freqs)) {
          continue;
        }
        ModelSpec variant = spec;
        std::string key = name;
        if (older_quantizer) {
          variant.quantizer = Quantizer::llama_quantize;
          key += " (llama-quantize)";
        }
        if (without_rope_freqs) {
          variant.rope_freqs = false;
          variant.rope_factors = 0;
          key += " (no rope factors)";
        }
        const Model& m = build(key, variant, ref->quant);
        if (m.weights.file_tensor_bytes == tensor_bytes) return m;
      }
    }
    return own;
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
