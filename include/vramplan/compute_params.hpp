// What one worst-case compute graph is reserved for (ComputeParams) and the cache rotation
// those parameters imply. A leaf of the compute side: the closed forms (compute.hpp) and the
// graph builder (reserve_graph.hpp) both read it, so neither needs the other's header.
#pragma once

#include <cstdint>

#include <vramplan/ggml_type.hpp>
#include <vramplan/kv_cache.hpp>

namespace vramplan {

struct ComputeParams {
  ContextShape shape;          // n_ubatch, cells per stream
  std::int64_t n_outputs = 0;  // reserved outputs (n_outputs_max clamped to n_ubatch)
  bool flash_attn = true;
  GgmlType type_k = GgmlType::f16;
  GgmlType type_v = GgmlType::f16;
  std::int32_t n_seq = 1;  // n_seq_max: the reserve rounds n_ubatch up to a multiple of it

  bool operator==(const ComputeParams&) const = default;
};

// Hadamard rotation of a quantized cache (llama-kv-cache.cpp attn_rot_k / attn_rot_v): K (with
// Q) is rotated when its type is quantized and its head size a multiple of 64, V (with the
// attention output) likewise. The K rotation matrix is nrot x nrot, nrot the largest power of
// two (>= 64) dividing the K head size; V's is 64 x 64.
struct CacheRotation {
  bool k = false;
  bool v = false;
  std::int64_t nrot = 64;
};
[[nodiscard]] CacheRotation cache_rotation(std::int64_t head_k, std::int64_t head_v,
                                           GgmlType type_k, GgmlType type_v);

}  // namespace vramplan
