// The per-model and per-device figures of a checked deployment, shared by `check` and by the
// plans of several models (`fit`/`estimate` with --model repeated): one layout for both.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include <vramplan/check.hpp>

namespace vramplan::report {

// Two tables: a row per model (context x slots, KV type, GPU layers, bytes per GPU and RAM,
// verdict), then a row per device (capacity, need, components, free), each ending in '\n'.
[[nodiscard]] std::string check_tables(const CheckResult& result);

// A finding's sentence; a planner note about one of several models names the model.
[[nodiscard]] std::string checked_finding_text(const Finding& finding);

// The same as JSON arrays: `models` and `devices` (docs/cli.md "check").
[[nodiscard]] nlohmann::ordered_json checked_models_json(const CheckResult& result);
[[nodiscard]] nlohmann::ordered_json checked_devices_json(const CheckResult& result);

}  // namespace vramplan::report
