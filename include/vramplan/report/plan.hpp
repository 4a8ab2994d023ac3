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

}  // namespace vramplan::report
