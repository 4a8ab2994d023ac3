// libFuzzer target: the whole command line. The input is split into arguments at NUL bytes
// and run through vramplan::cli::run with string streams and an empty environment. Exit code
// 5 (an internal error: a bug), an exception, a crash or a sanitizer report is a finding; so
// is an error that is not one 'vramplan: error: ...' line. Arguments that could write a file
// (-o/--output) are refused by the harness: fuzzing must not write to the file system.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/cli.hpp>

namespace {

// "-o", "-xo" (grouped short flags), "--o..." (--output and any abbreviation).
bool may_write(std::string_view arg) {
  if (arg.starts_with("--")) return arg.substr(2).starts_with('o');
  return arg.starts_with('-') && arg.find('o') != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start <= text.size() && args.size() < 64) {
    const std::size_t end = std::min(text.find('\0', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  for (const std::string& arg : args) {
    if (may_write(arg)) return 0;
  }
  std::ostringstream out;
  std::ostringstream err;
  vramplan::cli::Context context{
      .out = out,
      .err = err,
      .getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
      .stdout_is_terminal = false};
  const int rc = vramplan::cli::run(args, context);
  if (rc < 0 || rc > 4) std::abort();
  if (rc >= 2) {
    const std::string message = err.str();
    const std::size_t line = message.find("vramplan: error: ");
    if (line == std::string::npos) std::abort();
    const std::size_t newline = message.find('\n', line);
    if (newline != std::string::npos && newline + 1 != message.size() &&
        message.find("vramplan: error: ", newline) != std::string::npos) {
      std::abort();  // two error lines
    }
  }
  return 0;
}
