#include <vramplan/tensor_info.hpp>

#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include <vramplan/error.hpp>

namespace vramplan {

namespace {

// a * b for a tensor's size; the message (formatted only then) names the tensor.
std::int64_t tensor_mul(std::int64_t a, std::int64_t b, const TensorInfo& t, const char* what) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) {
    throw_size_overflow(fmt::format("the {} of tensor '{}'", what, t.name));
  }
  return out;
}

}  // namespace

std::int64_t TensorInfo::elements() const {
  constexpr const char* what = "element count";
  return tensor_mul(tensor_mul(tensor_mul(ne[0], ne[1], *this, what), ne[2], *this, what), ne[3],
                    *this, what);
}

Bytes TensorInfo::bytes() const {
  constexpr const char* what = "byte size";
  const GgmlTypeInfo& t = info(type);
  const Bytes row = tensor_mul(ne[0] / t.block_size, t.type_size, *this, what);
  return tensor_mul(tensor_mul(tensor_mul(row, ne[1], *this, what), ne[2], *this, what), ne[3],
                    *this, what);
}

std::int32_t tensor_block(const std::string& name) {
  constexpr std::string_view prefix = "blk.";
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  const char* begin = name.data() + prefix.size();
  const char* end = name.data() + name.size();
  std::int32_t block = -1;
  const auto [ptr, ec] = std::from_chars(begin, end, block);
  if (ec != std::errc{} || ptr == begin || ptr == end || *ptr != '.') return -1;
  return block;
}

}  // namespace vramplan
