// Doc examples are real: every ```console block in README.md and docs/*.md whose first line
// is `$ vramplan ARGS` must show exactly what `vramplan ARGS` prints (stdout, then stderr), run
// in process with NO_COLOR set and no terminal. A block may start with `$ cd DIR` (relative to
// the repository) before the command, which then runs in DIR. VRAMPLAN_UPDATE_GOLDEN=1
// rewrites the blocks.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/cli.hpp>

namespace vramplan {
namespace {

namespace fs = std::filesystem;

struct Example {
  fs::path file;
  std::size_t line = 0;        // 1-based line of the "$ vramplan" command
  std::string command;         // the arguments after "vramplan "
  fs::path cwd;                // where it runs (`$ cd DIR` first); empty: anywhere
  std::size_t body_begin = 0;  // byte offsets of the expected output in the file
  std::size_t body_end = 0;
  std::string expected;
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<fs::path> doc_files() {
  const fs::path root(VRAMPLAN_SOURCE_DIR);
  std::vector<fs::path> files{root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs")) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<Example> examples_in(const fs::path& file) {
  const std::string text = read_all(file);
  std::vector<Example> out;
  const std::string open = "```console\n$ ";
  for (std::size_t at = text.find(open); at != std::string::npos; at = text.find(open, at + 1)) {
    Example e;
    e.file = file;
    std::size_t line_begin = at + open.size();
    std::size_t line_end = text.find('\n', line_begin);
    if (line_end == std::string::npos) break;
    std::string line = text.substr(line_begin, line_end - line_begin);
    if (line.starts_with("cd ")) {
      e.cwd = fs::path(VRAMPLAN_SOURCE_DIR) / line.substr(3);
      line_begin = line_end + 1;
      line_end = text.find('\n', line_begin);
      if (line_end == std::string::npos) break;
      line = text.substr(line_begin, line_end - line_begin);
      if (!line.starts_with("$ ")) continue;
      line = line.substr(2);
    }
    if (!line.starts_with("vramplan ")) continue;
    e.line = static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<long>(line_begin), '\n')) +
             1;
    e.command = line.substr(std::string_view("vramplan ").size());
    e.body_begin = line_end + 1;
    e.body_end = text.find("```", e.body_begin);
    if (e.body_end == std::string::npos) break;
    e.expected = text.substr(e.body_begin, e.body_end - e.body_begin);
    out.push_back(e);
  }
  return out;
}

std::vector<Example> all_examples() {
  std::vector<Example> out;
  for (const fs::path& file : doc_files()) {
    for (Example& e : examples_in(file)) out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> split(const std::string& command) {
  std::vector<std::string> args;
  std::istringstream in(command);
  for (std::string word; in >> word;) args.push_back(word);
  return args;
}

// Runs in `cwd` when one is given, and returns to where it was.
class InDirectory {
 public:
  explicit InDirectory(const fs::path& dir) : before_(fs::current_path()) {
    if (!dir.empty()) fs::current_path(dir);
  }
  ~InDirectory() { fs::current_path(before_); }
  InDirectory(const InDirectory&) = delete;
  InDirectory& operator=(const InDirectory&) = delete;

 private:
  fs::path before_;
};

std::string run(const std::string& command, const fs::path& cwd) {
  const InDirectory in(cwd);
  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err,
                       [](const std::string& name) -> std::optional<std::string> {
                         if (name == "NO_COLOR") return "1";
                         return std::nullopt;
                       },
                       false};
  (void)cli::run(split(command), context);
  return out.str() + err.str();
}

class DocExample : public testing::TestWithParam<std::size_t> {};

TEST_P(DocExample, ShowsRealOutput) {
  const std::vector<Example> examples = all_examples();
  ASSERT_LT(GetParam(), examples.size());
  const Example& e = examples[GetParam()];
  const std::string actual = run(e.command, e.cwd);
  if (std::getenv("VRAMPLAN_UPDATE_GOLDEN") != nullptr && actual != e.expected) {
    std::string text = read_all(e.file);
    // Offsets and lines are stale if an earlier block of this file changed length (in this or
    // an earlier test process): find the block again by its place among the file's examples.
    std::size_t ordinal = 0;
    for (std::size_t i = 0; i < GetParam(); ++i) ordinal += examples[i].file == e.file ? 1u : 0u;
    const std::vector<Example> fresh = examples_in(e.file);
    ASSERT_LT(ordinal, fresh.size());
    ASSERT_EQ(fresh[ordinal].command, e.command) << "examples moved while updating";
    text.replace(fresh[ordinal].body_begin, fresh[ordinal].body_end - fresh[ordinal].body_begin,
                 actual);
    std::ofstream(e.file, std::ios::binary) << text;
    return;
  }
  EXPECT_EQ(actual, e.expected) << e.file.filename().string() << ":" << e.line << ": `vramplan "
                                << e.command << "` prints something else; "
                                << "VRAMPLAN_UPDATE_GOLDEN=1 ctest -L golden rewrites it";
}

// "README_2": the file and the example's place in it (not its line, which moves when an
// earlier block is refreshed, and ctest runs each test in its own process).
std::string name_of(const testing::TestParamInfo<std::size_t>& info) {
  const std::vector<Example> examples = all_examples();
  const Example& e = examples[info.param];
  std::size_t ordinal = 1;
  for (std::size_t i = 0; i < info.param; ++i) ordinal += examples[i].file == e.file ? 1u : 0u;
  std::string name = e.file.stem().string() + "_" + std::to_string(ordinal);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Docs, DocExample, testing::Range(std::size_t{0}, all_examples().size()),
                         name_of);

}  // namespace
}  // namespace vramplan
