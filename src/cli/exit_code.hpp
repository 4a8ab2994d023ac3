// The documented exit codes (docs/cli.md "Exit codes"): the single source of truth.
#pragma once

namespace vramplan::cli {

enum class ExitCode : int {
  success = 0,    // done; for `fit`: a configuration that fits was found
  no_fit = 1,     // `fit` ran correctly, but nothing fits the budget
  usage = 2,      // unknown flag, missing argument, unparsable or nonsensical value
  bad_input = 3,  // unknown model, malformed catalog file
  io = 4,         // cannot read or write a file; target exists and no --force
  internal = 5,   // a bug: anything unexpected
};

[[nodiscard]] constexpr int to_int(ExitCode code) { return static_cast<int>(code); }

}  // namespace vramplan::cli
