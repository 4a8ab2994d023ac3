// Small ASCII text helpers shared by the parsers (names, units, type names). Locale-independent
// on purpose: "Q4_K_M" must compare the same whatever the user's locale is.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace vramplan {

[[nodiscard]] constexpr char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] inline std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower_ascii(c);
  return out;
}

// Case-insensitive (ASCII) equality.
[[nodiscard]] constexpr bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower_ascii(x) == lower_ascii(y);
         });
}

}  // namespace vramplan
