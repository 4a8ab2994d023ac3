// The command line as a user meets it: every command's --help ends with an example that runs.
#include <optional>
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

std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
  return trimmed.substr(trimmed.rfind('\n') + 1);
}

TEST(CliHelp, ListsTheCommands) {
  EXPECT_EQ(commands(), (std::vector<std::string>{"fit", "estimate", "models", "inspect"}));
}

TEST(CliHelp, EveryHelpEndsWithAnExampleThatRuns) {
  std::vector<std::vector<std::string>> helps{{"--help"}};
  for (const std::string& command : commands()) helps.push_back({command, "--help"});
  for (const std::vector<std::string>& args : helps) {
    const Outcome help = run(args);
    ASSERT_EQ(help.exit, 0) << args.at(0);
    const std::string example = last_line(help.out);
    ASSERT_EQ(example.rfind("Example: vramplan ", 0), 0u) << args.at(0) << ": " << example;
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

TEST(CliUsage, NoCommand) {
  const Outcome result = run({});
  EXPECT_EQ(result.exit, 2);
  EXPECT_EQ(result.err,
            "vramplan: error: no command given; the commands are fit, estimate, models, inspect "
            "(run 'vramplan --help')\n");
}

}  // namespace
}  // namespace vramplan
