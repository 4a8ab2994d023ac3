// Findings as JSON objects (private to src/report): the kind, the sentence every format shows,
// the facts it rests on and the settings it changes (docs/cli.md "Findings").
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include <vramplan/finding.hpp>

namespace vramplan::report {

// {"kind": "ctx_largest_fits", "text": "context: ...", "values": {"ctx": 56832, ...},
//  "changes": {"ctx": 56832}}
[[nodiscard]] nlohmann::ordered_json finding_json(const Finding& finding);
[[nodiscard]] nlohmann::ordered_json findings_json(const std::vector<Finding>& findings);

}  // namespace vramplan::report
