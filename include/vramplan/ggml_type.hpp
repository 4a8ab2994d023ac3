// ggml tensor types and llama.cpp file types (quantization presets).
//
// Block sizes and bytes per block are sizeof(block_*) in ggml/src/ggml-common.h; the enum
// values are ggml.h's (ggml/include/ggml.h, llama.cpp b10309).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <vramplan/bytes.hpp>

namespace vramplan {

enum class GgmlType : std::int32_t {
  f32 = 0,
  f16 = 1,
  q4_0 = 2,
  q4_1 = 3,
  q5_0 = 6,
  q5_1 = 7,
  q8_0 = 8,
  q8_1 = 9,
  q2_k = 10,
  q3_k = 11,
  q4_k = 12,
  q5_k = 13,
  q6_k = 14,
  q8_k = 15,
  iq2_xxs = 16,
  iq2_xs = 17,
  iq3_xxs = 18,
  iq1_s = 19,
  iq4_nl = 20,
  iq3_s = 21,
  iq2_s = 22,
  iq4_xs = 23,
  i8 = 24,
  i16 = 25,
  i32 = 26,
  i64 = 27,
  f64 = 28,
  iq1_m = 29,
  bf16 = 30,
  tq1_0 = 34,
  tq2_0 = 35,
  mxfp4 = 39,
  nvfp4 = 40,
  q1_0 = 41,
  q2_0 = 42,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;    // ggml's spelling: "f16", "q8_0", "q4_K", "mxfp4"
  std::int64_t block_size;  // elements per block
  std::int64_t type_size;   // bytes per block
};

// All known types, in enum order.
[[nodiscard]] std::span<const GgmlTypeInfo> ggml_types();

// nullptr for an id that is not a ggml type (removed ids 4, 5, 31-33, 36-38 included).
[[nodiscard]] const GgmlTypeInfo* find_ggml_type(std::int64_t id);
[[nodiscard]] const GgmlTypeInfo& info(GgmlType type);
[[nodiscard]] std::string_view to_string(GgmlType type);
// Case-insensitive ("Q8_0", "q8_0", "q4_k" all parse).
[[nodiscard]] std::optional<GgmlType> parse_ggml_type(std::string_view name);

// Bytes of one row of n elements: (n / block) * type_size. Precondition: n is a multiple
// of the block size (callers check with row_fits first where the input is untrusted).
[[nodiscard]] Bytes row_bytes(GgmlType type, std::int64_t n);
[[nodiscard]] bool row_fits(GgmlType type, std::int64_t n);

// Types a KV cache may use (llama.cpp -ctk/-ctv): f32 f16 bf16 q8_0 q4_0 q4_1 iq4_nl q5_0 q5_1.
[[nodiscard]] bool is_kv_cache_type(GgmlType type);
[[nodiscard]] bool is_quantized(GgmlType type);

// llama_ftype: the preset a file was quantized with (general.file_type). Only a label:
// sizes come from the per-tensor types (llama.cpp include/llama.h; docs/gguf.md).
enum class FileType : std::int32_t {
  all_f32 = 0,
  mostly_f16 = 1,
  mostly_q4_0 = 2,
  mostly_q4_1 = 3,
  mostly_q8_0 = 7,
  mostly_q5_0 = 8,
  mostly_q5_1 = 9,
  mostly_q2_k = 10,
  mostly_q3_k_s = 11,
  mostly_q3_k_m = 12,
  mostly_q3_k_l = 13,
  mostly_q4_k_s = 14,
  mostly_q4_k_m = 15,
  mostly_q5_k_s = 16,
  mostly_q5_k_m = 17,
  mostly_q6_k = 18,
  mostly_iq2_xxs = 19,
  mostly_iq2_xs = 20,
  mostly_q2_k_s = 21,
  mostly_iq3_xs = 22,
  mostly_iq3_xxs = 23,
  mostly_iq1_s = 24,
  mostly_iq4_nl = 25,
  mostly_iq3_s = 26,
  mostly_iq3_m = 27,
  mostly_iq2_s = 28,
  mostly_iq2_m = 29,
  mostly_iq4_xs = 30,
  mostly_iq1_m = 31,
  mostly_bf16 = 32,
  mostly_tq1_0 = 36,
  mostly_tq2_0 = 37,
  mostly_mxfp4_moe = 38,
};

struct FileTypeInfo {
  FileType type;
  std::string_view name;  // llama.cpp's spelling: "Q4_K_M", "Q8_0", "F16", "MXFP4_MOE"
  GgmlType base;          // the type most tensors get
};

[[nodiscard]] std::span<const FileTypeInfo> file_types();
[[nodiscard]] const FileTypeInfo* find_file_type(std::int64_t id);
[[nodiscard]] const FileTypeInfo& info(FileType type);
[[nodiscard]] std::string_view to_string(FileType type);
// Accepts what people type: "Q4_K_M", "q4_k_m", "q4", "q8", "fp16", "f16", "bf16",
// "q4_0", "mxfp4". Short forms: q4 -> Q4_K_M, q5 -> Q5_K_M, q3 -> Q3_K_M, q2 -> Q2_K,
// q6 -> Q6_K, q8 -> Q8_0, fp16/f16 -> F16, fp32/f32 -> F32.
[[nodiscard]] std::optional<FileType> parse_file_type(std::string_view name);

}  // namespace vramplan
