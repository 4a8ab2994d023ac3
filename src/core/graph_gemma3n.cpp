#include "graph_gemma3n.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string_view>
#include <utility>
#include <vector>

#include <vramplan/architecture.hpp>
#include <vramplan/bytes.hpp>
#include <vramplan/ggml_type.hpp>

// Gemma 3n's graph as llama.cpp builds it (src/models/gemma3n.cpp, llm_graph_context in
// src/llama-graph.cpp, build b10309 as bundled with node-llama-cpp 3.22.1): the token
// embeddings scaled and stacked into four AltUp streams (the three extra ones projected and
// rescaled to the first one's magnitude); the per-layer inputs (per_layer_token_embd rows plus
// a projection of the embeddings, [256, n_tokens, n_layer] made contiguous); in every block
// AltUp's prediction (a router over the active stream, a 4 x 4 mix of the streams), LAuReL's
// low-rank branch, gemma's attention with a weightless V norm (the blocks past the first 20
// read the cache of the last block of their kind before them and store nothing), a GELU FFN
// whose first 10 blocks cut the gate at mean + 1.645 std, AltUp's correction and the per-layer
// input gate; after the blocks the streams merged back into one.
//
// Unlike the shared builder (reserve_graph.cpp), which appends nodes in execution order as it
// goes, this one records llama.cpp's tensors as they are created and appends them to the graph
// only at each ggml_build_forward_expand, depth-first and sources in order, as ggml_visit_parents
// does: gemma3n's code creates many tensors long before their first expand (LAuReL, the
// per-layer inputs, the AltUp magnitudes), and the order decides what the allocator reuses.
// Only sizes, sources, views, in-place ops and outputs are kept (docs/memory-model.md §5).

namespace vramplan::detail {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Op;
using graph::TensorId;
using Shape = Graph::Shape;

constexpr std::string_view kWhat = "the compute buffer";  // docs/reliability.md §4
constexpr std::int32_t kSparseLayers = 10;                // n_layer_sparsity (src/models/models.h)

// One tensor as llama.cpp's graph code creates it; `id` once it is in the graph.
struct Lazy {
  enum class Kind : std::uint8_t { input, external, op, reshape, view, ext_view, store };
  Kind kind = Kind::op;
  Op op = Op::input;
  Elem elem = Elem::f32;
  Shape ne{1, 1, 1, 1};
  bool contiguous = true;
  Shape nb{0, 0, 0, 0};
  graph::ViewOp view_op = graph::ViewOp::view;
  std::array<std::int32_t, 4> src{-1, -1, -1, -1};
  graph::Memory memory = graph::Memory::none;
  std::int32_t layer = -1;
  Bytes bytes = 0;
  bool output = false;
  std::int32_t fa_layer = -1;  // a flash-attention node: its cache's f16 copies
  TensorId id = -1;
};

using L = std::int32_t;  // a Lazy's index

class Gemma3nBuilder {
 public:
  Gemma3nBuilder(const ModelSpec& spec, const ComputeParams& p, std::int64_t n_tokens,
                 std::int64_t n_outputs, const WeightBytes* weights, bool share_externals)
      : spec_(spec),
        p_(p),
        weights_(weights),
        share_(share_externals),
        n_t_(n_tokens),
        n_out_(n_outputs),
        n_stream_(p.shape.n_stream),
        e_(spec.n_embd),
        head_k_(spec.head_dim_k()),
        head_v_(spec.head_dim_v()) {
    const CacheRotation rot = cache_rotation(head_k_, head_v_, p.type_k, p.type_v);
    rot_k_ = rot.k;
    rot_v_ = rot.v;
    nrot_ = rot.nrot;
    layers_.reserve(static_cast<std::size_t>(spec.n_layer));
    for (std::int32_t il = 0; il < spec.n_layer; ++il) layers_.push_back(layer_attention(spec, il));
    // The blocks without a cache read the last block of their kind (sliding or not) that has
    // one (llama_model's layer reuse for gemma3n: n_layer_kv_from_start - 2 or - 1).
    kv_of_.resize(static_cast<std::size_t>(spec.n_layer));
    for (std::int32_t il = 0; il < spec.n_layer; ++il) {
      std::int32_t src = il;
      if (!layers_[static_cast<std::size_t>(il)].has_kv) {
        for (std::int32_t j = il - 1; j >= 0; --j) {
          const LayerAttention& a = layers_[static_cast<std::size_t>(j)];
          if (a.has_kv && a.swa == layers_[static_cast<std::size_t>(il)].swa) {
            src = j;
            break;
          }
        }
      }
      kv_of_[static_cast<std::size_t>(il)] = src;
      widest_v_ = std::max(widest_v_, layers_[static_cast<std::size_t>(src)].v_width);
    }
    caches_[0].cells = p.shape.n_ctx_seq;
    caches_[1].cells = p.shape.n_swa_cells;
  }

