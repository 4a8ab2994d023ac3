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

namespace vramplan::report {

struct EnvOptions {
  std::string_view tool_version;  // vramplan's version, named in the header comment
  std::string model_ref;          // what `vllm serve` gets: a Hugging Face repo id or a path
};

// The renderer is report::render_plan_env (plan.hpp); it throws Error{usage} for an engine
// without a server environment (llamacpp-lib).

}  // namespace vramplan::report
