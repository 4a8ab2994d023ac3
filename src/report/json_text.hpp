// The one way the report layer turns JSON into text (private to src/report). Strings keep
// JSON's own escapes (a newline is \n, ESC is \u001b); a byte that is not part of valid UTF-8
// becomes U+FFFD, so a name, tensor name, file name or catalog value read from a file can
// never make the dump throw (nlohmann's type_error 316, formerly exit 5). docs/cli.md "Text
// from files".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vramplan::report {

// 2-space indent, trailing newline.
[[nodiscard]] inline std::string json_text(const nlohmann::ordered_json& json) {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace vramplan::report
