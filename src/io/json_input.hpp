// Reading a JSON input of src/io (config.json, a safetensors header or index) within its
// limits, and the one wording of every way that fails (docs/reliability.md §6). Internal to
// src/io.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_bounded.hpp"

namespace vramplan::io {

inline constexpr int max_json_depth = 64;

// Throws Error{bad_input, "<origin>: <what>"}.
[[noreturn]] void bad_input(const std::string& origin, const std::string& what);

// The message of a JSON input's failure; `member` names the entry of a split parse.
[[noreturn]] void json_failed(const std::string& origin, const JsonFailure& f,
                              const JsonLimits& limits, std::string_view member = {});

// Parses JSON in one pass within `limits` (json_bounded.hpp).
[[nodiscard]] nlohmann::json parse_json(std::string_view text, const std::string& origin,
                                        const JsonLimits& limits);

}  // namespace vramplan::io
