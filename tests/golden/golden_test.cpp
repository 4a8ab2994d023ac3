// Whole-CLI snapshots (docs/architecture.md, conventions §6.2): each tests/golden/cases/*.case
// runs cli::run in process with a fixed Context and compares exit code, stdout, stderr and
// the files written under the case's temporary directory.
//
// Case format:
//   # comments                      (only before the first section)
//   args: fit --vram 16G --model x  (split on spaces; 'single quotes' group; <TMP> = temp dir)
//   env: NAME=VALUE                 (repeatable; NO_COLOR=1 is always set, HOME never)
//   detect: TOOL=FILE               (repeatable; --vram/--gpu/--ram auto see tests/data/detect/
//                                    FILE as TOOL's output; TOOL!N=FILE: TOOL fails with exit N
//                                    and FILE's first line on stderr; meminfo=FILE is
//                                    /proc/meminfo; sysctl=FILE detects as on macOS. Tools not
//                                    named are not found: a case never runs a real one)
//   exit: 0
//   === input: NAME                 (written to <TMP>/NAME before the run)
//   === gguf: NAME                  (a sparse GGUF at <TMP>/NAME; body "model: <catalog name>":
//                                    that model's generated tensors and llama.cpp's keys)
//   === ollama: MODEL:TAG           (a local Ollama store at <TMP>/ollama, OLLAMA_MODELS set;
//                                    body "model: <catalog name>" and optionally
//                                    "params: <JSON object>" for the .params layer)
//   === stdout                      (exact; a missing section means empty)
//   === stderr                      (exact; a missing section means empty)
//   === file: NAME                  (expected content of <TMP>/NAME after the run)
// VRAMPLAN_UPDATE_GOLDEN=1 rewrites exit, stdout, stderr and file sections from the run.
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/cli.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/detect.hpp>
#include <vramplan/tensors.hpp>

#include "support/fake_ollama_store.hpp"
#include "support/model_gguf.hpp"

namespace vramplan {
namespace {

namespace fs = std::filesystem;

struct Section {
  std::string kind;  // "input", "stdout", "stderr", "file"
  std::string name;  // for input and file
  std::string text;
};

struct Case {
  std::vector<std::string> header;  // comment, args and env lines, verbatim
  std::string args;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::pair<std::string, std::string>> detect;  // TOOL[!N] -> fixture file
  int exit = 0;
  std::vector<Section> sections;

