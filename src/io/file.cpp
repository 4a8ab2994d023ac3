#include <vramplan/io/file.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_errno(const std::string& what, const std::string& path, int error) {
  throw Error(ErrorKind::io, fmt::format("cannot {} '{}': {}", what, path, std::strerror(error)));
}

// Owns a file descriptor and, until released, the temporary file it names.
class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      path_ = fmt::format("{}.tmp-{}-{}", target, ::getpid(), attempt);
      // 0666 & ~umask, like any newly created file; O_EXCL never reuses an existing name.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno != EEXIST) fail_errno("write", target, errno);
    }
    throw Error(ErrorKind::io, fmt::format("cannot write '{}': no free temporary name", target));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  void write_all(std::string_view content, const std::string& target) {
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
      const ssize_t n = ::write(fd_, data, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("write", target, errno);
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd_) != 0) fail_errno("write", target, errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_errno("write", target, errno);
  }

  // Gives the temporary file the permissions of the file it will replace, and when run as
  // root its owner and group too: --force replaces the content, not who may read it.
  // Set-id and sticky bits are not copied onto a text file.
  void keep_attributes(const struct stat& replaced, const std::string& target) {
    if (::geteuid() == 0 && ::fchown(fd_, replaced.st_uid, replaced.st_gid) != 0) {
      fail_errno("keep the owner of", target, errno);
    }
    if (::fchmod(fd_, replaced.st_mode & 0777) != 0) {
      fail_errno("keep the permissions of", target, errno);
    }
  }

  [[nodiscard]] const std::string& path() const { return path_; }
  void release() { path_.clear(); }  // the file now lives under its final name

 private:
  std::string path_;
  int fd_ = -1;
};

// The reasons of regular_file_problem().
std::string type_problem(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a regular file";
}

std::string errno_problem(int error) {
  if (error == ELOOP) return "too many levels of symbolic links";
  return std::strerror(error);
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already on disk
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

}  // namespace

std::optional<std::string> regular_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno_problem(errno);
  if (!S_ISREG(st.st_mode)) return type_problem(st.st_mode);
  return std::nullopt;
}

std::optional<RegularFile> RegularFile::open(const std::string& path, std::string& reason) {
  // stat first: a device is never even opened (opening some has side effects).
  if (std::optional<std::string> problem = regular_file_problem(path)) {
    reason = std::move(*problem);
    return std::nullopt;
  }
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    reason = errno_problem(errno);
    return std::nullopt;
  }
  RegularFile file(fd, 0);  // closes fd on every return below
  // The path may have been replaced since the stat: what counts is what was opened.
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    reason = errno_problem(errno);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    reason = type_problem(st.st_mode);
    return std::nullopt;
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    reason = errno_problem(errno);
    return std::nullopt;
  }
  file.size_ = static_cast<std::uint64_t>(st.st_size);
  return std::optional<RegularFile>(std::move(file));
}

RegularFile::RegularFile(RegularFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

RegularFile& RegularFile::operator=(RegularFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string read_text_file(const std::string& path, std::uintmax_t max_bytes) {
  std::string reason;
  const std::optional<RegularFile> file = RegularFile::open(path, reason);
  if (!file) throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", path, reason));
  const auto too_large = [&] {
    return Error(ErrorKind::io, fmt::format("cannot read '{}': file is larger than the limit of {}",
                                            path, format_bytes(static_cast<Bytes>(max_bytes))));
  };
  if (file->size() > max_bytes) throw too_large();
  // Read until the end, but never more than max_bytes + 1: a file that grows while it is read
  // cannot exhaust memory.
  std::string text;
  char buffer[65536];
  while (true) {
    const ssize_t n = ::read(file->fd(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("read", path, errno);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) throw too_large();
  }
  return text;
}

void write_file_atomic(const std::string& path, std::string_view content, bool force) {
  std::error_code ec;
  std::optional<struct stat> replaced;  // the file --force replaces, symlinks followed
  if (fs::exists(fs::symlink_status(path, ec))) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      // A FIFO or a device is no file to replace (and rename would remove it).
      if (!S_ISREG(st.st_mode)) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot write '{}': {}", path, type_problem(st.st_mode)));
      }
      replaced = st;
    } else if (errno != ENOENT) {  // a dangling symlink is replaced like a file
      throw Error(ErrorKind::io, fmt::format("cannot write '{}': {}", path, errno_problem(errno)));
    }
    if (!force) {
      throw Error(ErrorKind::io, fmt::format("'{}' exists; use --force to overwrite", path));
    }
  }

  TempFile temp(path);
  if (replaced) temp.keep_attributes(*replaced, path);
  temp.write_all(content, path);
  if (force) {
    if (::rename(temp.path().c_str(), path.c_str()) != 0) fail_errno("write", path, errno);
    temp.release();
  } else {
    // link() fails with EEXIST when the target appeared meanwhile: no clobbering, ever.
    if (::link(temp.path().c_str(), path.c_str()) != 0) {
      const int error = errno;
      if (error == EEXIST) {
        throw Error(ErrorKind::io, fmt::format("'{}' exists; use --force to overwrite", path));
      }
      if (error != EPERM && error != ENOTSUP && error != EXDEV) {
        fail_errno("write", path, error);
      }
      // A filesystem without hard links: the check above is the best we can do.
      if (::rename(temp.path().c_str(), path.c_str()) != 0) fail_errno("write", path, errno);
      temp.release();
    }
  }
  sync_directory(fs::path(path).parent_path());
}

}  // namespace vramplan::io
