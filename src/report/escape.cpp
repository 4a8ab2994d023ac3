#include <vramplan/report/escape.hpp>

#include <cstdint>
#include <optional>

#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

namespace vramplan::report {
namespace {

// UTF-8 decoding and the code point classes live in core (text.hpp), shared with the rule
// of env_value.
using Decoded = Utf8Char;

std::optional<Decoded> decode(std::string_view text, std::size_t i) { return decode_utf8(text, i); }

bool is_c0_or_del(std::uint32_t cp) { return cp < 0x20 || cp == 0x7F; }

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex_byte(std::string& out, std::uint8_t b) {
  out += "\\x";
  out += hex_digits[b >> 4U];
  out += hex_digits[b & 0x0FU];
}

void append_c0(std::string& out, std::uint8_t b) {
  switch (b) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      append_hex_byte(out, b);
  }
}

void append_u(std::string& out, std::uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += hex_digits[(cp >> static_cast<unsigned>(shift)) & 0x0FU];
  }
}

// What escape_text() makes of the first character of `text[i..]` that it would change, in
// the form the error messages quote ("' '" for a space, "'\n'" for a newline).
std::string describe(std::string_view text, std::size_t i) {
  const std::optional<Decoded> d = decode(text, i);
  std::string quoted = "'";
  quoted += escape_text(text.substr(i, d ? d->length : 1));
  quoted += '\'';
  return quoted;
}

[[noreturn]] void refuse_env(std::string_view key, std::string_view value, const std::string& why) {
  throw Error(ErrorKind::bad_input,
              format_text("cannot write {} to the .env file: '{}' {} (a .env value must be one "
                          "word of letters, digits and - . _ / : @ + = , %)",
                          key, value, why));
}

}  // namespace

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::optional<Decoded> d = decode(text, i);
    if (!d) {
      append_hex_byte(out, static_cast<std::uint8_t>(text[i]));
      ++i;
      continue;
    }
    if (is_c0_or_del(d->code_point)) {
      append_c0(out, static_cast<std::uint8_t>(d->code_point));
    } else if (is_display_control(d->code_point)) {
      append_u(out, d->code_point);
    } else {
      out.append(text.substr(i, d->length));
    }
    i += d->length;
  }
  return out;
}

bool is_plain_text(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::optional<Decoded> d = decode(text, i);
    if (!d || is_c0_or_del(d->code_point) || is_display_control(d->code_point)) return false;
    i += d->length;
  }
  return true;
}

std::string env_value(std::string_view key, std::string_view value) {
  // The rule itself is core's plain_word_problem (text.hpp), shared with the rewriters of
  // io/deploy_files.hpp; the message is the report's.
  const std::optional<WordProblem> problem = plain_word_problem(value);
  if (!problem) return std::string(value);
  switch (problem->kind) {
    case WordProblem::Kind::empty:
      refuse_env(key, value, "is empty");
    case WordProblem::Kind::leading_dash:
      refuse_env(key, value,
                 "starts with '-' (a command it is substituted into would read it as a flag)");
    case WordProblem::Kind::character:
      break;
  }
  refuse_env(key, value, "contains " + describe(value, problem->offset));
}

}  // namespace vramplan::report
