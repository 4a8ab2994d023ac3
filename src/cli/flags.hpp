// The command line's names for core's settings, and the flag value parsers that need more than
// a number: one place that knows the spellings.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/error.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/setting.hpp>

namespace vramplan::cli {

// The flag that sets `setting`: Setting::ctx -> "--ctx", Setting::max_model_len ->
// "--max-model-len". Setting::none -> "".
[[nodiscard]] std::string_view flag_of(Setting setting);

// An error's message as the command line says it: the setting it names spelled as its flag.
[[nodiscard]] std::string message_of(const Error& error);

// --headroom: "fit", "stable", "conservative", "none"; or a size ("1.5G") or a percentage
// ("15%"). Throws Error{usage} for anything else.
[[nodiscard]] Headroom parse_headroom(const std::string& text);

}  // namespace vramplan::cli
