// .env, compose and Modelfile readers and rewriters (include/vramplan/io/deploy_files.hpp).
// Every error is one line "<file>:<line>: <what>", with the bytes it quotes escaped.
#include <algorithm>
#include <array>
#include <filesystem>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/parser.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/error.hpp>
#include <vramplan/io/deploy_files.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/text.hpp>

#include "escape_controls.hpp"
#include "yaml_bounded.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

// Control bytes as \xNN and at most 80 bytes, so a message quoting the file stays one line.
[[nodiscard]] std::string shown(std::string_view text) {
  constexpr std::size_t max_shown = 80;
  if (text.size() <= max_shown) return escape_controls(text);
  return escape_controls(text.substr(0, max_shown)) + "...";
}

// The file is named whole (a path is bounded by the system; cutting it would drop the file's
// own name), its control bytes escaped.
[[noreturn]] void fail(const Origin& origin, const std::string& what) {
  if (origin.line == 0) {
    throw Error(ErrorKind::bad_input, fmt::format("{}: {}", escape_controls(origin.file), what));
  }
  throw Error(ErrorKind::bad_input,
              fmt::format("{}:{}: {}", escape_controls(origin.file), origin.line, what));
}

// Size, line count and NUL bytes, before anything else reads the text.
void check_text(std::string_view text, const std::string& file) {
  if (text.size() > deploy_max_bytes) {
    fail({file, 0},
         fmt::format("file is {} bytes, more than the limit of {}", text.size(), deploy_max_bytes));
  }
  std::size_t line = 1;
  for (const char c : text) {
    if (c == '\n' && ++line > deploy_max_lines) {
      fail({file, line}, fmt::format("more than {} lines", deploy_max_lines));
    }
    if (c == '\0') fail({file, line}, "NUL byte");
  }
}

[[nodiscard]] bool is_blank(char c) { return c == ' ' || c == '\t'; }
[[nodiscard]] bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
[[nodiscard]] bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
[[nodiscard]] bool is_env_name(std::string_view name) {
  return !name.empty() && is_name_start(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

[[nodiscard]] std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void check_value_size(const std::string& value, const Origin& origin) {
  if (value.size() > deploy_max_value) {
    fail(origin, fmt::format("a value of more than {} bytes", deploy_max_value));
  }
}

// What one file keeps, with what it includes (env_file): interpolation can make a value 64 KiB
// out of a few bytes, so the values are counted together as well.
class Budget {
 public:
  void spend(std::size_t bytes, const Origin& origin) {
    used_ += bytes;
    if (used_ > deploy_max_total) {
      fail(origin, fmt::format("values of more than {} bytes in all", deploy_max_total));
    }
  }

 private:
  std::size_t used_ = 0;
};

// --- interpolation ---

class Interpolator {
 public:
  Interpolator(const Variables& first, const Variables* second, const Origin& origin)
      : first_(first), second_(second), origin_(origin) {}

  [[nodiscard]] std::string run(std::string_view s, std::size_t depth) const {
    if (depth > interpolation_max_depth) {
      fail(origin_,
           fmt::format("'${{...}}' nested deeper than {} levels", interpolation_max_depth));
    }
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
      if (s[i] != '$' || i + 1 >= s.size()) {
        out += s[i++];
      } else if (s[i + 1] == '$') {
        out += '$';
        i += 2;
      } else if (s[i + 1] == '{') {
        const std::size_t end = closing_brace(s, i + 2);
        out += braced(s.substr(i + 2, end - i - 2), depth);
        i = end + 1;
      } else if (is_name_start(s[i + 1])) {
        std::size_t j = i + 1;
        while (j < s.size() && is_name_char(s[j])) ++j;
        out += lookup(s.substr(i + 1, j - i - 1)).value_or("");
        i = j;
      } else {
        out += s[i++];
      }
      if (out.size() > deploy_max_value) {
        fail(origin_, fmt::format("an interpolated value of more than {} bytes", deploy_max_value));
      }
    }
    return out;
  }

 private:
  [[nodiscard]] std::optional<std::string> lookup(std::string_view name) const {
    if (const auto it = first_.find(name); it != first_.end()) return it->second;
    if (second_) {
      if (const auto it = second_->find(name); it != second_->end()) return it->second;
    }
    return std::nullopt;
  }

  // The '}' that closes the '${' opened before `from`, nested '${' counted.
  [[nodiscard]] std::size_t closing_brace(std::string_view s, std::size_t from) const {
    std::size_t open = 1;
    for (std::size_t i = from; i < s.size(); ++i) {
      if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        ++open;
        ++i;
      } else if (s[i] == '}' && --open == 0) {
        return i;
      }
    }
    fail(origin_, fmt::format("unterminated '${{' in '{}'", shown(s.substr(from - 2))));
  }

  [[nodiscard]] std::string braced(std::string_view body, std::size_t depth) const {
    std::size_t n = 0;
    while (n < body.size() && is_name_char(body[n])) ++n;
    const std::string_view name = body.substr(0, n);
    if (name.empty() || !is_name_start(name.front())) {
      fail(origin_, fmt::format("invalid interpolation '${{{}}}'", shown(body)));
    }
    const std::string_view rest = body.substr(n);
    const std::optional<std::string> value = lookup(name);
    if (rest.empty()) return value.value_or("");
    const bool colon = rest.front() == ':';
    const std::string_view op = rest.substr(colon ? 1 : 0, 1);
    const std::string_view word = rest.substr(colon ? 2 : 1);
    if (colon && rest.size() < 2) {
      fail(origin_, fmt::format("invalid interpolation '${{{}}}'", shown(body)));
    }
    const bool set = colon ? value && !value->empty() : value.has_value();
    if (op == "-") return set ? *value : run(word, depth + 1);
    if (op == "+") return set ? run(word, depth + 1) : "";
    if (op == "?") {
      if (set) return *value;
      fail(origin_, fmt::format("required variable {} is missing a value: {}", name,
                                shown(run(word, depth + 1))));
    }
    fail(origin_, fmt::format("invalid interpolation '${{{}}}'", shown(body)));
  }

  const Variables& first_;
  const Variables* second_;
  const Origin& origin_;
};

// --- .env ---

struct EnvLine {
  EnvEntry entry;
  std::size_t begin = 0;  // offset of the first byte of its first line
  std::size_t end = 0;    // offset past its last line (before the '\n')
  std::string prefix;     // indentation and `export `
  std::string comment;    // an inline comment after the value (with its '#')
};

class EnvParser {
 public:
  EnvParser(std::string_view text, const std::string& origin, EnvDialect dialect,
            const Variables& outside, Budget& budget)
      : text_(text), origin_(origin), dialect_(dialect), outside_(outside), budget_(budget) {}

