// cli::run: builds the CLI11 app, dispatches to a subcommand, and turns every error into one
// line on stderr and its documented exit code (exit_code.hpp, docs/cli.md).
#include <exception>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/cli.hpp>
#include <vramplan/error.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/version.hpp>

#include "commands/commands.hpp"
#include "exit_code.hpp"

namespace vramplan::cli {
namespace {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
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

int run_app(const std::vector<std::string>& args, Context& context) {
  CLI::App app("vramplan: how much GPU and system memory a local LLM needs, and which settings "
               "make it fit",
               "vramplan");
  app.set_version_flag("--version", fmt::format("vramplan {}", version));
  app.require_subcommand(1);
  app.footer("Sizes: 16G = 16GiB = 16*2^30 bytes, 16GB = 16*10^9 bytes. "
             "Exit codes: 0 ok/fits, 1 does not fit, 2 usage, 3 bad input, 4 I/O, 5 internal.");
  bool internal_error_test = false;
  // Hidden (empty group): lets the e2e suite check exit code 5 on the real binary.
  app.add_flag("--internal-error-test", internal_error_test)->group("");

  FitOptions fit_options;
  EstimateOptions estimate_options;
  ModelsOptions models_options;
  InspectOptions inspect_options;
  CLI::App* fit_cmd = setup_fit(app, fit_options);
  CLI::App* estimate_cmd = setup_estimate(app, estimate_options);
  CLI::App* models_cmd = setup_models(app, models_options);
  CLI::App* inspect_cmd = setup_inspect(app, inspect_options);

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 2.1 wants them so
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      static_cast<void>(app.exit(e, context.out, context.err));  // --help, --version
      return to_int(ExitCode::success);
    }
    std::string hint = "run 'vramplan --help'";
    for (const CLI::App* sub : {fit_cmd, estimate_cmd, models_cmd, inspect_cmd}) {
      if (sub->parsed()) hint = fmt::format("run 'vramplan {} --help'", sub->get_name());
    }
    return fail(context, ExitCode::usage, fmt::format("{} ({})", one_line(e.what()), hint));
  }
  if (internal_error_test) throw std::logic_error("requested by --internal-error-test");

  ExitCode code = ExitCode::internal;
  if (fit_cmd->parsed()) {
    code = run_fit(fit_options, context);
  } else if (estimate_cmd->parsed()) {
    code = run_estimate(estimate_options, context);
  } else if (models_cmd->parsed()) {
    code = run_models(models_options, context);
  } else if (inspect_cmd->parsed()) {
    code = run_inspect(inspect_options, context);
  }
  return to_int(code);
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
    return fail(context, exit_code_for(e.kind()), e.what());
  } catch (const std::exception& e) {
    return fail(context, ExitCode::internal,
                fmt::format("internal error: {} (please report)", e.what()));
  } catch (...) {
    return fail(context, ExitCode::internal, "internal error: unknown exception (please report)");
  }
}

}  // namespace vramplan::cli
