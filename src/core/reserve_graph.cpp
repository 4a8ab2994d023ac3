#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <stdexcept>
#include <vector>

#include <vramplan/architecture.hpp>
#include <vramplan/reserve_graph.hpp>

#include "graph_encoder.hpp"
#include "graph_gemma3n.hpp"

// The builders below follow llama.cpp's graph code (src/models/*.cpp and llm_graph_context in
// src/llama-graph.cpp, build b10309 as bundled with node-llama-cpp 3.22.1) in the order ggml
// executes it: only sizes, sources, views, in-place ops and outputs matter to the allocator,
// so names and the arithmetic of each op are left out. Each family was checked node by node
// against llama.cpp's own graph and against the committed measurements (tests/accuracy).

namespace vramplan {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Op;
using graph::TensorId;

// The builder's view of a family's descriptor (architecture.hpp): how its layer differs
// from the llama block.
struct Traits {
  bool qkv_bias = false;       // biases added to the Q, K and V projections
  bool out_bias = false;       // bias added to the attention output projection
  bool qk_norm = false;        // per-head norm of Q and K before rope (RMS unless below)
  bool qk_norm_full = false;   // RMS norm of the whole Q and K projections
  bool qk_layer_norm = false;  // the per-head Q/K norms are LayerNorms (Command-R+)
  bool pre_norms = true;       // norms before attention and FFN
  bool layer_norm = false;     // LayerNorm instead of RMSNorm
  bool norm_bias = false;      // the LayerNorms add a bias
  bool output_bias = false;    // a bias added to the logits (phi2)
  bool fused_qkv = false;      // one QKV projection, Q scaled after rope
  bool post_norms = false;     // norms after attention and after the FFN
  // Dense gate/up (GeGLU has SwiGLU's sizes), phi3's fused gate+up, a GELU FFN with biases,
  // or routed experts: softmax router (the k weights renormalised unless moe_weights_norm
  // is off), or gpt-oss's biased router with a softmax over the k selected logits and biased
  // experts.
  enum class Ffn { swiglu, fused_swiglu, gelu, moe, moe_oai } ffn = Ffn::swiglu;
  bool mla = false;              // multi-head latent attention, absorbed k_b
  bool moe_weights_norm = true;  // softmax gating: the k weights divided by their sum
  // Every MoE block has a shared expert, of the experts' width when the spec gives none
  // (Architecture::shared_expert, as tensors.cpp lays out its tensors).
  bool shared_expert = false;
  // llama4's weightless RMS norm of the roped Q and K (Llama4TextL2Norm): load_arch_hparams
  // sets use_kq_norm unless the model has 128 experts (src/models/llama4.cpp).
  bool l2_qk_norm = false;
  // Mamba2 mixers in the recurrent blocks, hybrid memory (granitehybrid).
  bool mamba2 = false;
  // Gated DeltaNet mixers in the recurrent blocks, hybrid memory, gated attention (Q and its
  // gate in one projection) and a sigmoid-gated shared expert (qwen3next).
  bool gdn = false;
  GraphRules g;  // scaling, soft-capping, op order, outputs
};

Traits::Ffn ffn_kind(const Architecture& a, bool routed) {
  if (routed) return a.routing == Routing::oai ? Traits::Ffn::moe_oai : Traits::Ffn::moe;
  switch (a.ffn) {
    case Ffn::gated:
      return Traits::Ffn::swiglu;
    case Ffn::fused_gated:
      return Traits::Ffn::fused_swiglu;
    case Ffn::plain:
      return Traits::Ffn::gelu;
  }
  return Traits::Ffn::swiglu;
}

// A hybrid of Mamba2 and attention blocks the builder covers (granite-hybrid.cpp's checks):
// every recurrent block without KV heads and every other one with them, whole SSM heads and
// groups, a convolution of at least one column.
bool mamba2_shape(const ModelSpec& spec) {
  const Recurrent& r = spec.recurrent;
  if (r.layers.size() != static_cast<std::size_t>(spec.n_layer) || r.conv_kernel < 1 ||
      r.inner_size <= 0 || r.state_size <= 0 || r.group_count <= 0 || r.time_step_rank <= 0 ||
      r.inner_size % r.time_step_rank != 0 || r.inner_size % r.group_count != 0) {
    return false;
  }
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    if (r.layers[static_cast<std::size_t>(il)] == (spec.n_head_kv_at(il) > 0)) return false;
  }
  return true;
}

// A Gated DeltaNet hybrid the builder covers (qwen3next.cpp's checks): every recurrent block
// without KV heads and every other one with them, a convolution of at least one column, V
// heads a multiple of the K heads, V heads of state_size (inner_size / time_step_rank), a
// gated query, routed experts with a gated shared expert.
bool gdn_shape(const ModelSpec& spec) {
  const Recurrent& r = spec.recurrent;
  if (r.layers.size() != static_cast<std::size_t>(spec.n_layer) || r.conv_kernel < 1 ||
      r.inner_size <= 0 || r.state_size <= 0 || r.group_count <= 0 || r.time_step_rank <= 0 ||
      r.time_step_rank % r.group_count != 0 ||
      r.inner_size != std::int64_t{r.state_size} * r.time_step_rank) {
    return false;
  }
  const Architecture& a = architecture(spec.arch);
  if (!a.gated_q || !a.shared_expert_gate || !spec.moe.present()) return false;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    if (r.layers[static_cast<std::size_t>(il)] == (spec.n_head_kv_at(il) > 0)) return false;
  }
  return true;
}

// The traits of a model whose graph is rebuilt: its family's graph was checked for the
// model's shape (dense or routed experts, extras, sliding window, Mamba2 blocks), and the
// shape is one the builder covers. nullopt otherwise.
std::optional<Traits> traits(const ModelSpec& spec) {
  if (!spec.causal || spec.n_nextn > 0) return std::nullopt;
  const Architecture& a = architecture(spec.arch);
  // An encoder family's graph rules are graph_encoder.cpp's; a spec of one that says causal
  // (a catalog entry without `causal: false`) is neither graph.
  if (a.encoder || a.bidirectional) return std::nullopt;
  const GraphRules& g = a.graph;
  const bool mamba2 = !spec.recurrent.layers.empty();
  // A family with a Mamba2 mixer whose dense graph was checked is checked with it
  // (granitehybrid, the one such family); the Gated DeltaNet family qwen3next in the shape
  // gdn_shape() describes (graph_qwen3next.inc).
  const bool gdn = mamba2 && a.gated_delta_net;
  if (gdn && !gdn_shape(spec)) return std::nullopt;
  if (mamba2 && !gdn && !(a.mamba2_mixer && mamba2_shape(spec))) return std::nullopt;
  const Moe& m = spec.moe;
  if (m.present() ? !g.moe : !g.dense) return std::nullopt;
  if (spec.swa.window > 0 && !g.swa) return std::nullopt;
  // DeepStack: checked with fewer DeepStack blocks than blocks (the last block's rows are the
  // outputs only).
  if (spec.n_deepstack > 0 && (!g.deepstack || spec.n_deepstack >= spec.n_layer)) {
    return std::nullopt;
  }
  if (m.present() &&
      ((m.every_n != 1 && !g.moe_interleaved) ||
       (!g.moe_extras && (m.n_leading_dense > 0 || m.n_expert_shared > 0 || m.n_ff_shexp > 0)))) {
    return std::nullopt;
  }
  // llama4: routed experts (on every block: Scout; on every second one: Maverick), chunked
  // attention (with window 0 every block is roped, n_no_rope_layer_step = n_layer).
  if (g.llama4 && (!m.present() || spec.swa.window == 0)) {
    return std::nullopt;
  }
  // MLA: only without Q compression (DeepSeek-V2-Lite). Models with a Q LoRA (V2, V3, R1,
  // Kimi) use sigmoid routing with a selection bias, which the spec does not carry.
  if ((a.qkv == Qkv::mla) != spec.mla.present() || spec.mla.q_lora_rank > 0) return std::nullopt;
  // qwen3next's post_attention_norm is the norm before its FFN, not a norm after attention.
  return Traits{.qkv_bias = a.qkv_bias,
                .out_bias = a.out_bias,
                .qk_norm = a.qk_norm == QkNorm::per_head || (a.qk_norm == QkNorm::per_head_2d &&
                                                             spec.n_layer >= a.qk_norm_from_layers),
                .qk_norm_full = a.qk_norm == QkNorm::whole,
                .qk_layer_norm = a.qk_norm == QkNorm::per_head_2d,
                .pre_norms = a.attn_norm,
                .layer_norm = a.norm != Norm::rms,
                .norm_bias = a.norm == Norm::layer,
                .output_bias = a.output_bias,
                .fused_qkv = a.qkv == Qkv::fused,
                .post_norms = !a.post_attn_norm.empty() && !gdn,
                .ffn = ffn_kind(a, m.present()),
                .mla = a.qkv == Qkv::mla,
                .moe_weights_norm = a.routing == Routing::softmax_norm,
                .shared_expert = a.shared_expert,
                .l2_qk_norm = g.llama4 && m.n_expert != 128,
                .mamba2 = mamba2 && !gdn,
                .gdn = gdn,
                .g = g};
}