  // Builds into `storage` (emptied first); `tensors` is the record's storage, kept from graph
  // to graph by the caller (a planner's search builds thousands).
  Graph build(Graph&& storage, std::vector<Lazy>& tensors, bool with_output) {
    g_ = std::move(storage);
    g_.clear();
    t_ = std::move(tensors);
    t_.clear();
    router_block_ = -1;
    const Release release{t_, tensors};
    t_.reserve(static_cast<std::size_t>(spec_.n_layer) * 200 + 64);
    g_.reserve(static_cast<std::size_t>(spec_.n_layer) * 140 + 64);
    const std::int64_t n_layer = spec_.n_layer;
    const std::int64_t n_alt = kAltupStreams;
    const std::int64_t pl = kAltupPerLayerEmbd;
    const std::int32_t n_out_layer = spec_.n_layer;

    // build_inp_embd: the token ids and the embeddings input (ggml_build_forward_select keeps
    // both), the rows expanded.
    const L tokens = input(Elem::i32, {n_t_, 1, 1, 1});
    emit(tokens);
    emit(input(Elem::f32, {e_, n_t_, 1, 1}));
    const L embd =
        op(Op::get_rows, {e_, n_t_, 1, 1}, {weight("token_embd.weight", -1, -1), tokens});
    emit(embd);
    L inp = op(Op::scale, {e_, n_t_, 1, 1}, {embd});
    pos_ = input(Elem::i32, {n_t_, 1, 1, 1});

    // build_inp_per_layer (its own token ids), expanded; project_per_layer_inputs.
    const L pl_tokens = input(Elem::i32, {n_t_, 1, 1, 1});
    L per_layer = op(Op::get_rows, {pl * n_layer, n_t_, 1, 1},
                     {weight("per_layer_token_embd.weight", -1, -1), pl_tokens});
    per_layer = reshape(per_layer, {pl, n_layer, n_t_, 1});
    per_layer = op(Op::scale, {pl, n_layer, n_t_, 1}, {per_layer});
    emit(per_layer);
    {
      L proj = op(Op::mul_mat, {pl * n_layer, n_t_, 1, 1},
                  {weight("per_layer_model_proj.weight", -1, 0), inp});
      proj = op(Op::scale, {pl * n_layer, n_t_, 1, 1}, {proj});
      proj = reshape(proj, {pl, n_layer, n_t_, 1});
      proj = norm(proj, 0);
      L sum = op(Op::add, {pl, n_layer, n_t_, 1}, {proj, per_layer});
      sum = op(Op::scale, {pl, n_layer, n_t_, 1}, {sum});
      per_layer_ =
          op(Op::cont, {pl, n_t_, n_layer, 1}, {reshape(sum, {pl, n_t_, n_layer, 1}, false)});
    }

    // The extra streams: the embeddings repeated, projected, rescaled to their magnitude.
    {
      const L target = magnitude(inp);
      const L repeated = op(Op::repeat, {e_, n_t_, n_alt - 1, 1}, {inp});
      L added = op(Op::mul_mat, {e_, n_t_, n_alt - 1, 1},
                   {weight("altup_proj.weight", -1, n_out_layer), repeated});
      const L mag = magnitude(added);
      added = op(Op::mul, {e_, n_t_, n_alt - 1, 1}, {added, target});
      added = op(Op::div, {e_, n_t_, n_alt - 1, 1}, {added, mag});
      inp = op(Op::concat, {e_, n_t_, n_alt, 1}, {inp, added});
    }

    for (il_ = 0; il_ < spec_.n_layer; ++il_) inp = layer(il_, inp);

    // The streams merged back: the extra ones unembedded and rescaled to the active one's
    // magnitude, the four averaged. Everything from here runs with the output layer.
    emit(inp);
    if (!with_output) return std::move(g_);
    g_.mark_head();
    il_ = spec_.n_layer;
    const L target = magnitude(slice(inp));
    const L rest = view(inp, {e_, n_t_, n_alt - 1, 1});
    L unembd = op(Op::mul_mat, {e_, n_t_, n_alt - 1, 1},
                  {weight("altup_unembd_proj.weight", -1, n_out_layer), rest});
    const L mag = magnitude(unembd);
    unembd = op(Op::mul, {e_, n_t_, n_alt - 1, 1}, {unembd, target});
    unembd = op(Op::div, {e_, n_t_, n_alt - 1, 1}, {unembd, mag});
    L cur = slice(inp);
    for (std::int64_t i = 0; i < n_alt - 1; ++i) {
      cur = op(Op::add, {e_, n_t_, 1, 1}, {cur, slice(unembd)});
    }
    cur = op(Op::scale, {e_, n_t_, 1, 1}, {cur});
    cur = op(Op::get_rows, {e_, n_out_, 1, 1}, {cur, input(Elem::i32, {n_out_, 1, 1, 1})});
    cur = norm(cur, n_out_layer);
    t_[static_cast<std::size_t>(cur)].output = true;
    const Shape logits_ne{spec_.n_vocab, n_out_, 1, 1};
    L logits = op(Op::mul_mat, logits_ne, {weight("output.weight", -1, n_out_layer), cur});
    logits = op(Op::scale, logits_ne, {logits});  // soft-capping: scale, tanh, scale
    logits = op(Op::unary, logits_ne, {logits});
    logits = op(Op::scale, logits_ne, {logits});
    t_[static_cast<std::size_t>(logits)].output = true;
    emit(logits);
    return std::move(g_);
  }