  [[nodiscard]] const Section* find(const std::string& kind, const std::string& name = "") const {
    for (const Section& s : sections) {
      if (s.kind == kind && s.name == name) return &s;
    }
    return nullptr;
  }
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Case parse_case(const std::string& text) {
  Case c;
  std::istringstream in(text);
  std::string line;
  Section* current = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind("=== ", 0) == 0) {
      const std::string head = line.substr(4);
      Section s;
      const std::size_t colon = head.find(':');
      s.kind = head.substr(0, colon);
      if (colon != std::string::npos) s.name = head.substr(head.find_first_not_of(' ', colon + 1));
      c.sections.push_back(s);
      current = &c.sections.back();
      continue;
    }
    if (current != nullptr) {
      current->text += line + '\n';
      continue;
    }
    c.header.push_back(line);
    if (line.rfind("args:", 0) == 0) {
      c.args = line.substr(line.find_first_not_of(' ', 5));
    } else if (line.rfind("env:", 0) == 0) {
      const std::string kv = line.substr(line.find_first_not_of(' ', 4));
      const std::size_t eq = kv.find('=');
      c.env.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    } else if (line.rfind("detect:", 0) == 0) {
      const std::string kv = line.substr(line.find_first_not_of(' ', 7));
      const std::size_t eq = kv.find('=');
      c.detect.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    } else if (line.rfind("exit:", 0) == 0) {
      c.exit = std::stoi(line.substr(5));
      c.header.pop_back();  // rewritten from the run in update mode
    }
  }
  return c;
}

std::vector<std::string> split_args(const std::string& text, const std::string& tmp) {
  std::vector<std::string> args;
  std::string current;
  bool in_word = false;
  bool quoted = false;
  for (const char ch : text) {
    if (ch == '\'') {
      quoted = !quoted;
      in_word = true;
    } else if (ch == ' ' && !quoted) {
      if (in_word) args.push_back(current);
      current.clear();
      in_word = false;
    } else {
      current += ch;
      in_word = true;
    }
  }
  if (in_word) args.push_back(current);
  for (std::string& arg : args) {
    for (std::size_t at = arg.find("<TMP>"); at != std::string::npos; at = arg.find("<TMP>")) {
      arg.replace(at, 5, tmp);
    }
  }
  return args;
}

std::string hide_tmp(std::string text, const std::string& tmp) {
  for (std::size_t at = text.find(tmp); at != std::string::npos; at = text.find(tmp, at)) {
    text.replace(at, tmp.size(), "<TMP>");
  }
  return text;
}

// Positional line diff: enough to see what changed in a snapshot.
std::string diff(const std::string& expected, const std::string& actual) {
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  const auto e = lines(expected);
  const auto a = lines(actual);
  std::string out;
  for (std::size_t i = 0; i < std::max(e.size(), a.size()); ++i) {
    const bool he = i < e.size();
    const bool ha = i < a.size();
    if (he && ha && e[i] == a[i]) continue;
    if (he) out += "  line " + std::to_string(i + 1) + " - " + e[i] + '\n';
    if (ha) out += "  line " + std::to_string(i + 1) + " + " + a[i] + '\n';
  }
  return out.empty() ? "  (differ only in the final newline)\n" : out;
}

std::vector<std::string> case_files() {
  std::vector<std::string> names;
  const fs::path dir(VRAMPLAN_GOLDEN_DIR);
  if (!fs::is_directory(dir)) return names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".case") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct RunResult {
  int exit = 0;
  std::string out;
  std::string err;
  std::map<std::string, std::string> files;  // written or changed under <TMP>
};

// Writes a `=== gguf:` section's model as a sparse GGUF.
void write_gguf(const Section& s, const fs::path& path) {
  static const Catalog catalog = io::load_catalog({}, "");
  const std::string prefix = "model: ";
  ASSERT_EQ(s.text.rfind(prefix, 0), 0u) << "gguf section needs 'model: NAME'";
  const std::string name = s.text.substr(prefix.size(), s.text.find('\n') - prefix.size());
  ASSERT_TRUE(catalog.resolve(name).has_value()) << "gguf section: unknown model '" << name << "'";
  test::write_catalog_gguf(catalog, name, path.string());
}

// Adds an `=== ollama:` section's model to the fake store under <TMP>/ollama.
void add_to_store(const Section& s, test::FakeOllamaStore& store) {
  static const Catalog catalog = io::load_catalog({}, "");
  std::string model;
  nlohmann::json params;
  std::istringstream in(s.text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model: ", 0) == 0) model = line.substr(7);
    if (line.rfind("params: ", 0) == 0) params = nlohmann::json::parse(line.substr(8));
  }
  const std::size_t colon = s.name.find(':');
  store.add(catalog, s.name.substr(0, colon), s.name.substr(colon + 1), model, params);
}

// The case's machine for `auto`: recorded tool outputs and a /proc under <TMP>/detect-root.
io::DetectOptions detect_options(const Case& c, const fs::path& tmp) {
  io::DetectOptions options;
  options.apple = false;
  options.root = (tmp / "detect-root").string();
  fs::create_directories(tmp / "detect-root" / "proc");
  std::map<std::string, io::CommandResult> answers;
  for (const auto& [tool, file] : c.detect) {
    const std::string text = read_all(fs::path(VRAMPLAN_DETECT_DATA) / file);
    EXPECT_FALSE(text.empty()) << "detect: no fixture '" << file << "'";
    if (tool == "meminfo") {
      std::ofstream(tmp / "detect-root" / "proc" / "meminfo", std::ios::binary) << text;
      continue;
    }
    const std::size_t bang = tool.find('!');
    io::CommandResult r;
    r.output = text;
    if (bang != std::string::npos) {
      r.status = io::CommandResult::Status::failed;
      r.exit_code = std::stoi(tool.substr(bang + 1));
      r.reason = tool.substr(0, bang) + " failed (exit " + std::to_string(r.exit_code) +
                 "): " + text.substr(0, text.find('\n'));
      r.output.clear();
    }
    if (tool == "sysctl") options.apple = true;
    answers[tool.substr(0, bang)] = r;
  }
  options.run = [answers](const std::vector<std::string>& argv) {
    if (const auto it = answers.find(argv.at(0)); it != answers.end()) return it->second;
    io::CommandResult missing;
    missing.status = io::CommandResult::Status::not_found;
    missing.reason = argv.at(0) + " not found";
    return missing;
  };
  return options;
}

RunResult run_case(const Case& c, const fs::path& tmp) {
  std::map<std::string, std::string> inputs;
  std::set<std::string> generated{"detect-root"};
  std::optional<test::FakeOllamaStore> store;
  for (const Section& s : c.sections) {
    if (s.kind == "gguf") {
      write_gguf(s, tmp / s.name);
      generated.insert(s.name);
    }
    if (s.kind == "ollama") {
      if (!store) store.emplace(tmp / "ollama");
      add_to_store(s, *store);
      generated.insert("ollama");
    }
    if (s.kind != "input") continue;
    std::ofstream(tmp / s.name, std::ios::binary) << s.text;
    inputs[s.name] = s.text;
  }
  std::map<std::string, std::string> env{{"NO_COLOR", "1"}};
  if (store) env["OLLAMA_MODELS"] = store->dir().string();
  for (const auto& [name, value] : c.env) env[name] = value;

  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err,
                       [&env](const std::string& name) -> std::optional<std::string> {
                         const auto it = env.find(name);
                         if (it == env.end()) return std::nullopt;
                         return it->second;
                       },
                       false};
  const io::DetectOptions detect = detect_options(c, tmp);
  context.detect = &detect;
  RunResult run;
  run.exit = cli::run(split_args(c.args, tmp.string()), context);
  run.out = hide_tmp(out.str(), tmp.string());
  run.err = hide_tmp(err.str(), tmp.string());
  for (const auto& entry : fs::directory_iterator(tmp)) {
    const std::string name = entry.path().filename().string();
    if (generated.count(name) != 0) continue;
    const std::string text = read_all(entry.path());
    const auto input = inputs.find(name);
    if (input == inputs.end() || input->second != text) run.files[name] = text;
  }
  return run;
}

