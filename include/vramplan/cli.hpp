// The whole program, callable from tests: main.cpp only forwards to cli::run.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vramplan::cli {

// The outside world, injected so tests run the CLI in process with fixed surroundings.
struct Context {
  std::ostream& out;
  std::ostream& err;
  // Environment lookup (VRAMPLAN_CATALOG, NO_COLOR, ...); nullopt = unset.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  bool stdout_is_terminal = false;
};

// Runs `vramplan <args...>` (args exclude the program name) and returns the exit code
// (docs/cli.md "Exit codes"). Never throws.
[[nodiscard]] int run(const std::vector<std::string>& args, Context& context) noexcept;

}  // namespace vramplan::cli
