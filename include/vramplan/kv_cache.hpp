// KV cache and recurrent state exactly as llama.cpp allocates them
// (llama.cpp src/llama-context.cpp, src/llama-kv-cache.cpp,
// src/llama-kv-cache-iswa.cpp, src/llama-memory-recurrent.cpp, build b10309).
#pragma once

#include <cstdint>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>

namespace vramplan {

// The llama.cpp context parameters that decide the cache.
struct ContextParams {
  std::int64_t n_ctx = 0;       // -c: total cells asked for (llama.cpp's n_ctx), > 0
  std::int32_t n_seq = 1;       // n_seq_max (-np)
  bool kv_unified = false;      // one stream shared by all sequences
  std::int64_t n_batch = 2048;  // -b (logical batch)
  std::int64_t n_ubatch = 512;  // -ub (physical batch)
  GgmlType type_k = GgmlType::f16;
  GgmlType type_v = GgmlType::f16;
  bool flash_attn = true;
  bool swa_full = false;
  std::int32_t n_rs_seq = 0;  // recurrent rollback snapshots (draft models only)

  bool operator==(const ContextParams&) const = default;
};

// What llama.cpp derives from ContextParams (llama_context constructor).
struct ContextShape {
  std::int64_t n_ctx = 0;        // PAD(n_ctx, 256), then n_ctx_seq * n_stream when split
  std::int64_t n_ctx_seq = 0;    // cells per stream of the full-attention cache
  std::int64_t n_stream = 1;     // 1 when unified, else n_seq
  std::int64_t n_swa_cells = 0;  // cells per stream of the SWA cache (0: no SWA layers)
  std::int64_t n_batch = 0;      // min(n_ctx, -b)
  std::int64_t n_ubatch = 0;     // min(n_batch, -ub)

  bool operator==(const ContextShape&) const = default;
};

[[nodiscard]] ContextShape context_shape(const ModelSpec& spec, const ContextParams& params);

struct KvCache {
  ContextShape shape;
  std::vector<Bytes> per_layer;  // K + V + recurrent state of each block
  Bytes k = 0;                   // all K tensors
  Bytes v = 0;                   // all V tensors
  Bytes recurrent = 0;           // all R and S tensors (f32)
  std::int32_t kv_layers = 0;    // layers with a KV cache
  std::int32_t swa_layers = 0;   // of those, sliding-window layers
  // mllama's image cache (Ollama's encoder cache, kvcache/encoder.go; already in k and v): each
  // cross-attention block keeps one image's K and V as the projections wrote them, F32
  // whatever the cache type, cross.tokens rows of head_dim x kv heads each, for any context
  // and slot count. Ollama's own estimate counts the same (fs/ggml/ggml.go GraphSize, mllama).
  Bytes cross = 0;
  std::int32_t cross_layers = 0;

  [[nodiscard]] Bytes total() const { return k + v + recurrent; }
};

// Whether llama.cpp takes `type` for this model's cache with flash attention (on or "auto"):
// a quantized type's block must divide the K and the V head size (llama_init_from_model,
// src/llama-context.cpp: phi2's 80-wide heads take no q8_0 cache). Unquantized types always.
[[nodiscard]] bool cache_type_fits_heads(const ModelSpec& spec, GgmlType type);
// The same rule for one head size: `type` is unquantized or its block divides `head`.
[[nodiscard]] bool cache_type_fits_head(GgmlType type, std::int64_t head);

// Throws Error{usage} when a cache type is not allowed, a row width is not a multiple of
// the type's block size, a quantized V cache is asked for without flash attention, or with
// flash attention a quantized type's block does not divide the head size.
[[nodiscard]] KvCache kv_cache(const ModelSpec& spec, const ContextParams& params);

}  // namespace vramplan