  std::vector<EnvLine> run() {
    check_text(text_, origin_);
    std::vector<EnvLine> lines;
    while (pos_ < text_.size()) {
      const std::size_t begin = pos_;
      const std::size_t first_line = line_ + 1;
      std::string_view line = take_line();
      std::string_view rest = line;
      std::size_t indent = 0;
      while (indent < rest.size() && is_blank(rest[indent])) ++indent;
      rest.remove_prefix(indent);
      if (rest.empty() || rest == "\r" || rest.front() == '#' ||
          (dialect_ == EnvDialect::systemd && rest.front() == ';')) {
        continue;
      }
      std::size_t prefix_length = indent;
      if (dialect_ == EnvDialect::compose && rest.starts_with("export") && rest.size() > 6 &&
          is_blank(rest[6])) {
        std::size_t k = 6;
        while (k < rest.size() && is_blank(rest[k])) ++k;
        rest.remove_prefix(k);
        prefix_length += k;
      }
      const Origin origin{origin_, first_line};
      const std::size_t eq = rest.find('=');
      if (eq == std::string_view::npos) {
        fail(origin, fmt::format("expected NAME=VALUE, got '{}'", shown(trim_blanks(rest))));
      }
      const std::string_view name = trim_blanks(rest.substr(0, eq));
      if (!is_env_name(name)) {
        fail(origin, fmt::format("'{}' is not a variable name", shown(name)));
      }
      EnvLine out;
      out.prefix = std::string(line.substr(0, prefix_length));
      out.entry.name = std::string(name);
      out.entry.origin = origin;
      out.entry.value = value(rest.substr(eq + 1), line, out.comment, origin);
      check_value_size(out.entry.value, origin);
      budget_.spend(out.entry.name.size() + out.entry.value.size(), origin);
      out.begin = begin;
      out.end = line_end_;
      if (dialect_ == EnvDialect::compose) seen_[out.entry.name] = out.entry.value;
      lines.push_back(std::move(out));
      if (lines.size() > deploy_max_entries) {
        fail(origin, fmt::format("more than {} variables", deploy_max_entries));
      }
    }
    return lines;
  }

 private:
  // The next line without its '\n'; line_end_ is where it ends.
  std::string_view take_line() {
    const std::size_t nl = text_.find('\n', pos_);
    const std::size_t end = nl == std::string_view::npos ? text_.size() : nl;
    const std::string_view line = text_.substr(pos_, end - pos_);
    line_end_ = end;
    pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
    ++line_;
    return line;
  }

  // The value after '=' on `line` (continuing on the next lines for quotes and systemd's
  // trailing backslash); an inline comment goes to `comment`.
  std::string value(std::string_view v, std::string_view line, std::string& comment,
                    const Origin& origin) {
    static_cast<void>(line);
    while (!v.empty() && is_blank(v.front())) v.remove_prefix(1);
    if (!v.empty() && (v.front() == '\'' || v.front() == '"')) {
      const char quote = v.front();
      std::string raw;
      std::string_view rest = v.substr(1);
      while (true) {
        std::size_t k = 0;
        bool closed = false;
        for (; k < rest.size(); ++k) {
          if (rest[k] == '\\' && k + 1 < rest.size()) {
            raw += rest[k];
            raw += rest[++k];
            continue;
          }
          if (rest[k] == quote) {
            closed = true;
            break;
          }
          raw += rest[k];
        }
        if (closed) {
          rest.remove_prefix(k + 1);
          break;
        }
        if (pos_ >= text_.size()) {
          fail(origin, fmt::format("unterminated {} quote", quote == '"' ? "double" : "single"));
        }
        raw += '\n';
        check_value_size(raw, origin);
        rest = take_line();
      }
      const std::string_view after = trim_blanks(rest);
      if (!after.empty()) {
        if (after.front() != '#') {
          fail(origin, fmt::format("unexpected '{}' after the closing quote", shown(after)));
        }
        comment = std::string(after);
      }
      std::string unescaped = unescape(raw, quote);
      if (dialect_ == EnvDialect::compose && quote == '"') {
        return Interpolator(outside_, &seen_, origin).run(unescaped, 0);
      }
      return unescaped;
    }
    std::string raw(v);
    if (dialect_ == EnvDialect::systemd) {
      // A backslash at the end of a line joins the next one.
      while (!raw.empty() && raw.back() == '\\' && pos_ < text_.size()) {
        raw.pop_back();
        raw += take_line();
        check_value_size(raw, origin);
      }
    }
    // An inline comment starts at a '#' after a blank (Compose only: systemd keeps it).
    for (std::size_t k = 1; dialect_ == EnvDialect::compose && k < raw.size(); ++k) {
      if (raw[k] == '#' && is_blank(raw[k - 1])) {
        comment = raw.substr(k);
        while (!comment.empty() && comment.back() == '\r') comment.pop_back();
        raw.resize(k);
        break;
      }
    }
    const std::string trimmed(trim_blanks(raw));
    if (dialect_ == EnvDialect::compose)
      return Interpolator(outside_, &seen_, origin).run(trimmed, 0);
    return trimmed;
  }

  [[nodiscard]] std::string unescape(const std::string& raw, char quote) const {
    std::string out;
    for (std::size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] != '\\' || k + 1 >= raw.size()) {
        out += raw[k];
        continue;
      }
      const char next = raw[k + 1];
      if (quote == '\'') {
        // Only the quote itself is escaped in '...'.
        if (next == '\'') {
          out += '\'';
          ++k;
        } else {
          out += raw[k];
        }
        continue;
      }
      ++k;
      switch (next) {
        case 'n':
          out += dialect_ == EnvDialect::compose ? '\n' : 'n';
          break;
        case 'r':
          out += dialect_ == EnvDialect::compose ? '\r' : 'r';
          break;
        case 't':
          out += dialect_ == EnvDialect::compose ? '\t' : 't';
          break;
        case '\\':
        case '"':
        case '$':
        case '`':
          out += next;
          break;
        case '\n':
          break;  // a continued line
        default:
          out += '\\';
          out += next;
      }
    }
    return out;
  }

  std::string_view text_;
  const std::string& origin_;
  EnvDialect dialect_;
  const Variables& outside_;
  Variables seen_;
  std::size_t pos_ = 0;
  std::size_t line_ = 0;
  std::size_t line_end_ = 0;
  Budget& budget_;
};

// --- changes ---

