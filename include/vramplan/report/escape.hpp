// Escaping at the edge where text is printed (docs/cli.md "Text from files", issue 9). Every
// string vramplan prints may come from a file or an argument (a GGUF's architecture, a file
// name, a catalog value, --model), so the renderers never print one as is:
//
// - terminal text (tables, inspect, models, the `vramplan: error:` and `warning:` lines) and
//   `.env` comments: escape_text(). Renderers format through format_text() and TextTable,
//   which escape every string they are given, so a new field cannot be forgotten;
// - `.env` values: env_value(), which refuses what it cannot write as one plain word;
// - JSON: JSON's own escapes, and bytes that are not UTF-8 replaced by U+FFFD
//   (src/report/json_text.hpp).
#pragma once

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace vramplan::report {

// `text` with everything that could move the cursor, start a line, change the terminal's
// state or reorder the display replaced by a visible escape:
//   '\n' '\r' '\t'                  -> \n \r \t
//   other C0 bytes and DEL          -> \x00..\x1f, \x7f (ESC is \x1b, so no CSI/OSC sequence
//                                      can reach the terminal)
//   C1 controls U+0080..U+009F      -> \u0080..\u009f
//   U+2028, U+2029 (line/paragraph separators), the bidi embeddings, overrides and isolates
//   U+202A..U+202E, U+2066..U+2069  -> \u2028 ...
//   a byte that is not part of valid UTF-8 (overlong forms and surrogates included) -> \xNN
// Everything else — printable ASCII, the backslash, valid non-ASCII UTF-8 such as a Chinese
// model name — is kept. The result is valid UTF-8 without control characters, and escaping
// it again changes nothing (escape_text(escape_text(s)) == escape_text(s)).
[[nodiscard]] std::string escape_text(std::string_view text);

// Whether escape_text() would keep `text` unchanged.
[[nodiscard]] bool is_plain_text(std::string_view text);

// The value of `key` in a `.env` file. Returned as is when it is one plain word — ASCII
// letters, digits, `- . _ / : @ + = , %` and valid non-ASCII UTF-8 that escape_text() keeps
// and that is not a Unicode space — not empty and not starting with '-'. Such a value reads
// the same unquoted in docker compose, `env_file`, systemd and a POSIX shell, cannot be
// interpolated ($), cannot start a comment (#), and stays one argument where compose
// substitutes it into a command. Anything else throws Error{bad_input} naming the key and the
// first character that is not allowed: a value is never quoted into something that a reader
// could split or reinterpret.
[[nodiscard]] std::string env_value(std::string_view key, std::string_view value);

// Text a renderer composed itself and that must reach the output unescaped: ANSI colour codes
// around report words, or a fragment already built with format_text(). Never wrap a string
// read from a file or an argument in it.
struct Styled {
  std::string text;
};

namespace detail {

template <class T>
[[nodiscard]] auto shown_arg(const T& value) {
  if constexpr (std::is_same_v<T, Styled>) {
    return std::string_view(value.text);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return escape_text(std::string_view(value));
  } else {
    // Numbers only: any other type must be turned into a string first, which is then escaped.
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, char>,
                  "format_text takes strings, Styled and numbers");
    return value;
  }
}

template <class T>
using shown_t = decltype(shown_arg(std::declval<const std::remove_cvref_t<T>&>()));

}  // namespace detail

// fmt::format for terminal and `.env` text: every string argument goes through
// escape_text(), Styled arguments pass as they are, numbers are formatted as fmt does. The
// format string itself is the renderer's own text. The result holds no line break but those
// of the format string.
template <class... Args>
[[nodiscard]] std::string format_text(fmt::format_string<detail::shown_t<Args>...> format,
                                      Args&&... args) {
  return fmt::format(format, detail::shown_arg(std::as_const(args))...);
}

}  // namespace vramplan::report
