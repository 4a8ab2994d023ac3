// Byte quantities and the size syntax users type ("16G", "512MiB", "24GB").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vramplan {

// A count of bytes. Signed on purpose: "free = capacity - used" may go negative, and a
// plan that does not fit must be able to say by how much. 2^63 bytes is far beyond any
// device this tool plans for. (docs/architecture.md: "Why Bytes is a signed alias".)
using Bytes = std::int64_t;

inline constexpr Bytes kib = 1024;
inline constexpr Bytes mib = 1024 * kib;
inline constexpr Bytes gib = 1024 * mib;

// Parses a user-given size. Binary units: "16G", "16GiB", "16Gi" = 16 * 2^30; decimal
// units: "16GB" = 16 * 10^9. K/M/G/T likewise; case-insensitive; fractions allowed
// ("1.5G"). A bare number, an unknown unit, zero, a negative or an absurd value
// (> 1 PiB) throws Error{ErrorKind::invalid_setting}. `what` names the option in the message.
[[nodiscard]] Bytes parse_size(std::string_view text, std::string_view what);

// "7.95 GiB", "544.00 MiB", "12.00 KiB", "512 B": binary units, two decimals.
[[nodiscard]] std::string format_bytes(Bytes bytes);

// Same number in MiB with two decimals and no unit, as llama.cpp prints its buffers.
[[nodiscard]] std::string format_mib(Bytes bytes);

// Checked arithmetic for sizes computed from file values and settings (docs/reliability.md
// §4): the exact result, or Error{bad_input} "<what> overflows a 64-bit byte count" where
// it would not fit. `what` names the size ("the KV cache", "tensor 'x' bytes").
[[noreturn]] void throw_size_overflow(std::string_view what);
[[nodiscard]] inline std::int64_t checked_add(std::int64_t a, std::int64_t b,
                                              std::string_view what) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) throw_size_overflow(what);
  return out;
}
[[nodiscard]] inline std::int64_t checked_mul(std::int64_t a, std::int64_t b,
                                              std::string_view what) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) throw_size_overflow(what);
  return out;
}

// Integer helpers used by the formulas (all operands non-negative).
[[nodiscard]] constexpr std::int64_t pad_to(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}
[[nodiscard]] constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace vramplan
