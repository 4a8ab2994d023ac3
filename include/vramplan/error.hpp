// The one exception type of vramplan. Thrown deep, caught once in cli::run, where its
// kind becomes the documented exit code (docs/cli.md, "Exit codes").
#pragma once

#include <stdexcept>
#include <string>

namespace vramplan {

enum class ErrorKind {
  usage,       // bad flag, unparsable or nonsensical value              -> exit 2
  bad_input,   // unknown model, malformed GGUF/YAML/.env/manifest       -> exit 3
  io,          // cannot read/write a file, refusing to overwrite        -> exit 4
  internal,    // a broken invariant: a bug                              -> exit 5
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace vramplan
