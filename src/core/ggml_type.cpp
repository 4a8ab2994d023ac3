#include <vramplan/ggml_type.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

namespace vramplan {
namespace {

// sizeof(block_*) and QK_* from ggml/src/ggml-common.h; names from ggml.c's type_traits.
constexpr std::array<GgmlTypeInfo, 35> type_table{{
    {GgmlType::f32, "f32", 1, 4},
    {GgmlType::f16, "f16", 1, 2},
    {GgmlType::q4_0, "q4_0", 32, 18},
    {GgmlType::q4_1, "q4_1", 32, 20},
    {GgmlType::q5_0, "q5_0", 32, 22},
    {GgmlType::q5_1, "q5_1", 32, 24},
    {GgmlType::q8_0, "q8_0", 32, 34},
    {GgmlType::q8_1, "q8_1", 32, 36},
    {GgmlType::q2_k, "q2_K", 256, 84},
    {GgmlType::q3_k, "q3_K", 256, 110},
    {GgmlType::q4_k, "q4_K", 256, 144},
    {GgmlType::q5_k, "q5_K", 256, 176},
    {GgmlType::q6_k, "q6_K", 256, 210},
    {GgmlType::q8_k, "q8_K", 256, 292},
    {GgmlType::iq2_xxs, "iq2_xxs", 256, 66},
    {GgmlType::iq2_xs, "iq2_xs", 256, 74},
    {GgmlType::iq3_xxs, "iq3_xxs", 256, 98},
    {GgmlType::iq1_s, "iq1_s", 256, 50},
    {GgmlType::iq4_nl, "iq4_nl", 32, 18},
    {GgmlType::iq3_s, "iq3_s", 256, 110},
    {GgmlType::iq2_s, "iq2_s", 256, 82},
    {GgmlType::iq4_xs, "iq4_xs", 256, 136},
    {GgmlType::i8, "i8", 1, 1},
    {GgmlType::i16, "i16", 1, 2},
    {GgmlType::i32, "i32", 1, 4},
    {GgmlType::i64, "i64", 1, 8},
    {GgmlType::f64, "f64", 1, 8},
    {GgmlType::iq1_m, "iq1_m", 256, 56},
    {GgmlType::bf16, "bf16", 1, 2},
    {GgmlType::tq1_0, "tq1_0", 256, 54},
    {GgmlType::tq2_0, "tq2_0", 256, 66},
    {GgmlType::mxfp4, "mxfp4", 32, 17},
    {GgmlType::nvfp4, "nvfp4", 64, 36},
    {GgmlType::q1_0, "q1_0", 128, 18},
    {GgmlType::q2_0, "q2_0", 64, 18},
}};

static_assert(type_table[6].type == GgmlType::q8_0 && type_table[6].type_size == 34);

// llama_ftype names as llama.cpp prints them (llama_model_ftype_name), with the base type
// that most tensors receive.
constexpr std::array<FileTypeInfo, 33> file_type_table{{
    {FileType::all_f32, "F32", GgmlType::f32},
    {FileType::mostly_f16, "F16", GgmlType::f16},
    {FileType::mostly_q4_0, "Q4_0", GgmlType::q4_0},
    {FileType::mostly_q4_1, "Q4_1", GgmlType::q4_1},
    {FileType::mostly_q8_0, "Q8_0", GgmlType::q8_0},
    {FileType::mostly_q5_0, "Q5_0", GgmlType::q5_0},
    {FileType::mostly_q5_1, "Q5_1", GgmlType::q5_1},
    {FileType::mostly_q2_k, "Q2_K", GgmlType::q2_k},
    {FileType::mostly_q3_k_s, "Q3_K_S", GgmlType::q3_k},
    {FileType::mostly_q3_k_m, "Q3_K_M", GgmlType::q3_k},
    {FileType::mostly_q3_k_l, "Q3_K_L", GgmlType::q3_k},
    {FileType::mostly_q4_k_s, "Q4_K_S", GgmlType::q4_k},
    {FileType::mostly_q4_k_m, "Q4_K_M", GgmlType::q4_k},
    {FileType::mostly_q5_k_s, "Q5_K_S", GgmlType::q5_k},
    {FileType::mostly_q5_k_m, "Q5_K_M", GgmlType::q5_k},
    {FileType::mostly_q6_k, "Q6_K", GgmlType::q6_k},
    {FileType::mostly_iq2_xxs, "IQ2_XXS", GgmlType::iq2_xxs},
    {FileType::mostly_iq2_xs, "IQ2_XS", GgmlType::iq2_xs},
    {FileType::mostly_q2_k_s, "Q2_K_S", GgmlType::q2_k},
    {FileType::mostly_iq3_xs, "IQ3_XS", GgmlType::iq3_s},
    {FileType::mostly_iq3_xxs, "IQ3_XXS", GgmlType::iq3_xxs},
    {FileType::mostly_iq1_s, "IQ1_S", GgmlType::iq1_s},
    {FileType::mostly_iq4_nl, "IQ4_NL", GgmlType::iq4_nl},
    {FileType::mostly_iq3_s, "IQ3_S", GgmlType::iq3_s},
    {FileType::mostly_iq3_m, "IQ3_M", GgmlType::iq3_s},
    {FileType::mostly_iq2_s, "IQ2_S", GgmlType::iq2_s},
    {FileType::mostly_iq2_m, "IQ2_M", GgmlType::iq2_s},
    {FileType::mostly_iq4_xs, "IQ4_XS", GgmlType::iq4_xs},
    {FileType::mostly_iq1_m, "IQ1_M", GgmlType::iq1_m},
    {FileType::mostly_bf16, "BF16", GgmlType::bf16},
    {FileType::mostly_tq1_0, "TQ1_0", GgmlType::tq1_0},
    {FileType::mostly_tq2_0, "TQ2_0", GgmlType::tq2_0},
    {FileType::mostly_mxfp4_moe, "MXFP4_MOE", GgmlType::mxfp4},
}};

// Where each id's entry is in `table` (the first one with that id; -1: none), for ids below
// `Size`: info() is asked for every tensor of every plan (recommend sweeps the catalog), so
// it indexes instead of scanning the table. Ids from `Size` up are looked for in the table.
template <std::size_t Size, typename Table>
constexpr std::array<std::int8_t, Size> index_by_id(const Table& table) {
  std::array<std::int8_t, Size> index{};
  index.fill(-1);
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto id = static_cast<std::size_t>(table[i].type);
    if (id < Size && index[id] < 0) index[id] = static_cast<std::int8_t>(i);
  }
  return index;
}

constexpr std::size_t indexed_ids = 64;
constexpr std::array<std::int8_t, indexed_ids> ggml_type_index =
    index_by_id<indexed_ids>(type_table);
constexpr std::array<std::int8_t, indexed_ids> file_type_index =
    index_by_id<indexed_ids>(file_type_table);

}  // namespace