// The value of a change must be one plain word (text.hpp); its name is checked by the caller.
void check_value(const Change& c, const std::string& origin) {
  if (const std::optional<WordProblem> p = plain_word_problem(c.value)) {
    std::string why = "is empty";
    if (p->kind == WordProblem::Kind::leading_dash) why = "starts with '-'";
    if (p->kind == WordProblem::Kind::character) {
      why = fmt::format("contains '{}'",
                        shown(std::string_view(c.value).substr(p->offset, p->length)));
    }
    fail({origin, 0}, fmt::format("cannot write {}='{}': the value {} (a value must be one word of "
                                  "letters, digits and - . _ / : @ + = , %)",
                                  shown(c.name), shown(c.value), why));
  }
}

void check_change(const Change& c, bool parameter, const std::string& origin) {
  const bool name_ok =
      parameter ? !c.name.empty() && std::all_of(c.name.begin(), c.name.end(), is_name_char)
                : is_env_name(c.name);
  if (!name_ok) {
    fail({origin, 0}, fmt::format("cannot write '{}': not a {} name", shown(c.name),
                                  parameter ? "PARAMETER" : "variable"));
  }
  check_value(c, origin);
}

// Replaces byte ranges of `text` (sorted, disjoint) and appends `tail`.
std::string splice(std::string_view text,
                   std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::string>> edits,
                   const std::string& tail) {
  std::sort(edits.begin(), edits.end());
  std::string out;
  std::size_t at = 0;
  for (const auto& [range, replacement] : edits) {
    out.append(text.substr(at, range.first - at));
    out += replacement;
    at = range.second;
  }
  out.append(text.substr(at));
  if (!tail.empty()) {
    if (!out.empty() && out.back() != '\n') out += '\n';
    out += tail;
  }
  return out;
}

// --- compose ---

[[nodiscard]] Origin origin_of(const std::string& file, const YAML::Node& node) {
  return Origin{
      file, node && !node.Mark().is_null() ? static_cast<std::size_t>(node.Mark().line) + 1 : 0};
}

class ComposeReader {
 public:
  ComposeReader(const std::string& origin, const Variables& variables, std::string base_dir,
                FileReader reader)
      : origin_(origin), variables_(variables), base_dir_(std::move(base_dir)), reader_(reader) {}

  ComposeFile run(std::string_view text) {
    check_text(text, origin_);
    const YAML::Node root = load(text, origin_);
    ComposeFile out;
    out.path = origin_;
    if (!root.IsMap()) fail(origin_of(origin_, root), "a compose file must be a map");
    const YAML::Node services = root["services"];
    if (!services || services.IsNull()) fail({origin_, 0}, "no 'services'");
    if (!services.IsMap()) fail(origin_of(origin_, services), "'services' must be a map");
    for (auto it = services.begin(); it != services.end(); ++it) {
      out.services.push_back(service(it->first.Scalar(), it->first, it->second));
    }
    return out;
  }

  // Parses YAML text after counting it by events (yaml_bounded.hpp).
  static YAML::Node load(std::string_view text, const std::string& origin) {
    // load_bounded_yaml counts with the catalog's limits, which are the compose limits.
    static_assert(compose_max_nodes == catalog_max_nodes &&
                  compose_max_depth == catalog_max_depth && deploy_max_value == catalog_max_scalar);
    try {
      return load_bounded_yaml(text);
    } catch (const YamlLimit& limit) {
      fail(Origin{origin, static_cast<std::size_t>(limit.mark.line) + 1}, limit.what);
    } catch (const YAML::Exception& e) {
      fail(Origin{origin, e.mark.is_null() ? 0 : static_cast<std::size_t>(e.mark.line) + 1},
           shown(e.msg));
    }
  }

