// cli::run: builds the CLI11 app, dispatches to a subcommand, and turns every error into one
// line on stderr and its documented exit code (exit_code.hpp, docs/cli.md).
#include "app.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vramplan/cli.hpp>
#include <vramplan/error.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/version.hpp>

#include "commands/commands.hpp"
#include "common.hpp"
#include "exit_code.hpp"
#include "flags.hpp"

namespace vramplan::cli {
namespace {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
    case ErrorKind::invalid_setting:
      return ExitCode::usage;
    case ErrorKind::bad_input:
      return ExitCode::bad_input;
    case ErrorKind::io:
      return ExitCode::io;
    case ErrorKind::internal:
      break;
  }
  return ExitCode::internal;
}

// One line, lower-case start (CLI11's messages start upper-case and may span lines).
std::string one_line(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  if (!message.empty() && message[0] >= 'A' && message[0] <= 'Z' &&
      !(message.size() > 1 && message[1] >= 'A' && message[1] <= 'Z')) {
    message[0] = static_cast<char>(message[0] - 'A' + 'a');
  }
  return message;
}

int fail(Context& context, ExitCode code, const std::string& message) {
  try {
    // Escaped first: a message may quote a file name or a value read from a file, whose line
    // breaks and control bytes must show as \n, \x1b (report/escape.hpp), not act.
    context.err << "vramplan: error: " << one_line(report::escape_text(message)) << '\n';
    context.err.flush();
  } catch (...) {  // a broken stderr must not turn an error into a crash
  }
  return to_int(code);
}

// Damerau-Levenshtein (optimal string alignment) distance: a swap of two neighbours counts 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string_view strip_dashes(std::string_view word) {
  while (!word.empty() && word.front() == '-') word.remove_prefix(1);
  return word;
}

// The candidate a mistyped `word` most likely meant: a few edits away (more for longer names),
// or a name that starts with it; "" when nothing is close. Ties go to the first candidate.
std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  constexpr std::size_t max_word = 64;  // typos are short; this also bounds the work
  if (word.size() > max_word) return {};
  std::string best;
  std::size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    const std::string_view bare = strip_dashes(candidate);
    const std::size_t limit = std::min<std::size_t>(3, 1 + bare.size() / 4);
    std::size_t distance = edit_distance(word, candidate);
    const std::string_view typed = strip_dashes(word);
    if (typed.size() >= 3 && bare.size() > typed.size() && bare.substr(0, typed.size()) == typed) {
      distance = std::min<std::size_t>(distance, 1);  // an abbreviation: --max-model
    }
    // Below the candidate's own length, so "-x" does not suggest "-h".
    if (distance <= limit && distance < bare.size() && (best.empty() || distance < best_distance)) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::vector<std::string> command_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

// The visible flags of `app` ("--vram", "-m", "--help"); hidden ones (empty group) are left out.
std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string guess = closest(word, candidates);
  return guess.empty() ? std::string() : fmt::format("; did you mean '{}'?", guess);
}

std::string flag_name(const std::string& arg) {
  return arg.substr(0, arg.find('='));  // --vramm=16G: the name part
}

// The command that has `flag`, for a flag given before its command; nullptr if none.
const CLI::App* command_with_flag(const CLI::App& app, const std::string& flag) {
  for (const CLI::App* command : app.get_subcommands({})) {
    const std::vector<std::string> names = flag_names(*command);
    if (std::find(names.begin(), names.end(), flag) != names.end()) return command;
  }
  return nullptr;
}

// The message for an argument CLI11 could not place: an unknown command or flag (with the
// closest name), a flag given before its command, or a value nothing takes.
std::string unplaced_message(const std::string& arg, const CLI::App& app, const CLI::App* sub) {
  const bool is_flag = arg.size() > 1 && arg[0] == '-';
  if (!is_flag) {
    if (sub != nullptr) return fmt::format("unexpected argument '{}'", arg);
    const std::vector<std::string> commands = command_names(app);
    const std::string guess = did_you_mean(arg, commands);
    if (!guess.empty()) return fmt::format("unknown command '{}'{}", arg, guess);
    return fmt::format("unknown command '{}'; the commands are {}", arg, fmt::join(commands, ", "));
  }
  const std::string flag = flag_name(arg);
  if (sub == nullptr) {
    if (const CLI::App* command = command_with_flag(app, flag); command != nullptr) {
      return fmt::format("'{}' goes after the command: vramplan {} {} ...", flag,
                         command->get_name(), flag);
    }
    return fmt::format("unknown flag '{}'{}", flag, did_you_mean(flag, flag_names(app)));
  }
  return fmt::format("unknown flag '{}' for '{}'{}", flag, sub->get_name(),
                     did_you_mean(flag, flag_names(*sub)));
}

// "NAME: rest" -> {NAME, rest}; CLI11 starts most option errors so.
std::pair<std::string, std::string> split_name(const std::string& text) {
  const std::size_t colon = text.find(": ");
  if (colon == std::string::npos) return {"", text};
  return {text.substr(0, colon), text.substr(colon + 2)};
}

