// Machine-readable reports (`--format json`). The schema is documented in docs/cli.md and
// pinned by golden tests: schema_version 2, snake_case keys in a fixed order, byte counts as
// integers, enums as the strings the CLI accepts, 2-space indent, trailing newline. Decisions,
// reasons, suggestions and notes are objects: kind, text, values, changes (findings.hpp).
#pragma once

#include <string>
#include <vector>

#include <vramplan/catalog.hpp>

namespace vramplan::report {

// 2: decisions, reasons, suggestions and notes became objects (docs/cli.md "Findings").
inline constexpr int json_schema_version = 2;

// `vramplan models --format json`.
[[nodiscard]] std::string render_models_json(const std::vector<const CatalogEntry*>& entries);

}  // namespace vramplan::report