 private:
  [[nodiscard]] std::string scalar(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar())
      fail(origin_of(origin_, node), fmt::format("'{}' must be a string", what));
    std::string value =
        Interpolator(variables_, nullptr, origin_of(origin_, node)).run(node.Scalar(), 0);
    budget_.spend(value.size(), origin_of(origin_, node));
    return value;
  }

  // A map with its YAML merge keys (`<<: *defaults`, `<<: [*a, *b]`) applied: the map's own
  // keys win, then the merged maps in order. yaml-cpp leaves `<<` as an ordinary key, and
  // compose files use it for shared `x-` blocks. The nodes are shared, so marks stay.
  [[nodiscard]] YAML::Node merged(const YAML::Node& map, std::size_t depth = 0) const {
    if (!map.IsMap() || !map["<<"]) return map;
    if (depth > compose_max_depth) {
      fail(origin_of(origin_, map),
           fmt::format("merge keys '<<' nested deeper than {} levels", compose_max_depth));
    }
    YAML::Node out(YAML::NodeType::Map);
    std::set<std::string> keys;
    const auto add = [&](const YAML::Node& key, const YAML::Node& value) {
      const std::string k = key.Scalar();
      if (k != "<<" && keys.insert(k).second) out[key] = value;
    };
    for (auto it = map.begin(); it != map.end(); ++it) add(it->first, it->second);
    const auto add_all = [&](const YAML::Node& from) {
      const YAML::Node m = merged(from, depth + 1);
      if (!m.IsMap()) fail(origin_of(origin_, from), "a merge key '<<' must name a map");
      for (auto it = m.begin(); it != m.end(); ++it) add(it->first, it->second);
    };
    const YAML::Node merge = map["<<"];
    if (merge.IsSequence()) {
      for (const YAML::Node& m : merge) add_all(m);
    } else {
      add_all(merge);
    }
    return out;
  }

  ComposeService service(const std::string& name, const YAML::Node& key,
                         const YAML::Node& raw_body) {
    const YAML::Node body = merged(raw_body);
    ComposeService s;
    s.name = name;
    s.origin = origin_of(origin_, key);
    if (body.IsNull()) return s;
    if (!body.IsMap()) fail(s.origin, fmt::format("service '{}' must be a map", shown(name)));
    if (const YAML::Node image = body["image"]) {
      s.image = scalar(image, "image");
      s.engine = engine_of_image(s.image);
    }
    if (const YAML::Node files = body["env_file"]) env_files(files, s);
    if (const YAML::Node env = body["environment"]) environment(env, s);
    if (const YAML::Node command = body["command"]; command && !command.IsNull())
      s.command = words(command, "command");
    if (const YAML::Node entry = body["entrypoint"]; entry && !entry.IsNull())
      s.entrypoint = words(entry, "entrypoint");
    if (const YAML::Node mem = body["mem_limit"]) s.memory_limit = scalar(mem, "mem_limit");
    if (const YAML::Node deploy = body["deploy"]; deploy && deploy.IsMap()) {
      if (const YAML::Node resources = deploy["resources"]; resources && resources.IsMap()) {
        if (const YAML::Node limits = resources["limits"]; limits && limits.IsMap()) {
          if (const YAML::Node mem = limits["memory"]) s.memory_limit = scalar(mem, "memory");
        }
        if (const YAML::Node res = resources["reservations"]; res && res.IsMap()) {
          if (const YAML::Node mem = res["memory"]) s.memory_reservation = scalar(mem, "memory");
          if (const YAML::Node devices = res["devices"]) gpus(devices, s);
        }
      }
    }
    s.server = is_server(s);
    return s;
  }

  // Ollama's image runs `ollama serve` unless the entry point or command says otherwise; the
  // llama.cpp and vLLM images run their server with `command:` as its arguments.
  static bool is_server(const ComposeService& s) {
    if (!s.engine) return false;
    if (*s.engine == DeployEngine::llama_server) {
      // The image's own entry point, spelled out, is still the server.
      return !s.entrypoint ||
             (s.entrypoint->size() == 1 && (s.entrypoint->front().text == "/app/llama-server" ||
                                            s.entrypoint->front().text == "llama-server"));
    }
    if (*s.engine == DeployEngine::vllm) {
      if (!s.entrypoint) return true;
      const std::vector<CommandArg>& e = *s.entrypoint;
      return (e.size() == 2 && e[0].text == "vllm" && e[1].text == "serve") ||
             (!e.empty() && e.back().text == "vllm.entrypoints.openai.api_server");
    }
    if (s.entrypoint) {
      const std::vector<CommandArg>& e = *s.entrypoint;
      const bool ollama_binary =
          e.size() == 1 && (e[0].text == "/bin/ollama" || e[0].text == "ollama");
      if (!ollama_binary) return false;
    }
    return !s.command || s.command->empty() || s.command->front().text == "serve";
  }

  void env_files(const YAML::Node& node, ComposeService& s) {
    std::vector<std::pair<YAML::Node, bool>> files;  // path node, required
    if (node.IsScalar()) {
      files.emplace_back(node, true);
    } else if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        if (item.IsMap()) {
          const YAML::Node path = item["path"];
          if (!path) fail(origin_of(origin_, item), "env_file entry without 'path'");
          const YAML::Node required = item["required"];
          files.emplace_back(path, !required || required.Scalar() != "false");
        } else {
          files.emplace_back(item, true);
        }
      }
    } else {
      fail(origin_of(origin_, node), "'env_file' must be a path or a list");
    }
    if (files.size() > compose_max_env_files) {
      fail(origin_of(origin_, node),
           fmt::format("more than {} env_file entries", compose_max_env_files));
    }
    for (const auto& [path_node, required] : files) {
      const std::string path = scalar(path_node, "env_file");
      const std::string resolved = fs::path(path).is_absolute() || base_dir_.empty()
                                       ? path
                                       : (fs::path(base_dir_) / path).string();
      s.env_files.push_back(resolved);
      if (!reader_) continue;
      const std::optional<std::string> text = reader_(resolved);
      if (!text) {
        if (required)
          fail(origin_of(origin_, path_node),
               fmt::format("env_file '{}' not found", shown(resolved)));
        continue;
      }
      std::vector<EnvEntry> entries;
      for (EnvLine& l : EnvParser(*text, resolved, EnvDialect::compose, variables_, budget_).run())
        entries.push_back(std::move(l.entry));
      add_entries(s, std::move(entries), origin_of(origin_, path_node));
    }
  }

  void add_entries(ComposeService& s, std::vector<EnvEntry> entries, const Origin& where) {
    for (EnvEntry& e : entries) {
      s.environment.push_back(std::move(e));
      if (s.environment.size() > deploy_max_entries) {
        fail(where, fmt::format("more than {} variables", deploy_max_entries));
      }
    }
  }

  void environment(const YAML::Node& raw, ComposeService& s) {
    const YAML::Node node = merged(raw);
    std::vector<EnvEntry> entries;
    const auto from_shell = [&](const std::string& name, const Origin& origin) {
      // `KEY` alone (or `KEY:` with no value) takes the value Compose runs with, if any.
      if (const auto it = variables_.find(name); it != variables_.end())
        entries.push_back({name, it->second, origin});
    };
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string name = it->first.Scalar();
        const Origin origin = origin_of(origin_, it->first);
        if (!is_env_name(name))
          fail(origin, fmt::format("'{}' is not a variable name", shown(name)));
        if (it->second.IsNull()) {
          from_shell(name, origin);
        } else {
          entries.push_back({name, scalar(it->second, name), origin});
        }
      }
    } else if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        const std::string text = scalar(item, "environment");
        const Origin origin = origin_of(origin_, item);
        const std::size_t eq = text.find('=');
        const std::string name = text.substr(0, eq);
        if (!is_env_name(name))
          fail(origin, fmt::format("'{}' is not a variable name", shown(name)));
        if (eq == std::string::npos) {
          from_shell(name, origin);
        } else {
          entries.push_back({name, text.substr(eq + 1), origin});
        }
      }
    } else if (!node.IsNull()) {
      fail(origin_of(origin_, node), "'environment' must be a map or a list");
    }
    add_entries(s, std::move(entries), origin_of(origin_, node));
  }

  std::vector<CommandArg> words(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar()) return split_command(scalar(node, what), origin_of(origin_, node));
    if (!node.IsSequence())
      fail(origin_of(origin_, node), fmt::format("'{}' must be a string or a list", what));
    std::vector<CommandArg> out;
    for (const YAML::Node& item : node) {
      out.push_back({scalar(item, what), origin_of(origin_, item)});
      if (out.size() > deploy_max_entries) {
        fail(origin_of(origin_, node),
             fmt::format("more than {} words in '{}'", deploy_max_entries, what));
      }
    }
    return out;
  }

  void gpus(const YAML::Node& node, ComposeService& s) {
    if (!node.IsSequence()) fail(origin_of(origin_, node), "'devices' must be a list");
    for (const YAML::Node& item : node) {
      if (!item.IsMap()) fail(origin_of(origin_, item), "a device request must be a map");
      ComposeDevice d;
      d.origin = origin_of(origin_, item);
      if (const YAML::Node driver = item["driver"]) d.driver = scalar(driver, "driver");
      if (const YAML::Node count = item["count"]) {
        const std::string c = scalar(count, "count");
        if (c == "all") {
          d.count = -1;
        } else {
          const std::optional<std::int64_t> n =
              std::all_of(c.begin(), c.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) &&
                      !c.empty() && c.size() < 10
                  ? std::optional<std::int64_t>(std::stoll(c))
                  : std::nullopt;
          if (!n)
            fail(origin_of(origin_, count),
                 fmt::format("device count '{}' is not a number or 'all'", shown(c)));
          d.count = n;
        }
      }
      for (const char* key : {"device_ids", "capabilities"}) {
        const YAML::Node list = item[key];
        if (!list) continue;
        if (!list.IsSequence())
          fail(origin_of(origin_, list), fmt::format("'{}' must be a list", key));
        for (const YAML::Node& v : list) {
          (std::string_view(key) == "device_ids" ? d.device_ids : d.capabilities)
              .push_back(scalar(v, key));
        }
      }
      s.gpus.push_back(std::move(d));
    }
  }

  const std::string& origin_;
  const Variables& variables_;
  std::string base_dir_;
  FileReader reader_;
  Budget budget_;
};

