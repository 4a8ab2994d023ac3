// The safetensors file format, read from its header only (docs/model-sources.md, "Hugging
// Face models"): the tensors' dtypes, shapes and byte ranges, and the shard index
// model.safetensors.index.json. What the tensors mean is hf_model.hpp's business.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "BF16", "shape": [..], "data_offsets": [a, b]}, "__metadata__": {..}}),
// then the data section; offsets are relative to the start of the data section.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/ggml_type.hpp>

namespace vramplan::io {

class ByteSource;

enum class SafetensorsDtype {
  f64,
  f32,
  f16,
  bf16,
  i64,
  i32,
  i16,
  i8,
  u8,
  boolean,
  f8_e4m3,
  f8_e5m2
};

// The file's spelling: "F64", "BF16", "BOOL", "F8_E4M3", ...
[[nodiscard]] std::string_view to_string(SafetensorsDtype dtype);
[[nodiscard]] std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name);
[[nodiscard]] std::int64_t dtype_size(SafetensorsDtype dtype);  // bytes per element
// The ggml type with the same bytes per element: BF16 -> bf16, F16 -> f16, F32 -> f32,
// F64 -> f64, I64/I32/I16 -> i64/i32/i16, every 1-byte dtype (I8, U8, BOOL, F8_E4M3,
// F8_E5M2) -> i8.
[[nodiscard]] GgmlType same_size_ggml_type(SafetensorsDtype dtype);

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::f32;
  std::vector<std::int64_t> shape;              // outermost first, as in PyTorch
  std::array<std::uint64_t, 2> data_offsets{};  // [begin, end) in the data section

  [[nodiscard]] std::int64_t elements() const;  // product of shape (1 for a scalar)
  [[nodiscard]] Bytes bytes() const {
    return static_cast<Bytes>(data_offsets[1] - data_offsets[0]);
  }
  bool operator==(const SafetensorsTensor&) const = default;
};

// Headers larger than this are refused (real ones are a few MiB at most).
inline constexpr std::uint64_t safetensors_header_limit = 100ULL << 20;
// Tensors one header may list (a real shard lists a few thousand); each entry of a header may
// hold at most 4096 JSON values and a tensor name at most 4096 bytes (docs/reliability.md §6).
inline constexpr std::size_t safetensors_max_tensors = 1u << 18;

struct SafetensorsHeader {
  std::vector<SafetensorsTensor> tensors;       // sorted by data offset
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
  std::uint64_t header_size = 0;                // N: the JSON's length
  std::uint64_t file_size = 0;
  [[nodiscard]] std::uint64_t data_offset() const { return 8 + header_size; }
};

// Reads bytes [0, 8 + N) of `source` and nothing else. Throws Error{bad_input,
// "<origin>: ..."} when N is past the end of the file or above safetensors_header_limit, the
// JSON is malformed, a dtype is unknown, a shape or data_offsets entry is malformed, a
// tensor's byte range disagrees with its shape and dtype, lies outside the data section, is
// reversed, or overlaps another tensor. Errors of the source itself are Error{io}.
[[nodiscard]] SafetensorsHeader read_safetensors_header(ByteSource& source,
                                                        const std::string& origin);
// Same, from a file (origin = path).
[[nodiscard]] SafetensorsHeader read_safetensors_header(const std::string& path);

// model.safetensors.index.json: which shard holds each tensor.
struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::set<std::string> shards;                   // the shard file names
};

// Parses an index. Throws Error{bad_input, "<origin>: ..."} when the JSON is malformed or over
// its limits (524288 values, strings of 4096 bytes), 'weight_map' is not an object, or a
// shard is not a bare file name in the model's directory.
[[nodiscard]] SafetensorsIndex parse_safetensors_index(std::string_view text,
                                                       const std::string& origin);

}  // namespace vramplan::io
