#include "graph_encoder.hpp"

#include <string>
#include <string_view>
#include <utility>

#include <vramplan/architecture.hpp>
#include <vramplan/bytes.hpp>
#include <vramplan/weights.hpp>

// The encoders' graphs as llama.cpp builds them (build b10309 as bundled with node-llama-cpp
// 3.22.1): src/models/bert.cpp (bert, nomic-bert) and src/models/gemma-embedding.cpp, with
// llm_graph_context's build_inp_embd, build_attn_inp_no_cache, build_attn (the no-cache
// overload), build_attn_mha, build_norm and build_ffn (src/llama-graph.cpp). Nodes are appended
// in ggml's execution order (depth-first from each ggml_build_forward_expand, sources in
// order); only sizes, sources, views, in-place ops and outputs are kept (docs/memory-model.md
// §5). Checked node by node against llama.cpp's own graph (scripts/oracle/graph/).
//
// The graph is the one llama.cpp reserves for a context without embeddings output
// (llama_context_params::embeddings false, node-llama-cpp's default and the oracle's):
// build_pooling and build_dense_out add nothing then. An embedding context (Ollama,
// llama-server --embedding) adds the pooling after the last block; of it only its input counts
// (mean pooling: an n_tokens x n_seq f32 input, allocated first; the graph probe with
// embeddings on gives exactly that much more, 2 KiB at ubatch 512), which is left out.

namespace vramplan::detail {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Op;
using graph::TensorId;
using Shape = Graph::Shape;

class EncoderBuilder {
 public:
  EncoderBuilder(const ModelSpec& spec, const ComputeParams& p, std::int64_t n_tokens,
                 std::int64_t n_outputs, const WeightBytes* weights, bool share_externals)
      : spec_(spec),
        a_(architecture(spec.arch)),
        p_(p),
        weights_(weights),
        share_externals_(share_externals),
        n_t_(n_tokens),
        n_out_(n_outputs),
        head_k_(spec.head_dim_k()),
        head_v_(spec.head_dim_v()) {}

  Graph build(Graph&& storage) {
    g_ = std::move(storage);
    g_.clear();
    g_.reserve(static_cast<std::size_t>(spec_.n_layer) * 48 + 32);
    const Shape embd{spec_.n_embd, n_t_, 1, 1};
    // build_inp_embd: token ids and the embeddings input (ggml_build_forward_select keeps
    // both); the token rows are expanded at once.
    const TensorId tokens = g_.input(Elem::i32, {n_t_, 1, 1, 1});
    g_.input(Elem::f32, embd);
    TensorId x = g_.op(Op::get_rows, Elem::f32, embd, {w("token_embd.weight"), tokens});
    if (a_.encoder) {
      // Token type 0's row added, then (bert) the learned positions: add(positions, x), so the
      // position rows come first in the graph and are the operand an in-place add takes over.
      const TensorId pos_rows = a_.learned_positions ? g_.op(Op::get_rows, Elem::f32, embd,
                                                             {w("position_embd.weight"), pos()})
                                                     : -1;
      x = g_.op(Op::add, Elem::f32, embd, {x, w("token_types.weight")});
      if (pos_rows >= 0) x = g_.op(Op::add, Elem::f32, embd, {pos_rows, x});
      x = norm(x, true, "token_embd_norm");
    } else {
      x = g_.op(Op::scale, Elem::f32, embd, {x});  // gemma: sqrt(n_embd)
    }
    for (il_ = 0; il_ < spec_.n_layer; ++il_) {
      x = a_.encoder ? bert_layer(x) : gemma_layer(x);
    }
    if (!a_.encoder) x = norm(x, false, "output_norm");
    g_.mark_output(x);  // res->t_embd
    return std::move(g_);
  }