std::optional<std::string> read_if_exists(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(fs::path(path), ec)) return std::nullopt;
  return read_text_file(path, deploy_max_bytes);
}

// --- Modelfile ---

struct ModelfileCommand {
  std::string command;           // lowercased
  ModelfileParameter parameter;  // name: the PARAMETER's (or the command's), value, origin
  std::size_t begin = 0;
  std::size_t end = 0;  // past the last byte of its value (before the '\n')
};

constexpr std::array<std::string_view, 11> modelfile_commands{
    "from",    "parameter", "template", "system", "adapter", "license",
    "message", "draft",     "renderer", "parser", "requires"};

std::vector<ModelfileCommand> parse_modelfile_commands(std::string_view text,
                                                       const std::string& origin) {
  check_text(text, origin);
  std::vector<ModelfileCommand> out;
  std::size_t i = 0;
  std::size_t line = 1;
  const auto at_end_of_line = [&] {
    return i >= text.size() || text[i] == '\n' || text[i] == '\r';
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (is_blank(c) || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    ModelfileCommand cmd;
    cmd.begin = i;
    const Origin o{origin, line};
    std::size_t j = i;
    while (j < text.size() &&
           ((text[j] >= 'a' && text[j] <= 'z') || (text[j] >= 'A' && text[j] <= 'Z')))
      ++j;
    cmd.command = lower_ascii(text.substr(i, j - i));
    if (j == i || j >= text.size() || !is_blank(text[j]) ||
        std::find(modelfile_commands.begin(), modelfile_commands.end(), cmd.command) ==
            modelfile_commands.end()) {
      std::size_t e = i;
      while (e < text.size() && text[e] != '\n' && !is_blank(text[e])) ++e;
      fail(o, fmt::format("unknown command '{}' (a Modelfile command is one of FROM, PARAMETER, "
                          "TEMPLATE, SYSTEM, ADAPTER, LICENSE, MESSAGE, DRAFT, RENDERER, PARSER, "
                          "REQUIRES)",
                          shown(text.substr(i, e - i))));
    }
    i = j;
    while (i < text.size() && is_blank(text[i])) ++i;
    cmd.parameter.name = cmd.command;
    if (cmd.command == "parameter" || cmd.command == "message") {
      std::size_t k = i;
      while (k < text.size() && is_name_char(text[k])) ++k;
      if (k == i || k >= text.size() || !is_blank(text[k])) {
        fail(o, fmt::format("{} needs a name and a value",
                            cmd.command == "parameter" ? "PARAMETER" : "MESSAGE"));
      }
      cmd.parameter.name = std::string(text.substr(i, k - i));
      i = k;
      while (i < text.size() && is_blank(text[i])) ++i;
    }
    cmd.parameter.origin = o;
    // The value: to the end of the line, or between quotes over several lines.
    std::string_view quote;
    if (text.substr(i).starts_with("\"\"\"")) {
      quote = "\"\"\"";
    } else if (i < text.size() && text[i] == '"') {
      quote = "\"";
    }
    if (!quote.empty()) {
      const std::size_t close = text.find(quote, i + quote.size());
      if (close == std::string_view::npos) {
        fail(o, fmt::format("unterminated {} quote", quote.size() == 3 ? "\"\"\"" : "\""));
      }
      cmd.parameter.value = std::string(text.substr(i + quote.size(), close - i - quote.size()));
      line += static_cast<std::size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(i),
                                                  text.begin() + static_cast<std::ptrdiff_t>(close),
                                                  '\n'));
      i = close + quote.size();
      while (i < text.size() && is_blank(text[i])) ++i;
      if (!at_end_of_line()) {
        fail(Origin{origin, line}, "unexpected text after the closing quote");
      }
    } else {
      std::size_t e = i;
      while (e < text.size() && text[e] != '\n') ++e;
      cmd.parameter.value = std::string(trim_blanks(text.substr(i, e - i)));
      i = e;
    }
    cmd.end = i;
    while (cmd.end > cmd.begin && text[cmd.end - 1] == '\r') --cmd.end;
    check_value_size(cmd.parameter.value, o);
    out.push_back(std::move(cmd));
    if (out.size() > deploy_max_entries)
      fail(o, fmt::format("more than {} commands", deploy_max_entries));
  }
  return out;
}

}  // namespace

std::vector<EnvEntry> parse_env_file(std::string_view text, const std::string& origin,
                                     EnvDialect dialect, const Variables& outside) {
  std::vector<EnvEntry> out;
  Budget budget;
  for (EnvLine& l : EnvParser(text, origin, dialect, outside, budget).run())
    out.push_back(std::move(l.entry));
  return out;
}

std::string interpolate(std::string_view text, const Variables& variables, const Origin& origin) {
  if (text.size() > deploy_max_value) {
    fail(origin, fmt::format("a value of more than {} bytes", deploy_max_value));
  }
  return Interpolator(variables, nullptr, origin).run(text, 0);
}

std::vector<CommandArg> split_command(std::string_view command, const Origin& origin) {
  std::vector<CommandArg> out;
  std::string word;
  bool in_word = false;
  const auto finish = [&] {
    if (!in_word) return;
    out.push_back({word, origin});
    if (out.size() > deploy_max_entries)
      fail(origin, fmt::format("more than {} words in a command", deploy_max_entries));
    word.clear();
    in_word = false;
  };
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      finish();
    } else if (c == '\\') {
      in_word = true;
      if (i + 1 < command.size()) {
        if (command[i + 1] != '\n') word += command[i + 1];
        ++i;
      }
    } else if (c == '\'') {
      in_word = true;
      const std::size_t close = command.find('\'', i + 1);
      if (close == std::string_view::npos) fail(origin, "unterminated single quote in a command");
      word.append(command.substr(i + 1, close - i - 1));
      i = close;
    } else if (c == '"') {
      in_word = true;
      std::size_t k = i + 1;
      for (; k < command.size() && command[k] != '"'; ++k) {
        if (command[k] == '\\' && k + 1 < command.size() &&
            (command[k + 1] == '"' || command[k + 1] == '\\' || command[k + 1] == '$' ||
             command[k + 1] == '`')) {
          ++k;
        }
        word += command[k];
      }
      if (k >= command.size()) fail(origin, "unterminated double quote in a command");
      i = k;
    } else {
      in_word = true;
      word += c;
    }
  }
  finish();
  return out;
}

