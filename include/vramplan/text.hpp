// Small ASCII text helpers shared by the parsers (names, units, type names). Locale-independent
// on purpose: "Q4_K_M" must compare the same whatever the user's locale is.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

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

// Levenshtein distance (insertions, deletions, substitutions), for "did you mean". O(|a|·|b|):
// callers bound the typed name's length first.
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The largest edit distance that still reads as a typo of a name `typed_size` bytes long: a
// third of it, at least 2 edits.
[[nodiscard]] constexpr std::size_t typo_limit(std::size_t typed_size) {
  return std::max<std::size_t>(2, typed_size / 3);
}

// "; did you mean 'a', 'b'?" for suggestions, "" for none: the tail of an "unknown ..." message.
[[nodiscard]] inline std::string did_you_mean(const std::vector<std::string>& names) {
  if (names.empty()) return {};
  std::string out = "; did you mean '";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += "', '";
    out += names[i];
  }
  return out + "'?";
}

}  // namespace vramplan
