#include <vramplan/compute.hpp>

#include <algorithm>

namespace vramplan {
namespace {

std::int64_t max_ffn(const ModelSpec& spec) {
  std::int64_t n_ff = spec.n_ff;
  for (std::int64_t f : spec.n_ff_per_layer) n_ff = std::max(n_ff, f);
  return n_ff;
}

bool has_dense_ffn(const ModelSpec& spec) {
  if (!spec.moe.present()) return true;
  return spec.moe.n_leading_dense > 0 || spec.moe.every_n > 1;
}

// Widest K and V rows of any layer with KV (per token), and the Q width.
struct Widths {
  std::int64_t k = 0;
  std::int64_t v = 0;
  std::int64_t q = 0;
};

Widths attention_widths(const ModelSpec& spec) {
  Widths w;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention a = layer_attention(spec, il);
    w.k = std::max(w.k, a.k_width);
    w.v = std::max(w.v, a.v_width);
  }
  const std::int64_t head_k = spec.head_dim_k > 0 ? spec.head_dim_k : spec.n_embd / spec.n_head;
  w.q = spec.mla.present()
            ? static_cast<std::int64_t>(spec.n_head) *
                  (spec.mla.qk_nope_head_dim + spec.mla.qk_rope_head_dim)
            : spec.n_head * head_k;
  return w;
}

}  // namespace

Bytes ComputeBuffer::peak(bool holds_output) const {
  return std::max({holds_output ? logits : Bytes{0}, ffn, attention});
}

// Closed forms of the worst-case reserve graph (llamacpp.md §A2.2; docs/memory-model.md
// "Compute buffer"). Activations are f32 (4 bytes). The phases do not overlap in ggml-alloc's
// liveness plan, so the buffer is the largest phase.
ComputeBuffer compute_buffer(const ModelSpec& spec, const ComputeParams& p) {
  const std::int64_t n_ub = p.shape.n_ubatch;
  const std::int64_t n_embd = spec.n_embd;
  // Attention spans the cells of one stream for every ubatch token (KQ is
  // [n_kv, n_tokens/n_stream, n_head, n_stream]).
  const std::int64_t n_kv = p.shape.n_ctx_seq;
  const std::int64_t n_kv_swa = p.shape.n_swa_cells;
  const std::int64_t mask_elem = p.flash_attn ? 2 : 4;  // F16 mask with FA, F32 without
  const Bytes mask = (n_kv + n_kv_swa) * n_ub * mask_elem;
  const Widths w = attention_widths(spec);

  ComputeBuffer out;
  // Output phase: logits of the reserved outputs plus the final norm's input and output.
  out.logits = 4 * p.n_outputs * (spec.causal ? spec.n_vocab : n_embd) + 8 * n_embd * n_ub;
  if (p.flash_attn && (is_quantized(p.type_k) || is_quantized(p.type_v))) {
    out.logits += 4 * n_embd * n_ub;  // measured on CPU with quantized K/V (§A2.2)
  }

  // FFN phase: gate, up and their product (3 * n_ff) plus residual/norm rows (4 * n_embd).
  Bytes ffn = 0;
  if (has_dense_ffn(spec)) ffn = mask + 4 * n_ub * (3 * max_ffn(spec) + 4 * n_embd);
  if (spec.moe.present()) {
    // Routed experts: router logits and probabilities, gate/up/product for each of the k
    // experts a token uses, their down projections, plus the shared experts. Not yet
    // verified against llama.cpp (docs/memory-model.md, "MoE").
    const std::int64_t k = spec.moe.n_expert_used;
    const std::int64_t n_ff_sh = spec.moe.n_ff_shexp > 0
                                     ? spec.moe.n_ff_shexp
                                     : spec.moe.n_ff_exp * spec.moe.n_expert_shared;
    const Bytes moe = mask + 4 * n_ub * (2 * spec.moe.n_expert + 3 * k * spec.moe.n_ff_exp +
                                         k * n_embd + 3 * n_ff_sh + 4 * n_embd);
    ffn = std::max(ffn, moe);
  }
  out.ffn = ffn;

  // Attention phase: Q/K/V projections and the attention output; without flash attention
  // also the KQ scores of every head over every cell.
  const Bytes rows = 4 * n_ub * (2 * n_embd + 3 * w.q + w.k + w.v);
  out.attention = mask + rows;
  if (!p.flash_attn) out.attention += 4 * static_cast<std::int64_t>(spec.n_head) * n_kv * n_ub;
  if (!spec.causal) out.attention = mask + rows;  // encoders: no cache; small batches
  return out;
}

Bytes host_input_buffer(const ModelSpec& spec, const ComputeParams& p) {
  // Inputs are always allocated on the CPU backend (ggml-backend.cpp rule "1.inp"): the
  // F32 mask(s), the token embeddings from get_rows, token ids, positions and out_ids.
  const std::int64_t n_ub = p.shape.n_ubatch;
  return 4 * ((p.shape.n_ctx_seq + p.shape.n_swa_cells) * n_ub + spec.n_embd * n_ub + 2 * n_ub +
              p.n_outputs);
}

Bytes output_buffer(const ModelSpec& spec, std::int32_t n_seq) {
  // llama_context::output_reserve: f32 logits (or embeddings for encoders) for
  // max(n_outputs, n_seq_max) outputs, allocated once in host memory.
  const std::int64_t width = spec.causal ? spec.n_vocab : spec.n_embd;
  return 4 * width * std::max<std::int64_t>(1, n_seq);
}

}  // namespace vramplan