 private:
  // A weight of the current layer (-1 before the blocks), named base + suffix
  // ("attn_q" ".weight"), sized by the model's tensor list when one is given; one shared
  // external when only the high-water mark is wanted (the name is then never built).
  TensorId w(std::string_view base, std::string_view suffix = {}) {
    const std::int32_t layer = il_ < 0 || il_ >= spec_.n_layer ? -1 : il_;
    Bytes bytes = 0;
    if (weights_ != nullptr) {
      std::string role(base);
      role += suffix;
      bytes = (*weights_)(layer, role);
    }
    // Outside the blocks a weight lives where weight_slot puts it (the embeddings' norm with
    // block 0).
    const std::int32_t device_layer =
        layer >= 0 ? layer : weight_slot(std::string(base) + ".").block;
    if (!share_externals_) return g_.external(graph::Memory::weight, device_layer, bytes);
    if (shared_ < 0) shared_ = g_.external(graph::Memory::weight, layer, bytes);
    return shared_;
  }
  TensorId lazy(TensorId& slot, Elem elem, Shape ne) {
    if (slot < 0) slot = g_.input(elem, ne);
    return slot;
  }
  TensorId pos() { return lazy(pos_, Elem::i32, {n_t_, 1, 1, 1}); }
  TensorId out_ids() { return lazy(out_ids_, Elem::i32, {n_out_, 1, 1, 1}); }
  // build_attn_inp_no_cache: n_tokens x n_tokens (F16 with flash attention), a second one for
  // the sliding-window layers; each enters the graph at its first use.
  TensorId mask(bool swa) {
    return lazy(swa ? mask_swa_ : mask_, p_.flash_attn ? Elem::f16 : Elem::f32, {n_t_, n_t_, 1, 1});
  }

  // build_norm: norm (LayerNorm, then the bias) or rms_norm, and the weight; in place.
  TensorId norm(TensorId x, bool layer_norm, std::string_view name) {
    const Shape ne = g_.at(x).ne;
    TensorId n = g_.op(layer_norm ? Op::norm : Op::rms_norm, Elem::f32, ne, {x});
    // A block's norms are named "norm" with the block's index (build_norm's callback), which
    // llama_context::graph_get_cb pins to the block's device (sched.cpp, pin_layer_norms).
    if (il_ >= 0 && il_ < spec_.n_layer) g_.mark_layer_norm(n, il_);
    n = g_.op(Op::mul, Elem::f32, ne, {n, w(name, ".weight")});
    if (layer_norm) n = g_.op(Op::add, Elem::f32, ne, {n, w(name, ".bias")});
    return n;
  }

  // A projection [width, rows] of cur, its bias added in place where there is one.
  TensorId project(TensorId cur, std::int64_t width, bool bias, std::string_view role) {
    const std::int64_t rows = g_.at(cur).ne[1];
    TensorId t = g_.op(Op::mul_mat, Elem::f32, {width, rows, 1, 1}, {w(role, ".weight"), cur});
    if (bias) t = g_.op(Op::add, Elem::f32, {width, rows, 1, 1}, {t, w(role, ".bias")});
    return t;
  }

  // build_attn (no cache) and build_attn_mha: Q, K and V are expanded in that order (the caller
  // appends them so); K and V are the ubatch's own rows, one stream.
  TensorId attention(TensorId q, TensorId k, TensorId v) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t n_kv = spec_.n_head_kv_at(il_);
    const bool swa = layer_attention(spec_, il_).swa;
    auto q_heads = [&] {
      const TensorId qv = g_.view_of(q, {head_k_, n_head, n_t_, 1});
      return g_.view(qv, {head_k_, n_t_, n_head, 1}, false);
    };
    TensorId out = -1;
    if (p_.flash_attn) {
      // K and V are F32 here: ggml_cast to F16 (a copy) before the kernel.
      const TensorId qp = q_heads();
      const TensorId kp = g_.view(k, {head_k_, n_t_, n_kv, 1}, false);
      const TensorId kc = g_.op(Op::cont, Elem::f16, {head_k_, n_t_, n_kv, 1}, {kp});
      const TensorId vp = g_.view(v, {head_v_, n_t_, n_kv, 1}, false);
      const TensorId vc = g_.op(Op::cont, Elem::f16, {head_v_, n_t_, n_kv, 1}, {vp});
      const TensorId fa =
          g_.op(Op::flash_attn, Elem::f32, {head_v_, n_head, n_t_, 1}, {qp, kc, vc, mask(swa)});
      out = g_.view(fa, {head_v_ * n_head, n_t_, 1, 1});
    } else {
      // V is not stored transposed: ggml_cont(ggml_transpose(v)) first.
      const TensorId vp = g_.view(v, {head_v_, n_t_, n_kv, 1}, false);
      const TensorId vt = g_.view(vp, {n_t_, head_v_, n_kv, 1}, false);
      const TensorId vc = g_.op(Op::cont, Elem::f32, {n_t_, head_v_, n_kv, 1}, {vt});
      const TensorId kp = g_.view(k, {head_k_, n_t_, n_kv, 1}, false);
      const TensorId qp = q_heads();
      const Shape scores{n_t_, n_t_, n_head, 1};
      TensorId kq = g_.op(Op::mul_mat, Elem::f32, scores, {kp, qp});
      kq = g_.op(Op::soft_max, Elem::f32, scores, {kq, mask(swa)});
      const TensorId kqv = g_.op(Op::mul_mat, Elem::f32, {head_v_, n_t_, n_head, 1}, {vc, kq});
      const TensorId perm = g_.view(kqv, {head_v_, n_head, n_t_, 1}, false);
      out = g_.op(Op::cont, Elem::f32, {head_v_ * n_head, n_t_, 1, 1}, {perm});
    }
    return project(out, spec_.n_embd, a_.out_bias, "attn_output");
  }

