// vramplan_internal_error: a test-only binary for the e2e test of exit code 5 (docs/cli.md
// "Exit codes"). It runs the same cli::run as vramplan, in a real process, with an environment
// lookup that throws: a stand-in for any bug, which cli::run must turn into one line
// ("internal error: ... (please report)") and exit code 5, never a crash. The shipped binary
// has no hook for this.
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <vramplan/cli.hpp>

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  vramplan::cli::Context context{std::cout, std::cerr,
                                 [](const std::string& name) -> std::optional<std::string> {
                                   throw std::logic_error("injected failure reading $" + name);
                                 },
                                 false};
  return vramplan::cli::run(args, context);
}
