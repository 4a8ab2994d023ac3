// The CLI11 application, built in one place so that the parser (app.cpp) and the generated man
// page and shell completions (docgen.cpp) walk the same definitions.
#pragma once

#include <memory>
#include <vector>

#include "commands/commands.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// The whole command line: the top-level app with every subcommand of command_factories()
// registered, each appended to `commands` (which owns their flags' values).
[[nodiscard]] std::unique_ptr<CLI::App> make_app(std::vector<Command>& commands);

}  // namespace vramplan::cli