 private:
  // Hands the record's storage back to the caller however build() ends.
  struct Release {
    std::vector<Lazy>& from;
    std::vector<Lazy>& to;
    ~Release() { to = std::move(from); }
  };

  struct Cache {
    std::int64_t cells = 0;  // per stream
    L k_rot = -1, v_rot = -1, k_idxs = -1, v_idxs = -1, mask = -1;
  };

  // --- recording tensors ---------------------------------------------------------------
  L add_lazy(Lazy t) {
    t_.push_back(t);
    return static_cast<L>(t_.size() - 1);
  }
  L input(Elem elem, Shape ne) {
    return add_lazy({.kind = Lazy::Kind::input, .op = Op::input, .elem = elem, .ne = ne});
  }
  L op(Op o, Shape ne, std::initializer_list<L> srcs, Elem elem = Elem::f32) {
    Lazy t{.kind = Lazy::Kind::op, .op = o, .elem = elem, .ne = ne};
    std::size_t i = 0;
    for (L s : srcs) t.src[i++] = s;
    return add_lazy(t);
  }
  // ggml_reshape_* (contiguous) or ggml_permute / ggml_transpose (not).
  L reshape(L parent, Shape ne, bool contiguous = true) {
    return add_lazy({.kind = Lazy::Kind::reshape,
                     .ne = ne,
                     .contiguous = contiguous,
                     .src = {parent, -1, -1, -1}});
  }
  // ggml_view_*.
  L view(L parent, Shape ne, bool contiguous = true, Shape nb = {0, 0, 0, 0}) {
    return add_lazy({.kind = Lazy::Kind::view,
                     .ne = ne,
                     .contiguous = contiguous,
                     .nb = nb,
                     .src = {parent, -1, -1, -1}});
  }
  // gemma3n_view_2d_slice: one stream of [n_embd, n_tokens, streams] (which one does not
  // matter to the allocator: a view is its root's memory).
  L slice(L parent) {
    const Shape& ne = t_[static_cast<std::size_t>(parent)].ne;
    return view(parent, {ne[0], ne[1], 1, 1});
  }
  L ext_view(L parent, graph::ViewOp v) {
    return add_lazy({.kind = Lazy::Kind::ext_view, .view_op = v, .src = {parent, -1, -1, -1}});
  }
  L store(std::initializer_list<L> srcs) {
    Lazy t{.kind = Lazy::Kind::store};
    std::size_t i = 0;
    for (L s : srcs) t.src[i++] = s;
    return add_lazy(t);
  }
  // A weight named `role` (a global name when `block` < 0, else blk.{block}.{role}) that
  // llama.cpp places with block `owner` (-1 the input layer, n_layer the output layer:
  // llm_tensor_info_mapping in src/llama-arch.cpp).
  L weight(std::string_view role, std::int32_t block, std::int32_t owner) {
    const Bytes bytes = weights_ != nullptr ? (*weights_)(block, role) : 0;
    return add_lazy({.kind = Lazy::Kind::external,
                     .op = Op::external,
                     .memory = graph::Memory::weight,
                     .layer = owner,
                     .bytes = bytes});
  }
  L block_weight(std::string_view role) { return weight(role, il_, il_); }
  // An F32 norm weight of n elements.
  L norm_weight(std::int64_t n, std::int32_t layer) {
    return add_lazy({.kind = Lazy::Kind::external,
                     .op = Op::external,
                     .memory = graph::Memory::weight,
                     .layer = layer,
                     .bytes = checked_mul(n, 4, kWhat)});
  }
  // The K (or V) view of block il's cache (the block whose cache il reads).
  L cache_view(std::int32_t il, bool v) {
    const std::int32_t src = kv_of_[static_cast<std::size_t>(il)];
    const LayerAttention& a = layers_[static_cast<std::size_t>(src)];
    const std::int64_t cells = checked_mul(cache_of(il).cells, n_stream_, kWhat);
    const Bytes row = row_bytes(v ? p_.type_v : p_.type_k, v ? a.v_width : a.k_width);
    return add_lazy({.kind = Lazy::Kind::external,
                     .op = Op::external,
                     .memory = graph::Memory::cache,
                     .layer = src,
                     .bytes = checked_mul(row, cells, kWhat)});
  }

