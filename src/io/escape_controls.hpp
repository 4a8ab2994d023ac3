// Control bytes in messages (private to src/io): a message quoting a value read from a file
// or a tool's output stays one line.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace vramplan::io {

// Control characters as \xNN, so that a message quoting a value from the file (a key, an id,
// the byte yaml-cpp stumbled on) stays one line whatever the file holds. Idempotent: the
// backslash itself is kept.
[[nodiscard]] inline std::string escape_controls(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace vramplan::io
