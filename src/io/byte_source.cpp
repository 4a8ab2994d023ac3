#include <cerrno>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/file.hpp>

#include <fcntl.h>
#include <unistd.h>

namespace vramplan::io {
namespace {

[[noreturn]] void fail_io(const std::string& path, const std::string& what, int err) {
  throw Error(ErrorKind::io, fmt::format("'{}': {}: {}", path, what, std::strerror(err)));
}

}  // namespace

void ByteSource::read(std::uint64_t offset, std::span<std::byte> out) {
  const std::uint64_t total = size();
  if (offset > total || out.size() > total - offset) {
    throw Error(ErrorKind::io, fmt::format("'{}': read of {} bytes at offset {} is past the end "
                                           "({} bytes)",
                                           name(), out.size(), offset, total));
  }
  if (out.empty()) return;
  read_at(offset, out);
  bytes_read_ += out.size();
}

FileSource::FileSource(std::string path) : path_(std::move(path)) {
  std::string reason;
  std::optional<RegularFile> file = RegularFile::open(path_, reason);
  if (!file) throw Error(ErrorKind::io, fmt::format("'{}': cannot open: {}", path_, reason));
  size_ = file->size();
  file_ = std::move(*file);
}

FileSource::~FileSource() = default;

void FileSource::read_at(std::uint64_t offset, std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const std::uint64_t at = offset + done;
    if (at > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      throw Error(ErrorKind::io, fmt::format("'{}': offset {} is too large", path_, at));
    }
    const ssize_t n =
        ::pread(file_->fd(), out.data() + done, out.size() - done, static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_io(path_, fmt::format("read failed at offset {}", at), errno);
    }
    if (n == 0) {
      throw Error(ErrorKind::io,
                  fmt::format("'{}': file shrank while reading (offset {})", path_, at));
    }
    done += static_cast<std::size_t>(n);
  }
}

MemorySource::MemorySource(std::vector<std::byte> bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name)) {}

MemorySource::MemorySource(std::string_view bytes, std::string name)
    : bytes_(bytes.size()), name_(std::move(name)) {
  if (!bytes.empty()) std::memcpy(bytes_.data(), bytes.data(), bytes.size());
}

MemorySource::MemorySource(std::span<const std::uint8_t> bytes, std::string name)
    : bytes_(bytes.size()), name_(std::move(name)) {
  if (!bytes.empty()) std::memcpy(bytes_.data(), bytes.data(), bytes.size());
}

void MemorySource::read_at(std::uint64_t offset, std::span<std::byte> out) {
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
}

}  // namespace vramplan::io