  // --- appending to the graph (ggml_build_forward_expand) -------------------------------
  TensorId emit(L l) {
    // emit() records nothing new, so t_ keeps its storage and the reference stays valid.
    const Lazy& x = t_[static_cast<std::size_t>(l)];
    if (x.id >= 0) return x.id;
    std::array<TensorId, 4> s{-1, -1, -1, -1};
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (x.src[i] >= 0) s[i] = emit(x.src[i]);
    }
    TensorId id = -1;
    switch (x.kind) {
      case Lazy::Kind::input:
        id = g_.input(x.elem, x.ne);
        break;
      case Lazy::Kind::external:
        if (share_ && shared_ >= 0) {
          id = shared_;
        } else {
          id = g_.external(x.memory, x.layer, x.bytes);
          if (share_) shared_ = id;
        }
        break;
      case Lazy::Kind::reshape:
        id = g_.view(s[0], x.ne, x.contiguous);
        break;
      case Lazy::Kind::view:
        id = g_.view_of(s[0], x.ne, x.contiguous, x.nb);
        break;
      case Lazy::Kind::ext_view:
        id = g_.external_view(s[0], x.view_op);
        break;
      case Lazy::Kind::store:
        id = store_node(s);
        break;
      case Lazy::Kind::op:
        id = op_node(x, s);
        break;
    }
    t_[static_cast<std::size_t>(l)].id = id;
    if (x.output) g_.mark_output(id);
    return id;
  }
  TensorId store_node(const std::array<TensorId, 4>& s) {
    if (s[2] >= 0) return g_.store({s[0], s[1], s[2]});
    if (s[1] >= 0) return g_.store({s[0], s[1]});
    return g_.store({s[0]});
  }
  TensorId op_node(const Lazy& x, const std::array<TensorId, 4>& s) {
    TensorId id = -1;
    if (s[3] >= 0) {
      id = g_.op(x.op, x.elem, x.ne, {s[0], s[1], s[2], s[3]});
    } else if (s[2] >= 0) {
      id = g_.op(x.op, x.elem, x.ne, {s[0], s[1], s[2]});
    } else if (s[1] >= 0) {
      id = g_.op(x.op, x.elem, x.ne, {s[0], s[1]});
    } else {
      id = g_.op(x.op, x.elem, x.ne, {s[0]});
    }
    if (x.fa_layer >= 0) f16_copies(id, x.fa_layer);
    return id;
  }

