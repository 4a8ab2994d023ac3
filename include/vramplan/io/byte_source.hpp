// Where the GGUF reader pulls its bytes from. An interface, so that tests and the fuzzer can
// hand in memory, and so that a test can prove how little of a 40 GB file planning reads
// (bytes_read()). Only the header of a model file is ever requested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/io/file.hpp>

namespace vramplan::io {

class ByteSource {
 public:
  ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  virtual ~ByteSource() = default;

  // Total size in bytes.
  [[nodiscard]] virtual std::uint64_t size() const = 0;

  // Fills `out` with the bytes at [offset, offset + out.size()). Throws Error{io} when that
  // range is not inside the source or the read fails. Counts what it served.
  void read(std::uint64_t offset, std::span<std::byte> out);

  // Bytes served by read() so far.
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }

  // Where the bytes come from, for messages ("model.gguf", "<memory>").
  [[nodiscard]] virtual const std::string& name() const = 0;

 protected:
  // Called with a range already checked to lie inside [0, size()).
  virtual void read_at(std::uint64_t offset, std::span<std::byte> out) = 0;

 private:
  std::uint64_t bytes_read_ = 0;
};

// One regular file (io::RegularFile: a FIFO, device or directory is refused without blocking),
// read with pread(2); the descriptor is closed by the destructor. The size is taken when the
// file is opened. Throws Error{io, "'<path>': cannot open: <reason>"} when it cannot be opened
// or is not a regular file ("is a FIFO"), Error{io, "'<path>': <reason>"} when a read fails.
class FileSource final : public ByteSource {
 public:
  explicit FileSource(std::string path);
  ~FileSource() override;

  [[nodiscard]] std::uint64_t size() const override { return size_; }
  [[nodiscard]] const std::string& name() const override { return path_; }

 protected:
  void read_at(std::uint64_t offset, std::span<std::byte> out) override;

 private:
  std::string path_;
  std::optional<RegularFile> file_;
  std::uint64_t size_ = 0;
};

// Bytes held in memory (a copy of what it was given).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::vector<std::byte> bytes, std::string name = "<memory>");
  explicit MemorySource(std::string_view bytes, std::string name = "<memory>");
  explicit MemorySource(std::span<const std::uint8_t> bytes, std::string name = "<memory>");

  [[nodiscard]] std::uint64_t size() const override { return bytes_.size(); }
  [[nodiscard]] const std::string& name() const override { return name_; }

 protected:
  void read_at(std::uint64_t offset, std::span<std::byte> out) override;

 private:
  std::vector<std::byte> bytes_;
  std::string name_;
};

}  // namespace vramplan::io
