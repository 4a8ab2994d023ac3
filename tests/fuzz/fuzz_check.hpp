// Shared checks of the libFuzzer targets: an Error is an expected outcome, but its message
// must be one line (docs/reliability.md "Fuzzing"); anything else aborts, which libFuzzer
// reports as a finding.
#pragma once

#include <cstdlib>
#include <string_view>

#include <vramplan/error.hpp>

namespace vramplan::fuzz {

inline void check_message(const Error& e) {
  const std::string_view what(e.what());
  if (what.empty() || what.find('\n') != std::string_view::npos) std::abort();
}

}  // namespace vramplan::fuzz
