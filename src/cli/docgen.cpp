// generate_doc: the man page (roff) and the bash, zsh and fish completions, written by walking
// the CLI11 app that `cli::run` parses with (app.hpp make_app): every visible subcommand and
// option, its value name and help text. Hidden options (empty group) stay hidden.
// Formats: man-pages(7) and groff_man(7); bash's `complete -F`; zsh's `_arguments`
// (zshcompsys(1)); fish's `complete` (fish-doc "Writing your own completions").
#include <cctype>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/cli.hpp>
#include <vramplan/version.hpp>

#include "app.hpp"

namespace vramplan::cli {
namespace {

// One option as the generators see it.
struct Flag {
  std::vector<std::string> names;  // "--model", "-m": long names first
  std::string value;               // "NAME|FILE"; empty for a switch
  std::string help;
  std::string group;
  bool repeatable = false;
  bool positional = false;
};

struct Command {
  std::string name, help, footer;
  std::vector<Flag> flags;
};

std::vector<Flag> flags_of(const CLI::App& app) {
  std::vector<Flag> flags;
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group().empty()) continue;  // hidden
    Flag flag;
    for (const std::string& name : option->get_lnames()) flag.names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) flag.names.push_back("-" + name);
    flag.positional = flag.names.empty();
    if (flag.positional) flag.names.push_back(option->get_name(true));
    if (option->get_expected_max() > 0) {  // flags expect 0 values
      flag.value = option->get_type_name();
      if (flag.value.empty()) flag.value = "VALUE";
    }
    flag.help = option->get_description();
    if (!option->get_default_str().empty()) {
      flag.help += fmt::format(" (default: {})", option->get_default_str());
    }
    flag.group = option->get_group();
    flag.repeatable =
        !flag.value.empty() && option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    flags.push_back(std::move(flag));
  }
  return flags;
}

std::vector<Command> commands_of(const CLI::App& app) {
  std::vector<Command> commands;
  for (const CLI::App* sub : app.get_subcommands({})) {
    commands.push_back(
        {sub->get_name(), sub->get_description(), sub->get_footer(), flags_of(*sub)});
  }
  return commands;
}

