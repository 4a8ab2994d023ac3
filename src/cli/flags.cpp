#include "flags.hpp"

#include <charconv>

#include <fmt/format.h>

#include <vramplan/bytes.hpp>
#include <vramplan/report/findings.hpp>

namespace vramplan::cli {

std::string message_of(const Error& error) {
  return error.message_with(report::flag_of(error.setting()));
}

Headroom parse_headroom(const std::string& text) {
  if (text == "fit") {
    return {"fit", fit_headroom_bytes, 0,
            "1 GiB kept free per GPU: llama.cpp's --fit default target, which Ollama >= 0.30 "
            "also uses (covers the CUDA memory pool and small allocations)"};
  }
  if (text == "stable") {
    return {"stable", 1536 * mib, 0.10,
            "max(1.5 GiB, 10 %) kept free per GPU: room for desktop/compositor use and "
            "fragmentation on a machine used for other work"};
  }
  if (text == "conservative") {
    return {"conservative", 2 * gib, 0.20,
            "max(2 GiB, 20 %) kept free per GPU: for shared GPUs and long-running servers"};
  }
  if (text == "none") {
    return {"none", 0, 0, "nothing kept free beyond the estimate (risky: no margin)"};
  }
  if (!text.empty() && text.back() == '%') {
    double pct = 0;
    const std::string number = text.substr(0, text.size() - 1);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), pct);
    // !(0 <= pct < 100) also refuses NaN, which from_chars reads from "nan".
    if (ec != std::errc{} || end != number.data() + number.size() || !(pct >= 0 && pct < 100)) {
      throw Error(ErrorKind::usage,
                  fmt::format("--headroom: '{}' is not a percentage in [0, 100)", text));
    }
    return {"custom", 0, pct / 100.0, fmt::format("{} % of each GPU kept free", number)};
  }
  const Bytes bytes = parse_size(text, "--headroom");
  return {"custom", bytes, 0, fmt::format("{} kept free per GPU", format_bytes(bytes))};
}

}  // namespace vramplan::cli
