// A small GGUF v3 writer for tests and the oracle (test-only): typed metadata, tensor infos,
// aligned offsets, and a sparse file whose data section is a hole (no disk used). Layout:
// llama.cpp ggml/include/gguf.h (docs/gguf.md).
//
// Malformed files for reader tests: every field can be written raw (ByteWriter, add_raw_kv),
// the magic, version and counts can be overridden, and header() is a plain byte string to
// truncate or patch at the offsets below.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan::test {

// The value types of the format, shared with the reader (io/gguf.hpp; gguf.h gguf_type).
using GgufType = io::GgufType;

// Byte offsets of the fixed header fields.
inline constexpr std::size_t gguf_magic_offset = 0;      // "GGUF"
inline constexpr std::size_t gguf_version_offset = 4;    // uint32
inline constexpr std::size_t gguf_n_tensors_offset = 8;  // int64
inline constexpr std::size_t gguf_n_kv_offset = 16;      // int64
inline constexpr std::size_t gguf_first_kv_offset = 24;  // first key/value pair
inline constexpr std::uint32_t gguf_default_alignment = 32;

// Little-endian encoder. Public so tests can build arbitrary (also invalid) payloads.
class ByteWriter {
 public:
  void u8(std::uint8_t v) { put(v, 1); }
  void i8(std::int8_t v) { put(static_cast<std::uint8_t>(v), 1); }
  void u16(std::uint16_t v) { put(v, 2); }
  void i16(std::int16_t v) { put(static_cast<std::uint16_t>(v), 2); }
  void u32(std::uint32_t v) { put(v, 4); }
  void i32(std::int32_t v) { put(static_cast<std::uint32_t>(v), 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
  void f32(float v);
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  // GGUF string: uint64 length, then the bytes (no NUL).
  void str(std::string_view s);
  void raw(std::string_view bytes) { bytes_.append(bytes); }
  void type(GgufType t) { u32(static_cast<std::uint32_t>(t)); }
  // Zero bytes up to a multiple of `alignment`.
  void pad_to(std::uint64_t alignment);

  [[nodiscard]] const std::string& bytes() const { return bytes_; }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }

 private:
  void put(std::uint64_t v, int n);
  std::string bytes_;
};

class GgufWriter {
 public:
  // --- metadata (a key set twice keeps its first position and takes the new value) ---
  void set_u8(std::string_view key, std::uint8_t v);
  void set_i8(std::string_view key, std::int8_t v);
  void set_u16(std::string_view key, std::uint16_t v);
  void set_i16(std::string_view key, std::int16_t v);
  void set_u32(std::string_view key, std::uint32_t v);
  void set_i32(std::string_view key, std::int32_t v);
  void set_u64(std::string_view key, std::uint64_t v);
  void set_i64(std::string_view key, std::int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);

  void set_array_u8(std::string_view key, std::span<const std::uint8_t> v);
  void set_array_i8(std::string_view key, std::span<const std::int8_t> v);
  void set_array_u16(std::string_view key, std::span<const std::uint16_t> v);
  void set_array_i16(std::string_view key, std::span<const std::int16_t> v);
  void set_array_u32(std::string_view key, std::span<const std::uint32_t> v);
  void set_array_i32(std::string_view key, std::span<const std::int32_t> v);
  void set_array_u64(std::string_view key, std::span<const std::uint64_t> v);
  void set_array_i64(std::string_view key, std::span<const std::int64_t> v);
  void set_array_f32(std::string_view key, std::span<const float> v);
  void set_array_f64(std::string_view key, std::span<const double> v);
  void set_array_bool(std::string_view key, const std::vector<bool>& v);
  void set_array_string(std::string_view key, std::span<const std::string> v);

  // A key with any type id and a payload written as is (the bytes after the type field).
  // For malformed files: wrong type ids, string lengths past the end, huge array counts.
  void add_raw_kv(std::string_view key, std::uint32_t type_id, std::string payload);

  [[nodiscard]] bool has_key(std::string_view key) const;
  [[nodiscard]] std::size_t kv_count() const { return kvs_.size(); }

  // general.alignment (uint32): also written as a key unless it is the default.
  void set_alignment(std::uint32_t alignment);
  [[nodiscard]] std::uint32_t alignment() const { return alignment_; }

  // --- tensors ---
  // ne[0] is the row length; trailing 1s are dropped from n_dims (ggml_n_dims), at least 1.
  void add_tensor(std::string_view name, std::span<const std::int64_t> ne, GgmlType type);
  void add_tensor(const TensorInfo& tensor);
  [[nodiscard]] std::size_t tensor_count() const { return tensors_.size(); }

  // --- overrides for malformed files ---
  void set_magic(std::string magic) { magic_ = std::move(magic); }
  void set_version(std::uint32_t version) { version_ = version; }
  void override_tensor_count(std::uint64_t n) {
    n_tensors_override_ = n;
    has_n_tensors_ = true;
  }
  void override_kv_count(std::uint64_t n) {
    n_kv_override_ = n;
    has_n_kv_ = true;
  }

  // --- output ---
  // Every byte before the data section (magic .. tensor infos .. padding to the alignment).
  [[nodiscard]] std::string header() const;
  // Size of the data section: each tensor's bytes padded to the alignment.
  [[nodiscard]] std::uint64_t data_size() const;
  // header().size() + data_size(): the file size llama.cpp expects.
  [[nodiscard]] std::uint64_t file_size() const;
  // Offset of each tensor inside the data section, in add order.
  [[nodiscard]] std::vector<std::uint64_t> tensor_offsets() const;

  // Writes header() and extends the file to file_size() with a hole (no disk blocks).
  void write_sparse(const std::filesystem::path& path) const;
  // Writes exactly `bytes` (e.g. a truncated or patched header()).
  static void write_bytes(const std::filesystem::path& path, std::string_view bytes);

 private:
  struct Kv {
    std::string key;
    std::string value;  // type id + payload, encoded
  };
  struct Tensor {
    std::string name;
    std::vector<std::int64_t> ne;
    GgmlType type = GgmlType::f32;
    std::uint64_t bytes = 0;
  };

  void set_encoded(std::string_view key, std::string value);
  template <class T, class Put>
  void set_array(std::string_view key, GgufType elem, std::span<const T> v, Put put);

  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
  std::uint32_t alignment_ = gguf_default_alignment;
  std::string magic_ = "GGUF";
  std::uint32_t version_ = 3;
  std::uint64_t n_tensors_override_ = 0;
  std::uint64_t n_kv_override_ = 0;
  bool has_n_tensors_ = false;
  bool has_n_kv_ = false;
};

}  // namespace vramplan::test