// The lower-case words of a value name ("on|off|auto" -> on off auto; "N|all" -> all): the
// values a shell can offer.
std::vector<std::string> value_words(const std::string& value) {
  std::vector<std::string> words;
  std::string word;
  std::istringstream in(value);
  while (std::getline(in, word, '|')) {
    bool lower = !word.empty();
    for (const char c : word) {
      if (!(std::islower(static_cast<unsigned char>(c)) != 0 ||
            std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-')) {
        lower = false;
      }
    }
    if (lower) words.push_back(word);
  }
  return words;
}

bool takes_file(const Flag& flag) { return flag.value.find("FILE") != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// ---- man page ----

// Text for a roff line: backslashes escaped, hyphens as \- (so options copy as ASCII), and a
// line that would start with a control character guarded by \&.
std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string man_flag(const Flag& flag) {
  std::string line;
  for (const std::string& name : flag.names) {
    if (!line.empty()) line += ", ";
    line += flag.positional
                ? fmt::format("\\fI{}\\fR", roff(flag.value.empty() ? name : flag.value))
                : fmt::format("\\fB{}\\fR", roff(name));
  }
  if (!flag.positional && !flag.value.empty()) line += fmt::format(" \\fI{}\\fR", roff(flag.value));
  return line;
}

void man_flags(std::string& out, const std::vector<Flag>& flags) {
  std::string group;
  for (const Flag& flag : flags) {
    if (flag.group != group && flag.group != "Options" && flag.group != "Positionals") {
      out += fmt::format(".PP\n.I \"{}\"\n", roff(flag.group));
    }
    group = flag.group;
    out += fmt::format(".TP\n{}\n{}\n", man_flag(flag), roff(flag.help));
  }
}

std::string man_page(const CLI::App& app) {
  std::string summary = app.get_description();
  if (summary.rfind("vramplan: ", 0) == 0) summary.erase(0, 10);
  std::string out = fmt::format(
      ".\\\" Generated from the command-line definitions (src/cli/docgen.cpp); do not edit.\n"
      ".TH VRAMPLAN 1 \"\" \"vramplan {}\" \"User Commands\"\n"
      ".SH NAME\nvramplan \\- {}\n"
      ".SH SYNOPSIS\n.B vramplan\n.I command\n.RI [ options ]\n.br\n"
      ".B vramplan\n.I command\n.B \\-\\-help\n.br\n.B vramplan\n.BR \\-\\-version\n",
      version, roff(summary));
  out += ".SH OPTIONS\n";
  man_flags(out, flags_of(app));
  out += ".SH COMMANDS\n";
  for (const Command& command : commands_of(app)) {
    out += fmt::format(".SS \"vramplan {}\"\n{}\n.PP\n.B vramplan {}\n", roff(command.name),
                       roff(command.help), roff(command.name));
    for (const Flag& flag : command.flags) {
      if (flag.positional) out += fmt::format(".RI [ {} ]\n", roff(flag.value));
    }
    out += ".RI [ options ]\n";
    man_flags(out, command.flags);
    for (const std::string& line : lines_of(command.footer)) {
      out += fmt::format(".PP\n{}\n", roff(line));
    }
  }
  out += ".SH NOTES\n";
  for (const std::string& line : lines_of(app.get_footer())) {
    out += fmt::format(".PP\n{}\n", roff(line));
  }
  out +=
      ".SH SEE ALSO\nThe full documentation: /usr/share/doc/vramplan (README.md, docs/cli.md).\n";
  return out;
}

// ---- bash ----

std::string words(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& word : list) {
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

// Names and value words are [a-z0-9_|-] (CLI11 option names; value_words): safe inside
// double quotes and case patterns without escaping.
std::string bash_completion(const CLI::App& app) {
  const std::vector<Command> commands = commands_of(app);
  std::vector<std::string> top;
  for (const Command& command : commands) top.push_back(command.name);
  for (const Flag& flag : flags_of(app)) {
    top.insert(top.end(), flag.names.begin(), flag.names.end());
  }
  std::string out =
      "# bash completion for vramplan. Generated from the command-line definitions\n"
      "# (src/cli/docgen.cpp); do not edit.\n"
      "_vramplan() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    case ${COMP_WORDS[i]} in\n";
  std::vector<std::string> names;
  for (const Command& command : commands) names.push_back(command.name);
  out += fmt::format("      {}) cmd=${{COMP_WORDS[i]}}; break ;;\n", fmt::join(names, "|"));
  out += "    esac\n  done\n  case $cmd in\n";
  out += fmt::format("    '') COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")) ;;\n", words(top));
  for (const Command& command : commands) {
    out += fmt::format("    {})\n      case $prev in\n", command.name);
    std::vector<std::string> all;
    for (const Flag& flag : command.flags) {
      if (flag.positional) continue;
      all.insert(all.end(), flag.names.begin(), flag.names.end());
      if (flag.value.empty()) continue;
      const std::string pattern = fmt::format("{}", fmt::join(flag.names, "|"));
      const std::vector<std::string> values = value_words(flag.value);
      if (takes_file(flag)) {
        out +=
            fmt::format("        {}) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", pattern);
      } else if (!values.empty()) {
        out += fmt::format("        {}) COMPREPLY=($(compgen -W \"{}\" -- \"$cur\")); return ;;\n",
                           pattern, words(values));
      } else {
        out += fmt::format("        {}) return ;;\n", pattern);
      }
    }
    out += "      esac\n";
    out += fmt::format(
        "      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"{}\" -- \"$cur\"))\n"
        "      else COMPREPLY=($(compgen -f -- \"$cur\")); fi ;;\n",
        words(all));
  }
  out += "  esac\n}\ncomplete -o filenames -F _vramplan vramplan\n";
  return out;
}

// ---- zsh ----

// Inside a single-quoted _arguments spec: ' closes the quote, and [ ] : \ are special in the
// description.
std::string zsh_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else if (c == '[' || c == ']' || c == ':' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string zsh_action(const Flag& flag) {
  if (takes_file(flag)) return "_files";
  const std::vector<std::string> values = value_words(flag.value);
  if (!values.empty()) return fmt::format("({})", words(values));
  return " ";
}

std::string zsh_spec(const Flag& flag) {
  const std::string help = zsh_text(flag.help);
  if (flag.positional) {
    return fmt::format("'::{}:{}'", zsh_text(flag.value), zsh_action(flag));
  }
  std::string value;
  if (!flag.value.empty()) value = fmt::format(":{}:{}", zsh_text(flag.value), zsh_action(flag));
  const std::string star = flag.repeatable ? "*" : "";
  if (flag.names.size() == 1) {
    return fmt::format("'{}{}[{}]{}'", star, flag.names[0], help, value);
  }
  return fmt::format("'{}'{{{}}}'[{}]{}'",
                     star.empty() ? fmt::format("({})", words(flag.names)) : star,
                     fmt::join(flag.names, ","), help, value);
}

std::string zsh_completion(const CLI::App& app) {
  std::string out =
      "#compdef vramplan\n"
      "# zsh completion for vramplan. Generated from the command-line definitions\n"
      "# (src/cli/docgen.cpp); do not edit.\n"
      "_vramplan() {\n"
      "  local curcontext=$curcontext state line\n"
      "  local -a commands\n"
      "  commands=(\n";
  const std::vector<Command> commands = commands_of(app);
  for (const Command& command : commands) {
    out += fmt::format("    '{}:{}'\n", command.name, zsh_text(command.help));
  }
  out += "  )\n  _arguments -C \\\n";
  for (const Flag& flag : flags_of(app)) out += fmt::format("    {} \\\n", zsh_spec(flag));
  out +=
      "    '1:command:->command' \\\n"
      "    '*::argument:->argument'\n"
      "  case $state in\n"
      "    command) _describe -t commands 'vramplan command' commands ;;\n"
      "    argument)\n"
      "      case $words[1] in\n";
  for (const Command& command : commands) {
    std::vector<std::string> specs;
    for (const Flag& flag : command.flags) specs.push_back(zsh_spec(flag));
    out += fmt::format("        {})\n          _arguments \\\n            {} ;;\n", command.name,
                       fmt::join(specs, " \\\n            "));
  }
  out += "      esac ;;\n  esac\n}\n_vramplan \"$@\"\n";
  return out;
}

// ---- fish ----

std::string fish_text(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string fish_completion(const CLI::App& app) {
  const std::vector<Command> commands = commands_of(app);
  std::vector<std::string> names;
  for (const Command& command : commands) names.push_back(command.name);
  std::string out =
      "# fish completion for vramplan. Generated from the command-line definitions\n"
      "# (src/cli/docgen.cpp); do not edit.\n"
      "complete -c vramplan -f\n";
  for (const Command& command : commands) {
    out += fmt::format("complete -c vramplan -n __fish_use_subcommand -a {} -d {}\n", command.name,
                       fish_text(command.help));
  }
  const auto flag_line = [](const Flag& flag, const std::string& condition) {
    std::string line = fmt::format("complete -c vramplan -n {}", condition);
    for (const std::string& name : flag.names) {
      line += name.rfind("--", 0) == 0 ? fmt::format(" -l {}", name.substr(2))
                                       : fmt::format(" -s {}", name.substr(1));
    }
    if (!flag.value.empty()) {
      const std::vector<std::string> values = value_words(flag.value);
      if (takes_file(flag)) {
        line += " -r -F";
      } else if (!values.empty()) {
        line += fmt::format(" -x -a {}", fish_text(words(values)));
      } else {
        line += " -x";
      }
    }
    return line + fmt::format(" -d {}\n", fish_text(flag.help));
  };
  for (const Flag& flag : flags_of(app)) out += flag_line(flag, "__fish_use_subcommand");
  for (const Command& command : commands) {
    const std::string condition = fmt::format("'__fish_seen_subcommand_from {}'", command.name);
    for (const Flag& flag : command.flags) {
      if (flag.positional) {
        if (takes_file(flag)) out += fmt::format("complete -c vramplan -n {} -F\n", condition);
        continue;
      }
      out += flag_line(flag, condition);
    }
  }
  return out;
}

}  // namespace

std::string generate_doc(Doc doc) {
  std::vector<cli::Command> registered;
  const std::unique_ptr<CLI::App> app = make_app(registered);
  switch (doc) {
    case Doc::man_page:
      return man_page(*app);
    case Doc::bash_completion:
      return bash_completion(*app);
    case Doc::zsh_completion:
      return zsh_completion(*app);
    case Doc::fish_completion:
      return fish_completion(*app);
  }
  return {};
}

}  // namespace vramplan::cli