ComposeFile parse_compose(std::string_view text, const std::string& origin,
                          const Variables& variables, const std::string& base_dir,
                          FileReader reader) {
  try {
    return ComposeReader(origin, variables, base_dir, reader).run(text);
  } catch (const YAML::Exception& e) {
    fail(Origin{origin, e.mark.is_null() ? 0 : static_cast<std::size_t>(e.mark.line) + 1},
         shown(e.msg));
  }
}

ComposeFile read_compose(const std::string& path, const Variables& shell) {
  const std::string text = read_text_file(path, deploy_max_bytes);
  const fs::path dir = fs::path(path).parent_path();
  const std::string env_path = (dir / ".env").string();
  Variables variables;
  if (const std::optional<std::string> env = read_if_exists(env_path)) {
    for (EnvEntry& e : parse_env_file(*env, env_path, EnvDialect::compose, shell)) {
      variables[e.name] = std::move(e.value);
    }
  }
  for (const auto& [name, value] : shell) variables[name] = value;  // the shell wins
  return parse_compose(text, path, variables, dir.string(), read_if_exists);
}

const ComposeService& select_service(const ComposeFile& file,
                                     const std::optional<std::string>& name) {
  std::vector<std::string> names;
  for (const ComposeService& s : file.services) names.push_back(s.name);
  if (name) {
    for (const ComposeService& s : file.services) {
      if (s.name == *name) return s;
    }
    throw Error(ErrorKind::usage,
                fmt::format("no service '{}' in {}; the services are {}", shown(*name),
                            shown(file.path), shown(fmt::format("{}", fmt::join(names, ", ")))));
  }
  std::vector<const ComposeService*> servers;
  for (const ComposeService& s : file.services) {
    if (s.server) servers.push_back(&s);
  }
  if (servers.size() == 1) return *servers.front();
  if (servers.empty()) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: no service runs an Ollama, llama.cpp server or vLLM image (the "
                            "services are {}); name one with --service",
                            shown(file.path), shown(fmt::format("{}", fmt::join(names, ", ")))));
  }
  std::vector<std::string> server_names;
  for (const ComposeService* s : servers) server_names.push_back(s->name);
  throw Error(
      ErrorKind::bad_input,
      fmt::format("{}: several services run an engine ({}); name one with --service",
                  shown(file.path), shown(fmt::format("{}", fmt::join(server_names, ", ")))));
}

DeploymentInput deployment_input(const ComposeService& service) {
  if (!service.engine) {
    throw Error(
        ErrorKind::bad_input,
        fmt::format("{}:{}: service '{}' runs '{}', not an Ollama, llama.cpp server or vLLM image",
                    shown(service.origin.file), service.origin.line, shown(service.name),
                    shown(service.image)));
  }
  DeploymentInput in;
  in.engine = *service.engine;
  in.environment = image_environment(in.engine, service.image);
  in.environment.insert(in.environment.end(), service.environment.begin(),
                        service.environment.end());
  if (in.engine != DeployEngine::ollama && service.command) in.args = *service.command;
  return in;
}

Modelfile parse_modelfile(std::string_view text, const std::string& origin) {
  Modelfile out;
  for (ModelfileCommand& c : parse_modelfile_commands(text, origin)) {
    if (c.command == "from") {
      c.parameter.name = "FROM";
      out.from = std::move(c.parameter);
    } else if (c.command == "parameter") {
      out.parameters.push_back(std::move(c.parameter));
    }
  }
  if (!out.from) fail({origin, 0}, "no FROM line (a Modelfile names its model with FROM)");
  return out;
}

std::string rewrite_env(std::string_view text, const std::vector<Change>& changes,
                        const std::string& origin, EnvDialect dialect) {
  for (const Change& c : changes) check_change(c, false, origin);
  Budget budget;
  const std::vector<EnvLine> lines = EnvParser(text, origin, dialect, {}, budget).run();
  std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::string>> edits;
  std::string tail;
  for (const Change& c : changes) {
    const EnvLine* last = nullptr;
    for (const EnvLine& l : lines) {
      if (l.entry.name == c.name) last = &l;
    }
    if (!last) {
      if (tail.empty()) tail = "# added by vramplan\n";
      tail += c.name + "=" + c.value + "\n";
      continue;
    }
    if (last->entry.value == c.value) continue;
    std::string line = last->prefix + c.name + "=" + c.value;
    if (!last->comment.empty()) line += " " + last->comment;
    edits.push_back({{last->begin, last->end}, line});
  }
  return splice(text, std::move(edits), tail);
}

std::string rewrite_modelfile(std::string_view text, const std::vector<Change>& changes,
                              const std::string& origin) {
  for (const Change& c : changes) check_change(c, true, origin);
  const std::vector<ModelfileCommand> commands = parse_modelfile_commands(text, origin);
  std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::string>> edits;
  std::string tail;
  for (const Change& c : changes) {
    const ModelfileCommand* last = nullptr;
    for (const ModelfileCommand& m : commands) {
      if (m.command == "parameter" && lower_ascii(m.parameter.name) == lower_ascii(c.name))
        last = &m;
    }
    if (!last) {
      if (tail.empty()) tail = "# added by vramplan\n";
      tail += "PARAMETER " + c.name + " " + c.value + "\n";
      continue;
    }
    if (last->parameter.value == c.value) continue;
    edits.push_back(
        {{last->begin, last->end}, "PARAMETER " + last->parameter.name + " " + c.value});
  }
  return splice(text, std::move(edits), tail);
}