  // The f16 copies of a quantized cache's K and V views a CUDA flash-attention kernel may
  // need (reserve_graph.cpp's f16_copies, which this mirrors).
  void f16_copies(TensorId fa, std::int32_t il) {
    const LayerAttention& a =
        layers_[static_cast<std::size_t>(kv_of_[static_cast<std::size_t>(il)])];
    const std::int64_t cells = checked_mul(cache_of(il).cells, n_stream_, kWhat);
    const auto copy = [&](GgmlType type, std::int64_t width) -> Bytes {
      if (type == GgmlType::f16) return 0;
      return checked_mul(checked_mul(width, cells, kWhat), 2, kWhat);
    };
    const GgmlType tk = p_.type_k;
    const bool pair = p_.type_k == p_.type_v && (tk == GgmlType::f16 || tk == GgmlType::q4_0 ||
                                                 tk == GgmlType::q8_0 || tk == GgmlType::bf16);
    const std::int64_t head = g_.at(g_.at(fa).src[0]).ne[0];
    g_.set_f16_copies(fa, copy(p_.type_k, a.k_width), copy(p_.type_v, a.v_width),
                      pair && (head == 64 || head == 128 || head == 256));
  }

  // --- pieces of the graph --------------------------------------------------------------
  Cache& cache_of(std::int32_t il) {
    return caches_[layers_[static_cast<std::size_t>(il)].swa ? 1 : 0];
  }
  L lazy_input(L& slot, Elem elem, Shape ne) {
    if (slot < 0) slot = input(elem, ne);
    return slot;
  }
  L k_rot(Cache& c) { return lazy_input(c.k_rot, Elem::f32, {nrot_, nrot_, 1, 1}); }
  L v_rot(Cache& c) { return lazy_input(c.v_rot, Elem::f32, {64, 64, 1, 1}); }
  L k_idxs(Cache& c) { return lazy_input(c.k_idxs, Elem::i64, {n_t_, 1, 1, 1}); }
  L v_idxs(Cache& c) {
    return lazy_input(c.v_idxs, Elem::i64, {p_.flash_attn ? n_t_ : n_t_ * widest_v_, 1, 1, 1});
  }
  L mask(Cache& c) {
    return lazy_input(c.mask, p_.flash_attn ? Elem::f16 : Elem::f32,
                      {c.cells, n_t_ / n_stream_, 1, n_stream_});
  }

  const Shape& ne_of(L l) const { return t_[static_cast<std::size_t>(l)].ne; }

  // build_norm (LLM_NORM_RMS): rms_norm, then the F32 weight (placed with block `owner`).
  L norm(L x, std::int32_t owner) {
    const Shape ne = ne_of(x);
    const L n = op(Op::rms_norm, ne, {x});
    return op(Op::mul, ne, {n, norm_weight(ne[0], owner)});
  }
  L block_norm(L x) { return norm(x, il_); }

  // calc_magnitude: sqrt(sum_rows(sqr(x))).
  L magnitude(L x) {
    const Shape ne = ne_of(x);
    const Shape rows{1, ne[1], ne[2], ne[3]};
    return op(Op::sqrt, rows, {op(Op::sum_rows, rows, {op(Op::sqr, ne, {x})})});
  }

  // llama_mul_mat_hadamard.
  L rotate(L x, L rot, std::int64_t size) {
    const Shape ne = ne_of(x);
    const std::int64_t n =
        checked_mul(checked_mul(checked_mul(ne[0], ne[1], kWhat), ne[2], kWhat), ne[3], kWhat);
    const bool contiguous = t_[static_cast<std::size_t>(x)].contiguous;
    const L rows =
        contiguous ? reshape(x, {size, n / size, 1, 1}) : op(Op::cont, {size, n / size, 1, 1}, {x});
    return reshape(op(Op::mul_mat, {size, n / size, 1, 1}, {rot, rows}), ne);
  }

