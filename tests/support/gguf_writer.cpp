#include "support/gguf_writer.hpp"

#include <algorithm>
#include <bit>
#include <fstream>
#include <stdexcept>

namespace vramplan::test {
namespace {

std::uint64_t align_up(std::uint64_t n, std::uint64_t alignment) {
  return alignment == 0 ? n : (n + alignment - 1) / alignment * alignment;
}

// Bytes of a tensor; a row that is not a whole number of blocks is rounded up, so that
// malformed shapes still get plausible offsets.
std::uint64_t tensor_bytes(std::span<const std::int64_t> ne, GgmlType type) {
  const GgmlTypeInfo& ti = info(type);
  std::uint64_t rows = 1;
  for (std::size_t i = 1; i < ne.size(); ++i) rows *= static_cast<std::uint64_t>(ne[i]);
  const auto ne0 = static_cast<std::uint64_t>(ne.empty() ? 1 : ne[0]);
  const auto block = static_cast<std::uint64_t>(ti.block_size);
  const std::uint64_t row = (ne0 + block - 1) / block * static_cast<std::uint64_t>(ti.type_size);
  return row * rows;
}

}  // namespace

// --- ByteWriter -----------------------------------------------------------------------------

void ByteWriter::put(std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) {
    bytes_.push_back(static_cast<char>(static_cast<std::uint8_t>(v & 0xffU)));
    v >>= 8U;
  }
}

void ByteWriter::f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
void ByteWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

void ByteWriter::str(std::string_view s) {
  u64(s.size());
  bytes_.append(s);
}

void ByteWriter::pad_to(std::uint64_t alignment) {
  bytes_.resize(static_cast<std::size_t>(align_up(bytes_.size(), alignment)), '\0');
}

// --- metadata -------------------------------------------------------------------------------

void GgufWriter::set_encoded(std::string_view key, std::string value) {
  const auto found =
      std::find_if(kvs_.begin(), kvs_.end(), [&](const Kv& kv) { return kv.key == key; });
  if (found != kvs_.end()) {
    found->value = std::move(value);
  } else {
    kvs_.push_back(Kv{std::string(key), std::move(value)});
  }
}

bool GgufWriter::has_key(std::string_view key) const {
  return std::any_of(kvs_.begin(), kvs_.end(), [&](const Kv& kv) { return kv.key == key; });
}

#define VRAMPLAN_GGUF_SCALAR(method, ctype, tag)           \
  void GgufWriter::method(std::string_view key, ctype v) { \
    ByteWriter w;                                          \
    w.type(GgufType::tag);                                 \
    w.tag(v);                                              \
    set_encoded(key, w.bytes());                           \
  }
VRAMPLAN_GGUF_SCALAR(set_u8, std::uint8_t, u8)
VRAMPLAN_GGUF_SCALAR(set_i8, std::int8_t, i8)
VRAMPLAN_GGUF_SCALAR(set_u16, std::uint16_t, u16)
VRAMPLAN_GGUF_SCALAR(set_i16, std::int16_t, i16)
VRAMPLAN_GGUF_SCALAR(set_u32, std::uint32_t, u32)
VRAMPLAN_GGUF_SCALAR(set_i32, std::int32_t, i32)
VRAMPLAN_GGUF_SCALAR(set_u64, std::uint64_t, u64)
VRAMPLAN_GGUF_SCALAR(set_i64, std::int64_t, i64)
VRAMPLAN_GGUF_SCALAR(set_f32, float, f32)
VRAMPLAN_GGUF_SCALAR(set_f64, double, f64)
VRAMPLAN_GGUF_SCALAR(set_bool, bool, boolean)
#undef VRAMPLAN_GGUF_SCALAR

void GgufWriter::set_string(std::string_view key, std::string_view v) {
  ByteWriter w;
  w.type(GgufType::string);
  w.str(v);
  set_encoded(key, w.bytes());
}

template <class T, class Put>
void GgufWriter::set_array(std::string_view key, GgufType elem, std::span<const T> v, Put put) {
  ByteWriter w;
  w.type(GgufType::array);
  w.type(elem);
  w.u64(v.size());
  for (const T& x : v) put(w, x);
  set_encoded(key, w.bytes());
}

#define VRAMPLAN_GGUF_ARRAY(method, ctype, tag)                                        \
  void GgufWriter::method(std::string_view key, std::span<const ctype> v) {            \
    set_array(key, GgufType::tag, v, [](ByteWriter& w, const ctype& x) { w.tag(x); }); \
  }