std::string rewrite_compose_environment(std::string_view text, const std::string& service,
                                        const std::vector<Change>& changes,
                                        const std::string& origin) {
  for (const Change& c : changes) check_change(c, false, origin);
  check_text(text, origin);
  const YAML::Node root = ComposeReader::load(text, origin);
  const YAML::Node services = root.IsMap() ? root["services"] : YAML::Node();
  const YAML::Node body = services && services.IsMap() ? services[service] : YAML::Node();
  if (!body || !body.IsMap()) fail({origin, 0}, fmt::format("no service '{}'", shown(service)));
  const YAML::Node env = body["environment"];
  if (!env || !(env.IsMap() || env.IsSequence()) || env.Style() == YAML::EmitterStyle::Flow ||
      env.size() == 0) {
    fail(origin_of(origin, body),
         fmt::format("service '{}' has no block-style 'environment:' to rewrite", shown(service)));
  }
  // Line starts, to turn marks into offsets.
  std::vector<std::size_t> starts{0};
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  const auto line_end = [&](std::size_t line) {
    std::size_t e = line + 1 < starts.size() ? starts[line + 1] - 1 : text.size();
    while (e > starts[line] && text[e - 1] == '\r') --e;
    return e;
  };
  // A trailing " # comment" on a line, kept when the value before it is replaced.
  const auto comment_of = [&](std::size_t from, std::size_t to) -> std::string {
    const std::string_view s = text.substr(from, to - from);
    for (std::size_t k = 1; k < s.size(); ++k) {
      if (s[k] == '#' && is_blank(s[k - 1]) && s.substr(0, k).find('"') == std::string_view::npos &&
          s.substr(0, k).find('\'') == std::string_view::npos) {
        return " " + std::string(s.substr(k));
      }
    }
    return {};
  };
  const bool list = env.IsSequence();
  std::vector<std::pair<std::pair<std::size_t, std::size_t>, std::string>> edits;
  std::size_t last_line = 0;
  std::size_t column = 0;  // of the entries (a list item's '-' or a key)
  std::vector<std::pair<std::string, YAML::Node>> entries;  // name, node to replace
  for (auto it = env.begin(); it != env.end(); ++it) {
    const YAML::Node item = list ? *it : it->first;
    const std::string scalar = item.Scalar();
    const std::string name = list ? scalar.substr(0, scalar.find('=')) : scalar;
    entries.emplace_back(name, list ? item : it->second);
    last_line = std::max<std::size_t>(last_line, static_cast<std::size_t>(item.Mark().line));
    if (!list && it->second && !it->second.IsNull()) {
      last_line =
          std::max<std::size_t>(last_line, static_cast<std::size_t>(it->second.Mark().line));
    }
    column = static_cast<std::size_t>(item.Mark().column);
  }
  std::string tail_lines;
  const std::string indent(list && column >= 2 ? column - 2 : column, ' ');
  for (const Change& c : changes) {
    const YAML::Node* target = nullptr;
    for (const auto& [name, node] : entries) {
      if (name == c.name) target = &node;
    }
    if (!target) {
      tail_lines += list ? fmt::format("{}- \"{}={}\"\n", indent, c.name, c.value)
                         : fmt::format("{}{}: \"{}\"\n", indent, c.name, c.value);
      continue;
    }
    const YAML::Node& node = *target;
    if (!node || node.IsNull() || !node.IsScalar() || node.Mark().is_null()) {
      fail({origin, 0}, fmt::format("cannot rewrite {} in service '{}': it has no value to replace",
                                    shown(c.name), shown(service)));
    }
    if (node.Scalar().find('\n') != std::string::npos) {
      fail(origin_of(origin, node),
           fmt::format("cannot rewrite {}: its value spans lines", shown(c.name)));
    }
    const auto line = static_cast<std::size_t>(node.Mark().line);
    const std::size_t from = starts[line] + static_cast<std::size_t>(node.Mark().column);
    const std::size_t to = line_end(line);
    if (from > to) fail(origin_of(origin, node), fmt::format("cannot rewrite {}", shown(c.name)));
    const std::string replacement =
        list ? fmt::format("\"{}={}\"", c.name, c.value) : fmt::format("\"{}\"", c.value);
    edits.push_back({{from, to}, replacement + comment_of(from, to)});
  }
  if (!tail_lines.empty()) {
    const std::size_t at = last_line + 1 < starts.size() ? starts[last_line + 1] : text.size();
    std::string insert = "";
    if (at == text.size() && !text.empty() && text.back() != '\n') insert += "\n";
    insert += fmt::format("{}# added by vramplan\n", indent) + tail_lines;
    edits.push_back({{at, at}, insert});
  }
  return splice(text, std::move(edits), {});
}

}  // namespace vramplan::io

