#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <vramplan/cli.hpp>

int main(int argc, char** argv) {
  // A closed stdin, stdout or stderr is held by /dev/null opened read-only: no file vramplan
  // opens can take its number (its output would land in that file), and writes to it still
  // fail, so a closed stdout is reported (docs/reliability.md §8).
  for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      static_cast<void>(::open("/dev/null", O_RDONLY));
    }
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  vramplan::cli::Context context{std::cout, std::cerr,
                                 [](const std::string& name) -> std::optional<std::string> {
                                   const char* value = std::getenv(name.c_str());
                                   return value != nullptr ? std::optional<std::string>(value)
                                                           : std::nullopt;
                                 },
                                 isatty(STDOUT_FILENO) == 1};
  return vramplan::cli::run(args, context);
}
