// The command line as a user meets it: every command's --help ends with an example that runs,
// and the generated man page and shell completions (cli::generate_doc) name every command and
// flag that --help shows — found by reading --help, not from a list kept here, so a new flag
// without documentation fails this test.
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/cli.hpp>

namespace vramplan {
namespace {

struct Outcome {
  int exit = -1;
  std::string out, err;
};

Outcome run(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err,
                       [](const std::string& name) -> std::optional<std::string> {
                         if (name == "NO_COLOR") return "1";
                         return std::nullopt;
                       },
                       false};
  Outcome result;
  result.exit = cli::run(args, context);
  result.out = out.str();
  result.err = err.str();
  return result;
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

// The command names listed under "Subcommands:" in `vramplan --help`.
std::vector<std::string> commands() {
  const Outcome help = run({"--help"});
  std::vector<std::string> names;
  std::istringstream in(help.out);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
    } else if (in_list && line.empty()) {
      break;
    } else if (in_list) {
      names.push_back(split_words(line).at(0));
    }
  }
  return names;
}

// The flags a --help text lists at the start of its option lines ("  -m,--model NAME ...").
std::vector<std::string> flags_in_help(const std::string& help) {
  static const std::regex option_line(R"(^  (?:-([A-Za-z]),)?--([a-z0-9][a-z0-9-]*)\b)");
  std::vector<std::string> flags;
  std::istringstream in(help);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, option_line)) flags.push_back(m[2].str());
  }
  return flags;
}

std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  return trimmed.substr(trimmed.rfind('\n') + 1);
}

TEST(CliHelp, ListsTheCommands) {
  EXPECT_EQ(commands(), (std::vector<std::string>{"fit", "estimate", "check", "models", "inspect",
                                                  "gpus", "size", "recommend"}));
}

TEST(CliHelp, EveryHelpEndsWithAnExampleThatRuns) {
  std::vector<std::vector<std::string>> helps{{"--help"}};
  for (const std::string& command : commands()) helps.push_back({command, "--help"});
  for (const std::vector<std::string>& args : helps) {
    const Outcome help = run(args);
    ASSERT_EQ(help.exit, 0) << args.at(0);
    const std::string last = last_line(help.out);
    ASSERT_EQ(last.rfind("Example: vramplan ", 0), 0u) << args.at(0) << ": " << last;
    // Every example line of the help runs, not only the last one.
    std::istringstream lines(help.out);
    std::string example;
    while (std::getline(lines, example)) {
      if (example.rfind("Example: vramplan ", 0) != 0) continue;
      std::vector<std::string> example_args = split_words(example);
      example_args.erase(example_args.begin(), example_args.begin() + 2);
      if (args.size() == 2) {
        EXPECT_EQ(example_args.at(0), args.at(0)) << "an example of another command";
      }
      const Outcome result = run(example_args);
      EXPECT_TRUE(result.exit == 0 || result.exit == 1) << example << "\n" << result.err;
      EXPECT_EQ(result.err.find("error"), std::string::npos) << example << "\n" << result.err;
    }
  }
}

TEST(CliDocs, ManPageAndCompletionsNameEveryCommandAndFlag) {
  const std::string man = cli::generate_doc(cli::Doc::man_page);
  const std::string bash = cli::generate_doc(cli::Doc::bash_completion);
  const std::string zsh = cli::generate_doc(cli::Doc::zsh_completion);
  const std::string fish = cli::generate_doc(cli::Doc::fish_completion);
  const std::vector<std::string> names = commands();
  ASSERT_FALSE(names.empty());
  for (const std::string& command : names) {
    EXPECT_NE(man.find(".SS \"vramplan " + command + "\""), std::string::npos) << command;
    EXPECT_NE(bash.find("    " + command + ")\n"), std::string::npos) << command;
    EXPECT_NE(zsh.find("    '" + command + ":"), std::string::npos) << command;
    EXPECT_NE(fish.find("-a " + command + " "), std::string::npos) << command;
    const Outcome help = run({command, "--help"});
    const std::vector<std::string> flags = flags_in_help(help.out);
    EXPECT_GE(flags.size(), 2u) << command;
    // The command's own section of each document.
    const std::string man_part = man.substr(man.find(".SS \"vramplan " + command + "\""));
    const std::string fish_condition = "'__fish_seen_subcommand_from " + command + "'";
    for (const std::string& flag : flags) {
      std::string roff_flag = "\\-\\-";
      for (const char c : flag) roff_flag += c == '-' ? std::string("\\-") : std::string(1, c);
      EXPECT_NE(man_part.find("\\fB" + roff_flag + "\\fR"), std::string::npos)
          << command << " --" << flag;
      EXPECT_NE(bash.find(" --" + flag), std::string::npos) << command << " --" << flag;
      EXPECT_TRUE(zsh.find("'--" + flag + "[") != std::string::npos ||
                  zsh.find("{--" + flag + ",") != std::string::npos)
          << command << " --" << flag;
      EXPECT_NE(fish.find(fish_condition + " -l " + flag + " "), std::string::npos)
          << command << " --" << flag;
    }
  }
}

TEST(CliDocs, ManPageIsRoff) {
  const std::string man = cli::generate_doc(cli::Doc::man_page);
  EXPECT_EQ(man.rfind(".\\\" ", 0), 0u);
  EXPECT_NE(man.find("\n.TH VRAMPLAN 1 "), std::string::npos);
  std::istringstream in(man);
  std::string line;
  while (std::getline(in, line)) {
    // Text lines never start with a control character, and ASCII hyphens are escaped.
    if (line.empty() || line[0] == '.') continue;
    EXPECT_NE(line[0], '\'') << line;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '-') {
        EXPECT_TRUE(i > 0 && line[i - 1] == '\\') << line;
      }
    }
  }
}

TEST(CliUsage, NoCommand) {
  const Outcome result = run({});
  EXPECT_EQ(result.exit, 2);
  EXPECT_EQ(result.err,
            "vramplan: error: no command given; the commands are fit, estimate, check, models, "
            "inspect, gpus, size, recommend (run 'vramplan --help')\n");
}

}  // namespace
}  // namespace vramplan
