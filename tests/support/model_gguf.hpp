// A GGUF for a model spec that real llama.cpp loads (test-only): the hyperparameter keys its
// load_hparams reads for the architecture, with the types it checks, a minimal SPM tokenizer
// (<unk>, <s>, </s>, the 256 byte tokens, filler), and the given tensors. Used by
// vramplan_make_gguf (scripts/oracle) and by tests that plan from a real file.
#pragma once

#include <string>
#include <vector>

#include <vramplan/catalog.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>

#include "support/gguf_writer.hpp"

namespace vramplan::test {

[[nodiscard]] GgufWriter model_gguf(const ModelSpec& spec, FileType ftype,
                                    const std::vector<TensorInfo>& tensors,
                                    const std::string& description);

// Writes the catalog model `name` (e.g. "qwen2.5:7b-q4_K_M") as a sparse GGUF at `path`: its
// generated tensors and llama.cpp's keys. Throws std::runtime_error for an unknown name.
void write_catalog_gguf(const Catalog& catalog, const std::string& name, const std::string& path);

}  // namespace vramplan::test
