#include <vramplan/compute_params.hpp>

namespace vramplan {

CacheRotation cache_rotation(std::int64_t head_k, std::int64_t head_v, GgmlType type_k,
                             GgmlType type_v) {
  CacheRotation r;
  r.k = is_quantized(type_k) && head_k % 64 == 0;
  r.v = is_quantized(type_v) && head_v % 64 == 0;
  while (head_k > 0 && head_k % (2 * r.nrot) == 0) r.nrot *= 2;
  return r;
}

}  // namespace vramplan
