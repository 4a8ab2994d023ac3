// The CLI11 application, built in one place so that the parser (app.cpp) and the generated man
// page and shell completions (docgen.cpp) walk the same definitions.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "commands/commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// A registered command: its CLI11 subcommand and how to run it with the flags parsed into it.
struct Command {
  CLI::App* app = nullptr;
  std::function<ExitCode(Context&)> run;
};

// Where the parsed flags land, and the command table make_app() fills (app.cpp: one row per
// command, in --help order).
struct Commands {
  FitOptions fit;
  EstimateOptions estimate;
  ModelsOptions models;
  InspectOptions inspect;
  CheckOptions check;
  std::vector<Command> table;
};

// The whole command line: the top-level app with every subcommand registered on `commands`.
[[nodiscard]] std::unique_ptr<CLI::App> make_app(Commands& commands);

}  // namespace vramplan::cli
