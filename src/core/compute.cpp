#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include <vramplan/architecture.hpp>
#include <vramplan/compute.hpp>
#include <vramplan/reserve_graph.hpp>

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
  const std::int64_t head_k = spec.head_dim_k();
  w.q = spec.mla.present() ? static_cast<std::int64_t>(spec.n_head) *
                                 (spec.mla.qk_nope_head_dim + spec.mla.qk_rope_head_dim)
                           : spec.n_head * head_k;
  return w;
}

// The rotation of a quantized cache (cache_rotation) as the closed forms see it: its matrices
// are graph inputs, one pair per cache of an iSWA model.
struct Rotation {
  bool k = false;
  bool v = false;
  Bytes inputs = 0;
};

Rotation rotation(const ModelSpec& spec, const ComputeParams& p) {
  const std::int64_t head_k =
      spec.mla.present() ? spec.mla.kv_lora_rank + spec.mla.qk_rope_head_dim : spec.head_dim_k();
  const std::int64_t head_v = spec.head_dim_v();
  const CacheRotation c = cache_rotation(head_k, head_v, p.type_k, p.type_v);
  Rotation r;
  r.k = c.k;
  r.v = !spec.mla.present() && c.v;
  const std::int64_t caches = p.shape.n_swa_cells > 0 ? 2 : 1;
  r.inputs = caches * ((r.k ? 4 * c.nrot * c.nrot : 0) + (r.v ? 4 * 64 * 64 : 0));
  return r;
}

// A decoder that projects Q, K and V with one fused matrix (phi3): K and V are views of its
// output. The terms below that depend on it were measured on phi3; encoders with a fused QKV
// (nomic-bert) keep the plain form.
bool fused_qkv(const ModelSpec& spec) {
  const Architecture& a = architecture(spec.arch);
  return a.qkv == Qkv::fused && !a.encoder;
}

// 128-bit intermediates for the closed forms (GCC and Clang; __extension__ keeps -Wpedantic
// quiet), narrowed with a check: docs/reliability.md §4.
__extension__ typedef __int128 Wide;

struct WideBuffer {
  Wide logits = 0;
  Wide ffn = 0;
  Wide attention = 0;
};

constexpr std::string_view compute_what = "the compute buffer";

Bytes to_bytes(Wide value, std::string_view what) {
  if (value > Wide{std::numeric_limits<Bytes>::max()}) throw_size_overflow(what);
  return static_cast<Bytes>(value);
}

}  // namespace

Bytes ComputeBuffer::peak(bool holds_output) const {
  return std::max({holds_output ? logits : Bytes{0}, ffn, attention});
}

