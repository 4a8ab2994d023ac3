// Every `--format compose` golden (tests/golden/cases/*compose*.case) is a file a real compose
// implementation accepts: its stdout is written out and checked with Debian's docker-compose
// 1.29, whose `config` validates a file against the compose schema without a daemon. Skipped,
// with a message, only where docker-compose is not installed (scripts/setup.sh --tests
// installs it).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vramplan {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The `=== stdout` section of a case: up to the next section or the end.
std::string stdout_section(const std::string& text) {
  const std::string open = "=== stdout\n";
  const std::size_t at = text.find(open);
  if (at == std::string::npos) return {};
  const std::size_t begin = at + open.size();
  const std::size_t end = text.find("\n=== ", begin);
  return end == std::string::npos ? text.substr(begin) : text.substr(begin, end - begin + 1);
}

std::vector<fs::path> compose_cases() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(VRAMPLAN_GOLDEN_DIR)) {
    const std::string name = entry.path().filename().string();
    if (name.find("compose") != std::string::npos && entry.path().extension() == ".case") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool have_docker_compose() { return std::system("command -v docker-compose >/dev/null 2>&1") == 0; }

TEST(ComposeConfig, EveryComposeGoldenIsValidForDockerCompose) {
  const std::vector<fs::path> cases = compose_cases();
  // A renamed or lost case must not make this test pass with nothing to check.
  ASSERT_GE(cases.size(), 6U) << "expected the compose goldens in " << VRAMPLAN_GOLDEN_DIR;
  if (!have_docker_compose()) {
    GTEST_SKIP() << "docker-compose is not installed (apt-get install docker-compose, or "
                    "bash scripts/setup.sh --tests): the compose goldens were not validated";
  }
  const fs::path dir =
      fs::temp_directory_path() / ("vramplan-compose-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int checked = 0;
  for (const fs::path& c : cases) {
    const std::string yaml = stdout_section(read_all(c));
    if (yaml.find("services:") == std::string::npos) continue;  // an error case
    const fs::path file = dir / (c.stem().string() + ".yaml");
    std::ofstream(file, std::ios::binary) << yaml;
    const std::string command = "docker-compose --project-directory '" + dir.string() + "' -f '" +
                                file.string() + "' config -q 2>'" + (dir / "stderr").string() + "'";
    const int rc = std::system(command.c_str());
    EXPECT_EQ(rc, 0) << c.filename() << ": docker-compose config refused it:\n"
                     << read_all(dir / "stderr");
    ++checked;
  }
  fs::remove_all(dir);
  EXPECT_GE(checked, 6) << "compose goldens with a compose file";
}

}  // namespace
}  // namespace vramplan
