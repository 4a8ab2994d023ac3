// The renderers of `vramplan check` (issue 11): a table (a row per model and per device, the
// verdict, the fix, what the engine makes of the files) and JSON for scripts. Every string read
// from a file (names, values, paths, model names) is escaped where it is printed.
#pragma once

#include <string>
#include <vector>

#include <vramplan/check.hpp>
#include <vramplan/deployment.hpp>

namespace vramplan::report {

// A change as it is written: the setting, the variable, flag or PARAMETER that sets it in the
// deployment's files, the value, and the file it goes in ("" when no file of the deployment
// holds it, e.g. a model to pull).
struct SpelledChange {
  EngineSetting setting = EngineSetting::context;
  std::string name;
  std::string value;
  std::string file;
};

struct CheckReport {
  const CheckResult* result = nullptr;
  const Deployment* deployment = nullptr;
  std::string engine;  // "Ollama", "llama-server", "vLLM"
  std::vector<SpelledChange> fix;
  std::vector<std::vector<SpelledChange>> alternatives;  // one per result->alternatives
};

// One sentence for a diagnostic, with its file:line (escaped).
[[nodiscard]] std::string describe_diagnostic(const Diagnostic& diagnostic,
                                              std::string_view engine);

[[nodiscard]] std::string render_check_table(const CheckReport& report);
[[nodiscard]] std::string render_check_json(const CheckReport& report);

}  // namespace vramplan::report