// Closed forms of the worst-case reserve graph (docs/memory-model.md §5 "Compute
// buffers"). Activations are f32 (4 bytes). The phases do not overlap in ggml-alloc's
// liveness plan, so the buffer is the largest phase.
ComputeBuffer compute_buffer(const ModelSpec& spec, const ComputeParams& p) {
  // Architectures whose graph vramplan rebuilds get ggml-alloc replayed on it; the closed
  // forms below cover the others.
  if (const std::optional<GraphCompute> g = graph_compute_buffer(spec, p)) {
    return ComputeBuffer{.logits = g->with_output, .ffn = g->without_output, .attention = 0};
  }
  // The closed forms are computed in 128 bits and checked once at the end (to_bytes): with
  // validate()'s caps and estimate()'s ranges no product here comes near 2^127.
  const Wide n_ub = p.shape.n_ubatch;
  const Wide n_embd = spec.n_embd;
  // Attention spans the cells of one stream for every ubatch token (KQ is
  // [n_kv, n_tokens/n_stream, n_head, n_stream]). Without a cache (encoders, embedding
  // models: build_attn_inp_no_cache) K and V are the ubatch's own rows, so the mask is
  // n_ubatch x n_ubatch, with a second one for a sliding window (gemma-embedding).
  const Wide n_kv = spec.causal ? Wide{p.shape.n_ctx_seq} : n_ub;
  const Wide n_kv_swa = spec.causal ? Wide{p.shape.n_swa_cells} : (spec.swa.window > 0 ? n_ub : 0);
  const Wide mask_elem = p.flash_attn ? 2 : 4;  // F16 mask with FA, F32 without
  const Wide mask = (n_kv + n_kv_swa) * n_ub * mask_elem;
  const Widths w = attention_widths(spec);

  WideBuffer out;
  // Output phase: logits of the reserved outputs plus the final norm's input and output.
  out.logits = 4 * Wide{p.n_outputs} * (spec.causal ? spec.n_vocab : n_embd) + 8 * n_embd * n_ub;

  // FFN phase: gate, up and their product (3 * n_ff) plus residual/norm rows (4 * n_embd).
  Wide ffn = 0;
  if (has_dense_ffn(spec)) ffn = mask + 4 * n_ub * (3 * Wide{max_ffn(spec)} + 4 * n_embd);
  if (spec.moe.present()) {
    // Routed experts (llm_graph_context::build_moe_ffn): the peak is the SwiGLU of the k
    // experts a token uses, with their gate and up projections still live (3 * k * n_ff_exp),
    // next to the routing tensors (router logits and probabilities, k ids and weights and
    // their sum) and four n_embd rows; the shared experts run after the routed ones, with
    // the routed output (one n_embd row) kept. Measured on Mixtral 8x7B (exact at ubatch
    // 512 and 2048): the k weighted expert outputs are not part of the peak.
    const Wide k = spec.moe.n_expert_used;
    const Wide n_ff_sh = spec.moe.shared_width();
    const Wide widest = std::max(3 * k * spec.moe.n_ff_exp, 3 * n_ff_sh + n_embd);
    const Wide moe =
        mask + 4 * n_ub * (widest + 4 * n_embd + 2 * Wide{spec.moe.n_expert} + 2 * k + 1);
    ffn = std::max(ffn, moe);
  }
  out.ffn = ffn;

  // Attention phase: Q/K/V projections and the attention output; without flash attention
  // also the KQ scores of every head over every cell.
  const Wide rows = 4 * n_ub * (2 * n_embd + 3 * Wide{w.q} + (fused_qkv(spec) ? 0 : w.k + w.v));
  out.attention = mask + rows;
  if (spec.mla.present()) {
    // MLA with the absorbed k_b (src/models/deepseek2.cpp): per head, q_nope absorbed into
    // the kv_lora space and concatenated with q_pe (kv_lora + rope wide), and the attention
    // output in the latent space (kv_lora) before wv_b decompresses it; two residual rows.
    // Without flash attention the V-less cache's V view is made contiguous (ggml_cont of the
    // transposed K view in build_attn_mha): kv_lora f16 values per cell and stream.
    const Wide lora = spec.mla.kv_lora_rank;
    out.attention =
        mask + 4 * n_ub * (2 * n_embd + spec.n_head * (3 * lora + spec.mla.qk_rope_head_dim));
    if (!p.flash_attn) out.attention += 2 * lora * n_kv * p.shape.n_stream;
  }
  if (!p.flash_attn) out.attention += 4 * Wide{spec.n_head} * n_kv * n_ub;

  // Output phase with MLA + MoE (deepseek2): the last layer's routing (router logits and
  // probabilities, the k selected ids and weights and their sum) and its k weighted expert
  // outputs are still allocated when the output projection runs, next to four n_embd rows
  // (measured, exact at ubatch 256/512/2048 and every context: docs/accuracy.md).
  if (spec.mla.present() && spec.moe.present()) {
    const Wide k = spec.moe.n_expert_used;
    out.logits += 4 * n_ub * (2 * Wide{spec.moe.n_expert} + 2 * k + 1 + k * n_embd + 2 * n_embd);
  }
  // Fused QKV and gate+up (phi3): with flash attention and an F16 mask smaller than one
  // n_embd x n_ubatch f32 row, the mask and two more rows are live at the output projection
  // (measured on Phi-3 mini; ggml-alloc reuses the mask's block once it is large enough).
  if (fused_qkv(spec) && p.flash_attn && mask < 4 * n_embd * n_ub) {
    out.logits += mask + 8 * n_embd * n_ub;
  }

  // Rotated K (quantized K cache). Without flash attention the rotated Q takes the place of one
  // n_embd row in the attention phase. With flash attention, when the F16 mask is at least as
  // large as one n_embd x n_ubatch f32 activation, ggml-alloc places an activation of the final
  // layer into the mask's freed block and the output phase grows by one such row, while the
  // mask no longer adds to the FFN phase. The rotation matrices are inputs of every phase
  // (measured: llama 3.1 8B / 3.2 3B / 2 7B, qwen2.5, qwen3, docs/accuracy.md).
  const Rotation rot = spec.causal ? rotation(spec, p) : Rotation{};  // no cache, no rotation
  if (rot.k) {
    const Wide row = 4 * n_embd * n_ub;
    if (!p.flash_attn) {
      out.attention += rot.inputs - row;
    } else if (mask >= row && !spec.mla.present()) {
      out.logits += row;
      out.ffn += rot.inputs - mask;
    } else {
      out.ffn += rot.inputs;
    }
  } else if (rot.v) {
    out.ffn += rot.inputs;
    out.attention += rot.inputs;
  }
  return ComputeBuffer{.logits = to_bytes(out.logits, compute_what),
                       .ffn = to_bytes(out.ffn, compute_what),
                       .attention = to_bytes(out.attention, compute_what)};
}