class Builder {
 public:
  // A ubatch of n_tokens tokens (a multiple of the stream count) with n_outputs outputs.
  Builder(const ModelSpec& spec, const ComputeParams& p, const Traits& traits,
          std::int64_t n_tokens, std::int64_t n_outputs, const WeightBytes* weights = nullptr)
      : spec_(spec),
        weights_(weights),
        p_(p),
        t_(traits),
        n_t_(n_tokens),
        n_out_(n_outputs),
        n_stream_(p.shape.n_stream),
        head_k_(spec.head_dim_k()),
        head_v_(spec.head_dim_v()) {
    // MLA's attention path has no rotation (the cache flags it, the graph never uses it).
    const CacheRotation rot = cache_rotation(head_k_, head_v_, p.type_k, p.type_v);
    rot_k_ = !traits.mla && rot.k;
    rot_v_ = !traits.mla && rot.v;
    nrot_ = rot.nrot;
    // Each layer's attention shape, resolved once (the builder asks for it several times per
    // layer), and the widest V row.
    layers_.reserve(static_cast<std::size_t>(spec.n_layer));
    for (std::int32_t il = 0; il < spec.n_layer; ++il) {
      layers_.push_back(layer_attention(spec, il));
      widest_v_ = std::max(widest_v_, layers_.back().v_width);
    }
    caches_[0].cells = p.shape.n_ctx_seq;
    caches_[1].cells = p.shape.n_swa_cells;
  }

  // Only the allocator's high-water mark is wanted (graph_compute_buffer): the allocator never
  // allocates, frees or reuses an external tensor, and a view of one is the tensor itself, so
  // one external can stand for every weight and cache view (a smaller graph).
  void share_externals() { share_externals_ = true; }
  // Builds into `storage` (emptied first), whose memory a previous graph left allocated.
  void reuse(Graph&& storage) {
    g_ = std::move(storage);
    g_.clear();
  }

