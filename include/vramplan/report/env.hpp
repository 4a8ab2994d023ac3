// `--format env`: the plan as environment variables for the engine's server, with a comment
// header. Deterministic: fixed key order, no timestamps.
//
// Ollama (envconfig/config.go): OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, OLLAMA_FLASH_ATTENTION,
// OLLAMA_KV_CACHE_TYPE, OLLAMA_MAX_LOADED_MODELS, OLLAMA_KEEP_ALIVE. Ollama has no variable
// for GPU layers: a partial offload is given as a commented Modelfile/API snippet (num_gpu).
// llama-server (common/arg.cpp): LLAMA_ARG_* incl. LLAMA_ARG_FIT=off, because the
// plan has already been fitted.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/model.hpp>
#include <vramplan/planner.hpp>

namespace vramplan::report {

struct EnvOptions {
  std::string_view tool_version;  // vramplan's version, named in the header comment
};

// Throws Error{usage} for an engine without a server environment (llamacpp-lib).
[[nodiscard]] std::string render_env(const Model& model, const Plan& plan,
                                     const EnvOptions& options);

}  // namespace vramplan::report