void write_case(const fs::path& path, const Case& c, const RunResult& run) {
  std::string text;
  for (const std::string& line : c.header) text += line + '\n';
  text += "exit: " + std::to_string(run.exit) + '\n';
  for (const Section& s : c.sections) {
    if (s.kind == "input" || s.kind == "gguf" || s.kind == "ollama") {
      text += "=== " + s.kind + ": " + s.name + '\n' + s.text;
    }
  }
  if (!run.out.empty()) text += "=== stdout\n" + run.out;
  if (!run.err.empty()) text += "=== stderr\n" + run.err;
  for (const auto& [name, content] : run.files) text += "=== file: " + name + '\n' + content;
  std::ofstream(path, std::ios::binary) << text;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesSnapshot) {
  const fs::path path = fs::path(VRAMPLAN_GOLDEN_DIR) / GetParam();
  const Case c = parse_case(read_all(path));
  ASSERT_FALSE(c.args.empty()) << path << ": no 'args:' line";

  // The process id keeps two test runs at once (two checkouts) out of each other's files.
  const fs::path tmp = fs::temp_directory_path() / ("vramplan-golden-" + path.stem().string() +
                                                    "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  const RunResult run = run_case(c, tmp);
  fs::remove_all(tmp);

  const char* update = std::getenv("VRAMPLAN_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    write_case(path, c, run);
    return;
  }

  EXPECT_EQ(run.exit, c.exit) << "exit code; stderr:\n" << run.err;
  const Section* out = c.find("stdout");
  const std::string expected_out = out != nullptr ? out->text : "";
  EXPECT_EQ(run.out, expected_out) << "stdout differs:\n" << diff(expected_out, run.out);
  const Section* err = c.find("stderr");
  const std::string expected_err = err != nullptr ? err->text : "";
  EXPECT_EQ(run.err, expected_err) << "stderr differs:\n" << diff(expected_err, run.err);
  for (const Section& s : c.sections) {
    if (s.kind != "file") continue;
    const auto it = run.files.find(s.name);
    if (it == run.files.end()) {
      ADD_FAILURE() << "file '" << s.name << "' was not written";
      continue;
    }
    EXPECT_EQ(it->second, s.text) << "file '" << s.name << "' differs:\n"
                                  << diff(s.text, it->second);
  }
  for (const auto& [name, content] : run.files) {
    EXPECT_NE(c.find("file", name), nullptr) << "unexpected file '" << name << "' written";
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) ch = '_';
  }
  return name;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Golden);
INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(case_files()), test_name);

}  // namespace
}  // namespace vramplan
