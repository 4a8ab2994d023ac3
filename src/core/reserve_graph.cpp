#include <vramplan/reserve_graph.hpp>

#include <stdexcept>

#include <vramplan/ggml_type.hpp>

// The builders below follow llama.cpp's graph code (src/models/*.cpp and llm_graph_context in
// src/llama-graph.cpp, build b10309 as bundled with node-llama-cpp 3.22.1) in the order ggml
// executes it: only sizes, sources, views, in-place ops and outputs matter to the allocator,
// so names and the arithmetic of each op are left out. Every shape is checked against
// llama.cpp's own graph dump in docs/accuracy.md's data (tests/accuracy).

namespace vramplan {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Op;
using graph::TensorId;

enum class Family { none, llama, qwen2, qwen3, phi3 };

Family family(const ModelSpec& spec) {
  if (!spec.causal || spec.moe.present() || spec.mla.present() || spec.swa.window > 0 ||
      !spec.recurrent.layers.empty() || spec.n_nextn > 0) {
    return Family::none;
  }
  if (spec.arch == "llama") return Family::llama;
  if (spec.arch == "qwen2") return Family::qwen2;
  if (spec.arch == "qwen3") return Family::qwen3;
  if (spec.arch == "phi3") return Family::phi3;
  return Family::none;
}

class Builder {
 public:
  Builder(const ModelSpec& spec, const ComputeParams& p)
      : spec_(spec),
        p_(p),
        fam_(family(spec)),
        n_t_(p.shape.n_ubatch),
        n_out_(p.n_outputs),
        n_stream_(p.shape.n_stream),
        n_kv_(p.shape.n_ctx_seq),
        head_k_(spec.head_dim_k > 0 ? spec.head_dim_k : spec.n_embd / spec.n_head),
        head_v_(spec.head_dim_v > 0 ? spec.head_dim_v : spec.n_embd / spec.n_head) {
    // Hadamard rotation of a quantized cache (llama-kv-cache.cpp attn_rot_k / attn_rot_v).
    rot_k_ = is_quantized(p.type_k) && head_k_ % 64 == 0;
    rot_v_ = is_quantized(p.type_v) && head_v_ % 64 == 0;
    nrot_ = 64;
    while (head_k_ % (2 * nrot_) == 0) nrot_ *= 2;
  }

