// The whole program, callable from tests: main.cpp only forwards to cli::run.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vramplan::io {
struct DetectOptions;
}  // namespace vramplan::io

namespace vramplan::cli {

// The outside world, injected so tests run the CLI in process with fixed surroundings.
struct Context {
  std::ostream& out;
  std::ostream& err;
  // Environment lookup (VRAMPLAN_CATALOG, NO_COLOR, ...); nullopt = unset.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  bool stdout_is_terminal = false;
  // How --vram auto, --ram auto and --gpu auto ask this machine (io/detect.hpp): nullptr runs
  // nvidia-smi / rocm-smi / sysctl and reads /proc; tests give recorded outputs instead.
  const io::DetectOptions* detect = nullptr;
};

// Runs `vramplan <args...>` (args exclude the program name) and returns the exit code
// (docs/cli.md "Exit codes"). Never throws.
[[nodiscard]] int run(const std::vector<std::string>& args, Context& context) noexcept;

// The man page and the shell completions, generated from the same definitions as --help, so a
// new command or flag appears in them by itself (src/cli/docgen.cpp; the build writes them with
// src/tools/cli_docgen.cpp and `cmake --install` installs them, docs/cli.md "Installing").
enum class Doc { man_page, bash_completion, zsh_completion, fish_completion };
[[nodiscard]] std::string generate_doc(Doc doc);

}  // namespace vramplan::cli
