// Core's errors in the command line's words, and the flag value parsers that need more than a
// number.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/error.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/setting.hpp>

namespace vramplan::cli {

// An error's message as the command line says it: the setting it names spelled as its flag
// (report::flag_of).
[[nodiscard]] std::string message_of(const Error& error);

// --headroom: "fit", "stable", "conservative", "none"; or a size ("1.5G") or a percentage
// ("15%"). Throws Error{usage} for anything else.
[[nodiscard]] Headroom parse_headroom(const std::string& text);

}  // namespace vramplan::cli
