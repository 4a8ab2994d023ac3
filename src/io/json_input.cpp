#include "json_input.hpp"

#include <fmt/format.h>

#include <vramplan/error.hpp>

#include "escape_controls.hpp"

namespace vramplan::io {

// The message quotes names and values from the file (a tensor name may hold a JSON "\n"):
// control bytes are escaped here, once for every JSON reader, so it stays one line.
[[noreturn]] void bad_input(const std::string& origin, const std::string& what) {
  throw Error(ErrorKind::bad_input, escape_controls(fmt::format("{}: {}", origin, what)));
}

// The message of a JSON input's failure; `member` names the entry of a split parse.
[[noreturn]] void json_failed(const std::string& origin, const JsonFailure& f,
                              const JsonLimits& limits, std::string_view member) {
  using Kind = JsonFailure::Kind;
  switch (f.kind) {
    case Kind::ends_early:
      bad_input(origin, "invalid JSON: ends early");
    case Kind::number_range:  // a number beyond double's range: 1E400
      bad_input(origin, "invalid JSON: a number is out of range");
    case Kind::too_deep:
      bad_input(origin, fmt::format("JSON nested deeper than {} levels", limits.max_depth));
    case Kind::too_many_values:
      if (!member.empty()) {
        bad_input(origin, fmt::format("'{}': more than {} JSON values", member, limits.max_values));
      }
      bad_input(origin, fmt::format("JSON has more than {} values", limits.max_values));
    case Kind::string_too_long:
      bad_input(origin, fmt::format("JSON string of {} bytes exceeds the limit of {}", f.length,
                                    limits.max_string));
    case Kind::not_object:
      bad_input(origin, "expected a JSON object");
    case Kind::syntax:
      break;
  }
  bad_input(origin, fmt::format("invalid JSON at byte {}", f.byte));
}

// Parses JSON in one pass within `limits` (json_bounded.hpp).
nlohmann::json parse_json(std::string_view text, const std::string& origin,
                          const JsonLimits& limits) {
  try {
    return parse_json_bounded(text, limits);
  } catch (const JsonFailure& f) {
    if (f.kind == JsonFailure::Kind::ends_early) {
      bad_input(origin, fmt::format("invalid JSON: ends early, after {} bytes", text.size()));
    }
    json_failed(origin, f, limits);
  }
}

}  // namespace vramplan::io
