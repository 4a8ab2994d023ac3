// The command line's side of an engine's memory model: the flags only it reads, the flags of the
// others it refuses, and how `fit` and `estimate` turn the flags into its request and run it.
// Both commands take one path (commands/plan.cpp) and get the same envelope back (plan.hpp);
// a new memory model is one more front here and one file (docs/architecture.md "How to add an
// engine").
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <vramplan/model.hpp>
#include <vramplan/model_set.hpp>
#include <vramplan/plan.hpp>

#include "commands/commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// What a front hands back to be rendered: the model as the engine loads it, its plan, and the
// name a server command line gives the model (vLLM's Hugging Face repository).
struct PlannedModel {
  Model model;
  Plan plan;
  std::string model_ref;
};

struct EngineFront {
  MemoryModel memory;
  // Registers the flags only this memory model reads on `fit` (fitted) or `estimate`; may be
  // null when it reads only the commands' own flags.
  void (*add_flags)(CLI::App& app, PlanOptions& options, bool fitted);
  // Error{usage} for a flag given that this memory model does not read.
  void (*refuse_other_flags)(const PlanOptions& options);
  // Parses the flags, loads the model, applies the engine's defaults and plans.
  PlannedModel (*plan)(const PlanOptions& options, Context& context);
};

extern const EngineFront llamacpp_front;  // engine_llama.cpp
extern const EngineFront vllm_front;      // engine_vllm.cpp

// A vLLM container of a model set (`--model vllm=MODEL`): `model` as vLLM loads it and its
// request from the vLLM flags; `engine` ("vllm", "vllm@0.11") names the release.
[[nodiscard]] VllmService vllm_set_service(const PlanOptions& options, const std::string& model,
                                           const std::string& engine, Context& context);

// Every front, in --help order.
[[nodiscard]] std::span<const EngineFront* const> engine_fronts();
// The front of `--engine NAME`; a name no engine has goes to the llama.cpp front, whose engine
// parser reports it with the known names.
[[nodiscard]] const EngineFront& engine_front(std::string_view engine_name);

}  // namespace vramplan::cli