namespace vramplan::io {
namespace {

// Byte offsets of the lines of a text, to turn YAML marks into offsets.
struct Lines {
  explicit Lines(std::string_view text) : text_(text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  [[nodiscard]] std::size_t count() const { return starts_.size(); }
  [[nodiscard]] std::size_t begin(std::size_t line) const { return starts_[line]; }
  // Past the line's last byte, before its '\n' (and a '\r').
  [[nodiscard]] std::size_t end(std::size_t line) const {
    std::size_t e = line + 1 < starts_.size() ? starts_[line + 1] - 1 : text_.size();
    while (e > starts_[line] && text_[e - 1] == '\r') --e;
    return e;
  }
  [[nodiscard]] std::size_t indent(std::size_t line) const {
    std::size_t i = begin(line);
    while (i < end(line) && is_blank(text_[i])) ++i;
    return i == end(line) ? std::string_view::npos : i - begin(line);
  }

  std::string_view text_;
  std::vector<std::size_t> starts_{0};
};

[[nodiscard]] bool is_flag_name(std::string_view flag) {
  return flag.size() >= 2 && flag.front() == '-' &&
         std::all_of(flag.begin() + 1, flag.end(),
                     [](char c) { return is_name_char(c) || c == '-' || c == '.'; });
}

using Edit = std::pair<std::pair<std::size_t, std::size_t>, std::string>;

// A command given as a block list: the item after the flag (or `--flag=value`) is replaced.
void rewrite_command_list(const YAML::Node& cmd, const Lines& lines, const Change& c,
                          const std::string& origin, std::vector<Edit>& edits, std::string& tail,
                          std::size_t& last_line, std::string& indent) {
  std::vector<YAML::Node> items(cmd.begin(), cmd.end());
  for (const YAML::Node& item : items) {
    if (!item.IsScalar()) fail(origin_of(origin, item), "a command word must be a string");
    last_line = std::max<std::size_t>(last_line, static_cast<std::size_t>(item.Mark().line));
    const auto column = static_cast<std::size_t>(item.Mark().column);
    indent = std::string(column >= 2 ? column - 2 : 0, ' ');
  }
  const auto replace = [&](const YAML::Node& node, const std::string& word) {
    if (node.Scalar().find('\n') != std::string::npos) {
      fail(origin_of(origin, node),
           fmt::format("cannot rewrite {}: its value spans lines", shown(c.name)));
    }
    const auto line = static_cast<std::size_t>(node.Mark().line);
    const std::size_t from = lines.begin(line) + static_cast<std::size_t>(node.Mark().column);
    std::size_t to = lines.end(line);
    // Keep a trailing comment: a plain word item ends at the first blank.
    const std::string_view rest = lines.text_.substr(from, to - from);
    if (!rest.empty() && rest.front() != '"' && rest.front() != '\'') {
      const std::size_t blank = rest.find_first_of(" \t");
      if (blank != std::string_view::npos) to = from + blank;
    } else if (!rest.empty()) {
      const std::size_t close = rest.find(rest.front(), 1);
      if (close == std::string_view::npos) {
        fail(origin_of(origin, node), fmt::format("cannot rewrite {}", shown(c.name)));
      }
      to = from + close + 1;
    }
    edits.push_back({{from, to}, "\"" + word + "\""});
  };
  for (std::size_t k = items.size(); k-- > 0;) {
    const std::string& word = items[k].Scalar();
    if (word == c.name && k + 1 < items.size()) {
      replace(items[k + 1], c.value);
      return;
    }
    if (word.starts_with(c.name + "=")) {
      replace(items[k], c.name + "=" + c.value);
      return;
    }
  }
  tail += fmt::format("{}- \"{}\"\n{}- \"{}\"\n", indent, c.name, indent, c.value);
}

// A command given as a string (plain or block scalar): the word after the flag is replaced, on
// the lines the string spans.
void rewrite_command_string(const YAML::Node& key, const YAML::Node& cmd, const Lines& lines,
                            const Change& c, const std::string& origin, std::vector<Edit>& edits,
                            std::vector<std::string>& appended) {
  const auto key_indent = static_cast<std::size_t>(key.Mark().column);
  const auto first = static_cast<std::size_t>(cmd.Mark().line);
  std::size_t from = lines.begin(first) + static_cast<std::size_t>(cmd.Mark().column);
  const std::string_view text = lines.text_;
  const bool block = from < text.size() && (text[from] == '>' || text[from] == '|');
  // The words: (begin, end) offsets, line by line, until the indentation returns to the key's.
  std::vector<std::pair<std::size_t, std::size_t>> words;
  std::size_t last_content_end = lines.end(first);
  for (std::size_t line = first; line < lines.count(); ++line) {
    if (line > first) {
      const std::size_t indent = lines.indent(line);
      if (indent != std::string_view::npos && indent <= key_indent) break;
      if (indent == std::string_view::npos) continue;
      from = lines.begin(line);
    } else if (block) {
      continue;  // the indicator line holds no words
    }
    const std::size_t end = lines.end(line);
    const std::string_view s = text.substr(from, end - from);
    if (s.find_first_of("\"'\\") != std::string_view::npos) {
      fail(Origin{origin, line + 1},
           fmt::format("cannot rewrite {}: the command string holds quotes or backslashes",
                       shown(c.name)));
    }
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_blank(s[i])) ++i;
      if (i >= s.size()) break;
      if (!block && s[i] == '#') break;  // a YAML comment after a plain string
      const std::size_t b = i;
      while (i < s.size() && !is_blank(s[i])) ++i;
      words.emplace_back(from + b, from + i);
      last_content_end = from + i;
    }
  }
  for (std::size_t k = words.size(); k-- > 0;) {
    const std::string_view word = text.substr(words[k].first, words[k].second - words[k].first);
    if (word == c.name && k + 1 < words.size()) {
      edits.push_back({words[k + 1], c.value});
      return;
    }
    if (word.starts_with(c.name + "=")) {
      edits.push_back({words[k], c.name + "=" + c.value});
      return;
    }
  }
  appended.push_back(" " + c.name + " " + c.value);
  edits.push_back({{last_content_end, last_content_end}, ""});  // marks where to append
}

}  // namespace

std::string rewrite_compose_command(std::string_view text, const std::string& service,
                                    const std::vector<Change>& changes, const std::string& origin) {
  for (const Change& c : changes) {
    if (!is_flag_name(c.name)) {
      fail({origin, 0}, fmt::format("cannot write '{}': not a flag", shown(c.name)));
    }
    check_value(c, origin);
  }
  check_text(text, origin);
  const YAML::Node root = ComposeReader::load(text, origin);
  const YAML::Node services = root.IsMap() ? root["services"] : YAML::Node();
  const YAML::Node body = services && services.IsMap() ? services[service] : YAML::Node();
  if (!body || !body.IsMap()) fail({origin, 0}, fmt::format("no service '{}'", shown(service)));
  YAML::Node key;
  YAML::Node cmd;
  for (auto it = body.begin(); it != body.end(); ++it) {
    if (it->first.Scalar() == "command") {
      key = it->first;
      cmd = it->second;
    }
  }
  if (!cmd || cmd.IsNull() ||
      (cmd.IsSequence() && (cmd.Style() == YAML::EmitterStyle::Flow || cmd.size() == 0))) {
    fail(origin_of(origin, body),
         fmt::format("service '{}' has no block-style 'command:' to rewrite", shown(service)));
  }
  const Lines lines(text);
  std::vector<Edit> edits;
  std::string tail;
  std::size_t last_line = 0;
  std::string indent;
  std::vector<std::string> appended;
  for (const Change& c : changes) {
    if (cmd.IsSequence()) {
      rewrite_command_list(cmd, lines, c, origin, edits, tail, last_line, indent);
    } else if (cmd.IsScalar()) {
      rewrite_command_string(key, cmd, lines, c, origin, edits, appended);
    } else {
      fail(origin_of(origin, cmd), "'command' must be a string or a list");
    }
  }
  // Words appended to a string command go after its last word, in order.
  std::size_t next_appended = 0;
  for (Edit& e : edits) {
    if (e.first.first == e.first.second && e.second.empty()) e.second = appended[next_appended++];
  }
  if (!tail.empty()) {
    const std::size_t at = last_line + 1 < lines.count() ? lines.begin(last_line + 1) : text.size();
    std::string insert;
    if (at == text.size() && !text.empty() && text.back() != '\n') insert += "\n";
    insert += fmt::format("{}# added by vramplan\n", indent) + tail;
    edits.push_back({{at, at}, insert});
  }
  // Several words appended at one place keep their order (stable sort by offset).
  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.first < b.first; });
  std::string out;
  std::size_t at = 0;
  for (const auto& [range, replacement] : edits) {
    if (range.first < at) fail({origin, 0}, "two changes of the same command word");
    out.append(text.substr(at, range.first - at));
    out += replacement;
    at = range.second;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace vramplan::io
