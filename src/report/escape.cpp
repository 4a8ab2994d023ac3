#include <vramplan/report/escape.hpp>

#include <cstdint>
#include <optional>

#include <vramplan/error.hpp>

namespace vramplan::report {
namespace {

// Length and code point of the valid UTF-8 sequence at `text[i]`, or nullopt when the bytes
// there are not one (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
struct Decoded {
  std::size_t length = 0;
  std::uint32_t code_point = 0;
};

std::optional<Decoded> decode(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[i + k]); };
  const std::uint8_t b = byte(0);
  if (b < 0x80) return Decoded{1, b};
  std::size_t length = 0;
  std::uint32_t cp = 0;
  std::uint8_t lo = 0x80;  // bounds of the second byte
  std::uint8_t hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    length = 2;
    cp = b & 0x1FU;
  } else if (b >= 0xE0 && b <= 0xEF) {
    length = 3;
    cp = b & 0x0FU;
    if (b == 0xE0) lo = 0xA0;  // overlong
    if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    length = 4;
    cp = b & 0x07U;
    if (b == 0xF0) lo = 0x90;  // overlong
    if (b == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return std::nullopt;  // a continuation byte, C0/C1 (overlong), F5..FF
  }
  if (text.size() - i < length) return std::nullopt;
  for (std::size_t k = 1; k < length; ++k) {
    const std::uint8_t c = byte(k);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return std::nullopt;
    cp = (cp << 6U) | (c & 0x3FU);
  }
  return Decoded{length, cp};
}

// Code points that are valid UTF-8 but act on the display: C1 controls, line and paragraph
// separators, bidi embeddings, overrides and isolates.
bool is_display_control(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool is_c0_or_del(std::uint32_t cp) { return cp < 0x20 || cp == 0x7F; }

// Unicode White_Space beyond ASCII (the C1 NEL and the separators are display controls): Go's
// strings.TrimSpace, which docker compose's .env reader uses, trims them.
bool is_unicode_space(std::uint32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

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

bool env_ascii_allowed(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '/':
    case ':':
    case '@':
    case '+':
    case '=':
    case ',':
    case '%':
      return true;
    default:
      return false;
  }
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
  if (value.empty()) refuse_env(key, value, "is empty");
  if (value.front() == '-')
    refuse_env(key, value,
               "starts with '-' (a command it is substituted into would read it as a flag)");
  for (std::size_t i = 0; i < value.size();) {
    const auto b = static_cast<std::uint8_t>(value[i]);
    if (b < 0x80) {
      if (!env_ascii_allowed(value[i])) refuse_env(key, value, "contains " + describe(value, i));
      ++i;
      continue;
    }
    const std::optional<Decoded> d = decode(value, i);
    if (!d || is_display_control(d->code_point) || is_unicode_space(d->code_point))
      refuse_env(key, value, "contains " + describe(value, i));
    i += d->length;
  }
  return std::string(value);
}

}  // namespace vramplan::report