  Graph build(bool with_output) {
    inputs();
    TensorId x = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_t_, 1, 1}, {w(), tokens_});
    for (std::int32_t il = 0; il < spec_.n_layer; ++il) x = layer(il, x);
    if (with_output) {
      const TensorId norm = this->norm(x);
      g_.mark_output(norm);
      const TensorId logits =
          g_.op(Op::mul_mat, Elem::f32, {spec_.n_vocab, n_out_, 1, 1}, {w(), norm});
      g_.mark_output(logits);
    }
    return std::move(g_);
  }

 private:
  TensorId w() { return g_.external(); }

  // build_inp_embd (token ids and the embeddings input, both kept by
  // ggml_build_forward_select), the rotation matrices, positions, the KV store indices, the
  // KQ mask and out_ids: llm_graph_context's inputs in the order they enter the graph.
  void inputs() {
    tokens_ = g_.input(Elem::i32, {n_t_, 1, 1, 1});
    g_.input(Elem::f32, {spec_.n_embd, n_t_, 1, 1});
    if (rot_k_) k_rot_ = g_.input(Elem::f32, {nrot_, nrot_, 1, 1});
    pos_ = g_.input(Elem::i32, {n_t_, 1, 1, 1});
    if (rot_v_) v_rot_ = g_.input(Elem::f32, {64, 64, 1, 1});
    k_idxs_ = g_.input(Elem::i64, {n_t_, 1, 1, 1});
    // Without flash attention V is stored transposed: one index per element.
    v_idxs_ = g_.input(Elem::i64, {p_.flash_attn ? n_t_ : n_t_ * widest_v(), 1, 1, 1});
    mask_ = g_.input(p_.flash_attn ? Elem::f16 : Elem::f32,
                     {n_kv_, n_t_ / n_stream_, 1, n_stream_});
    out_ids_ = g_.input(Elem::i32, {n_out_, 1, 1, 1});
  }

  std::int64_t n_head_kv(std::int32_t il) const {
    return layer_attention(spec_, il).k_width / head_k_;
  }
  std::int64_t widest_v() const {
    std::int64_t v = 0;
    for (std::int32_t il = 0; il < spec_.n_layer; ++il) {
      v = std::max(v, layer_attention(spec_, il).v_width);
    }
    return v;
  }
  std::int64_t n_ff(std::int32_t il) const {
    return spec_.n_ff_per_layer.empty() ? spec_.n_ff
                                        : spec_.n_ff_per_layer[static_cast<std::size_t>(il)];
  }

  // build_norm(LLM_NORM_RMS): rms_norm, then the weight (both may run in place).
  TensorId norm(TensorId x) {
    const graph::Tensor& t = g_.at(x);
    const TensorId n = g_.op(Op::rms_norm, Elem::f32, t.ne, {x});
    return g_.op(Op::mul, Elem::f32, t.ne, {n, w()});
  }

  // A projection [width, n_t] of cur, with its bias added in place where the family has one.
  TensorId project(TensorId cur, std::int64_t width, bool bias) {
    TensorId t = g_.op(Op::mul_mat, Elem::f32, {width, n_t_, 1, 1}, {w(), cur});
    if (bias) t = g_.op(Op::add, Elem::f32, {width, n_t_, 1, 1}, {t, w()});
    return t;
  }

  // llama_mul_mat_hadamard: x viewed as rows of `size`, multiplied by the rotation matrix,
  // viewed back.
  TensorId rotate(TensorId x, TensorId rot, std::int64_t size) {
    const graph::Tensor t = g_.at(x);
    const std::int64_t n = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
    // A strided view (of a fused QKV) is made contiguous first.
    const TensorId rows = t.contiguous ? g_.view(x, {size, n / size, 1, 1})
                                       : g_.op(Op::cont, Elem::f32, {size, n / size, 1, 1}, {x});
    const TensorId m = g_.op(Op::mul_mat, Elem::f32, {size, n / size, 1, 1}, {rot, rows});
    return g_.view(m, t.ne);
  }

  // Q, K or V of one layer: projection (+ bias), heads view, qwen3's per-head norm, rope.
  TensorId head_tensor(TensorId cur, std::int64_t heads, std::int64_t head, bool roped) {
    const bool bias = fam_ == Family::qwen2;
    TensorId t = project(cur, heads * head, bias);
    t = g_.view(t, {head, heads, n_t_, 1});
    if (roped && fam_ == Family::qwen3) t = norm(t);
    if (roped) t = g_.op(Op::rope, Elem::f32, {head, heads, n_t_, 1}, {t, pos_});
    return t;
  }

  TensorId layer(std::int32_t il, TensorId inp) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t n_kv_head = n_head_kv(il);
    const TensorId cur = norm(inp);

    // build_attn expands Q, then V, then K; each is rotated right after it is formed.
    TensorId q = -1, k = -1, v = -1;
    if (fam_ == Family::phi3) {
      // One fused projection; Q, K and V are strided views of it. Q is scaled after rope.
      const std::int64_t width = n_head * head_k_ + n_kv_head * (head_k_ + head_v_);
      const TensorId qkv = g_.op(Op::mul_mat, Elem::f32, {width, n_t_, 1, 1}, {w(), cur});
      q = g_.view(qkv, {head_k_, n_head, n_t_, 1}, false);
      q = g_.op(Op::rope, Elem::f32, {head_k_, n_head, n_t_, 1}, {q, pos_});
      q = g_.op(Op::scale, Elem::f32, {head_k_, n_head, n_t_, 1}, {q});
      if (rot_k_) q = rotate(q, k_rot_, nrot_);
      v = g_.view(qkv, {head_v_, n_kv_head, n_t_, 1}, false);
      if (rot_v_) v = rotate(v, v_rot_, 64);
      k = g_.view(qkv, {head_k_, n_kv_head, n_t_, 1}, false);
      k = g_.op(Op::rope, Elem::f32, {head_k_, n_kv_head, n_t_, 1}, {k, pos_});
      if (rot_k_) k = rotate(k, k_rot_, nrot_);
    } else {
      q = head_tensor(cur, n_head, head_k_, true);
      if (rot_k_) q = rotate(q, k_rot_, nrot_);
      v = head_tensor(cur, n_kv_head, head_v_, false);
      if (rot_v_) v = rotate(v, v_rot_, 64);
      k = head_tensor(cur, n_kv_head, head_k_, true);
      if (rot_k_) k = rotate(k, k_rot_, nrot_);
    }

    // KV store (cpy_k / cpy_v): set_rows into views of the cache, which the allocator does
    // not own; what matters is that K and V stay alive until then.
    const TensorId cache = w();
    g_.store({g_.view(k, {n_kv_head * head_k_, n_t_, 1, 1}),
                                                  k_idxs_, cache});
    if (p_.flash_attn) {
      g_.store(
            {g_.view(v, {n_kv_head * head_v_, n_t_, 1, 1}), v_idxs_, cache});
    } else {
      // V is stored transposed, one element per row: a strided V is made contiguous first.
      const TensorId v2 =
          g_.at(v).contiguous
              ? g_.view(v, {n_kv_head * head_v_, n_t_, 1, 1})
              : g_.op(Op::cont, Elem::f32, {n_kv_head * head_v_, n_t_, 1, 1}, {v});
      g_.store(
            {g_.view(v2, {1, n_kv_head * head_v_ * n_t_, 1, 1}), v_idxs_, cache});
    }

    // build_attn_mha over one stream's cells per ubatch token.
    const std::int64_t n_ts = n_t_ / n_stream_;
    const TensorId qv = g_.view(q, {head_k_, n_head, n_ts, n_stream_});
    const TensorId qp = g_.view(qv, {head_k_, n_ts, n_head, n_stream_}, false);
    TensorId out = -1;
    if (p_.flash_attn) {
      const TensorId fa =
          g_.op(Op::flash_attn, Elem::f32, {head_v_, n_head, n_ts, n_stream_}, {qp, cache, cache, mask_});
      out = g_.view(fa, {head_v_ * n_head, n_t_, 1, 1});
    } else {
      TensorId kq = g_.op(Op::mul_mat, Elem::f32, {n_kv_, n_ts, n_head, n_stream_}, {cache, qp});
      kq = g_.op(Op::soft_max, Elem::f32, {n_kv_, n_ts, n_head, n_stream_}, {kq, mask_});
      const TensorId kqv =
          g_.op(Op::mul_mat, Elem::f32, {head_v_, n_ts, n_head, n_stream_}, {cache, kq});
      const TensorId perm = g_.view(kqv, {head_v_, n_head, n_ts, n_stream_}, false);
      out = g_.op(Op::cont, Elem::f32, {head_v_ * n_head, n_t_, 1, 1}, {perm});
    }
    if (rot_v_) out = rotate(out, v_rot_, 64);
    TensorId attn = g_.op(Op::mul_mat, Elem::f32, {spec_.n_embd, n_t_, 1, 1}, {w(), out});

    TensorId residual = inp;
    if (il == spec_.n_layer - 1) {
      // Only the reserved outputs go on through the last layer (build_inp_out_ids).
      attn = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {attn, out_ids_});
      residual = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {inp, out_ids_});
    }
    const std::int64_t rows = g_.at(attn).ne[1];
    const Graph::Shape embd{spec_.n_embd, rows, 1, 1};
    const TensorId ffn_inp = g_.op(Op::add, Elem::f32, embd, {attn, residual});

    // build_ffn(LLM_FFN_SILU, LLM_FFN_PAR): gate and up (phi3: one fused projection that the
    // SwiGLU splits), then down.
    const TensorId h = norm(ffn_inp);
    const std::int64_t ff = n_ff(il);
    TensorId act = -1;
    if (fam_ == Family::phi3) {
      const TensorId up = g_.op(Op::mul_mat, Elem::f32, {2 * ff, rows, 1, 1}, {w(), h});
      act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {up});
    } else {
      const TensorId gate = g_.op(Op::mul_mat, Elem::f32, {ff, rows, 1, 1}, {w(), h});
      const TensorId up = g_.op(Op::mul_mat, Elem::f32, {ff, rows, 1, 1}, {w(), h});
      act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {gate, up});
    }
    const TensorId down = g_.op(Op::mul_mat, Elem::f32, embd, {w(), act});
    // The residual add's operand order decides which of the two it may overwrite in place.
    if (fam_ == Family::phi3) return g_.op(Op::add, Elem::f32, embd, {ffn_inp, down});
    return g_.op(Op::add, Elem::f32, embd, {down, ffn_inp});
  }

  const ModelSpec& spec_;
  const ComputeParams& p_;
  Family fam_;
  std::int64_t n_t_, n_out_, n_stream_, n_kv_, head_k_, head_v_;
  bool rot_k_ = false, rot_v_ = false;
  std::int64_t nrot_ = 64;
  Graph g_;
  TensorId tokens_ = -1, pos_ = -1, k_rot_ = -1, v_rot_ = -1, k_idxs_ = -1, v_idxs_ = -1,
           mask_ = -1, out_ids_ = -1;
};

}  // namespace

bool graph_modelled(const ModelSpec& spec) { return family(spec) != Family::none; }

graph::Graph reserve_graph(const ModelSpec& spec, const ComputeParams& params, bool with_output) {
  if (!graph_modelled(spec)) throw std::logic_error("reserve_graph: architecture not modelled");
  return Builder(spec, params).build(with_output);
}

std::optional<GraphCompute> graph_compute_buffer(const ModelSpec& spec,
                                                 const ComputeParams& params) {
  if (!graph_modelled(spec)) return std::nullopt;
  constexpr Bytes kCpuAlignment = 32;  // TENSOR_ALIGNMENT, the CPU buffer type's alignment
  return GraphCompute{
      .with_output = graph::allocated_size(reserve_graph(spec, params, true), kCpuAlignment),
      .without_output = graph::allocated_size(reserve_graph(spec, params, false), kCpuAlignment)};
}

}  // namespace vramplan