  Graph build(bool with_output) {
    g_.reserve(static_cast<std::size_t>(spec_.n_layer) * 80 + 64);
    // build_inp_embd: token ids and the embeddings input (ggml_build_forward_select keeps
    // both). The first layer's K rotation matrix enters the graph before the positions; every
    // other input enters at its first use (created lazily below).
    tokens_ = g_.input(Elem::i32, {n_t_, 1, 1, 1});
    // DeepStack (qwen3vl): the embeddings input is n_embd_inp = n_embd * (1 + n_deepstack)
    // wide (llama_hparams::n_embd_inp).
    const std::int64_t n_embd_inp = spec_.n_embd * (1 + spec_.n_deepstack);
    g_.input(Elem::f32, {n_embd_inp, n_t_, 1, 1});
    // A hybrid's first block is a Mamba2 one: its K rotation matrix and positions enter at
    // its first attention block (pos()).
    if (!t_.mamba2 && !t_.gdn) {
      if (rot_k_) k_rot(cache_of(0));
      pos_ = g_.input(Elem::i32, {n_pos(), 1, 1, 1});
    }

    const Graph::Shape embd{spec_.n_embd, n_t_, 1, 1};
    TensorId x = g_.op(Op::get_rows, Elem::f32, embd, {w("token_embd.weight"), tokens_});
    if (spec_.n_deepstack > 0) {
      // build_inp_embd: the token embeddings padded with zero columns to the input's width,
      // then the layers' input is a view of the first n_embd columns; the first blocks' adds
      // read the padded tensor at later offsets (deepstack_view()), which keeps it alive.
      embd_inp_ = g_.op(Op::pad, Elem::f32, {n_embd_inp, n_t_, 1, 1}, {x});
      embd_inp_ = deepstack_view();
      x = embd_inp_;
    }
    if (t_.g.scale_embd) x = g_.op(Op::scale, Elem::f32, embd, {x});
    expanded(0);
    for (il_ = 0; il_ < spec_.n_layer; ++il_) x = layer(il_, x);
    if (with_output) {
      g_.mark_head();
      TensorId norm = block_norm(x);
      g_.mark_output(norm);
      // qwen3next: out_ids selects after the final norm (the norm is the MTP head's input).
      if (t_.gdn) {
        norm = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {norm, out_ids()});
        g_.mark_output(norm);
      }
      const Graph::Shape shape{spec_.n_vocab, n_out_, 1, 1};
      TensorId logits = g_.op(Op::mul_mat, Elem::f32, shape, {w("output.weight"), norm});
      if (t_.output_bias) logits = g_.op(Op::add, Elem::f32, shape, {logits, w_f32(shape[0])});
      if (t_.g.logit_softcap) logits = softcap(logits);
      if (t_.g.scale_logits) logits = g_.op(Op::scale, Elem::f32, shape, {logits});
      g_.mark_output(logits);
    }
    return std::move(g_);
  }

 private:
  // The inputs of one KV cache (the full-attention one, or the sliding-window one of an
  // iSWA model), created at first use.
  struct Cache {
    std::int64_t cells = 0;  // per stream
    TensorId k_rot = -1, v_rot = -1, k_idxs = -1, v_idxs = -1, mask = -1;
  };

  // A weight of the current layer (the input layer before the blocks, the output layer
  // after), sized by the model's tensor list when one is given.
  TensorId w(std::string_view role, bool expert = false) {
    const std::int32_t layer = il_ < 0 || il_ >= spec_.n_layer ? -1 : il_;
    const Bytes bytes = weights_ != nullptr ? (*weights_)(layer, role) : 0;
    const std::int32_t owner = role == "token_embd.weight" ? -1 : il_;
    return external(graph::Memory::weight, owner, bytes, expert);
  }
  // A weight or cache view (Graph::external); the arguments are worked out (and checked) either
  // way.
  TensorId external(graph::Memory memory, std::int32_t layer, Bytes bytes, bool expert = false) {
    if (!share_externals_) return g_.external(memory, layer, bytes, expert);
    if (shared_external_ < 0) shared_external_ = g_.external(memory, layer, bytes, expert);
    return shared_external_;
  }

  // An F32 norm weight or bias of n elements (llama.cpp keeps them F32).
  TensorId w_f32(std::int64_t n) {
    return external(graph::Memory::weight, il_, checked_mul(n, 4, "the compute buffer"));
  }
  // The K (or V) view of layer il's cache as the attention reads it: every cell of every
  // stream (llama_kv_cache::get_k / get_v at reserve).
  TensorId cache_view(std::int32_t il, bool v) {
    const LayerAttention& a = attention_of(il);
    const std::int64_t cells = checked_mul(cache_of(il).cells, n_stream_, "the compute buffer");
    const Bytes row = row_bytes(v ? p_.type_v : p_.type_k, v ? a.v_width : a.k_width);
    return external(graph::Memory::cache, il, checked_mul(row, cells, "the compute buffer"));
  }

  // The f16 copies of a quantized cache's K and V views a flash-attention kernel may need
  // (ggml_cuda_flash_attn_ext_get_f16_extra_data, ggml/src/ggml-cuda/fattn-common.cuh): one
  // f16 element per cached element; none for V when it views K's memory (MLA). The vector
  // kernel reads the cache as it is for the pairs a default CUDA build compiles
  // (GGML_CUDA_FA_QUANTS in ggml/CMakeLists.txt: q4_0-q4_0, q8_0-q8_0, f16-f16, bf16-bf16)
  // at head sizes 64, 128, 256 (FATTN_VEC_CASES_ALL_D in ggml-cuda/fattn.cu).
  void f16_copies(TensorId fa, std::int32_t il, bool v_is_k_view) {
    const LayerAttention& a = attention_of(il);
    const std::int64_t cells = checked_mul(cache_of(il).cells, n_stream_, "the compute buffer");
    const auto copy = [&](GgmlType type, std::int64_t width) -> Bytes {
      if (type == GgmlType::f16) return 0;
      return checked_mul(checked_mul(width, cells, "the compute buffer"), 2, "the compute buffer");
    };
    const Bytes k = copy(p_.type_k, a.k_width);
    const Bytes v = v_is_k_view ? 0 : copy(p_.type_v, a.v_width);
    const GgmlType tk = p_.type_k;
    const bool pair = p_.type_k == p_.type_v && (tk == GgmlType::f16 || tk == GgmlType::q4_0 ||
                                                 tk == GgmlType::q8_0 || tk == GgmlType::bf16);
    const std::int64_t head = g_.at(g_.at(fa).src[0]).ne[0];
    g_.set_f16_copies(fa, k, v, pair && (head == 64 || head == 128 || head == 256));
  }

  const LayerAttention& attention_of(std::int32_t il) const {
    return layers_[static_cast<std::size_t>(il)];
  }
  Cache& cache_of(std::int32_t il) { return caches_[attention_of(il).swa ? 1 : 0]; }
  TensorId lazy(TensorId& slot, Elem elem, Graph::Shape ne) {
    if (slot < 0) slot = g_.input(elem, ne);
    return slot;
  }
  TensorId k_rot(Cache& c) { return lazy(c.k_rot, Elem::f32, {nrot_, nrot_, 1, 1}); }
  TensorId v_rot(Cache& c) { return lazy(c.v_rot, Elem::f32, {64, 64, 1, 1}); }
  TensorId k_idxs(Cache& c) { return lazy(c.k_idxs, Elem::i64, {n_t_, 1, 1, 1}); }
  // Without flash attention V is stored transposed: one index per element.
  TensorId v_idxs(Cache& c) {
    return lazy(c.v_idxs, Elem::i64, {p_.flash_attn ? n_t_ : n_t_ * widest_v(), 1, 1, 1});
  }
  TensorId mask(Cache& c) {
    return lazy(c.mask, p_.flash_attn ? Elem::f16 : Elem::f32,
                {c.cells, n_t_ / n_stream_, 1, n_stream_});
  }
  TensorId out_ids() { return lazy(out_ids_, Elem::i32, {n_out_, 1, 1, 1}); }
  // llama4's temperature input (build_inp_attn_scale: one f32 per token, 1 x 1 x n_tokens)
  // and its blocks with rope (n_no_rope_layer_step 4: every 4th block has none).
  TensorId attn_scale() { return lazy(attn_scale_, Elem::f32, {1, 1, n_t_, 1}); }
  bool roped_layer() const { return (il_ + 1) % 4 != 0; }
  // M-RoPE's positions: four per token (build_inp_pos, n_pos_per_embd).
  std::int64_t n_pos() const { return t_.g.mrope ? 4 * n_t_ : n_t_; }
  TensorId pos() { return lazy(pos_, Elem::i32, {n_pos(), 1, 1, 1}); }
  // The block's rope frequency factors (llama_model::get_rope_factors: rope_freqs.weight, F32
  // {head_dim / 2}, Llama 3's rope scaling) where the model's tensor list has them, the third
  // source of the block's ROPE nodes; -1 without. The scheduler replay takes the factors of
  // every block on one device as one tensor (sched.cpp).
  // Without them, LongRoPE's long or short factors (the long ones past the original context;
  // both lists have the same size, so which one is read does not change a buffer).
  TensorId rope_factors() {
    if (weights_ == nullptr) return -1;
    Bytes bytes = (*weights_)(-1, "rope_freqs.weight");
    if (bytes == 0) bytes = (*weights_)(-1, "rope_factors_long.weight");
    return bytes > 0 ? external(graph::Memory::weight, il_, bytes) : -1;
  }
  // An n_embd-wide column slice of the padded embeddings (ggml_view_2d with the padded row
  // stride) or, once made, of the first such slice (res->t_inp_embd, the view the blocks'
  // slices are taken from); where it starts does not matter to the allocator.
  TensorId deepstack_view() {
    const std::int64_t row = spec_.n_embd * (1 + spec_.n_deepstack) * 4;
    return g_.view_of(embd_inp_, {spec_.n_embd, n_t_, 1, 1}, false,
                      {0, row, row * n_t_, row * n_t_});
  }

  std::int64_t n_head_kv(std::int32_t il) const { return attention_of(il).k_width / head_k_; }
  std::int64_t widest_v() const { return widest_v_; }

  // build_norm: rms_norm (LLM_NORM_RMS) or norm (LLM_NORM), the weight, and a LayerNorm's
  // bias where it has one; every step may run in place.
  TensorId norm(TensorId x, bool layer_norm = false, bool bias = false) {
    const Graph::Shape ne = g_.at(x).ne;
    TensorId n = g_.op(layer_norm ? Op::norm : Op::rms_norm, Elem::f32, ne, {x});
    if (il_ >= 0 && il_ < spec_.n_layer) g_.mark_layer_norm(n, il_);
    n = g_.op(Op::mul, Elem::f32, ne, {n, w_f32(ne[0])});
    if (layer_norm && bias) n = g_.op(Op::add, Elem::f32, ne, {n, w_f32(ne[0])});
    return n;
  }
  TensorId block_norm(TensorId x) { return norm(x, t_.layer_norm, t_.norm_bias); }

  // Soft-capping c·tanh(x/c): scale, tanh, scale, all in place.
  TensorId softcap(TensorId x) {
    const Graph::Shape ne = g_.at(x).ne;
    x = g_.op(Op::scale, Elem::f32, ne, {x});
    x = g_.op(Op::unary, Elem::f32, ne, {x});
    return g_.op(Op::scale, Elem::f32, ne, {x});
  }

  // A projection [width, rows] of cur, with its bias added in place where the family has one.
  TensorId project(TensorId cur, std::int64_t width, bool bias, std::string_view role) {
    const std::int64_t rows = g_.at(cur).ne[1];
    TensorId t = g_.op(Op::mul_mat, Elem::f32, {width, rows, 1, 1}, {w(role), cur});
    if (bias) t = g_.op(Op::add, Elem::f32, {width, rows, 1, 1}, {t, w_f32(width)});
    return t;
  }

  // llama_mul_mat_hadamard: x viewed as rows of `size` (a strided view is copied contiguous
  // first), multiplied by the rotation matrix, viewed back.
  TensorId rotate(TensorId x, TensorId rot, std::int64_t size) {
    const graph::Tensor t = g_.at(x);
    constexpr std::string_view what = "the compute buffer";  // docs/reliability.md §4
    const std::int64_t n =
        checked_mul(checked_mul(checked_mul(t.ne[0], t.ne[1], what), t.ne[2], what), t.ne[3], what);
    const TensorId rows = t.contiguous ? g_.view(x, {size, n / size, 1, 1})
                                       : g_.op(Op::cont, Elem::f32, {size, n / size, 1, 1}, {x});
    const TensorId m = g_.op(Op::mul_mat, Elem::f32, {size, n / size, 1, 1}, {rot, rows});
    return g_.view(m, t.ne);
  }

  // Q or K (roped) or V of one layer from its own projection: bias (qwen2, gpt-oss, starcoder2),
  // olmo2's norm over the whole projection, the heads view, qwen3/gemma3's per-head norm, rope,
  // gemma's Q scale; rotated for a quantized cache.
  TensorId head_tensor(TensorId cur, std::int64_t heads, std::int64_t head, bool roped, bool scaled,
                       TensorId rot, std::int64_t rot_size, std::string_view role) {
    TensorId t = project(cur, heads * head, t_.qkv_bias, role);
    if (roped && t_.qk_norm_full) t = norm(t);
    t = g_.view(t, {head, heads, n_t_, 1});
    if (roped && t_.qk_norm) t = norm(t, t_.qk_layer_norm);
    if (t_.g.llama4 && roped && !roped_layer()) {
      // llama4's blocks without rope: Q times the temperature input, K as it is.
      if (scaled) t = g_.op(Op::mul, Elem::f32, {head, heads, n_t_, 1}, {t, attn_scale()});
      if (rot >= 0) t = rotate(t, rot, rot_size);
      return t;
    }
    if (roped) t = g_.op(Op::rope, Elem::f32, {head, heads, n_t_, 1}, {t, pos(), rope_factors()});
    // llama4: a weightless RMS norm of the roped Q and K (Llama4TextL2Norm).
    if (roped && t_.l2_qk_norm) t = g_.op(Op::rms_norm, Elem::f32, {head, heads, n_t_, 1}, {t});
    if (scaled && !t_.g.llama4) t = g_.op(Op::scale, Elem::f32, {head, heads, n_t_, 1}, {t});
    if (rot >= 0) t = rotate(t, rot, rot_size);
    return t;
  }

  // Self-attention of one layer up to the output projection (build_attn with a KV cache).
  // With project false it stops at build_attn_mha's output, the last node it expands:
  // attention_output() makes the rest where ggml reaches it.
  TensorId attention(std::int32_t il, TensorId cur, bool project_out = true) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t n_kv_head = n_head_kv(il);
    Cache& kv = cache_of(il);

    // Q, K, V in the order ggml runs them (llama's build_attn expands Q, then V, then K).
    TensorId q = -1, k = -1, v = -1;
    Bytes v_row_bytes = 0;  // the stride between V's tokens when V is a view of the fused QKV
    if (t_.fused_qkv) {
      // One fused projection; Q, K and V are strided views of it. Q is scaled after rope.
      const std::int64_t width = n_head * head_k_ + n_kv_head * (head_k_ + head_v_);
      // build_qkv: the fused projection and its bias (phi2).
      const TensorId qkv = project(cur, width, t_.qkv_bias, "attn_qkv.weight");
      // ggml_view_3d of each token's row: heads head_k_ apart, tokens a fused row apart.
      const Graph::Shape nb{0, head_k_ * 4, width * 4, width * 4 * n_t_};
      q = g_.view_of(qkv, {head_k_, n_head, n_t_, 1}, false, nb);
      q = g_.op(Op::rope, Elem::f32, {head_k_, n_head, n_t_, 1}, {q, pos_, rope_factors()});
      q = g_.op(Op::scale, Elem::f32, {head_k_, n_head, n_t_, 1}, {q});
      if (rot_k_) q = rotate(q, k_rot(kv), nrot_);
      v_row_bytes = width * 4;
      v = g_.view_of(qkv, {head_v_, n_kv_head, n_t_, 1}, false,
                     {0, head_v_ * 4, v_row_bytes, v_row_bytes * n_t_});
      if (rot_v_) v = rotate(v, v_rot(kv), 64);
      k = g_.view_of(qkv, {head_k_, n_kv_head, n_t_, 1}, false, nb);
      k = g_.op(Op::rope, Elem::f32, {head_k_, n_kv_head, n_t_, 1}, {k, pos_, rope_factors()});
      if (rot_k_) k = rotate(k, k_rot(kv), nrot_);
    } else {
      auto make_q = [&] {
        if (t_.gdn) return gated_query(cur, n_head, rot_k_ ? k_rot(kv) : -1);
        // llama4 "scales" Q by the temperature input on its blocks without rope.
        return head_tensor(cur, n_head, head_k_, true, t_.g.scale_q || t_.g.llama4,
                           rot_k_ ? k_rot(kv) : -1, nrot_, "attn_q.weight");
      };
      auto make_k = [&] {
        return head_tensor(cur, n_kv_head, head_k_, true, false, rot_k_ ? k_rot(kv) : -1, nrot_,
                           "attn_k.weight");
      };
      auto make_v = [&] {
        return head_tensor(cur, n_kv_head, head_v_, false, false, rot_v_ ? v_rot(kv) : -1, 64,
                           "attn_v.weight");
      };
      q = make_q();
      if (t_.g.v_before_k) {
        v = make_v();
        k = make_k();
      } else {
        k = make_k();
        v = make_v();
      }
    }

    // KV store (cpy_k / cpy_v): set_rows into the cache, which the allocator does not own;
    // what matters is that K and V stay alive until then. With several streams the cache is
    // reshaped to one buffer first (a view node of it); V without flash attention is stored
    // transposed into a reshape of the cache, one element per row. The nodes come in ggml's
    // order (set_rows's sources: the values, the indices, the cache).
    const TensorId k_cache = cache_view(il, false);
    const TensorId v_cache = cache_view(il, true);
    {
      const TensorId k_rows = g_.view_of(k, {n_kv_head * head_k_, n_t_, 1, 1});
      const TensorId k_dst =
          n_stream_ > 1 ? g_.external_view(k_cache, graph::ViewOp::reshape) : k_cache;
      g_.store({k_rows, k_idxs(kv), k_dst});
    }
    if (p_.flash_attn) {
      // V as one row per token; a V viewed out of the fused projection keeps its row stride.
      const TensorId v_rows =
          g_.view_of(v, {n_kv_head * head_v_, n_t_, 1, 1}, true, {0, v_row_bytes, 0, 0});
      const TensorId v_dst =
          n_stream_ > 1 ? g_.external_view(v_cache, graph::ViewOp::reshape) : v_cache;
      g_.store({v_rows, v_idxs(kv), v_dst});
    } else {
      // A strided V is made contiguous first.
      const TensorId v2 = g_.at(v).contiguous
                              ? g_.view(v, {n_kv_head * head_v_, n_t_, 1, 1})
                              : g_.op(Op::cont, Elem::f32, {n_kv_head * head_v_, n_t_, 1, 1}, {v});
      const TensorId v_rows = g_.view(v2, {1, n_kv_head * head_v_ * n_t_, 1, 1});
      const TensorId v_dst = g_.external_view(v_cache, graph::ViewOp::reshape);
      g_.store({v_rows, v_idxs(kv), v_dst});
    }

    // build_attn_mha over one stream's cells per ubatch token: Q viewed per stream and
    // permuted; K and V the cache's views (get_k, get_v), permuted. ggml orders them as the
    // first op that reads them visits its sources.
    const std::int64_t n_ts = n_t_ / n_stream_;
    auto q_heads = [&] {
      const TensorId qv = g_.view_of(q, {head_k_, n_head, n_ts, n_stream_});
      return g_.view(qv, {head_k_, n_ts, n_head, n_stream_}, false);
    };
    auto permuted = [&](TensorId cache) {
      return g_.external_view(g_.external_view(cache, graph::ViewOp::view), graph::ViewOp::permute);
    };
    TensorId out = -1;
    if (p_.flash_attn) {
      const TensorId qp = q_heads();
      const TensorId kp = permuted(k_cache);
      const TensorId vp = permuted(v_cache);
      const TensorId fa = g_.op(Op::flash_attn, Elem::f32, {head_v_, n_head, n_ts, n_stream_},
                                {qp, kp, vp, mask(kv)});
      f16_copies(fa, il, false);
      out = g_.view(fa, {head_v_ * n_head, n_t_, 1, 1});
    } else {
      const Graph::Shape scores{kv.cells, n_ts, n_head, n_stream_};
      const TensorId kp = permuted(k_cache);
      const TensorId qp = q_heads();
      TensorId kq = g_.op(Op::mul_mat, Elem::f32, scores, {kp, qp});
      if (t_.g.attn_softcap) kq = softcap(kq);
      kq = g_.op(Op::soft_max, Elem::f32, scores, {kq, mask(kv)});
      const TensorId vp = permuted(v_cache);
      const TensorId kqv =
          g_.op(Op::mul_mat, Elem::f32, {head_v_, n_ts, n_head, n_stream_}, {vp, kq});
      const TensorId perm = g_.view(kqv, {head_v_, n_head, n_ts, n_stream_}, false);
      out = g_.op(Op::cont, Elem::f32, {head_v_ * n_head, n_t_, 1, 1}, {perm});
    }
    // build_attn_mha ends in an expand of its output.
    if (!defer_expanded_) expanded(il + 1);
    return project_out ? attention_output(il, out) : out;
  }

  // build_attn after build_attn_mha: V's rotation undone, qwen3next's output gate, the output
  // projection and its bias.
  TensorId attention_output(std::int32_t il, TensorId out) {
    if (rot_v_) out = rotate(out, v_rot(cache_of(il)), 64);
    if (t_.gdn) out = gate_output(out, spec_.n_head);
    return project(out, spec_.n_embd, t_.out_bias, "attn_output.weight");
  }

  // Multi-head latent attention with the absorbed k_b (src/models/deepseek2.cpp): Q's
  // no-rope part projected into the latent space and concatenated with its roped part; the
  // compressed KV (normed) concatenated with the roped shared key is the only cache entry;
  // the attention output, still in the latent space, is decompressed by wv_b per head.
  TensorId mla_attention(std::int32_t il, TensorId cur) {
    const std::int64_t n_head = spec_.n_head;
    const std::int64_t nope = spec_.mla.qk_nope_head_dim;
    const std::int64_t rope = spec_.mla.qk_rope_head_dim;
    const std::int64_t lora = spec_.mla.kv_lora_rank;
    const std::int64_t v_head = spec_.mla.v_head_dim;
    const std::int64_t width = lora + rope;
    Cache& kv = cache_of(il);

    const TensorId q = g_.op(Op::mul_mat, Elem::f32, {n_head * (nope + rope), n_t_, 1, 1},
                             {w("attn_q.weight"), cur});
    const TensorId q3 = g_.view(q, {nope + rope, n_head, n_t_, 1});
    const TensorId q_nope = g_.view(q3, {nope, n_head, n_t_, 1}, false);
    const TensorId q_nope_perm = g_.view(q_nope, {nope, n_t_, n_head, 1}, false);
    const TensorId absorbed =
        g_.op(Op::mul_mat, Elem::f32, {lora, n_t_, n_head, 1}, {w("attn_k_b.weight"), q_nope_perm});
    const TensorId absorbed_perm = g_.view(absorbed, {lora, n_head, n_t_, 1}, false);
    const TensorId q_pe = g_.op(Op::rope, Elem::f32, {rope, n_head, n_t_, 1},
                                {g_.view(q3, {rope, n_head, n_t_, 1}, false), pos_});
    const TensorId q_cat =
        g_.op(Op::concat, Elem::f32, {width, n_head, n_t_, 1}, {absorbed_perm, q_pe});

    const TensorId kv_pe =
        g_.op(Op::mul_mat, Elem::f32, {width, n_t_, 1, 1}, {w("attn_kv_a_mqa.weight"), cur});
    const TensorId kv_cmpr = norm(g_.view(kv_pe, {lora, n_t_, 1, 1}, false));
    const TensorId v = g_.view(kv_cmpr, {lora, 1, n_t_, 1});
    const TensorId k_pe = g_.op(Op::rope, Elem::f32, {rope, 1, n_t_, 1},
                                {g_.view(kv_pe, {rope, 1, n_t_, 1}, false), pos_});
    const TensorId k = g_.op(Op::concat, Elem::f32, {width, 1, n_t_, 1}, {v, k_pe});
    const TensorId cache = cache_view(il, false);
    g_.store({g_.view(k, {width, n_t_, 1, 1}), k_idxs(kv), cache});

    const std::int64_t n_ts = n_t_ / n_stream_;
    TensorId latent = -1;  // [lora, n_ts, n_head, n_stream]
    if (p_.flash_attn) {
      const TensorId qp = g_.view(g_.view(q_cat, {width, n_head, n_ts, n_stream_}),
                                  {width, n_ts, n_head, n_stream_}, false);
      const TensorId fa = g_.op(Op::flash_attn, Elem::f32, {lora, n_head, n_ts, n_stream_},
                                {qp, cache, cache, mask(kv)});
      f16_copies(fa, il, true);
      latent = g_.view(fa, {lora, n_ts, n_head, n_stream_}, false);
    } else {
      // The V-less cache's latent part, transposed and copied contiguous (f16).
      const TensorId v_cont = g_.op(Op::cont, Elem::f16, {kv.cells, lora, 1, n_stream_}, {cache});
      const TensorId qp = g_.view(g_.view(q_cat, {width, n_head, n_ts, n_stream_}),
                                  {width, n_ts, n_head, n_stream_}, false);
      const Graph::Shape scores{kv.cells, n_ts, n_head, n_stream_};
      TensorId kq = g_.op(Op::mul_mat, Elem::f32, scores, {cache, qp});
      kq = g_.op(Op::soft_max, Elem::f32, scores, {kq, mask(kv)});
      latent = g_.op(Op::mul_mat, Elem::f32, {lora, n_ts, n_head, n_stream_}, {v_cont, kq});
    }
    const TensorId heads = g_.op(Op::mul_mat, Elem::f32, {v_head, n_ts, n_head, n_stream_},
                                 {w("attn_v_b.weight"), latent});
    const TensorId perm = g_.view(heads, {v_head, n_head, n_ts, n_stream_}, false);
    TensorId out = g_.op(Op::cont, Elem::f32, {v_head * n_head, n_t_, 1, 1}, {perm});
    return project(out, spec_.n_embd, false, "attn_output.weight");
  }

  bool recurrent(std::int32_t il) const {
    return (t_.mamba2 || t_.gdn) && il < spec_.n_layer &&
           spec_.recurrent.layers[static_cast<std::size_t>(il)];
  }

  // Called where llama.cpp's graph code last called ggml_build_forward_expand before block il
  // (after the embeddings; after an attention block's build_attn_mha, which expands its
  // output; after a Mamba2 block's state stores). Nodes enter ggml's graph in the
  // depth-first order of those calls, and a Mamba2 block's first expands (its conv state's
  // build_rs) read nothing of the block before it: their nodes come before everything of the
  // previous block that no expand has reached yet (its output, FFN and residuals). The conv
  // state's reshape comes with them: the concat that reads it visits it first.
  void expanded(std::int32_t il) {
    if (!t_.mamba2 || !recurrent(il)) return;
    conv_state_ = state_tensor(il, conv_width());
    const TensorId rows = g_.op(Op::get_rows, Elem::f32, {conv_width(), n_seqs(), 1, 1},
                                {conv_state_.rows, s_copy_main()});
    copy_extra_states(conv_state_, conv_width());
    const Recurrent& r = spec_.recurrent;
    conv_rows_ = g_.view(rows, {r.conv_kernel - 1, xbc_width(), n_seqs(), 1});
  }

  std::int64_t n_seqs() const { return std::max<std::int64_t>(1, p_.n_seq); }
  // Mamba2's widths (llama-hparams.cpp n_embd_r, n_embd_s; granite-hybrid.cpp).
  std::int64_t xbc_width() const {
    const Recurrent& r = spec_.recurrent;
    return r.inner_size + 2 * std::int64_t{r.group_count} * r.state_size;
  }
  std::int64_t conv_width() const { return (spec_.recurrent.conv_kernel - 1) * xbc_width(); }
  std::int64_t ssm_width() const { return spec_.recurrent.state_size * spec_.recurrent.inner_size; }

  // One recurrent state of a block: the cache's tensor (an external) and build_rs's reshape of
  // it to one row per cell (a view node), which its reads go through.
  struct State {
    TensorId mem = -1;
    TensorId rows = -1;
  };

  // llm_graph_context::build_rs (src/llama-graph.cpp) over one state of block il, `width` f32
  // per cell, in three steps: the state reshaped, its zeroed cell (scale_inplace of a view of
  // it: no memory of the graph's, a write into the state); the ubatch's sequences' states
  // gathered (get_rows by s_copy_main; the Mamba2 scan gathers its own); the other cells'
  // states copied (n_rs - n_seqs rows, none at reserve: llama_memory_recurrent's full context
  // has one cell per sequence, n_rs = n_seq_max). The views of the cache are nodes, as in
  // ggml's graph (the Vulkan backend's reordering counts them).
  State state_tensor(std::int32_t il, std::int64_t width) {
    const TensorId mem = external(
        graph::Memory::cache, il,
        checked_mul(checked_mul(width, n_seqs(), "the compute buffer"), 4, "the compute buffer"));
    const TensorId rows = g_.external_view(mem, graph::ViewOp::reshape);
    g_.store({g_.external_view(rows, graph::ViewOp::view)});
    // build_rs_inp_impl: one i32 per cell; it and its views enter at their first use.
    if (s_copy_ < 0) s_copy_ = g_.input(Elem::i32, {n_seqs(), 1, 1, 1});
    return {mem, rows};
  }
  // A copy into the state (ggml_cpy into a ggml_view_* of the cache): the view node.
  TensorId state_dst(const State& state) {
    return g_.external_view(state.mem, graph::ViewOp::view);
  }
  TensorId s_copy_main() {
    if (s_copy_main_ < 0) s_copy_main_ = g_.view_of(s_copy_, {n_seqs(), 1, 1, 1});
    return s_copy_main_;
  }
  void copy_extra_states(const State& state, std::int64_t width) {
    if (s_copy_extra_ < 0) s_copy_extra_ = g_.view_of(s_copy_, {0, 1, 1, 1});
    const TensorId extra =
        g_.op(Op::get_rows, Elem::f32, {width, 0, 1, 1}, {state.rows, s_copy_extra_});
    g_.store({extra, state_dst(state)});
  }

  // llm_build_mamba_base::build_mamba2_layer (src/models/mamba-base.cpp), with
  // n_rs_seq 0 (one state per sequence): the in-projection split into z, xBC and dt; xBC
  // appended to the conv state (concat of its transpose), the new conv state stored, the
  // convolution, its bias and SiLU; dt made contiguous plus its bias; the scan over the
  // gathered SSM states (y and the final states in one tensor), the states stored; y plus
  // x times D, gated by z (SwiGLU), the grouped RMS norm, the out-projection. The conv
  // state's build_rs came earlier (expanded()).
  TensorId mamba2_mixer(std::int32_t il, TensorId cur) {
    const Recurrent& r = spec_.recurrent;
    const std::int64_t d_conv = r.conv_kernel;
    const std::int64_t d_inner = r.inner_size;
    const std::int64_t d_state = r.state_size;
    const std::int64_t n_group = r.group_count;
    const std::int64_t n_head = r.time_step_rank;
    const std::int64_t head_dim = d_inner / n_head;
    const std::int64_t n_seq = n_seqs();
    const std::int64_t n_st = n_t_ / n_seq;
    const std::int64_t d_xbc = xbc_width();
    const std::int64_t d_in = 2 * d_inner + 2 * n_group * d_state + n_head;
    const Bytes row = d_in * 4;  // one token's row of the in-projection

    const TensorId conv = conv_rows_;
    const TensorId zx =
        g_.op(Op::mul_mat, Elem::f32, {d_in, n_t_, 1, 1}, {w("ssm_in.weight"), cur});
    const TensorId zx3 = g_.view(zx, {d_in, n_st, n_seq, 1});
    // xBC transposed and appended to the conv state: [d_conv - 1 + n_st, d_xbc, n_seq].
    const TensorId xbc = g_.view_of(zx3, {d_xbc, n_st, n_seq, 1}, false, {0, row, row * n_st, 0});
    const TensorId xbc_t = g_.view(xbc, {n_st, d_xbc, n_seq, 1}, false);
    const TensorId conv_x =
        g_.op(Op::concat, Elem::f32, {d_conv - 1 + n_st, d_xbc, n_seq, 1}, {conv, xbc_t});
    const Bytes cx_row = (d_conv - 1 + n_st) * 4;
    const TensorId last_conv =
        g_.view_of(conv_x, {d_conv - 1, d_xbc, n_seq, 1}, false, {0, cx_row, cx_row * d_xbc, 0});
    g_.store({last_conv, state_dst(conv_state_)});

    // The SSM state's build_rs: the state and its zeroed cell; the scan gathers the rows.
    const State ssm_state = state_tensor(il, ssm_width());
    // The scan's own gather: the rows reshaped per head (its first source, visited first).
    const TensorId ssm_heads = g_.external_view(ssm_state.rows, graph::ViewOp::reshape);
    const Graph::Shape xbc_shape{d_xbc, n_st, n_seq, 1};
    TensorId xc = g_.op(Op::ssm_conv, Elem::f32, xbc_shape, {conv_x, w("ssm_conv1d.weight")});
    xc = g_.op(Op::add, Elem::f32, xbc_shape, {xc, w_f32(d_xbc)});
    xc = g_.op(Op::unary, Elem::f32, xbc_shape, {xc});
    const Bytes xc_row = d_xbc * 4;
    const Graph::Shape heads{head_dim, n_head, n_st, n_seq};
    const TensorId x = g_.view_of(xc, heads, false, {0, head_dim * 4, xc_row, xc_row * n_st});
    const Graph::Shape dt_shape{n_head, n_st, n_seq, 1};
    const TensorId dt_view = g_.view_of(zx3, dt_shape, false, {0, row, row * n_st, 0});
    TensorId dt = g_.op(Op::cont, Elem::f32, dt_shape, {dt_view});
    dt = g_.op(Op::add, Elem::f32, dt_shape, {dt, w_f32(n_head)});
    const Graph::Shape bc{d_state, n_group, n_st, n_seq};
    const Graph::Shape bc_nb{0, d_state * 4, xc_row, xc_row * n_st};
    const TensorId b = g_.view_of(xc, bc, false, bc_nb);
    const TensorId c = g_.view_of(xc, bc, false, bc_nb);
    // ggml_ssm_scan (ggml/src/ggml.c): y (x's elements) then the n_seq final states; its
    // sources the state, x, dt, A (a weight of the block: from_cur runs the scan where A is),
    // B, C and the ids of the sequences' states (s_copy_main).
    const std::int64_t scan_len = d_inner * n_t_ + ssm_width() * n_seq;
    const TensorId scan = g_.op(Op::ssm_scan, Elem::f32, {scan_len, 1, 1, 1},
                                {ssm_heads, x, dt, w_f32(n_head), b, c, s_copy_main()});
    copy_extra_states(ssm_state, ssm_width());
    // The final states stored (n_rs_seq 0: one snapshot).
    const TensorId states = g_.view_of(scan, {ssm_width(), n_seq, 1, 1}, true);
    g_.store({states, state_dst(ssm_state)});
    if (!defer_expanded_) expanded(il + 1);

    // ggml_swiglu_split(ggml_cont(z), y + x * D): the cont of z is reached first.
    const TensorId z = g_.view_of(zx3, heads, false, {0, head_dim * 4, row, row * n_st});
    const TensorId zc = g_.op(Op::cont, Elem::f32, heads, {z});
    const TensorId y = g_.view_of(scan, heads);
    const TensorId xd = g_.op(Op::mul, Elem::f32, heads, {x, w_f32(n_head)});
    const TensorId yd = g_.op(Op::add, Elem::f32, heads, {y, xd});
    const TensorId gated = g_.op(Op::glu, Elem::f32, heads, {zc, yd});
    // The grouped RMS norm and its weight, then the out-projection.
    const Graph::Shape groups{d_inner / n_group, n_group, n_st, n_seq};
    TensorId yn = g_.op(Op::rms_norm, Elem::f32, groups, {g_.view(gated, groups)});
    g_.mark_layer_norm(yn, il);  // build_norm names it "norm" (graph_get_cb)
    yn = g_.op(Op::mul, Elem::f32, groups, {yn, w_f32(d_inner)});
    const TensorId y2 = g_.view(yn, {d_inner, n_t_, 1, 1});
    return g_.op(Op::mul_mat, Elem::f32, {spec_.n_embd, n_t_, 1, 1}, {w("ssm_out.weight"), y2});
  }

