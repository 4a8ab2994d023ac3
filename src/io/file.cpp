#include <vramplan/io/file.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
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

  [[nodiscard]] const std::string& path() const { return path_; }
  void release() { path_.clear(); }  // the file now lives under its final name

 private:
  std::string path_;
  int fd_ = -1;
};

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already on disk
  static_cast<void>(::fsync(fd));
  ::close(fd);
}

}  // namespace

std::string read_text_file(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec) throw Error(ErrorKind::io, fmt::format("cannot read '{}': {}", path, ec.message()));
  if (fs::is_directory(status)) {
    throw Error(ErrorKind::io, fmt::format("cannot read '{}': is a directory", path));
  }
  if (fs::is_regular_file(status)) {
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > max_bytes) {
      throw Error(ErrorKind::io,
                  fmt::format("cannot read '{}': file is larger than the limit of {}", path,
                              format_bytes(static_cast<Bytes>(max_bytes))));
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_errno("read", path, errno != 0 ? errno : EIO);
  // Read at most max_bytes + 1 so that a growing file or a pipe cannot exhaust memory.
  std::string text;
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof buffer);
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      throw Error(ErrorKind::io,
                  fmt::format("cannot read '{}': file is larger than the limit of {}", path,
                              format_bytes(static_cast<Bytes>(max_bytes))));
    }
  }
  if (in.bad()) fail_errno("read", path, EIO);
  return text;
}

void write_file_atomic(const std::string& path, std::string_view content, bool force) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (fs::exists(status)) {
    if (fs::is_directory(fs::status(path, ec))) {
      throw Error(ErrorKind::io, fmt::format("cannot write '{}': is a directory", path));
    }
    if (!force) {
      throw Error(ErrorKind::io, fmt::format("'{}' exists; use --force to overwrite", path));
    }
  }

  TempFile temp(path);
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
