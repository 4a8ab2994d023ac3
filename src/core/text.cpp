#include <vramplan/text.hpp>

namespace vramplan {

std::optional<Utf8Char> decode_utf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[i + k]); };
  const std::uint8_t b = byte(0);
  if (b < 0x80) return Utf8Char{1, b};
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
  return Utf8Char{length, cp};
}

bool is_display_control(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool is_unicode_space(std::uint32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

namespace {

bool word_ascii_allowed(char c) {
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

}  // namespace

std::optional<WordProblem> plain_word_problem(std::string_view value) {
  if (value.empty()) return WordProblem{WordProblem::Kind::empty, 0, 0};
  if (value.front() == '-') return WordProblem{WordProblem::Kind::leading_dash, 0, 1};
  for (std::size_t i = 0; i < value.size();) {
    if (static_cast<std::uint8_t>(value[i]) < 0x80) {
      if (!word_ascii_allowed(value[i])) return WordProblem{WordProblem::Kind::character, i, 1};
      ++i;
      continue;
    }
    const std::optional<Utf8Char> d = decode_utf8(value, i);
    if (!d) return WordProblem{WordProblem::Kind::character, i, 1};
    if (is_display_control(d->code_point) || is_unicode_space(d->code_point))
      return WordProblem{WordProblem::Kind::character, i, d->length};
    i += d->length;
  }
  return std::nullopt;
}

}  // namespace vramplan