#include "graph_qwen3next.inc"

  // A block whose attention and FFN both read its one norm (phi2.cpp, command-r.cpp). In the
  // last block out_ids selects the attention output, the norm and the residual where each is
  // read.
  TensorId parallel_layer(std::int32_t il, TensorId inp) {
    const TensorId cur = block_norm(inp);
    const bool last = il == spec_.n_layer - 1;
    auto selected = [&](TensorId x) {
      if (!last) return x;
      return g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {x, out_ids()});
    };
    const std::int64_t ff = spec_.n_ff_at(il);
    if (!t_.g.parallel_ffn_first) {
      // phi2: (attention + FFN) + residual.
      const TensorId attn = selected(attention(il, cur));
      const TensorId ffn = dense_ffn(selected(cur), ff);
      const TensorId sum = g_.op(Op::add, Elem::f32, g_.at(ffn).ne, {attn, ffn});
      return g_.op(Op::add, Elem::f32, g_.at(sum).ne, {sum, selected(inp)});
    }
    // command-r: (FFN + residual) + attention; nothing expands the attention's output
    // projection, so ggml reaches it after the FFN and the first add.
    const TensorId mha = attention(il, cur, false);
    const TensorId ffn = dense_ffn(selected(cur), ff);
    const TensorId sum = g_.op(Op::add, Elem::f32, g_.at(ffn).ne, {ffn, selected(inp)});
    const TensorId attn = selected(attention_output(il, mha));
    return g_.op(Op::add, Elem::f32, g_.at(sum).ne, {sum, attn});
  }

  TensorId layer(std::int32_t il, TensorId inp) {
    if (t_.g.parallel) return parallel_layer(il, inp);
    // Routed experts after the leading dense blocks, on every every_n-th block (llama4's
    // interleave_moe_layer_step: (il + 1) % step == 0, as tensors.cpp lays them out).
    const bool routed = (t_.ffn == Traits::Ffn::moe || t_.ffn == Traits::Ffn::moe_oai) &&
                        il >= spec_.moe.n_leading_dense &&
                        (il + 1) % std::max(spec_.moe.every_n, 1) == 0;
    // build_moe_ffn expands its weights, its experts' output and their sum: in a block with
    // routed experts the next block's first expands come after those, not after the mixer's.
    defer_expanded_ = routed;
    const TensorId cur = t_.pre_norms ? block_norm(inp) : inp;
    TensorId attn = recurrent(il) && t_.gdn ? gdn_mixer(il, cur)
                    : recurrent(il)         ? mamba2_mixer(il, cur)
                    : t_.mla                ? mla_attention(il, cur)
                                            : attention(il, cur);

    TensorId residual = inp;
    const bool last = il == spec_.n_layer - 1;
    // out_ids applied mid-layer (qwen3next: after the final norm, build()).
    const bool select = last && !t_.g.outputs_after_layer && !t_.gdn;
    // Only the reserved outputs go on through the last layer (build_inp_out_ids): the
    // attention output is selected first, the residual after the post-attention norm.
    if (select) {
      attn = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {attn, out_ids()});
    }
    if (t_.post_norms) attn = norm(attn);
    if (t_.g.scale_residual) attn = g_.op(Op::scale, Elem::f32, g_.at(attn).ne, {attn});
    if (select) {
      residual = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {inp, out_ids()});
    }
    const std::int64_t rows = g_.at(attn).ne[1];
    const Graph::Shape embd{spec_.n_embd, rows, 1, 1};
    const TensorId ffn_inp = g_.op(Op::add, Elem::f32, embd, {attn, residual});
    const TensorId h = t_.pre_norms ? block_norm(ffn_inp) : ffn_inp;
    TensorId ffn_out =
        routed ? routed_experts(h) : dense_ffn(h, spec_.n_ff > 0 ? spec_.n_ff_at(il) : 0);
    // A family that always has a shared expert gives it the experts' width when the spec
    // gives none (llama4; tensors.cpp lays the tensors out by the same rule).
    const std::int64_t shared_width = spec_.moe.shared_width() > 0 ? spec_.moe.shared_width()
                                      : t_.shared_expert           ? spec_.moe.n_ff_exp
                                                                   : 0;
    if (routed && shared_width > 0) {
      // Shared experts run after the routed ones, as one dense SwiGLU of their total width.
      TensorId shared = dense_ffn(h, shared_width, true);
      // qwen3next: the shared expert's output times the sigmoid of its one-column gate.
      if (t_.gdn) {
        TensorId gate = g_.op(Op::mul_mat, Elem::f32, {1, g_.at(h).ne[1], 1, 1},
                              {w("ffn_gate_inp_shexp.weight"), h});
        gate = g_.op(Op::unary, Elem::f32, g_.at(gate).ne, {gate});
        shared = g_.op(Op::mul, Elem::f32, g_.at(shared).ne, {shared, gate});
      }
      ffn_out = g_.op(Op::add, Elem::f32, g_.at(ffn_out).ne, {ffn_out, shared});
    }
    if (t_.post_norms) ffn_out = norm(ffn_out);
    if (t_.g.scale_residual) ffn_out = g_.op(Op::scale, Elem::f32, embd, {ffn_out});
    // The residual add's operand order decides which of the two it may overwrite in place.
    TensorId l_out = t_.g.residual_first ? g_.op(Op::add, Elem::f32, embd, {ffn_inp, ffn_out})
                                         : g_.op(Op::add, Elem::f32, embd, {ffn_out, ffn_inp});
    // qwen3vl: the first n_deepstack blocks add their DeepStack slice of the padded
    // embeddings to their output.
    if (il < spec_.n_deepstack) {
      l_out = g_.op(Op::add, Elem::f32, embd, {l_out, deepstack_view()});
    }
    if (last && t_.g.hidden_output) g_.mark_output(l_out);
    if (last && t_.g.outputs_after_layer) {
      l_out = g_.op(Op::get_rows, Elem::f32, {spec_.n_embd, n_out_, 1, 1}, {l_out, out_ids()});
    }
    return l_out;
  }

  // build_ffn(LLM_FFN_SILU, LLM_FFN_PAR): gate and up (phi3: one fused projection that the
  // SwiGLU splits), then down.
  TensorId dense_ffn(TensorId h, std::int64_t ff, bool shared = false) {
    const std::int64_t rows = g_.at(h).ne[1];
    const std::string_view gate_role = shared ? "ffn_gate_shexp.weight" : "ffn_gate.weight";
    const std::string_view up_role = shared ? "ffn_up_shexp.weight" : "ffn_up.weight";
    const std::string_view down_role = shared ? "ffn_down_shexp.weight" : "ffn_down.weight";
    TensorId act = -1;
    if (t_.ffn == Traits::Ffn::gelu) {
      // Sequential FFN with biases (starcoder2): up + bias, GELU in place, down + bias.
      act = g_.op(Op::unary, Elem::f32, {ff, rows, 1, 1}, {project(h, ff, true, up_role)});
      return project(act, spec_.n_embd, true, down_role);
    }
    if (t_.ffn == Traits::Ffn::fused_swiglu) {
      const TensorId up = g_.op(Op::mul_mat, Elem::f32, {2 * ff, rows, 1, 1}, {w(up_role), h});
      act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {up});
    } else {
      const TensorId gate = g_.op(Op::mul_mat, Elem::f32, {ff, rows, 1, 1}, {w(gate_role), h});
      const TensorId up = g_.op(Op::mul_mat, Elem::f32, {ff, rows, 1, 1}, {w(up_role), h});
      act = g_.op(Op::glu, Elem::f32, {ff, rows, 1, 1}, {gate, up});
    }
    return g_.op(Op::mul_mat, Elem::f32, {spec_.n_embd, rows, 1, 1}, {w(down_role), act});
  }

  // build_moe_ffn: router logits, top-k by argsort of the probabilities, the k weights
  // gathered, the experts as mul_mat_id over the k selected, weighting, and the k expert
  // outputs summed one add at a time. Softmax gating (mixtral, qwen3moe): softmax over all
  // experts, then the k weights divided by their (clamped) sum. gpt-oss: a router bias, a
  // softmax over the k selected logits, and a bias (add_id) after each expert projection.
  TensorId routed_experts(TensorId h) {
    const bool oai = t_.ffn == Traits::Ffn::moe_oai;
    const std::int64_t n_expert = spec_.moe.n_expert;
    const std::int64_t k = spec_.moe.n_expert_used;
    const std::int64_t ff = spec_.moe.n_ff_exp;
    const std::int64_t n_embd = spec_.n_embd;
    const std::int64_t rows = g_.at(h).ne[1];
    const Graph::Shape kw{k, rows, 1, 1};
    const bool llama4 = t_.g.llama4;
    const TensorId logits = project(h, n_expert, oai, "ffn_gate_inp.weight");
    TensorId probs = logits;
    // llama4: sigmoid probabilities, the experts picked by the logits.
    if (llama4) probs = g_.op(Op::unary, Elem::f32, {n_expert, rows, 1, 1}, {logits});
    if (!oai && !llama4) probs = g_.op(Op::soft_max, Elem::f32, {n_expert, rows, 1, 1}, {probs});
    const TensorId probs3 = g_.view(probs, {1, n_expert, rows, 1});
    const TensorId order =
        g_.op(Op::argsort, Elem::i32, {n_expert, rows, 1, 1}, {llama4 ? logits : probs});
    // ggml_top_k: the first k columns of the argsort, rows n_expert apart.
    const TensorId top = g_.view_of(order, kw, false, {0, n_expert * 4, n_expert * 4 * rows, 0});
    const TensorId picked = g_.op(Op::get_rows, Elem::f32, {1, k, rows, 1}, {probs3, top});
    const TensorId weights2 = oai || (t_.moe_weights_norm && !llama4) ? g_.view(picked, kw) : -1;
    TensorId weights = -1;
    if (oai) {
      weights = g_.view(g_.op(Op::soft_max, Elem::f32, kw, {weights2}), {1, k, rows, 1});
    } else if (!t_.moe_weights_norm || llama4) {
      weights = picked;
    } else {
      TensorId sum = g_.op(Op::sum_rows, Elem::f32, {1, rows, 1, 1}, {weights2});
      sum = g_.op(Op::clamp, Elem::f32, {1, rows, 1, 1}, {sum});
      weights = g_.view(g_.op(Op::div, Elem::f32, kw, {weights2, sum}), {1, k, rows, 1});
    }
    TensorId x = g_.view(h, {n_embd, 1, rows, 1});
    if (llama4) {
      // weight_before_ffn: the input repeated for each of the k experts, times its weight.
      const TensorId repeated = g_.op(Op::repeat, Elem::f32, {n_embd, k, rows, 1}, {x});
      x = g_.op(Op::mul, Elem::f32, {n_embd, k, rows, 1}, {repeated, weights});
    }
    auto expert = [&](TensorId in, std::int64_t width, std::string_view role) {
      const TensorId m =
          g_.op(Op::mul_mat_id, Elem::f32, {width, k, rows, 1}, {w(role, true), in, top});
      if (!oai) return m;
      const TensorId bias = external(graph::Memory::weight, il_,
                                     checked_mul(width * n_expert, 4, "the compute buffer"), true);
      return g_.op(Op::add_id, Elem::f32, {width, k, rows, 1}, {m, bias, top});
    };
    const TensorId gate = expert(x, ff, "ffn_gate_exps.weight");
    const TensorId up = expert(x, ff, "ffn_up_exps.weight");
    const TensorId act = g_.op(Op::glu, Elem::f32, {ff, k, rows, 1}, {gate, up});
    const TensorId down = expert(act, n_embd, "ffn_down_exps.weight");
    const TensorId weighted =
        llama4 ? down : g_.op(Op::mul, Elem::f32, {n_embd, k, rows, 1}, {down, weights});
    std::vector<TensorId> slots;
    for (std::int64_t i = 0; i < k; ++i) {
      slots.push_back(g_.view_of(weighted, {n_embd, rows, 1, 1}, false));
    }
    TensorId sum = slots[0];
    for (std::size_t i = 1; i < slots.size(); ++i) {
      sum = g_.op(Op::add, Elem::f32, {n_embd, rows, 1, 1}, {sum, slots[i]});
    }
    // One expert: its strided view made contiguous (build_moe_ffn, n_expert_used 1).
    if (k == 1) sum = g_.op(Op::cont, Elem::f32, {n_embd, rows, 1, 1}, {sum});
    // Each slot and each partial sum is expanded as it is made.
    if (defer_expanded_) expanded(il_ + 1);
    return sum;
  }

  const ModelSpec& spec_;
  const WeightBytes* weights_;
  std::int32_t il_ = -1;  // the layer being built: -1 before the blocks, n_layer after
  const ComputeParams& p_;
  Traits t_;
  std::int64_t n_t_, n_out_, n_stream_, head_k_, head_v_;
  bool rot_k_ = false, rot_v_ = false;
  std::int64_t nrot_ = 64;
  Graph g_;
  std::array<Cache, 2> caches_{};       // [0] full attention, [1] sliding window
  std::vector<LayerAttention> layers_;  // layer_attention() of every block
  bool share_externals_ = false;
  TensorId shared_external_ = -1;
  std::int64_t widest_v_ = 0;
  TensorId tokens_ = -1, pos_ = -1, out_ids_ = -1, attn_scale_ = -1;
  TensorId embd_inp_ = -1;  // the padded token embeddings' first slice (DeepStack)
  // Hybrid memory: the state-copy indices and their views; the next Mamba2 block's conv
  // state and its gathered rows (expanded()).
  TensorId s_copy_ = -1, s_copy_main_ = -1, s_copy_extra_ = -1;
  State conv_state_;
  TensorId conv_rows_ = -1;
  // qwen3next's gated attention: the reshaped Q projection the gate is viewed from.
  TensorId q_full_ = -1;
  bool defer_expanded_ = false;  // expanded() of the next block after the routed experts
};

}  // namespace

