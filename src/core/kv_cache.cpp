#include <vramplan/kv_cache.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <vramplan/error.hpp>

namespace vramplan {
namespace {

// llama.cpp pads n_ctx and n_ctx_seq to 256 cells since b6975 (#17046).
constexpr std::int64_t ctx_padding = 256;

// Names the size in overflow errors: a cache is a product of file values (widths, layers) and
// settings (context, slots), checked step by step (docs/reliability.md §4).
constexpr std::string_view kv_what = "the KV cache";

bool has_swa_layers(const ModelSpec& spec) {
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention a = layer_attention(spec, il);
    if (a.has_kv && a.swa) return true;
  }
  return false;
}

void check_type(GgmlType type, const char* which) {
  if (!is_kv_cache_type(type)) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("'{}' is not a KV cache type for {} (use f32, f16, bf16, q8_0, "
                            "q5_1, q5_0, q4_1, q4_0 or iq4_nl)",
                            to_string(type), which));
  }
}

void check_width(GgmlType type, std::int64_t width, std::int32_t il) {
  if (!row_fits(type, width)) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("cache type '{}' needs rows that are a multiple of {} elements, but "
                            "layer {} has {}",
                            to_string(type), info(type).block_size, il, width));
  }
}

void check_head(GgmlType type, std::int64_t head, const char* which) {
  if (!cache_type_fits_head(type, head)) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("cache type '{}' needs {} heads that are a multiple of {} elements "
                            "with flash attention, but this model's are {} (use f16, or "
                            "turn flash attention off for a quantized K cache)",
                            to_string(type), which, info(type).block_size, head));
  }
}

}  // namespace

bool cache_type_fits_head(GgmlType type, std::int64_t head) {
  return !is_quantized(type) || head <= 0 || head % info(type).block_size == 0;
}

bool cache_type_fits_heads(const ModelSpec& spec, GgmlType type) {
  return cache_type_fits_head(type, spec.head_dim_k()) &&
         cache_type_fits_head(type, spec.head_dim_v());
}

ContextShape context_shape(const ModelSpec& spec, const ContextParams& params) {
  ContextShape shape;
  const std::int64_t n_seq = std::max<std::int64_t>(1, params.n_seq);
  (void)checked_add(params.n_ctx, ctx_padding - 1, kv_what);  // pad_to's sum
  shape.n_ctx = pad_to(params.n_ctx, ctx_padding);
  if (params.kv_unified || n_seq == 1) {
    shape.n_ctx_seq = shape.n_ctx;
    shape.n_stream = params.kv_unified ? 1 : n_seq;
  } else {
    shape.n_ctx_seq = pad_to(shape.n_ctx / n_seq, ctx_padding);
    shape.n_stream = n_seq;
    shape.n_ctx = shape.n_ctx_seq * n_seq;
  }
  // Causal models cap the logical batch at the context (llama_context constructor).
  shape.n_batch = spec.causal ? std::min(shape.n_ctx, params.n_batch) : params.n_batch;
  shape.n_ubatch = std::min(shape.n_batch, params.n_ubatch);
  if (has_swa_layers(spec)) {
    // llama-kv-cache-iswa.cpp: the SWA cache keeps the window of every sequence it serves
    // plus one ubatch, padded, and never more than the full cache.
    const std::int64_t seqs_per_stream = params.kv_unified ? n_seq : 1;
    const std::int64_t wanted = checked_add(checked_mul(spec.swa.window, seqs_per_stream, kv_what),
                                            shape.n_ubatch + ctx_padding, kv_what) -
                                ctx_padding;  // room for pad_to
    shape.n_swa_cells =
        params.swa_full ? shape.n_ctx_seq : std::min(shape.n_ctx_seq, pad_to(wanted, ctx_padding));
  }
  return shape;
}