  // src/models/bert.cpp: Q, K, V (fused and roped for nomic-bert), attention, the residual
  // and a LayerNorm after attention and after the FFN (GELU with biases for bert, SwiGLU for
  // nomic-bert).
  TensorId bert_layer(TensorId inp) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t n_kv = spec_.n_head_kv_at(il_);
    const bool rope = !a_.learned_positions;
    TensorId q = -1, k = -1, v = -1;
    if (a_.qkv == Qkv::fused) {
      // build_qkv's fused path: Q, K and V are strided views of one projection.
      const std::int64_t width = n_head * head_k_ + n_kv * (head_k_ + head_v_);
      const TensorId qkv = project(inp, width, a_.qkv_bias, "attn_qkv");
      const Bytes row = width * 4;
      q = g_.view_of(qkv, {head_k_, n_head, n_t_, 1}, false, {0, head_k_ * 4, row, row * n_t_});
      if (rope) q = g_.op(Op::rope, Elem::f32, {head_k_, n_head, n_t_, 1}, {q, pos()});
      k = g_.view_of(qkv, {head_k_, n_kv, n_t_, 1}, false, {0, head_k_ * 4, row, row * n_t_});
      if (rope) k = g_.op(Op::rope, Elem::f32, {head_k_, n_kv, n_t_, 1}, {k, pos()});
      v = g_.view_of(qkv, {head_v_, n_kv, n_t_, 1}, false, {0, head_v_ * 4, row, row * n_t_});
    } else {
      q = g_.view(project(inp, n_head * head_k_, a_.qkv_bias, "attn_q"),
                  {head_k_, n_head, n_t_, 1});
      if (rope) q = g_.op(Op::rope, Elem::f32, {head_k_, n_head, n_t_, 1}, {q, pos()});
      k = g_.view(project(inp, n_kv * head_k_, a_.qkv_bias, "attn_k"), {head_k_, n_kv, n_t_, 1});
      if (rope) k = g_.op(Op::rope, Elem::f32, {head_k_, n_kv, n_t_, 1}, {k, pos()});
      v = g_.view(project(inp, n_kv * head_v_, a_.qkv_bias, "attn_v"), {head_v_, n_kv, n_t_, 1});
    }
    TensorId cur = attention(q, k, v);
    TensorId residual = inp;
    if (il_ == spec_.n_layer - 1) {
      // build_inp_out_ids: only the reserved outputs go on through the last block.
      cur = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {cur, out_ids()});
      residual = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {inp, out_ids()});
    }
    const std::int64_t rows = g_.at(cur).ne[1];
    const Shape embd{spec_.n_embd, rows, 1, 1};
    cur = g_.op(Op::add, Elem::f32, embd, {cur, residual});
    const TensorId ffn_inp = norm(cur, true, "attn_output_norm");
    const std::int64_t ff = spec_.n_ff_at(il_);
    TensorId ffn = -1;
    if (a_.ffn == Ffn::plain) {
      // LLM_FFN_GELU, LLM_FFN_SEQ: up + bias, GELU in place, down + bias.
      const TensorId act =
          g_.op(Op::unary, Elem::f32, {ff, rows, 1, 1}, {project(ffn_inp, ff, true, "ffn_up")});
      ffn = project(act, spec_.n_embd, true, "ffn_down");
    } else {
      // LLM_FFN_SILU, LLM_FFN_PAR: ggml_swiglu_split(gate, up) reaches the gate first.
      const TensorId gate = project(ffn_inp, ff, false, "ffn_gate");
      const TensorId up = project(ffn_inp, ff, false, "ffn_up");
      const TensorId act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {gate, up});
      ffn = project(act, spec_.n_embd, false, "ffn_down");
    }
    cur = g_.op(Op::add, Elem::f32, embd, {ffn, ffn_inp});
    return norm(cur, true, "layer_output_norm");
  }

  // src/models/gemma-embedding.cpp: gemma3's block (RMS norms before and after attention and
  // the FFN, per-head Q and K norms, rope, Q scaled after rope, GeGLU) over the no-cache
  // attention, its sliding-window layers on the second mask.
  TensorId gemma_layer(TensorId inp) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t n_kv = spec_.n_head_kv_at(il_);
    const TensorId cur0 = norm(inp, false, "attn_norm");
    // build_attn expands Q (scaled), then K, then V: each chain from its projection.
    const Shape qs{head_k_, n_head, n_t_, 1};
    TensorId q = g_.view(project(cur0, n_head * head_k_, false, "attn_q"), qs);
    q = norm(q, false, "attn_q_norm");
    q = g_.op(Op::rope, Elem::f32, qs, {q, pos()});
    q = g_.op(Op::scale, Elem::f32, qs, {q});
    const Shape ks{head_k_, n_kv, n_t_, 1};
    TensorId k = g_.view(project(cur0, n_kv * head_k_, false, "attn_k"), ks);
    k = norm(k, false, "attn_k_norm");
    k = g_.op(Op::rope, Elem::f32, ks, {k, pos()});
    const TensorId v =
        g_.view(project(cur0, n_kv * head_v_, false, "attn_v"), {head_v_, n_kv, n_t_, 1});
    TensorId cur = attention(q, k, v);
    TensorId residual = inp;
    // The outputs' rows of the attention are selected before its norm, the residual's when the
    // add reaches them.
    const bool last = il_ == spec_.n_layer - 1;
    if (last) cur = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {cur, out_ids()});
    const std::int64_t rows = g_.at(cur).ne[1];
    const Shape embd{spec_.n_embd, rows, 1, 1};
    cur = norm(cur, false, "post_attention_norm");
    if (last) residual = g_.op(Op::get_rows, Elem::f32, embd, {inp, out_ids()});
    const TensorId sa_out = g_.op(Op::add, Elem::f32, embd, {cur, residual});
    cur = norm(sa_out, false, "ffn_norm");
    // LLM_FFN_GELU, LLM_FFN_PAR: ggml_geglu_split(gate, up).
    const std::int64_t ff = spec_.n_ff_at(il_);
    const TensorId gate = project(cur, ff, false, "ffn_gate");
    const TensorId up = project(cur, ff, false, "ffn_up");
    const TensorId act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {gate, up});
    cur = project(act, spec_.n_embd, false, "ffn_down");
    cur = norm(cur, false, "post_ffw_norm");
    return g_.op(Op::add, Elem::f32, embd, {cur, sa_out});
  }

  const ModelSpec& spec_;
  const Architecture& a_;
  const ComputeParams& p_;
  const WeightBytes* weights_;
  bool share_externals_;
  std::int64_t n_t_, n_out_, head_k_, head_v_;
  std::int32_t il_ = -1;
  Graph g_;
  TensorId shared_ = -1, pos_ = -1, out_ids_ = -1, mask_ = -1, mask_swa_ = -1;
};

}  // namespace

bool encoder_graph(const ModelSpec& spec) {
  const Architecture& a = architecture(spec.arch);
  if (spec.causal || !(a.encoder || a.bidirectional) || !a.graph.dense) return false;
  if (spec.moe.present() || spec.mla.present() || spec.n_nextn > 0 ||
      !spec.recurrent.layers.empty()) {
    return false;
  }
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    if (spec.n_head_kv_at(il) <= 0) return false;
  }
  return spec.swa.window == 0 || a.graph.swa;
}

graph::Graph encoder_reserve_graph(const ModelSpec& spec, const ComputeParams& p,
                                   std::int64_t n_tokens, std::int64_t n_outputs,
                                   const WeightBytes* weights, bool share_externals,
                                   graph::Graph&& storage) {
  EncoderBuilder b(spec, p, n_tokens, n_outputs, weights, share_externals);
  return b.build(std::move(storage));
}

}  // namespace vramplan::detail