VRAMPLAN_GGUF_ARRAY(set_array_u8, std::uint8_t, u8)
VRAMPLAN_GGUF_ARRAY(set_array_i8, std::int8_t, i8)
VRAMPLAN_GGUF_ARRAY(set_array_u16, std::uint16_t, u16)
VRAMPLAN_GGUF_ARRAY(set_array_i16, std::int16_t, i16)
VRAMPLAN_GGUF_ARRAY(set_array_u32, std::uint32_t, u32)
VRAMPLAN_GGUF_ARRAY(set_array_i32, std::int32_t, i32)
VRAMPLAN_GGUF_ARRAY(set_array_u64, std::uint64_t, u64)
VRAMPLAN_GGUF_ARRAY(set_array_i64, std::int64_t, i64)
VRAMPLAN_GGUF_ARRAY(set_array_f32, float, f32)
VRAMPLAN_GGUF_ARRAY(set_array_f64, double, f64)
#undef VRAMPLAN_GGUF_ARRAY

void GgufWriter::set_array_string(std::string_view key, std::span<const std::string> v) {
  set_array(key, GgufType::string, v, [](ByteWriter& w, const std::string& x) { w.str(x); });
}

void GgufWriter::set_array_bool(std::string_view key, const std::vector<bool>& v) {
  ByteWriter w;
  w.type(GgufType::array);
  w.type(GgufType::boolean);
  w.u64(v.size());
  for (const bool x : v) w.boolean(x);
  set_encoded(key, w.bytes());
}

void GgufWriter::add_raw_kv(std::string_view key, std::uint32_t type_id, std::string payload) {
  ByteWriter w;
  w.u32(type_id);
  w.raw(payload);
  kvs_.push_back(Kv{std::string(key), w.bytes()});  // raw keys may repeat on purpose
}

void GgufWriter::set_alignment(std::uint32_t alignment) {
  alignment_ = alignment;
  set_u32("general.alignment", alignment);
}

// --- tensors --------------------------------------------------------------------------------

void GgufWriter::add_tensor(std::string_view name, std::span<const std::int64_t> ne,
                            GgmlType type) {
  std::size_t n_dims = ne.size();
  while (n_dims > 1 && ne[n_dims - 1] == 1) --n_dims;
  Tensor t;
  t.name = std::string(name);
  t.ne.assign(ne.begin(),
              ne.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(n_dims, 1)));
  t.type = type;
  t.bytes = tensor_bytes(t.ne, type);
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor(const TensorInfo& tensor) {
  add_tensor(tensor.name, tensor.ne, tensor.type);
}

std::vector<std::uint64_t> GgufWriter::tensor_offsets() const {
  std::vector<std::uint64_t> offsets;
  offsets.reserve(tensors_.size());
  std::uint64_t at = 0;
  for (const Tensor& t : tensors_) {
    offsets.push_back(at);
    at = align_up(at + t.bytes, alignment_);
  }
  return offsets;
}

std::uint64_t GgufWriter::data_size() const {
  std::uint64_t at = 0;
  for (const Tensor& t : tensors_) at = align_up(at + t.bytes, alignment_);
  return at;
}

// --- output ---------------------------------------------------------------------------------

std::string GgufWriter::header() const {
  ByteWriter w;
  w.raw(magic_);
  w.u32(version_);
  w.u64(has_n_tensors_ ? n_tensors_override_ : tensors_.size());
  w.u64(has_n_kv_ ? n_kv_override_ : kvs_.size());
  for (const Kv& kv : kvs_) {
    w.str(kv.key);
    w.raw(kv.value);
  }
  const std::vector<std::uint64_t> offsets = tensor_offsets();
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const Tensor& t = tensors_[i];
    w.str(t.name);
    w.u32(static_cast<std::uint32_t>(t.ne.size()));
    for (const std::int64_t n : t.ne) w.i64(n);
    w.i32(static_cast<std::int32_t>(t.type));
    w.u64(offsets[i]);
  }
  w.pad_to(alignment_);
  return w.bytes();
}

std::uint64_t GgufWriter::file_size() const { return header().size() + data_size(); }

void GgufWriter::write_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void GgufWriter::write_sparse(const std::filesystem::path& path) const {
  const std::string head = header();
  write_bytes(path, head);
  // resize_file is truncate(2): the extension is a hole, no blocks are allocated.
  std::filesystem::resize_file(path, head.size() + data_size());
}

}  // namespace vramplan::test