// CLI11's messages in the project's words (docs/reliability.md "Command-line mistakes").
// `hint` names the --help to read: the command's, or the top level's for a top-level mistake.
std::string usage_message(const CLI::ParseError& e, const CLI::App& app, const CLI::App* sub,
                          std::string& hint) {
  // What CLI11 could not place explains most errors, whatever it threw: report the first.
  if (sub != nullptr && !sub->remaining().empty()) {
    return unplaced_message(sub->remaining().front(), app, sub);
  }
  if (!app.remaining().empty()) {
    const std::string arg = app.remaining().front();  // remaining() returns a copy
    if (command_with_flag(app, flag_name(arg)) == nullptr) hint = "run 'vramplan --help'";
    return unplaced_message(arg, app, nullptr);
  }

  const std::string what = e.what();
  if (sub == nullptr && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
    return fmt::format("no command given; the commands are {}",
                       fmt::join(command_names(app), ", "));
  }
  const auto [name, rest] = split_name(what);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr && !name.empty()) {
    if (rest.rfind("At Most ", 0) == 0) {
      return fmt::format("{} takes one value; give it once", name);
    }
    if (rest.find(" required ") != std::string::npos &&
        rest.find(" missing") != std::string::npos) {
      return fmt::format("{} needs a value", name);
    }
    if (rest.find("flag override") != std::string::npos) {
      return fmt::format("{} takes no value", name);
    }
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
    constexpr std::string_view could_not = "Could not convert: ";
    if (what.rfind(could_not, 0) == 0) {  // "Could not convert: --force = x": a flag's value
      const std::string flag = what.substr(could_not.size(), what.find(" = ") - could_not.size());
      return fmt::format("{} takes no value", flag);
    }
    if (!name.empty()) return fmt::format("{} takes no value", name);
  }
  return one_line(what);
}

}  // namespace

namespace {

// One row of the command table: `setup` registers the command's flags on `options`, `run`
// runs it with them. `options` lives in Commands, which outlives the app.
template <class Options>
void add_command(CLI::App& app, std::vector<Command>& table,
                 CLI::App* (*setup)(CLI::App&, Options&), ExitCode (*run)(const Options&, Context&),
                 Options& options) {
  table.push_back(Command{setup(app, options),
                          [run, &options](Context& context) { return run(options, context); }});
}

}  // namespace

std::unique_ptr<CLI::App> make_app(Commands& c) {
  auto app = std::make_unique<CLI::App>(
      "vramplan: how much GPU and system memory a local LLM needs, and which settings make it "
      "fit",
      "vramplan");
  app->set_version_flag("--version", fmt::format("vramplan {}", version));
  app->require_subcommand(1);
  app->footer(
      "Sizes: 16G = 16GiB = 16*2^30 bytes, 16GB = 16*10^9 bytes. "
      "Exit codes: 0 ok/fits, 1 does not fit, 2 usage, 3 bad input, 4 I/O, 5 internal.\n"
      "Example: vramplan fit --vram 16G --model llama3.1:8b-q8");
  add_command(*app, c.table, setup_fit, run_fit, c.fit);
  add_command(*app, c.table, setup_estimate, run_estimate, c.estimate);
  add_command(*app, c.table, setup_models, run_models, c.models);
  add_command(*app, c.table, setup_inspect, run_inspect, c.inspect);
  add_command(*app, c.table, setup_check, run_check, c.check);
  return app;
}

namespace {

int run_app(const std::vector<std::string>& args, Context& context) {
  Commands c;
  const std::unique_ptr<CLI::App> app = make_app(c);
  const CLI::App* parsed = nullptr;
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 2.1 wants them so
    app->parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      // --help, --version: written like any output, so a full disk or a closed stdout is
      // exit 4 here too.
      std::ostringstream text;
      static_cast<void>(app->exit(e, text, context.err));
      write_stdout(context, text.str());
      return to_int(ExitCode::success);
    }
    std::string hint = "run 'vramplan --help'";
    for (const Command& command : c.table) {
      if (command.app->parsed()) {
        parsed = command.app;
        hint = fmt::format("run 'vramplan {} --help'", command.app->get_name());
      }
    }
    const std::string message = usage_message(e, *app, parsed, hint);
    return fail(context, ExitCode::usage, fmt::format("{} ({})", message, hint));
  }

  for (const Command& command : c.table) {
    if (command.app->parsed()) return to_int(command.run(context));
  }
  return to_int(ExitCode::internal);  // require_subcommand(1): one has been parsed
}

}  // namespace

int run(const std::vector<std::string>& args, Context& context) noexcept {
  try {
    return run_app(args, context);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::internal) {
      return fail(context, ExitCode::internal,
                  fmt::format("internal error: {} (please report)", e.what()));
    }
    return fail(context, exit_code_for(e.kind()), message_of(e));
  } catch (const std::exception& e) {
    return fail(context, ExitCode::internal,
                fmt::format("internal error: {} (please report)", e.what()));
  } catch (...) {
    return fail(context, ExitCode::internal, "internal error: unknown exception (please report)");
  }
}

}  // namespace vramplan::cli