  // altup_compute_router_modalities: [4, n_tokens].
  // The router runs twice per block (prediction and correction) over the same two weights:
  // one tensor each, as in llama.cpp, so that a GPU split copies each once (sched.cpp).
  L router(L x) {
    if (router_block_ != il_) {
      router_block_ = il_;
      router_norm_ = norm_weight(e_, il_);
      router_weight_ = block_weight("altup_router.weight");
    }
    const Shape ne = ne_of(x);
    L r = op(Op::mul, ne, {op(Op::rms_norm, ne, {x}), router_norm_});
    r = op(Op::scale, ne_of(r), {r});
    r = op(Op::mul_mat, {kAltupStreams, n_t_, 1, 1}, {router_weight_, r});
    return op(Op::unary, {kAltupStreams, n_t_, 1, 1}, {r});
  }

  L layer(std::int32_t il, L cur) {
    const std::int64_t n_alt = kAltupStreams;
    const Shape streams{e_, n_t_, n_alt, 1};
    const Shape one{e_, n_t_, 1, 1};

    // altup_predict.
    L predictions = -1;
    {
      const L modalities = router(slice(cur));
      L coefs = op(Op::mul_mat, {n_alt * n_alt, n_t_, 1, 1},
                   {block_weight("altup_predict_coef.weight"), modalities});
      coefs = reshape(coefs, {n_alt, n_alt, n_t_, 1});
      const L permuted =
          op(Op::cont, {n_alt, e_, n_t_, 1}, {reshape(cur, {n_alt, e_, n_t_, 1}, false)});
      L mixed = op(Op::mul_mat, {e_, n_alt, n_t_, 1}, {permuted, coefs});
      mixed = op(Op::cont, streams, {reshape(mixed, streams, false)});
      predictions = op(Op::add, streams, {mixed, cur});
    }
    const L active = slice(predictions);
    const L x = block_norm(active);

    // LAuReL: [64] low-rank branch, normed, plus its input.
    L laurel = op(Op::mul_mat, {kLaurelRank, n_t_, 1, 1}, {block_weight("laurel_l.weight"), x});
    laurel = op(Op::mul_mat, one, {block_weight("laurel_r.weight"), laurel});
    laurel = block_norm(laurel);
    laurel = op(Op::add, one, {laurel, x});

    L attn = attention(il, x);
    attn = block_norm(attn);
    attn = op(Op::add, one, {attn, active});
    L attn_laurel = op(Op::add, one, {attn, laurel});
    attn_laurel = op(Op::scale, one, {attn_laurel});

    // The FFN: up, gate (sparsified in the first blocks), GELU, product, down.
    const L h = block_norm(attn_laurel);
    const std::int64_t ff = spec_.n_ff_at(il);
    const Shape ffs{ff, n_t_, 1, 1};
    const L up = op(Op::mul_mat, ffs, {block_weight("ffn_up.weight"), h});
    L gate = op(Op::mul_mat, ffs, {block_weight("ffn_gate.weight"), h});
    if (il < kSparseLayers) gate = gaussian_topk(gate);
    gate = op(Op::unary, ffs, {gate});
    L ffn = op(Op::mul, ffs, {up, gate});
    ffn = op(Op::mul_mat, one, {block_weight("ffn_down.weight"), ffn});
    ffn = block_norm(ffn);
    const L gated = op(Op::add, one, {ffn, attn_laurel});

    // altup_correct.
    L corrected = -1;
    {
      const L modalities = router(gated);
      const L innovation = op(Op::sub, one, {gated, slice(predictions)});
      L coefs = op(Op::mul_mat, {n_alt, n_t_, 1, 1},
                   {block_weight("altup_correct_coef.weight"), modalities});
      coefs = op(Op::scale, {n_alt, n_t_, 1, 1}, {coefs});
      coefs = op(Op::cont, {1, n_t_, n_alt, 1}, {reshape(coefs, {n_t_, n_alt, 1, 1}, false)});
      const L repeated = op(Op::repeat, streams, {innovation});
      corrected = op(Op::mul, streams, {repeated, coefs});
      corrected = op(Op::add, streams, {corrected, predictions});
    }

    // The per-layer input gate on the active stream, added to the other three.
    L first = slice(corrected);
    L rest = view(corrected, {e_, n_t_, n_alt - 1, 1});
    L fp = slice(corrected);
    fp = op(Op::mul, one, {fp, norm_weight(e_, il)});
    fp = op(Op::mul_mat, {kAltupPerLayerEmbd, n_t_, 1, 1}, {block_weight("inp_gate.weight"), fp});
    fp = op(Op::unary, {kAltupPerLayerEmbd, n_t_, 1, 1}, {fp});
    fp = op(Op::mul, {kAltupPerLayerEmbd, n_t_, 1, 1},
            {fp, view(per_layer_, {kAltupPerLayerEmbd, n_t_, 1, 1})});
    fp = op(Op::mul_mat, one, {block_weight("proj.weight"), fp});
    fp = block_norm(fp);
    const L added = op(Op::add, {e_, n_t_, n_alt - 1, 1}, {rest, fp});
    return op(Op::concat, streams, {first, added});
  }

