// The renderers of a plan for several models on one Ollama (model_set.hpp): `fit` and
// `estimate` with --model repeated. The table is check's per-model and per-device layout under
// the verdict and the server's settings; JSON a `models` array with each model's figures plus
// the device totals; env and compose the server's settings for the whole set.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/model_set.hpp>

namespace vramplan::report {

struct SetReport {
  const SetPlan* plan = nullptr;
  bool fitted = true;             // fit (settings chosen) or estimate (settings as given)
  std::string_view command;       // the command named; "" = fit or estimate, as `fitted` says
  std::string_view tool_version;  // named in the env and compose headers
};

[[nodiscard]] std::string render_set_table(const SetReport& report);
// schema_version 2, command "fit"/"estimate", `models` (check's model objects), `devices`,
// `settings`, `decisions`, `findings` (docs/cli.md "Several models").
[[nodiscard]] std::string render_set_json(const SetReport& report);
// The Ollama server's environment for the set (KEY=VALUE, comment header).
[[nodiscard]] std::string render_set_env(const SetReport& report);
// One Ollama service with that environment, every GPU reserved and the memory reservation and
// limit from the set's host RAM (src/report/deploy.cpp, the same writer as one model's).
[[nodiscard]] std::string render_set_compose(const SetReport& report);

}  // namespace vramplan::report