// Gemma 3n's graph and the encoders' have builders of their own (graph_gemma3n.cpp,
// graph_encoder.cpp).
bool graph_modelled(const ModelSpec& spec) {
  return traits(spec).has_value() || detail::gemma3n_graph(spec) || detail::encoder_graph(spec);
}

// The no-cache encoders' graphs are (bert, nomic-bert, gemma-embedding), llama4's (its experts'
// input a REPEAT), gemma3n's (SQR, SQRT, SUB, REPEAT, MEAN) and Qwen3-VL's with DeepStack inputs
// (qwen3vl, qwen3vlmoe: the PAD of their embeddings has backend rules, sched.cpp): exact on
// every buffer of their Vulkan runs (bench/accuracy/vulkan/llamacpp-vulkan-archs.jsonl,
// llamacpp-vulkan-llama4-gemma3n.jsonl, llamacpp-vulkan-deepstack.jsonl); so are the hybrids'
// below (their recurrent ops' backend rules: sched::GpuRules).
namespace {

// The hybrid recurrent families whose GPU plans take the scheduler replay: measured on Vulkan
// (bench/accuracy/vulkan/llamacpp-vulkan-hybrid.jsonl, grid-vulkan-hybrid.json), one flag per
// family.
bool hybrid_schedule_modelled(const Architecture& a) {
  if (a.mamba2_mixer) return true;     // granitehybrid
  if (a.gated_delta_net) return true;  // qwen3next
  return false;
}

}  // namespace

