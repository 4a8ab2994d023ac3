#include <algorithm>
#include <limits>
#include <span>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/safetensors.hpp>

#include "json_input.hpp"

namespace vramplan::io {
namespace {

using Json = nlohmann::json;

// model.safetensors.index.json: one value per tensor (DeepSeek-V3 lists about 92k).
constexpr JsonLimits index_limits{
    .max_depth = max_json_depth, .max_values = 1u << 19, .max_string = 4096};
// A safetensors header, per entry (one tensor, or __metadata__); names are checked apart.
constexpr JsonLimits header_limits{
    .max_depth = max_json_depth, .max_values = 4096, .max_string = 1u << 20};
constexpr std::size_t max_tensor_name = 4096;

struct DtypeInfo {
  SafetensorsDtype dtype;
  std::string_view name;
  std::int64_t size;
  GgmlType ggml;  // same bytes per element
};

constexpr auto dtypes = std::to_array<DtypeInfo>({
    {SafetensorsDtype::f64, "F64", 8, GgmlType::f64},
    {SafetensorsDtype::f32, "F32", 4, GgmlType::f32},
    {SafetensorsDtype::f16, "F16", 2, GgmlType::f16},
    {SafetensorsDtype::bf16, "BF16", 2, GgmlType::bf16},
    {SafetensorsDtype::i64, "I64", 8, GgmlType::i64},
    {SafetensorsDtype::i32, "I32", 4, GgmlType::i32},
    {SafetensorsDtype::i16, "I16", 2, GgmlType::i16},
    {SafetensorsDtype::i8, "I8", 1, GgmlType::i8},
    {SafetensorsDtype::u8, "U8", 1, GgmlType::i8},
    {SafetensorsDtype::boolean, "BOOL", 1, GgmlType::i8},
    {SafetensorsDtype::f8_e4m3, "F8_E4M3", 1, GgmlType::i8},
    {SafetensorsDtype::f8_e5m2, "F8_E5M2", 1, GgmlType::i8},
});

const DtypeInfo& dtype_info(SafetensorsDtype dtype) {
  return dtypes[static_cast<std::size_t>(dtype)];
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

SafetensorsTensor parse_tensor(const std::string& name, const Json& entry, std::uint64_t data_size,
                               const std::string& origin) {
  auto fail = [&](const std::string& what) {
    bad_input(origin, fmt::format("tensor '{}': {}", name, what));
  };
  if (!entry.is_object()) fail("entry must be an object");
  SafetensorsTensor t;
  t.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail("'dtype' must be a string");
  const auto& dtype_name = dtype_it->get_ref<const std::string&>();
  const std::optional<SafetensorsDtype> dtype = parse_safetensors_dtype(dtype_name);
  if (!dtype) fail(fmt::format("unknown dtype '{}'", dtype_name));
  t.dtype = *dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    fail("'shape' must be an array of non-negative integers");
  }
  // Bytes the shape needs, saturating at the data size + 1 (anything larger lies anyway).
  const std::uint64_t cap = data_size + 1;
  std::uint64_t needed = static_cast<std::uint64_t>(dtype_size(t.dtype));
  for (const Json& dim : *shape_it) {
    if (!dim.is_number_unsigned() && !(dim.is_number_integer() && dim.get<std::int64_t>() >= 0)) {
      fail("'shape' must be an array of non-negative integers");
    }
    const auto d = dim.get<std::uint64_t>();
    if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(fmt::format("shape entry {} is too large", d));
    }
    t.shape.push_back(static_cast<std::int64_t>(d));
    needed = (d != 0 && needed > cap / d) ? cap : std::min(cap, needed * d);
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    fail("'data_offsets' must be two non-negative integers");
  }
  t.data_offsets = {(*offsets_it)[0].get<std::uint64_t>(), (*offsets_it)[1].get<std::uint64_t>()};
  const auto [begin, end] = t.data_offsets;
  if (end < begin) fail(fmt::format("data_offsets [{}, {}] are reversed", begin, end));
  if (end > data_size) {
    fail(fmt::format("data_offsets [{}, {}] end past the data section ({} bytes)", begin, end,
                     data_size));
  }
  if (needed != end - begin) {
    fail(fmt::format(
        "shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", shape_text(t.shape),
        to_string(t.dtype),
        needed >= cap ? fmt::format("more than {}", data_size) : fmt::format("{}", needed), begin,
        end, end - begin));
  }
  return t;
}

}  // namespace

std::string_view to_string(SafetensorsDtype dtype) { return dtype_info(dtype).name; }

std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name) {
  for (const DtypeInfo& d : dtypes) {
    if (d.name == name) return d.dtype;
  }
  return std::nullopt;
}

std::int64_t dtype_size(SafetensorsDtype dtype) { return dtype_info(dtype).size; }