KvCache kv_cache(const ModelSpec& spec, const ContextParams& params) {
  if (params.n_ctx < 1) throw Error(ErrorKind::invalid_setting, "context must be at least 1");
  if (params.n_seq < 1) throw Error(ErrorKind::invalid_setting, "parallel must be at least 1");
  check_type(params.type_k, "K");
  check_type(params.type_v, "V");
  if (is_quantized(params.type_v) && !params.flash_attn) {
    // llama_context refuses this combination ("quantized V cache was requested, but this
    // requires Flash Attention").
    throw Error(ErrorKind::invalid_setting,
                fmt::format("a quantized V cache ('{}') requires flash attention",
                            to_string(params.type_v)));
  }

  if (params.flash_attn) {
    // llama_init_from_model (src/llama-context.cpp) refuses a quantized cache whose type's
    // block does not divide the head size, with flash attention on or "auto": phi2's 80-wide
    // heads take no q8_0 cache ("K cache type q8_0 with block size 32 does not divide
    // n_embd_head_k=80"). Without flash attention only the rows must divide (check_width).
    check_head(params.type_k, spec.head_dim_k(), "K");
    check_head(params.type_v, spec.head_dim_v(), "V");
  }

  if (spec.mla.present() && params.type_k != params.type_v) {
    // llama_init_from_model: "model does not support different K and V cache types" (MLA's V
    // is a view into K).
    throw Error(ErrorKind::invalid_setting,
                fmt::format("this model (MLA) needs the same K and V cache types, got K '{}' "
                            "and V '{}'",
                            to_string(params.type_k), to_string(params.type_v)));
  }

  KvCache cache;
  cache.shape = context_shape(spec, params);
  cache.per_layer.assign(static_cast<std::size_t>(spec.n_layer), 0);

  // Without flash attention V is stored transposed, and llama.cpp pads every layer's V to
  // the widest one when widths differ (llama-kv-cache.cpp, "padding V cache").
  std::int64_t v_width_max = 0;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    v_width_max = std::max(v_width_max, layer_attention(spec, il).v_width);
  }

  // Recurrent state sizes: validate() caps each ssm.* value, the products are checked too.
  constexpr std::string_view rs_what = "the recurrent state";
  const std::int64_t n_rs_rows =
      checked_mul(std::max<std::int64_t>(1, params.n_seq),
                  1 + std::int64_t{std::max(0, params.n_rs_seq)}, rs_what);
  const Recurrent& rs = spec.recurrent;
  const std::int64_t n_embd_r = checked_mul(
      std::max(0, rs.conv_kernel - 1),
      checked_add(rs.inner_size,
                  checked_mul(2 * std::int64_t{rs.group_count}, rs.state_size, rs_what), rs_what),
      rs_what);
  const std::int64_t n_embd_s = checked_mul(rs.state_size, rs.inner_size, rs_what);
  const Bytes state_per_layer = checked_mul(checked_mul(4, n_rs_rows, rs_what),
                                            checked_add(n_embd_r, n_embd_s, rs_what), rs_what);

  // A row's width repeats from layer to layer: each K and V width is checked and sized when
  // it differs from the layer before's (the same checks, failing at the same first layer).
  struct Row {
    GgmlType type;
    std::int64_t width = -1;
    Bytes bytes = 0;
    Bytes of(std::int64_t w, std::int32_t il) {
      if (w != width) {
        check_width(type, w, il);
        bytes = row_bytes(type, w);
        width = w;
      }
      return bytes;
    }
  };
  Row k_row{params.type_k};
  Row v_row{params.type_v};

  // An overflow names the cache's shape too (docs/reliability.md §4).
  try {
    for (std::int32_t il = 0; il < spec.n_layer; ++il) {
      const LayerAttention a = layer_attention(spec, il);
      Bytes layer = 0;
      if (a.has_kv) {
        const std::int64_t per_stream = a.swa ? cache.shape.n_swa_cells : cache.shape.n_ctx_seq;
        const std::int64_t cells = checked_mul(per_stream, cache.shape.n_stream, kv_what);
        const Bytes k = checked_mul(k_row.of(a.k_width, il), cells, kv_what);
        Bytes v = 0;
        if (a.v_width > 0) {
          const std::int64_t width = params.flash_attn ? a.v_width : v_width_max;
          v = checked_mul(v_row.of(width, il), cells, kv_what);
        }
        cache.k = checked_add(cache.k, k, kv_what);
        cache.v = checked_add(cache.v, v, kv_what);
        layer = checked_add(k, v, kv_what);
        (void)checked_add(cache.k, cache.v, kv_what);  // total()
        ++cache.kv_layers;
        if (a.swa) ++cache.swa_layers;
      }
      if (a.cross) {
        const std::int64_t rows = checked_mul(spec.cross.tokens, spec.n_head_kv_at(il), kv_what);
        const Bytes k = checked_mul(checked_mul(rows, spec.head_dim_k(), kv_what), 4, kv_what);
        const Bytes v = checked_mul(checked_mul(rows, spec.head_dim_v(), kv_what), 4, kv_what);
        cache.k = checked_add(cache.k, k, kv_what);
        cache.v = checked_add(cache.v, v, kv_what);
        cache.cross = checked_add(cache.cross, checked_add(k, v, kv_what), kv_what);
        layer = checked_add(k, v, kv_what);
        (void)checked_add(cache.k, cache.v, kv_what);  // total()
        ++cache.cross_layers;
      }
      if (a.recurrent) {
        // llama-memory-recurrent.cpp: R and S tensors, always F32, one row per sequence.
        cache.recurrent = checked_add(cache.recurrent, state_per_layer, rs_what);
        layer = checked_add(layer, state_per_layer, rs_what);
        (void)checked_add(checked_add(cache.k, cache.v, kv_what), cache.recurrent, rs_what);
      }
      cache.per_layer[static_cast<std::size_t>(il)] = layer;
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::bad_input) throw;
    throw Error(ErrorKind::bad_input,
                fmt::format("{} (context {} per stream, {} streams, {} layers)", e.what(),
                            cache.shape.n_ctx_seq, cache.shape.n_stream, spec.n_layer));
  }
  return cache;
}

}  // namespace vramplan
