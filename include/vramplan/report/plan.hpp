// The renderers of a plan (plan.hpp), one per output format, for every engine and for both
// `fit` and `estimate` (plan.fitted). They lay out what core computed; they decide nothing.
// Engine-specific figures (llama.cpp's context shape and headroom, vLLM's budget checks) come
// from plan.detail.
#pragma once

#include <string>

#include <vramplan/model.hpp>
#include <vramplan/plan.hpp>
#include <vramplan/report/env.hpp>
#include <vramplan/report/table.hpp>

namespace vramplan::report {

// `--format table`: the model, the engine, the verdict (fit), the settings, the per-device
// breakdown with usage bars, then decisions, notes, and when it does not fit the reasons and
// suggestions.
[[nodiscard]] std::string render_plan_table(const Model& model, const Plan& plan,
                                            const TableOptions& options = {});

// `--format json`, schema_version 2 (json.hpp, docs/cli.md "JSON output"): the same keys for
// every engine — fits, model, engine, recommendation, estimate {devices, components,
// total_bytes}, decisions, reasons, suggestions, notes — and the engine's own figures under
// `details`. Invariant: each device's components add up to its `bytes`.
[[nodiscard]] std::string render_plan_json(const Model& model, const Plan& plan);

// `--format env` (`fit` only): the settings as the engine's environment for docker compose,
// with a comment header (env.hpp).
[[nodiscard]] std::string render_plan_env(const Model& model, const Plan& plan,
                                          const EnvOptions& options);

// The formats that apply a plan (`fit` only; src/report/deploy.cpp, docs/cli.md "Formats that
// apply the plan"). Every value read from a file or an argument is quoted for the format, and
// one that cannot be written as one value on one line throws Error{bad_input}.
//
// `--format compose`: a docker compose file with one service for the engine: a pinned image,
// the port, a volume for the models, the environment (the variables of --format env that the
// engine reads), the command (llama-server, vLLM), the GPU reservation and a memory
// reservation and limit from the plan's host RAM. Error{usage} for the llama.cpp library.
[[nodiscard]] std::string render_plan_compose(const Model& model, const Plan& plan,
                                              const EnvOptions& options);

// `--format modelfile`: an Ollama Modelfile (FROM, PARAMETER num_ctx/num_gpu/num_batch).
// Error{usage} for any other engine.
[[nodiscard]] std::string render_plan_modelfile(const Model& model, const Plan& plan,
                                                const EnvOptions& options);

// `--format flags`: the llama-server or `vllm serve` command line, one shell-quoted line.
// Error{usage} for Ollama (no flags) and the library.
[[nodiscard]] std::string render_plan_flags(const Model& model, const Plan& plan,
                                            const EnvOptions& options);

}  // namespace vramplan::report
