#include <vramplan/io/file.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vramplan/error.hpp>

#include "support/fifo.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("vramplan-file-test-") + info->name() + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  [[nodiscard]] std::size_t entries() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }

  fs::path dir_;
};

template <typename F>
std::string error_of(F&& f, ErrorKind expected) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), expected);
    return e.what();
  }
  ADD_FAILURE() << "no Error thrown";
  return {};
}

TEST_F(FileTest, ReadsWholeFile) {
  std::ofstream(path("a.txt")) << "hello\nworld\n";
  EXPECT_EQ(read_text_file(path("a.txt")), "hello\nworld\n");
}

TEST_F(FileTest, MissingFileIsAnIoError) {
  const std::string p = path("missing.yaml");
  const std::string msg = error_of([&] { static_cast<void>(read_text_file(p)); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot read '" + p + "': No such file or directory");
}

TEST_F(FileTest, DirectoryIsAnIoError) {
  const std::string msg =
      error_of([&] { static_cast<void>(read_text_file(dir_.string())); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot read '" + dir_.string() + "': is a directory");
}

// docs/reliability.md §2: a FIFO would block open(2) until a writer comes; /dev/zero never
// ends; a symlink loop never resolves. Each is refused at once with its own message.
TEST_F(FileTest, FifoIsRefusedWithoutBlocking) {
  const std::string p = path("config.json");
  ASSERT_TRUE(test::make_fifo(p));
  std::string msg;
  EXPECT_TRUE(test::bounded(
      p, [&] { msg = error_of([&] { static_cast<void>(read_text_file(p)); }, ErrorKind::io); }));
  EXPECT_EQ(msg, "cannot read '" + p + "': is a FIFO");
}

TEST_F(FileTest, CharacterDeviceIsRefused) {
  const std::string msg =
      error_of([&] { static_cast<void>(read_text_file("/dev/zero")); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot read '/dev/zero': is a character device");
}

TEST_F(FileTest, SymlinkLoopIsRefused) {
  fs::create_symlink(path("b"), path("a"));
  fs::create_symlink(path("a"), path("b"));
  const std::string msg =
      error_of([&] { static_cast<void>(read_text_file(path("a"))); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot read '" + path("a") + "': too many levels of symbolic links");
}

TEST_F(FileTest, RegularFileProblemNamesTheType) {
  ASSERT_TRUE(test::make_fifo(path("fifo")));
  fs::create_symlink(path("loop"), path("loop"));
  EXPECT_EQ(regular_file_problem(path("fifo")), "is a FIFO");
  EXPECT_EQ(regular_file_problem(dir_.string()), "is a directory");
  EXPECT_EQ(regular_file_problem("/dev/null"), "is a character device");
  EXPECT_EQ(regular_file_problem(path("loop")), "too many levels of symbolic links");
  EXPECT_EQ(regular_file_problem(path("missing")), "No such file or directory");
  std::ofstream(path("plain")) << "x";
  EXPECT_EQ(regular_file_problem(path("plain")), std::nullopt);
}

TEST_F(FileTest, FileOverTheCapIsRefused) {
  std::ofstream(path("big.txt")) << std::string(2048, 'x');
  EXPECT_EQ(read_text_file(path("big.txt"), 2048).size(), 2048u);
  const std::string msg =
      error_of([&] { static_cast<void>(read_text_file(path("big.txt"), 1024)); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot read '" + path("big.txt") +
                     "': file is larger than the limit of "
                     "1.00 KiB");
}

TEST_F(FileTest, WritesNewFileAndLeavesNoTemporary) {
  write_file_atomic(path("out.env"), "A=1\n", false);
  EXPECT_EQ(slurp(path("out.env")), "A=1\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, RefusesToClobberWithoutForce) {
  std::ofstream(path("out.env")) << "old\n";
  const std::string msg =
      error_of([&] { write_file_atomic(path("out.env"), "new\n", false); }, ErrorKind::io);
  const std::string out = path("out.env");  // a named string: "'" + temporary trips -Wrestrict
  EXPECT_EQ(msg, "'" + out + "' exists; use --force to overwrite");
  EXPECT_EQ(slurp(path("out.env")), "old\n");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, ForceReplacesAtomically) {
  std::ofstream(path("out.env")) << "old\n";
  write_file_atomic(path("out.env"), "new\n", true);
  EXPECT_EQ(slurp(path("out.env")), "new\n");
  EXPECT_EQ(entries(), 1u);
}

// docs/reliability.md §8: --force replaces the content, not the file's permissions (a 600
// .env holding secrets must not become 644) nor, when run as root, its owner and group.
TEST_F(FileTest, ForceKeepsTheModeOfTheReplacedFile) {
  std::ofstream(path("secret.env")) << "old\n";
  fs::permissions(path("secret.env"), fs::perms::owner_read | fs::perms::owner_write);
  write_file_atomic(path("secret.env"), "new\n", true);
  EXPECT_EQ(slurp(path("secret.env")), "new\n");
  EXPECT_EQ(fs::status(path("secret.env")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, ForceKeepsTheOwnerWhenRunAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file to another owner";
  std::ofstream(path("shared.env")) << "old\n";
  ASSERT_EQ(::chown(path("shared.env").c_str(), 1234, 5678), 0);
  write_file_atomic(path("shared.env"), "new\n", true);
  struct stat st {};
  ASSERT_EQ(::stat(path("shared.env").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(slurp(path("shared.env")), "new\n");
}

TEST_F(FileTest, NewFileGetsTheUsualMode) {
  const mode_t mask = ::umask(022);
  write_file_atomic(path("new.env"), "x", false);
  ::umask(mask);
  EXPECT_EQ(fs::status(path("new.env")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
}

TEST_F(FileTest, TargetThatIsNotARegularFileIsRefusedEvenWithForce) {
  ASSERT_TRUE(test::make_fifo(path("pipe")));
  const std::string msg =
      error_of([&] { write_file_atomic(path("pipe"), "x", true); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot write '" + path("pipe") + "': is a FIFO");
  EXPECT_TRUE(fs::is_fifo(path("pipe")));
  EXPECT_EQ(entries(), 1u);
}

TEST_F(FileTest, MissingDirectoryIsAnIoError) {
  const std::string p = path("no/such/dir/out.env");
  const std::string msg = error_of([&] { write_file_atomic(p, "x", false); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot write '" + p + "': No such file or directory");
}

TEST_F(FileTest, DirectoryTargetIsRefusedEvenWithForce) {
  fs::create_directory(path("sub"));
  const std::string msg =
      error_of([&] { write_file_atomic(path("sub"), "x", true); }, ErrorKind::io);
  EXPECT_EQ(msg, "cannot write '" + path("sub") + "': is a directory");
}

TEST_F(FileTest, WritesEmptyContent) {
  write_file_atomic(path("empty"), "", false);
  EXPECT_TRUE(fs::exists(path("empty")));
  EXPECT_EQ(fs::file_size(path("empty")), 0u);
}

}  // namespace
}  // namespace vramplan::io
