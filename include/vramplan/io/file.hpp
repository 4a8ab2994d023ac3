// Reading and writing files: size-capped reads and atomic, no-clobber writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vramplan::io {

// The one way vramplan opens a file for reading (GGUF files and split parts, --mmproj,
// Ollama manifests, blobs and .params, config.json, index.json, safetensors shards,
// catalogs). A FIFO would block open(2) until a writer comes, /dev/zero never ends, and a
// directory or a symlink loop is no file at all: the path is stat(2)ed first, opened with
// O_NONBLOCK (so a FIFO swapped in meanwhile cannot block either) and the descriptor fstat(2)ed;
// anything but a regular file is refused. docs/reliability.md §2.
class RegularFile {
 public:
  // Opens `path` read-only; nullopt with `reason` set when it cannot be opened or is not a
  // regular file (the reasons of regular_file_problem()).
  [[nodiscard]] static std::optional<RegularFile> open(const std::string& path,
                                                       std::string& reason);
  RegularFile(RegularFile&& other) noexcept;
  RegularFile& operator=(RegularFile&& other) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  [[nodiscard]] int fd() const { return fd_; }
  // Size when opened.
  [[nodiscard]] std::uint64_t size() const { return size_; }

 private:
  RegularFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Why `path` is not a readable regular file, without opening it: "is a FIFO", "is a
// directory", "is a character device", "is a block device", "is a socket", "too many levels
// of symbolic links", or the system's reason ("No such file or directory"); nullopt for a
// regular file (symlinks followed).
[[nodiscard]] std::optional<std::string> regular_file_problem(const std::string& path);

// Reads a whole (small) regular file (RegularFile). Throws Error{io, "cannot read '<path>':
// <reason>"} if it cannot be read or is not a regular file, or if it is larger than
// `max_bytes` (default 64 MiB: a catalog or .env is never that big).
[[nodiscard]] std::string read_text_file(const std::string& path,
                                         std::uintmax_t max_bytes = 64u << 20);

// Writes `content` to `path` atomically: a temporary file in the same directory, flushed,
// then renamed over the target. Without `force`, an existing target is left untouched and
// Error{io, "'<path>' exists; use --force to overwrite"} is thrown. With `force`, the new file
// keeps the replaced one's permissions (rwx bits) and, when run as root, its owner and group.
// A target that exists but is not a regular file (a FIFO, a device, a directory) is refused
// even with `force`: Error{io, "cannot write '<path>': is a FIFO"}.
void write_file_atomic(const std::string& path, std::string_view content, bool force);

}  // namespace vramplan::io
