// The CLI11 application, built in one place so that the parser (app.cpp) and the generated man
// page and shell completions (docgen.cpp) walk the same definitions.
#pragma once

#include <memory>

#include "commands/commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// Where the parsed flags land, and the subcommands that own them.
struct Commands {
  FitOptions fit;
  EstimateOptions estimate;
  ModelsOptions models;
  InspectOptions inspect;
  CLI::App* fit_cmd = nullptr;
  CLI::App* estimate_cmd = nullptr;
  CLI::App* models_cmd = nullptr;
  CLI::App* inspect_cmd = nullptr;
};

// The whole command line: the top-level app with every subcommand registered on `commands`.
[[nodiscard]] std::unique_ptr<CLI::App> make_app(Commands& commands);

}  // namespace vramplan::cli