  // gaussian_topk: x - (mean + 1.645 std), ReLU.
  L gaussian_topk(L x) {
    const Shape ne = ne_of(x);
    const Shape rows{1, ne[1], 1, 1};
    const L mean = op(Op::mean, rows, {x});
    L sd = op(Op::sqr, ne, {op(Op::sub, ne, {x, mean})});
    sd = op(Op::scale, rows, {op(Op::sum_rows, rows, {sd})});
    sd = op(Op::scale, rows, {op(Op::sqrt, rows, {sd})});
    const L cutoff = op(Op::add, rows, {mean, sd});
    return op(Op::unary, ne, {op(Op::sub, ne, {x, cutoff})});
  }

  // The attention of block il up to its output projection (build_attn with the iSWA cache).
  L attention(std::int32_t il, L x) {
    const std::int64_t n_head = spec_.n_head;
    const LayerAttention& own = layers_[static_cast<std::size_t>(il)];
    const LayerAttention& a =
        layers_[static_cast<std::size_t>(kv_of_[static_cast<std::size_t>(il)])];
    const std::int64_t n_kv_head = a.k_width / head_k_;
    Cache& kv = cache_of(il);

    L q = op(Op::mul_mat, {n_head * head_k_, n_t_, 1, 1}, {block_weight("attn_q.weight"), x});
    q = reshape(q, {head_k_, n_head, n_t_, 1});
    q = block_norm(q);
    q = op(Op::rope, ne_of(q), {q, pos_});
    L k = -1, v = -1;
    if (own.has_kv) {
      k = op(Op::mul_mat, {n_kv_head * head_k_, n_t_, 1, 1}, {block_weight("attn_k.weight"), x});
      k = reshape(k, {head_k_, n_kv_head, n_t_, 1});
      k = block_norm(k);
      k = op(Op::rope, ne_of(k), {k, pos_});
      v = op(Op::mul_mat, {n_kv_head * head_v_, n_t_, 1, 1}, {block_weight("attn_v.weight"), x});
      v = reshape(v, {head_v_, n_kv_head, n_t_, 1});
      v = op(Op::rms_norm, ne_of(v), {v});
    }
    if (rot_k_) {
      q = rotate(q, k_rot(kv), nrot_);
      if (k >= 0) k = rotate(k, k_rot(kv), nrot_);
    }
    if (rot_v_ && v >= 0) v = rotate(v, v_rot(kv), 64);
    emit(q);
    if (k >= 0) emit(k);
    if (v >= 0) emit(v);

    const L k_cache = cache_view(il, false);
    const L v_cache = cache_view(il, true);
    if (own.has_kv) {
      // cpy_k, cpy_v (set_rows into the cache; V transposed without flash attention).
      const L k_rows = view(k, {n_kv_head * head_k_, n_t_, 1, 1});
      const L k_dst = n_stream_ > 1 ? ext_view(k_cache, graph::ViewOp::reshape) : k_cache;
      emit(store({k_rows, k_idxs(kv), k_dst}));
      if (p_.flash_attn) {
        const L v_rows = view(v, {n_kv_head * head_v_, n_t_, 1, 1});
        const L v_dst = n_stream_ > 1 ? ext_view(v_cache, graph::ViewOp::reshape) : v_cache;
        emit(store({v_rows, v_idxs(kv), v_dst}));
      } else {
        const L v2 = reshape(v, {n_kv_head * head_v_, n_t_, 1, 1});
        const L v_rows = reshape(v2, {1, n_kv_head * head_v_ * n_t_, 1, 1});
        const L v_dst = ext_view(v_cache, graph::ViewOp::reshape);
        emit(store({v_rows, v_idxs(kv), v_dst}));
      }
    }

    // build_attn_mha over one stream's cells per ubatch token.
    const std::int64_t n_ts = n_t_ / n_stream_;
    const L qv = view(q, {head_k_, n_head, n_ts, n_stream_});
    const L qp = reshape(qv, {head_k_, n_ts, n_head, n_stream_}, false);
    auto permuted = [&](L cache) {
      return ext_view(ext_view(cache, graph::ViewOp::view), graph::ViewOp::permute);
    };
    L out = -1;
    if (p_.flash_attn) {
      const L fa = op(Op::flash_attn, {head_v_, n_head, n_ts, n_stream_},
                      {qp, permuted(k_cache), permuted(v_cache), mask(kv)});
      t_[static_cast<std::size_t>(fa)].fa_layer = il;
      out = reshape(fa, {head_v_ * n_head, n_t_, 1, 1});
    } else {
      const Shape scores{kv.cells, n_ts, n_head, n_stream_};
      const L kp = permuted(k_cache);
      const L vp = permuted(v_cache);
      L kq = op(Op::mul_mat, scores, {kp, qp});
      kq = op(Op::soft_max, scores, {kq, mask(kv)});
      const L kqv = op(Op::mul_mat, {head_v_, n_ts, n_head, n_stream_}, {vp, kq});
      const L perm = reshape(kqv, {head_v_, n_head, n_ts, n_stream_}, false);
      out = op(Op::cont, {head_v_ * n_head, n_t_, 1, 1}, {perm});
    }
    emit(out);
    if (rot_v_) out = rotate(out, v_rot(kv), 64);
    return op(Op::mul_mat, {e_, n_t_, 1, 1}, {block_weight("attn_output.weight"), out});
  }