std::span<const GgmlTypeInfo> ggml_types() { return type_table; }

const GgmlTypeInfo* find_ggml_type(std::int64_t id) {
  if (id >= 0 && id < static_cast<std::int64_t>(indexed_ids)) {
    const std::int8_t at = ggml_type_index[static_cast<std::size_t>(id)];
    return at < 0 ? nullptr : &type_table[static_cast<std::size_t>(at)];
  }
  for (const GgmlTypeInfo& t : type_table) {
    if (static_cast<std::int64_t>(t.type) == id) return &t;
  }
  return nullptr;
}

const GgmlTypeInfo& info(GgmlType type) {
  const GgmlTypeInfo* t = find_ggml_type(static_cast<std::int64_t>(type));
  if (t == nullptr) {
    throw Error(ErrorKind::internal,
                fmt::format("ggml type {} has no table entry", static_cast<int>(type)));
  }
  return *t;
}

std::string_view to_string(GgmlType type) { return info(type).name; }

std::optional<GgmlType> parse_ggml_type(std::string_view name) {
  for (const GgmlTypeInfo& t : type_table) {
    if (iequals(t.name, name)) return t.type;
  }
  return std::nullopt;
}

bool row_fits(GgmlType type, std::int64_t n) { return n >= 0 && n % info(type).block_size == 0; }

Bytes row_bytes(GgmlType type, std::int64_t n) {
  const GgmlTypeInfo& t = info(type);
  return n / t.block_size * t.type_size;
}

bool is_kv_cache_type(GgmlType type) {
  switch (type) {
    case GgmlType::f32:
    case GgmlType::f16:
    case GgmlType::bf16:
    case GgmlType::q8_0:
    case GgmlType::q4_0:
    case GgmlType::q4_1:
    case GgmlType::iq4_nl:
    case GgmlType::q5_0:
    case GgmlType::q5_1:
      return true;
    default:
      return false;
  }
}

bool is_quantized(GgmlType type) { return info(type).block_size > 1; }

std::span<const FileTypeInfo> file_types() { return file_type_table; }

const FileTypeInfo* find_file_type(std::int64_t id) {
  if (id >= 0 && id < static_cast<std::int64_t>(indexed_ids)) {
    const std::int8_t at = file_type_index[static_cast<std::size_t>(id)];
    return at < 0 ? nullptr : &file_type_table[static_cast<std::size_t>(at)];
  }
  for (const FileTypeInfo& f : file_type_table) {
    if (static_cast<std::int64_t>(f.type) == id) return &f;
  }
  return nullptr;
}

const FileTypeInfo& info(FileType type) {
  const FileTypeInfo* f = find_file_type(static_cast<std::int64_t>(type));
  if (f == nullptr) {
    throw Error(ErrorKind::internal,
                fmt::format("file type {} has no table entry", static_cast<int>(type)));
  }
  return *f;
}

std::string_view to_string(FileType type) { return info(type).name; }

std::optional<FileType> parse_file_type(std::string_view name) {
  struct Short {
    std::string_view text;
    FileType type;
  };
  // What people type in Ollama tags and guides.
  static constexpr Short shorts[] = {
      {"q2", FileType::mostly_q2_k},     {"q3", FileType::mostly_q3_k_m},
      {"q4", FileType::mostly_q4_k_m},   {"q5", FileType::mostly_q5_k_m},
      {"q6", FileType::mostly_q6_k},     {"q8", FileType::mostly_q8_0},
      {"fp16", FileType::mostly_f16},    {"fp32", FileType::all_f32},
      {"bf16", FileType::mostly_bf16},   {"mxfp4", FileType::mostly_mxfp4_moe},
      {"q4_k", FileType::mostly_q4_k_m}, {"q5_k", FileType::mostly_q5_k_m},
      {"q3_k", FileType::mostly_q3_k_m}, {"q6_k", FileType::mostly_q6_k},
  };
  for (const Short& s : shorts) {
    if (iequals(s.text, name)) return s.type;
  }
  for (const FileTypeInfo& f : file_type_table) {
    if (iequals(f.name, name)) return f.type;
  }
  return std::nullopt;
}

}  // namespace vramplan