GgmlType same_size_ggml_type(SafetensorsDtype dtype) { return dtype_info(dtype).ggml; }

std::int64_t SafetensorsTensor::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader read_safetensors_header(ByteSource& source, const std::string& origin) {
  SafetensorsHeader out;
  out.file_size = source.size();
  if (out.file_size < 8) {
    bad_input(origin,
              fmt::format("file is {} bytes, too short for a safetensors header", out.file_size));
  }
  std::array<std::byte, 8> length{};
  source.read(0, length);
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < length.size(); ++i) {
    n |= static_cast<std::uint64_t>(length[i]) << (8 * i);
  }
  if (n > out.file_size - 8) {
    bad_input(origin, fmt::format("header length {} is past the end of the file ({} bytes)", n,
                                  out.file_size));
  }
  if (n > safetensors_header_limit) {
    bad_input(origin, fmt::format("header length {} exceeds the limit of {} bytes", n,
                                  safetensors_header_limit));
  }
  out.header_size = n;
  std::string text(static_cast<std::size_t>(n), '\0');
  source.read(8, std::as_writable_bytes(std::span<char>(text)));

  const std::uint64_t data_size = out.file_size - 8 - n;
  // One entry in memory at a time; a name given twice keeps its last entry, as a JSON
  // object would.
  std::unordered_map<std::string, std::size_t> index;
  const auto entry = [&](std::string&& name, Json&& value) {
    if (name == "__metadata__") {
      if (!value.is_object()) bad_input(origin, "'__metadata__' must be an object");
      for (auto& [key, v] : value.items()) {
        if (v.is_string()) out.metadata[key] = std::move(v.get_ref<std::string&>());
      }
      return;
    }
    if (name.size() > max_tensor_name) {
      bad_input(origin, fmt::format("tensor name of {} bytes exceeds the limit of {}", name.size(),
                                    max_tensor_name));
    }
    SafetensorsTensor t = parse_tensor(name, value, data_size, origin);
    const auto [it, inserted] = index.emplace(std::move(name), out.tensors.size());
    if (!inserted) {
      out.tensors[it->second] = std::move(t);
      return;
    }
    if (out.tensors.size() >= safetensors_max_tensors) {
      bad_input(origin, fmt::format("more than {} tensors", safetensors_max_tensors));
    }
    out.tensors.push_back(std::move(t));
  };
  try {
    parse_json_members(text, header_limits, [&](std::string&& name, Json&& value) {
      entry(std::move(name), std::move(value));
    });
  } catch (const JsonFailure& f) {
    if (f.kind == JsonFailure::Kind::not_object) {
      bad_input(origin, "header must be a JSON object");
    }
    if (f.kind == JsonFailure::Kind::ends_early) {
      bad_input(origin, fmt::format("invalid JSON: ends early, after {} bytes", text.size()));
    }
    json_failed(origin, f, header_limits, f.member);
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const auto& a, const auto& b) {
    return a.data_offsets != b.data_offsets ? a.data_offsets < b.data_offsets : a.name < b.name;
  });
  const SafetensorsTensor* prev = nullptr;
  for (const SafetensorsTensor& t : out.tensors) {
    if (t.data_offsets[0] == t.data_offsets[1]) continue;  // empty: overlaps nothing
    if (prev != nullptr && t.data_offsets[0] < prev->data_offsets[1]) {
      bad_input(origin, fmt::format("tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", prev->name,
                                    prev->data_offsets[0], prev->data_offsets[1], t.name,
                                    t.data_offsets[0], t.data_offsets[1]));
    }
    if (prev == nullptr || t.data_offsets[1] > prev->data_offsets[1]) prev = &t;
  }
  return out;
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  FileSource source(path);
  return read_safetensors_header(source, path);
}

// model.safetensors.index.json: {"metadata": {...}, "weight_map": {"tensor": "shard", ...}}.
SafetensorsIndex parse_safetensors_index(std::string_view text, const std::string& origin) {
  const Json root = parse_json(text, origin, index_limits);
  const auto map_it = root.is_object() ? root.find("weight_map") : root.end();
  if (map_it == root.end() || !map_it->is_object()) {
    bad_input(origin, "'weight_map' must be an object of tensor name -> file name");
  }
  SafetensorsIndex index;
  for (const auto& [tensor, file] : map_it->items()) {
    if (!file.is_string()) {
      bad_input(origin, fmt::format("'weight_map' entry '{}' must be a file name", tensor));
    }
    const auto& name = file.get_ref<const std::string&>();
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of("/\\") != std::string::npos) {
      bad_input(origin, fmt::format("'weight_map' entry '{}': '{}' is not a file name in the "
                                    "model's directory",
                                    tensor, name));
    }
    index.shards.insert(name);
    index.weight_map.emplace(tensor, name);
  }
  return index;
}

}  // namespace vramplan::io
