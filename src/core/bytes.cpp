#include <vramplan/bytes.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

namespace vramplan {
namespace {

// Multiplier for a unit suffix; 0 when unknown. Binary unless the suffix says "B" after a
// prefix letter without "i" ("GB" = 10^9), as docs/cli.md "Sizes" explains.
double unit_multiplier(const std::string& unit) {
  struct Unit {
    const char* name;
    double factor;
  };
  static constexpr Unit units[] = {
      {"b", 1.0},   {"k", 1024.0},          {"ki", 1024.0},          {"kib", 1024.0},
      {"kb", 1e3},  {"m", 1048576.0},       {"mi", 1048576.0},       {"mib", 1048576.0},
      {"mb", 1e6},  {"g", 1073741824.0},    {"gi", 1073741824.0},    {"gib", 1073741824.0},
      {"gb", 1e9},  {"t", 1099511627776.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0},
      {"tb", 1e12},
  };
  for (const Unit& u : units) {
    if (unit == u.name) return u.factor;
  }
  return 0.0;
}

}  // namespace

Bytes parse_size(std::string_view text, std::string_view what) {
  const std::string original(text);
  std::string s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);

  std::size_t split = 0;
  while (split < s.size() && (std::isdigit(static_cast<unsigned char>(s[split])) ||
                              s[split] == '.' || s[split] == '-' || s[split] == '+')) {
    ++split;
  }
  const std::string number = s.substr(0, split);
  std::string unit = s.substr(split);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);

  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size()) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: '{}' is not a size (examples: 16G, 8GiB, "
                            "24GB, 512M)",
                            what, original));
  }
  if (unit.empty()) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: '{}' needs a unit (G/GiB = 2^30 bytes, "
                            "GB = 10^9 bytes, M/MiB, MB)",
                            what, original));
  }
  const double factor = unit_multiplier(lower_ascii(unit));
  if (factor == 0.0) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: unknown unit '{}' in '{}' (use B, K, M, G, "
                            "T, KiB..TiB or KB..TB)",
                            what, unit, original));
  }
  if (!(value > 0.0) || !std::isfinite(value)) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: size must be greater than zero, got '{}'", what, original));
  }
  const double bytes = value * factor;
  if (bytes > 1125899906842624.0) {  // 1 PiB: no single device or host is near this
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: '{}' is larger than 1 PiB; check the unit", what, original));
  }
  if (bytes < 1.0) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: size must be at least one byte, got '{}'", what, original));
  }
  return static_cast<Bytes>(std::llround(bytes));
}

std::string format_bytes(Bytes bytes) {
  const bool negative = bytes < 0;
  const double v = static_cast<double>(negative ? -bytes : bytes);
  const char* sign = negative ? "-" : "";
  if (v >= static_cast<double>(gib))
    return fmt::format("{}{:.2f} GiB", sign, v / static_cast<double>(gib));
  if (v >= static_cast<double>(mib))
    return fmt::format("{}{:.2f} MiB", sign, v / static_cast<double>(mib));
  if (v >= static_cast<double>(kib))
    return fmt::format("{}{:.2f} KiB", sign, v / static_cast<double>(kib));
  return fmt::format("{}{} B", sign, negative ? -bytes : bytes);
}

std::string format_mib(Bytes bytes) {
  return fmt::format("{:.2f}", static_cast<double>(bytes) / static_cast<double>(mib));
}

void throw_size_overflow(std::string_view what) {
  throw Error(ErrorKind::bad_input, fmt::format("{} overflows a 64-bit byte count", what));
}

}  // namespace vramplan