bool schedule_modelled(const ModelSpec& spec) {
  if (!graph_modelled(spec)) return false;
  return spec.recurrent.layers.empty() || hybrid_schedule_modelled(architecture(spec.arch));
}

namespace {

// llama_context::graph_reserve makes n_tokens a multiple of n_seq_max (one ubatch row per
// sequence).
std::int64_t reserve_tokens(const ComputeParams& p) {
  const std::int64_t n_seq = std::max<std::int64_t>(1, p.n_seq);
  return (p.shape.n_ubatch + n_seq - 1) / n_seq * n_seq;
}

}  // namespace

graph::Graph reserve_graph(const ModelSpec& spec, const ComputeParams& params, bool with_output,
                           const WeightBytes* weights) {
  if (detail::gemma3n_graph(spec)) {
    return detail::gemma3n_reserve_graph(spec, params, reserve_tokens(params), params.n_outputs,
                                         weights, false, Graph{}, with_output);
  }
  if (detail::encoder_graph(spec)) {  // no output head: the graph is the same either way
    return detail::encoder_reserve_graph(spec, params, reserve_tokens(params), params.n_outputs,
                                         weights, false, Graph{});
  }
  const std::optional<Traits> t = traits(spec);
  if (!t) throw std::logic_error("reserve_graph: architecture not modelled");
  return Builder(spec, params, *t, reserve_tokens(params), params.n_outputs, weights)
      .build(with_output);
}