  const ModelSpec& spec_;
  const ComputeParams& p_;
  const WeightBytes* weights_;
  bool share_;
  std::int64_t n_t_, n_out_, n_stream_, e_, head_k_, head_v_;
  bool rot_k_ = false, rot_v_ = false;
  std::int64_t nrot_ = 64;
  std::int32_t il_ = -1;
  std::vector<LayerAttention> layers_;
  std::vector<std::int32_t> kv_of_;  // the block whose cache each block reads
  std::int64_t widest_v_ = 0;
  std::array<Cache, 2> caches_{};  // [0] full attention, [1] sliding window
  std::vector<Lazy> t_;
  Graph g_;
  TensorId shared_ = -1;
  L pos_ = -1, per_layer_ = -1;
  // The block whose router weights router() made, and those weights.
  std::int32_t router_block_ = -1;
  L router_norm_ = -1, router_weight_ = -1;
};

}  // namespace

bool gemma3n_graph(const ModelSpec& spec) {
  // The family is told by its descriptor (Architecture::altup), not its name.
  return architecture(spec.arch).altup && spec.causal && !spec.moe.present() && spec.n_nextn == 0 &&
         spec.recurrent.layers.empty() && !spec.mla.present() && spec.swa.window > 0 &&
         spec.n_head_kv > 0;
}

graph::Graph gemma3n_reserve_graph(const ModelSpec& spec, const ComputeParams& p,
                                   std::int64_t n_tokens, std::int64_t n_outputs,
                                   const WeightBytes* weights, bool share_externals,
                                   graph::Graph&& storage, bool with_output) {
  thread_local std::vector<Lazy> tensors;
  Gemma3nBuilder b(spec, p, n_tokens, n_outputs, weights, share_externals);
  return b.build(std::move(storage), tensors, with_output);
}

}  // namespace vramplan::detail
