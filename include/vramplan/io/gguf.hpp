// GGUF header reader: metadata key/values and tensor infos, never tensor data
// (the format is ggml's ggml/include/gguf.h). docs/gguf.md lists every
// check and cap.
//
// Every error is Error{ErrorKind::bad_input, "<origin>: offset N: <what>"} on one line, where
// N is the file offset of the field at fault. Malformed input never crashes, hangs or makes
// the reader allocate more than the input's own size justifies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <vramplan/io/byte_source.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan::io {

// Caps (docs/gguf.md "Checks and limits"), each far above what a real model file holds.
inline constexpr std::uint64_t gguf_max_key_length = 1u << 20;      // 1 MiB
inline constexpr std::uint64_t gguf_max_string_length = 64u << 20;  // 64 MiB
inline constexpr std::uint64_t gguf_max_tensor_name_length = 63;    // ggml's GGML_MAX_NAME - 1
inline constexpr std::uint32_t gguf_max_dims = 4;                   // GGML_MAX_DIMS
// Arrays up to this many elements are kept in memory; longer ones (tokenizer tokens, scores,
// merges of big vocabularies) keep only their type and count, and their bytes are skipped.
inline constexpr std::uint64_t gguf_max_kept_array = 65536;
// Memory kept per file (docs/reliability.md §6), so that the caps above bound memory and not
// only bytes read: a string value keeps at most its first gguf_max_kept_string bytes
// (GgufValue::cut says it was longer); a string array whose strings take more than
// gguf_max_kept_array_bytes keeps only its type and count; and once the strings and array
// elements kept reach gguf_max_kept_bytes, later strings are cut and later arrays not kept.
// Keys are always kept: more than gguf_max_kept_bytes of them is an error. A real header
// keeps a few MiB (a 64k-token vocabulary, a chat template).
inline constexpr std::uint64_t gguf_max_kept_string = 1u << 20;
inline constexpr std::uint64_t gguf_max_kept_array_bytes = 16u << 20;
inline constexpr std::uint64_t gguf_max_kept_bytes = 32u << 20;
// Tensors in one file, and in all parts of a split model (llama.cpp's conversions write a few
// thousand at most: the experts of a layer are one tensor).
inline constexpr std::uint64_t gguf_max_tensors = 65536;
inline constexpr std::uint64_t gguf_default_alignment = 32;
// Bytes fetched from the source per read while walking the header.
inline constexpr std::size_t gguf_read_chunk = 1u << 20;

// Value types, as numbered in the file (gguf.h enum gguf_type).
enum class GgufType : std::uint32_t {
  u8 = 0,
  i8 = 1,
  u16 = 2,
  i16 = 3,
  u32 = 4,
  i32 = 5,
  f32 = 6,
  boolean = 7,
  string = 8,
  array = 9,
  u64 = 10,
  i64 = 11,
  f64 = 12,
};

// "u8", "i32", "f32", "bool", "string", "array", ...
[[nodiscard]] std::string_view to_string(GgufType type);

// Elements of a kept array, by element type: unsigned integers widen to uint64, signed to
// int64, floats to double. monostate: the array was longer than gguf_max_kept_array and its
// elements were skipped (GgufArray::count still says how many there are).
using GgufArrayElements =
    std::variant<std::monostate, std::vector<std::uint64_t>, std::vector<std::int64_t>,
                 std::vector<double>, std::vector<bool>, std::vector<std::string>>;

struct GgufArray {
  GgufType type = GgufType::u8;  // element type (never array: nested arrays are rejected)
  std::uint64_t count = 0;
  GgufArrayElements elements;

  [[nodiscard]] bool kept() const { return !std::holds_alternative<std::monostate>(elements); }
};

struct GgufValue {
  GgufType type = GgufType::u8;
  // u8/u16/u32/u64 -> uint64; i8/i16/i32/i64 -> int64; f32/f64 -> double; bool; string; array
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, GgufArray> data;
  std::uint64_t offset = 0;  // file offset of the value (after the key and type)
  bool cut = false;          // a string kept only in part (gguf_max_kept_string)

  // Any integer type whose value fits int64; nullopt for other types or u64 > INT64_MAX.
  [[nodiscard]] std::optional<std::int64_t> as_int() const;
  [[nodiscard]] const std::string* as_string() const { return std::get_if<std::string>(&data); }
  [[nodiscard]] const GgufArray* as_array() const { return std::get_if<GgufArray>(&data); }
};

struct GgufKv {
  std::string key;
  GgufValue value;
};

struct GgufTensor {
  TensorInfo info;  // name, ne (unused dims 1), type
  std::uint32_t n_dims = 0;
  std::uint64_t offset = 0;  // relative to the data section of the file that holds it
  std::uint32_t split = 0;   // index of that file in a split model (0 for a single file)
};

struct GgufFile {
  std::uint32_t version = 0;
  std::uint64_t alignment = gguf_default_alignment;
  std::uint64_t header_size = 0;  // bytes up to the end of the tensor infos
  std::uint64_t data_offset = 0;  // header_size padded to the alignment
  std::uint64_t file_size = 0;
  std::vector<GgufKv> metadata;     // in file order
  std::vector<GgufTensor> tensors;  // in file order

  // Linear search; nullptr when absent.
  [[nodiscard]] const GgufValue* find(std::string_view key) const;
  [[nodiscard]] const GgufTensor* find_tensor(std::string_view name) const;
};

// Reads the header of one GGUF file through `source`. `origin` names the input in messages.
// Reads only up to the end of the tensor infos (plus at most one chunk of read-ahead).
[[nodiscard]] GgufFile read_gguf(ByteSource& source, const std::string& origin);

// read_gguf over a FileSource of `path` (Error{io} if it cannot be opened).
[[nodiscard]] GgufFile read_gguf_file(const std::string& path);

// A model as llama.cpp loads it: one file, or all parts of a split model.
struct GgufModelFiles {
  GgufFile file;  // metadata of the first part; the tensors of all parts (GgufTensor::split)
  std::vector<std::string> paths;  // one per part, in order
  std::uint64_t total_size = 0;    // sum of the parts' sizes
  std::uint64_t bytes_read = 0;    // bytes read from all parts
};

// Reads `path`. When its name is "<prefix>-NNNNN-of-MMMMM.gguf" (llama.cpp's split naming,
// llama_split_path) all MMMMM parts are read, whichever part was named, and checked: each
// part has split.no = its index (0-based), the same split.count = MMMMM, and the same
// split.tensors.count, which must equal the number of tensors of all parts together; tensor
// names are unique across parts. A file that says split.count > 1 but is not named that way
// is an error (the other parts could not be found).
[[nodiscard]] GgufModelFiles read_gguf_model_files(const std::string& path);

}  // namespace vramplan::io
