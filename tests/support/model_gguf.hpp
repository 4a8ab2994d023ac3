// A GGUF for a model spec that real llama.cpp loads (test-only): the hyperparameter keys its
// load_hparams reads for the architecture, with the types it checks, a minimal SPM tokenizer
// (<unk>, <s>, </s>, the 256 byte tokens, filler), and the given tensors. Used by
// vramplan_make_gguf (scripts/oracle) and by tests that plan from a real file.
#pragma once

#include <string>
#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/model.hpp>

#include "support/gguf_writer.hpp"

namespace vramplan::test {

[[nodiscard]] GgufWriter model_gguf(const ModelSpec& spec, FileType ftype,
                                    const std::vector<TensorInfo>& tensors,
                                    const std::string& description);

}  // namespace vramplan::test
