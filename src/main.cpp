#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <vramplan/cli.hpp>

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  vramplan::cli::Context context{
      std::cout, std::cerr,
      [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        return value != nullptr ? std::optional<std::string>(value) : std::nullopt;
      },
      isatty(STDOUT_FILENO) == 1};
  return vramplan::cli::run(args, context);
}