namespace {

// Hash mixing (the boost::hash_combine recipe, 64-bit constant): spreads the fields of a key
// over the buckets. Equal keys are still compared in full; the hash only picks the bucket.
void mix(std::size_t& seed, std::size_t value) {
  seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

void mix_int(std::size_t& seed, std::int64_t value) { mix(seed, std::hash<std::int64_t>{}(value)); }

// The fields that tell catalog specs apart; the rest is compared by ModelSpec::operator==.
std::size_t spec_hash(const ModelSpec& s) {
  std::size_t seed = std::hash<std::string>{}(s.arch);
  for (const std::int64_t v : {std::int64_t{s.n_layer}, s.n_embd, s.n_ff, std::int64_t{s.n_head},
                               std::int64_t{s.n_head_kv}, s.n_vocab, s.n_ctx_train,
                               std::int64_t{s.moe.n_expert}, s.swa.window}) {
    mix_int(seed, v);
  }
  return seed;
}

}  // namespace

std::size_t ComputeCache::KeyHash::operator()(const Key& key) const {
  const ComputeParams& p = key.params;
  std::size_t seed = key.spec;
  for (const std::int64_t v : {p.shape.n_ctx, p.shape.n_ctx_seq, p.shape.n_stream,
                               p.shape.n_swa_cells, p.shape.n_batch, p.shape.n_ubatch, p.n_outputs,
                               std::int64_t{p.flash_attn}, static_cast<std::int64_t>(p.type_k),
                               static_cast<std::int64_t>(p.type_v), std::int64_t{p.n_seq}}) {
    mix_int(seed, v);
  }
  return seed;
}

std::size_t ComputeCache::spec_index(const ModelSpec& spec) {
  if (last_spec_ < specs_.size() && specs_[last_spec_] == spec) return last_spec_;
  const std::size_t hash = spec_hash(spec);
  const auto [first, last] = spec_by_hash_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    if (specs_[it->second] == spec) return last_spec_ = it->second;
  }
  specs_.push_back(spec);
  spec_by_hash_.emplace(hash, specs_.size() - 1);
  return last_spec_ = specs_.size() - 1;
}

ComputeBuffer ComputeCache::buffer(const ModelSpec& spec, const ComputeParams& params) {
  if (buffers_.size() >= max_entries) {  // start over (the counters keep counting)
    specs_.clear();
    spec_by_hash_.clear();
    buffers_.clear();
    last_spec_ = 0;
  }
  const Key key{spec_index(spec), params};
  if (const auto it = buffers_.find(key); it != buffers_.end()) {
    ++hits_;
    return it->second;
  }
  const ComputeBuffer computed = compute_buffer(spec, params);
  ++misses_;
  buffers_.emplace(key, computed);
  return computed;
}

Bytes host_input_buffer(const ModelSpec& spec, const ComputeParams& p) {
  // Inputs are always allocated on the CPU backend (ggml-backend.cpp rule "1.inp"): the
  // F32 mask(s), the token embeddings from get_rows, token ids, positions and out_ids.
  const Wide n_ub = p.shape.n_ubatch;
  return to_bytes(4 * ((Wide{p.shape.n_ctx_seq} + p.shape.n_swa_cells) * n_ub + spec.n_embd * n_ub +
                       2 * n_ub + p.n_outputs),
                  "the host's compute buffer");
}

Bytes output_buffer(const ModelSpec& spec, std::int32_t n_seq) {
  // llama_context::output_reserve: f32 logits for max(n_outputs, n_seq_max) outputs,
  // allocated once in host memory. An encoder's too: has_logits is always true there; a
  // context with embeddings on adds n_embd_out floats per output, not modelled (the graph is
  // that of a context without embeddings output, reserve_graph.cpp).
  return 4 * spec.n_vocab * std::max<std::int64_t>(1, n_seq);
}

}  // namespace vramplan
