// Renderers for `--engine vllm` (docs/cli.md "vLLM"): table, JSON and a docker compose .env.
// They lay out what core computed (vllm.hpp); they decide nothing.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/model.hpp>
#include <vramplan/report/table.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan::report {

// `fit`: verdict, recommendation, per-GPU breakdown, bars, checks, decisions, and when it does
// not fit the reasons and suggestions. `estimate` (is_fit false): settings, breakdown, checks.
[[nodiscard]] std::string render_vllm_table(const Model& model, const VllmPlan& plan, bool is_fit,
                                            const TableOptions& options = {});

// schema_version 2 (json.hpp); per GPU the seven components add up to total_bytes exactly.
[[nodiscard]] std::string render_vllm_json(const Model& model, const VllmPlan& plan);

struct VllmEnvOptions {
  std::string_view tool_version;
  std::string model_ref;  // what `vllm serve` gets: a Hugging Face repo id or a path
};

// A .env for docker compose. vLLM reads its engine arguments from the command line, not from
// these variables: the header prints the compose `command:` line that consumes them.
[[nodiscard]] std::string render_vllm_env(const Model& model, const VllmPlan& plan,
                                          const VllmEnvOptions& options);

}  // namespace vramplan::report