graph::Graph reserve_graph(const ModelSpec& spec, const ComputeParams& params,
                           std::int64_t n_tokens, std::int64_t n_outputs,
                           const WeightBytes* weights, Graph* storage) {
  if (detail::gemma3n_graph(spec)) {
    return detail::gemma3n_reserve_graph(spec, params, n_tokens, n_outputs, weights, false,
                                         storage != nullptr ? std::move(*storage) : Graph{});
  }
  if (detail::encoder_graph(spec)) {
    return detail::encoder_reserve_graph(spec, params, n_tokens, n_outputs, weights, false,
                                         storage != nullptr ? std::move(*storage) : Graph{});
  }
  const std::optional<Traits> t = traits(spec);
  if (!t) throw std::logic_error("reserve_graph: architecture not modelled");
  Builder builder(spec, params, *t, n_tokens, n_outputs, weights);
  if (storage != nullptr) builder.reuse(std::move(*storage));
  return builder.build(true);
}

std::int64_t reserve_n_tokens(const ComputeParams& params) { return reserve_tokens(params); }

std::optional<GraphCompute> graph_compute_buffer(const ModelSpec& spec,
                                                 const ComputeParams& params) {
  const std::optional<Traits> t = traits(spec);
  const bool gemma3n = detail::gemma3n_graph(spec);
  const bool encoder = detail::encoder_graph(spec);
  if (!t && !gemma3n && !encoder) return std::nullopt;
  constexpr Bytes kCpuAlignment = 32;  // TENSOR_ALIGNMENT, the CPU buffer type's alignment
  // sched_reserve sizes the buffer for the prompt graph and for the generation graph (one
  // token and one output per sequence); it keeps the larger.
  // One replay gives both sizes: the graph without the output head is the graph with it, cut
  // before the head (graph_alloc.hpp).
  // The graphs are built one after the other in the same storage (one per thread), so a
  // replay does not allocate and first touch a new tensor array: only the sizes come out.
  thread_local Graph storage;
  auto replay = [&](std::int64_t n_tokens, std::int64_t n_outputs) {
    Graph graph;
    if (gemma3n) {
      graph = detail::gemma3n_reserve_graph(spec, params, n_tokens, n_outputs, nullptr, true,
                                            std::move(storage));
    } else if (encoder) {
      graph = detail::encoder_reserve_graph(spec, params, n_tokens, n_outputs, nullptr, true,
                                            std::move(storage));
    } else {
      Builder builder(spec, params, *t, n_tokens, n_outputs);
      builder.share_externals();
      builder.reuse(std::move(storage));
      graph = builder.build(true);
    }
    const graph::AllocatedSize a = graph::allocated_size(graph, kCpuAlignment);
    storage = std::move(graph);
    return GraphCompute{.with_output = a.total, .without_output = a.before_head};
  };
  GraphCompute out = replay(reserve_tokens(params), params.n_outputs);
  const std::int64_t n_seq = std::max<std::int64_t>(1, params.n_seq);
  if (n_seq > 1) {
    const GraphCompute tg = replay(n_seq, n_seq);
    out.with_output = std::max(out.with_output, tg.with_output);
    out.without_output = std::max(out.without_output, tg.without_output);
  }
  return out;
}

}  // namespace vramplan
