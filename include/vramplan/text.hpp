// Small ASCII text helpers shared by the parsers (names, units, type names). Locale-independent
// on purpose: "Q4_K_M" must compare the same whatever the user's locale is.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
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

// "Natural" order, case-insensitive: runs of digits compare as numbers, so "llama3.1:8b" comes
// before "llama3.1:70b" and "qwen2.5" before "qwen3". Equal texts are not less.
[[nodiscard]] inline bool natural_less(std::string_view a, std::string_view b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      std::size_t ei = i;
      std::size_t ej = j;
      while (ei < a.size() && digit(a[ei])) ++ei;
      while (ej < b.size() && digit(b[ej])) ++ej;
      // Compare the runs without leading zeros: the longer one is larger, else by digits.
      std::string_view x = a.substr(i, ei - i);
      std::string_view y = b.substr(j, ej - j);
      while (x.size() > 1 && x.front() == '0') x.remove_prefix(1);
      while (y.size() > 1 && y.front() == '0') y.remove_prefix(1);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ei;
      j = ej;
      continue;
    }
    const char x = lower_ascii(a[i]);
    const char y = lower_ascii(b[j]);
    if (x != y) return x < y;
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
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

// The indices of the candidates whose edit distance (`distances[i]`) still reads as a typo of a
// name `typed_size` bytes long, nearest first; ties keep the candidates' order, so that
// suggestions are the same on every run.
[[nodiscard]] inline std::vector<std::size_t> typo_candidates(
    const std::vector<std::size_t>& distances, std::size_t typed_size) {
  const std::size_t limit = typo_limit(typed_size);
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < distances.size(); ++i) {
    if (distances[i] <= limit) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](std::size_t a, std::size_t b) { return distances[a] < distances[b]; });
  return out;
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

// Length and code point of the valid UTF-8 sequence at `text[i]` (i < text.size()), or
// nullopt when the bytes there are not one (RFC 3629: no overlong forms, no surrogates,
// nothing past U+10FFFF).
struct Utf8Char {
  std::size_t length = 0;
  std::uint32_t code_point = 0;
};
[[nodiscard]] std::optional<Utf8Char> decode_utf8(std::string_view text, std::size_t i);

// Code points that are valid UTF-8 but act on the display: C1 controls, line and paragraph
// separators, bidi embeddings, overrides and isolates.
[[nodiscard]] bool is_display_control(std::uint32_t cp);

// Unicode White_Space beyond ASCII (the C1 NEL and the separators are display controls): Go's
// strings.TrimSpace, which docker compose's .env reader uses, trims them.
[[nodiscard]] bool is_unicode_space(std::uint32_t cp);

// Whether `value` is one plain word that every reader of a `.env`, a Modelfile or a compose
// `command:` takes as written: ASCII letters, digits, `- . _ / : @ + = , %` and valid
// non-ASCII UTF-8 that is neither a display control nor a Unicode space; not empty; not
// starting with '-'. Such a value cannot be interpolated ($), start a comment (#), be quoted,
// or split into two words or lines. The rule behind report::env_value and the rewriters of
// io/deploy_files.hpp. nullopt when the value is a plain word, else what is wrong first.
struct WordProblem {
  enum class Kind {
    empty,         // ""
    leading_dash,  // "-1" would read as a flag where it is substituted into a command
    character,     // the character at `offset` (`length` bytes) is not allowed
  };
  Kind kind = Kind::empty;
  std::size_t offset = 0;
  std::size_t length = 0;
};
[[nodiscard]] std::optional<WordProblem> plain_word_problem(std::string_view value);

}  // namespace vramplan
