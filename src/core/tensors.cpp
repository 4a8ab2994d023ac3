// Tensor layouts: one generator that builds every family from its descriptor (architecture.hpp).
// Names are llama.cpp's (src/llama-arch.cpp, LLM_TENSOR_NAMES); which tensors exist and their
// shapes follow each model's load_arch_tensors (src/models/<arch>.cpp, formerly
// llama_model::load_tensors in src/llama-model.cpp) for the tensors convert_hf_to_gguf.py
// writes. ne[0] is the input (row) dimension.
#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>

#include "quant_mix.hpp"

namespace vramplan {
namespace {

using Shape = std::array<std::int64_t, 4>;

// Collects tensors in GGUF order and resolves the spec's per-layer values.
class Layout {
 public:
  explicit Layout(const ModelSpec& spec)
      : s_(spec), head_k_(spec.head_dim_k()), head_v_(spec.head_dim_v()) {}

  [[nodiscard]] const ModelSpec& spec() const { return s_; }
  [[nodiscard]] std::vector<TensorInfo> take() { return std::move(tensors_); }

  void add(std::string name, std::int64_t ne0, std::int64_t ne1 = 1, std::int64_t ne2 = 1) {
    TensorInfo t;
    t.name = std::move(name);
    t.ne = Shape{ne0, ne1, ne2, 1};
    tensors_.push_back(std::move(t));
  }
  void blk(std::int32_t il, std::string_view what, std::int64_t ne0, std::int64_t ne1 = 1,
           std::int64_t ne2 = 1) {
    // "blk.<il>.<what>", without a format string (a catalog entry has hundreds of these).
    std::array<char, 16> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), il).ptr;
    const std::string_view number(digits.data(), static_cast<std::size_t>(end - digits.data()));
    std::string name;
    name.reserve(5 + number.size() + what.size());
    name.append("blk.").append(number).append(".").append(what);
    add(std::move(name), ne0, ne1, ne2);
  }

  [[nodiscard]] std::int64_t embd() const { return s_.n_embd; }
  [[nodiscard]] std::int64_t q_width() const { return head_k_ * s_.n_head; }
  [[nodiscard]] std::int64_t head_k() const { return head_k_; }
  [[nodiscard]] std::int64_t k_width(std::int32_t il) const { return head_k_ * n_head_kv(il); }
  [[nodiscard]] std::int64_t v_width(std::int32_t il) const { return head_v_ * n_head_kv(il); }
  [[nodiscard]] std::int64_t o_width() const { return head_v_ * s_.n_head; }
  [[nodiscard]] std::int64_t ff(std::int32_t il) const { return s_.n_ff_at(il); }
  [[nodiscard]] std::int64_t n_head_kv(std::int32_t il) const { return s_.n_head_kv_at(il); }
  // MoE FFN on this block: after the leading dense blocks, on every every_n-th block
  // (llama4's interleave_moe_layer_step: (il + 1) % step == 0).
  [[nodiscard]] bool moe_block(std::int32_t il) const {
    if (!s_.moe.present() || il < s_.moe.n_leading_dense) return false;
    const std::int32_t step = std::max(s_.moe.every_n, 1);
    return (il + 1) % step == 0;
  }
  // --- pieces of a block -------------------------------------------------------------------

  void norm(std::int32_t il, std::string_view name, bool bias) {
    blk(il, std::string(name) + ".weight", embd());
    if (bias) blk(il, std::string(name) + ".bias", embd());
  }
  void attn_qkv(std::int32_t il, bool bias) {
    blk(il, "attn_q.weight", embd(), q_width());
    blk(il, "attn_k.weight", embd(), k_width(il));
    blk(il, "attn_v.weight", embd(), v_width(il));
    if (bias) {
      blk(il, "attn_q.bias", q_width());
      blk(il, "attn_k.bias", k_width(il));
      blk(il, "attn_v.bias", v_width(il));
    }
  }
  void attn_out(std::int32_t il, bool bias) {
    blk(il, "attn_output.weight", o_width(), embd());
    if (bias) blk(il, "attn_output.bias", embd());
  }
  void qk_norm(std::int32_t il, QkNorm kind) {
    switch (kind) {
      case QkNorm::none:
        return;
      case QkNorm::per_head:
        blk(il, "attn_q_norm.weight", head_k());
        blk(il, "attn_k_norm.weight", head_k());
        return;
      case QkNorm::whole:
        blk(il, "attn_q_norm.weight", q_width());
        blk(il, "attn_k_norm.weight", k_width(il));
        return;
      case QkNorm::per_head_2d:
        blk(il, "attn_q_norm.weight", head_k(), s_.n_head);
        blk(il, "attn_k_norm.weight", head_k(), s_.n_head_kv_at(il));
        return;
    }
  }
  // Multi-head latent attention: Q (compressed when q_lora_rank > 0), the compressed KV with
  // the shared rope key, kv_b split into attn_k_b / attn_v_b.
  void mla_attention(std::int32_t il) {
    const Mla& m = s_.mla;
    const std::int64_t n_head = s_.n_head;
    const std::int64_t q_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
    if (m.q_lora_rank > 0) {
      blk(il, "attn_q_a_norm.weight", m.q_lora_rank);
      blk(il, "attn_q_a.weight", embd(), m.q_lora_rank);
      blk(il, "attn_q_b.weight", m.q_lora_rank, n_head * q_head);
    } else {
      blk(il, "attn_q.weight", embd(), n_head * q_head);
    }
    blk(il, "attn_kv_a_norm.weight", m.kv_lora_rank);
    blk(il, "attn_kv_a_mqa.weight", embd(), m.kv_lora_rank + m.qk_rope_head_dim);
    blk(il, "attn_k_b.weight", m.qk_nope_head_dim, m.kv_lora_rank, n_head);
    blk(il, "attn_v_b.weight", m.kv_lora_rank, m.v_head_dim, n_head);
    blk(il, "attn_output.weight", n_head * m.v_head_dim, embd());
  }
  void ffn(std::int32_t il, Ffn kind, std::int64_t n_ff) {
    switch (kind) {
      case Ffn::gated:
        blk(il, "ffn_gate.weight", embd(), n_ff);
        blk(il, "ffn_up.weight", embd(), n_ff);
        blk(il, "ffn_down.weight", n_ff, embd());
        return;
      case Ffn::fused_gated:
        blk(il, "ffn_up.weight", embd(), 2 * n_ff);
        blk(il, "ffn_down.weight", n_ff, embd());
        return;
      case Ffn::plain:
        blk(il, "ffn_up.weight", embd(), n_ff);
        blk(il, "ffn_up.bias", n_ff);
        blk(il, "ffn_down.weight", n_ff, embd());
        blk(il, "ffn_down.bias", embd());
        return;
    }
  }
  // Mamba2 mixer of a recurrent block (llama-model.cpp, LLM_ARCH_GRANITE_HYBRID): in_proj
  // writes z, x, B, C and dt in one matrix; the depthwise conv runs over x, B and C; A, D
  // and the dt bias have one value per SSM head (ssm.time_step_rank); the gated norm is
  // grouped.
  void mamba2_mixer(std::int32_t il) {
    const Recurrent& r = s_.recurrent;
    const std::int64_t groups = std::max<std::int64_t>(1, r.group_count);
    const std::int64_t heads = r.time_step_rank;
    const std::int64_t xbc = r.inner_size + 2 * groups * r.state_size;
    blk(il, "ssm_in.weight", embd(), r.inner_size + xbc + heads);
    blk(il, "ssm_conv1d.weight", r.conv_kernel, xbc);
    blk(il, "ssm_conv1d.bias", xbc);
    blk(il, "ssm_dt.bias", heads);
    blk(il, "ssm_a", 1, heads);
    blk(il, "ssm_d", 1, heads);
    blk(il, "ssm_norm.weight", r.inner_size / groups, groups);
    blk(il, "ssm_out.weight", r.inner_size, embd());
  }
  // Gated DeltaNet mixer of a recurrent block (src/models/qwen3next.cpp, load_arch_tensors):
  // heads of state_size for K (group_count of them) and V (time_step_rank), as llama.cpp
  // derives them from ssm.state_size, ssm.group_count and ssm.time_step_rank.
  void gated_delta_net(std::int32_t il) {
    const Recurrent& r = s_.recurrent;
    const std::int64_t v_heads = r.time_step_rank;
    const std::int64_t key_dim = r.state_size * r.group_count;
    const std::int64_t value_dim = r.state_size * v_heads;
    blk(il, "ssm_in.weight", embd(), 2 * key_dim + 2 * value_dim);
    blk(il, "ssm_conv1d.weight", r.conv_kernel, 2 * key_dim + value_dim);
    blk(il, "ssm_dt.bias", v_heads);
    blk(il, "ssm_a", v_heads);
    blk(il, "ssm_ba.weight", embd(), 2 * v_heads);
    blk(il, "ssm_norm.weight", r.state_size);
    blk(il, "ssm_out.weight", value_dim, embd());
  }
  // Routed experts (one 3-D tensor per projection), their router, and the shared expert.
  void experts(std::int32_t il, const Architecture& a) {
    const Moe& m = s_.moe;
    const std::int64_t n_exp = m.n_expert;
    const std::int64_t width = m.n_ff_exp > 0 ? m.n_ff_exp : ff(il);
    blk(il, "ffn_gate_inp.weight", embd(), n_exp);
    blk(il, "ffn_gate_exps.weight", embd(), width, n_exp);
    blk(il, "ffn_up_exps.weight", embd(), width, n_exp);
    blk(il, "ffn_down_exps.weight", width, embd(), n_exp);
    if (a.expert_biases) {
      blk(il, "ffn_gate_inp.bias", n_exp);
      blk(il, "ffn_gate_exps.bias", width, n_exp);
      blk(il, "ffn_up_exps.bias", width, n_exp);
      blk(il, "ffn_down_exps.bias", embd(), n_exp);
    }
    if (a.selection_bias_from_experts > 0 && m.n_expert >= a.selection_bias_from_experts) {
      blk(il, "exp_probs_b.bias", n_exp);
    }
    const std::int64_t shared = m.shared_width();
    if (shared > 0 || a.shared_expert) {
      const std::int64_t w = shared > 0 ? shared : width;
      blk(il, "ffn_gate_shexp.weight", embd(), w);
      blk(il, "ffn_up_shexp.weight", embd(), w);
      blk(il, "ffn_down_shexp.weight", w, embd());
    }
    if (a.shared_expert_gate) blk(il, "ffn_gate_inp_shexp.weight", embd());
  }

 private:
  const ModelSpec& s_;
  std::int64_t head_k_ = 0;
  std::int64_t head_v_ = 0;
  std::vector<TensorInfo> tensors_;
};

// The attention of a block: projections, Q/K norms, sinks.
void attention(Layout& l, const Architecture& a, std::int32_t il) {
  const ModelSpec& s = l.spec();
  switch (a.qkv) {
    case Qkv::separate:
      if (a.gated_q) {  // the query and its gate; K and V as usual (no biases in qwen3next)
        l.blk(il, "attn_q.weight", l.embd(), 2 * l.q_width());
        l.blk(il, "attn_k.weight", l.embd(), l.k_width(il));
        l.blk(il, "attn_v.weight", l.embd(), l.v_width(il));
      } else {
        l.attn_qkv(il, a.qkv_bias);
      }
      l.attn_out(il, a.out_bias);
      break;
    case Qkv::fused: {
      const std::int64_t width = l.q_width() + l.k_width(il) + l.v_width(il);
      l.blk(il, "attn_qkv.weight", l.embd(), width);
      if (a.qkv_bias) l.blk(il, "attn_qkv.bias", width);
      l.attn_out(il, a.out_bias);
      break;
    }
    case Qkv::mla:
      l.mla_attention(il);
      break;
  }
  if (s.n_layer >= a.qk_norm_from_layers) l.qk_norm(il, a.qk_norm);
  if (a.attn_sinks) l.blk(il, "attn_sinks.weight", s.n_head);
}

// Gemma 3n's per-block extras after the FFN (src/models/gemma3n.cpp, load_arch_tensors).
void altup_block(Layout& l, std::int32_t il) {
  l.blk(il, "inp_gate.weight", l.embd(), kAltupPerLayerEmbd);
  l.blk(il, "proj.weight", kAltupPerLayerEmbd, l.embd());
  l.blk(il, "post_norm.weight", l.embd());
  l.blk(il, "altup_correct_coef.weight", kAltupStreams, kAltupStreams);
  l.blk(il, "altup_correct_scale.weight", l.embd());
  l.blk(il, "altup_predict_coef.weight", kAltupStreams, kAltupStreams * kAltupStreams);
  l.blk(il, "altup_router.weight", l.embd(), kAltupStreams);
  l.blk(il, "altup_router_norm.weight", l.embd());
  l.blk(il, "laurel_l.weight", l.embd(), kLaurelRank);
  l.blk(il, "laurel_r.weight", kLaurelRank, l.embd());
  l.blk(il, "laurel_post_norm.weight", l.embd());
}

// A cross-attention block of mllama as Ollama's converter writes it (convert/convert_mllama.go
// renames transformers' MllamaCrossAttentionDecoderLayer; model/models/mllama/model_text.go
// loads it, v0.24.0): per-head Q/K RMS norms, Q/K/V/O projections of the self-attention
// blocks' widths (K and V read the projected image), and two scalar tanh gates, on the
// attention and on the FFN output.
void cross_attention_block(Layout& l, std::int32_t il) {
  l.norm(il, "attn_norm", false);
  l.blk(il, "cross_attn_q_norm.weight", l.head_k());
  l.blk(il, "cross_attn_q_proj.weight", l.embd(), l.q_width());
  l.blk(il, "cross_attn_k_norm.weight", l.head_k());
  l.blk(il, "cross_attn_k_proj.weight", l.embd(), l.k_width(il));
  l.blk(il, "cross_attn_v_proj.weight", l.embd(), l.v_width(il));
  l.blk(il, "cross_attn_o_proj.weight", l.o_width(), l.embd());
  l.blk(il, "cross_attn_attn_gate", 1);
  l.norm(il, "ffn_norm", false);
  l.ffn(il, Ffn::gated, l.ff(il));
  l.blk(il, "cross_attn_mlp_gate", 1);
}

// One block of any family, in the order llama.cpp's loader creates the tensors.
void block(Layout& l, const Architecture& a, std::int32_t il) {
  const ModelSpec& s = l.spec();
  if (s.cross.has(il)) {
    cross_attention_block(l, il);
    return;
  }
  const bool bias = a.norm == Norm::layer;
  if (a.attn_norm) l.norm(il, "attn_norm", bias);
  const bool recurrent =
      !s.recurrent.layers.empty() && s.recurrent.layers[static_cast<std::size_t>(il)];
  if (a.mamba2_mixer && recurrent) {
    l.mamba2_mixer(il);
  } else if (a.gated_delta_net && recurrent) {
    l.gated_delta_net(il);
  } else {
    attention(l, a, il);
  }
  if (!a.post_attn_norm.empty()) l.norm(il, a.post_attn_norm, bias);
  if (!a.ffn_norm.empty()) l.norm(il, a.ffn_norm, bias);
  if (a.moe && l.moe_block(il)) {
    l.experts(il, a);
  } else {
    l.ffn(il, a.ffn, l.ff(il));
  }
  if (!a.post_ffn_norm.empty()) l.norm(il, a.post_ffn_norm, bias);
  if (a.altup) altup_block(l, il);
  if (il >= s.n_layer - s.n_nextn) {  // NextN / MTP block
    l.blk(il, "nextn.eh_proj.weight", 2 * l.embd(), l.embd());
    l.blk(il, "nextn.enorm.weight", l.embd());
    l.blk(il, "nextn.hnorm.weight", l.embd());
    l.blk(il, "nextn.shared_head_norm.weight", l.embd());
  }
}

void model_layout(Layout& l, const Architecture& a) {
  const ModelSpec& s = l.spec();
  // Written before the checkpoint's tensors (conversion/base.py: generate_extra_tensors()
  // first; Ollama's llamaModel.Tensors appends it first too), {n_rot / 2}.
  if (s.rope_freqs) l.add("rope_freqs.weight", s.head_dim_k() / 2);
  if (s.rope_factors > 0) {  // LongRoPE: conversion/phi.py writes them first too
    l.add("rope_factors_long.weight", s.rope_factors);
    l.add("rope_factors_short.weight", s.rope_factors);
  }
  l.add("token_embd.weight", l.embd(), s.n_vocab);
  if (a.encoder) l.add("token_types.weight", l.embd(), 2);  // type_vocab_size 2 (BERT, nomic)
  if (a.learned_positions) l.add("position_embd.weight", l.embd(), s.n_ctx_train);
  if (a.encoder) {
    l.add("token_embd_norm.weight", l.embd());
    l.add("token_embd_norm.bias", l.embd());
  }
  if (a.altup) {  // Gemma 3n: AltUp's stream projections and the per-layer embeddings
    l.add("altup_proj.weight", l.embd(), l.embd(), kAltupStreams - 1);
    l.add("altup_unembd_proj.weight", l.embd(), l.embd(), kAltupStreams - 1);
    l.add("per_layer_token_embd.weight", kAltupPerLayerEmbd * s.n_layer, s.n_vocab);
    l.add("per_layer_model_proj.weight", l.embd(), kAltupPerLayerEmbd * s.n_layer);
    l.add("per_layer_proj_norm.weight", kAltupPerLayerEmbd);
  }
  for (std::int32_t il = 0; il < s.n_layer; ++il) block(l, a, il);
  if (a.encoder) return;  // no output head
  l.add("output_norm.weight", l.embd());
  if (a.norm == Norm::layer) l.add("output_norm.bias", l.embd());
  if (a.dense_head) {  // embeddings out, no logits (src/models/gemma-embedding.cpp)
    l.add("dense_2.weight", l.embd(), 4 * l.embd());
    l.add("dense_3.weight", 4 * l.embd(), l.embd());
    return;
  }
  if (!s.tied_embeddings || s.stored_output) l.add("output.weight", l.embd(), s.n_vocab);
  if (a.output_bias) l.add("output.bias", s.n_vocab);
}

bool is_float_file(FileType ftype) {
  return ftype == FileType::all_f32 || ftype == FileType::mostly_f16 ||
         ftype == FileType::mostly_bf16;
}

// gpt-oss checkpoints ship their experts in MXFP4 and convert_hf_to_gguf.py writes them
// as MXFP4 whatever --outtype says; llama-quantize refuses to requantize them without
// --allow-requantize, so every gpt-oss file keeps MXFP4 experts.
bool native_mxfp4(const Architecture& a, const TensorInfo& t) {
  return a.native_mxfp4_experts && t.ne[2] > 1 && t.name.ends_with("_exps.weight");
}

// A tensor's role (detail::tensor_role) and weight slot (weight_slot) read its name and,
// for the role, how many of ne[1..3] exceed 1 (ggml_n_dims). For "blk.N.<rest>" neither
// depends on N beyond the block number itself. Their tests are equalities and prefix tests
// with names that do not start with "blk." (false for every N), and searches and suffix tests
// for parts: a match that reaches into "blk.N." begins with a suffix of it ("." or
// "<digits>." or longer). No part begins with a digit, "k.", "lk." or "blk."; the parts that
// begin with '.' (is_expert_tensor's ".ffn_up_exps", the suffix ".weight") can only use the
// prefix's final '.', there for every N. So the tensors of one <rest> and shape class share a
// role and a slot, worked out once per layout, not once per block
// (Recommend.TheLayoutsRolesAndSlotsAreWhatEachNameSays checks every catalog entry).
class NameFacts {
 public:
  struct Entry {
    std::string rest;            // the name past "blk.N."
    std::array<bool, 3> wide{};  // ne[1..3] > 1
    detail::TensorRole role;
    WeightSlot slot;
  };

  // The role and slot of `t`, with its own block number.
  const Entry& of(const TensorInfo& t) {
    const std::int32_t block = tensor_block(t.name);
    if (block < 0) return fresh(t, block);
    // tensor_block accepted "blk.<digits>.": the rest starts past the second '.'.
    const std::size_t dot = t.name.find('.', 4);
    const std::string_view rest = std::string_view(t.name).substr(dot + 1);
    const std::array<bool, 3> wide{t.ne[1] > 1, t.ne[2] > 1, t.ne[3] > 1};
    // The blocks list their tensors in the same order, so the entry after the last one found
    // is nearly always the one.
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      const std::size_t at = (next_ + k) % entries_.size();
      Entry& e = entries_[at];
      if (e.rest == rest && e.wide == wide) {
        next_ = at + 1;
        e.role.block = block;
        e.slot.block = block;
        return e;
      }
    }
    Entry e;
    e.rest = std::string(rest);
    e.wide = wide;
    e.role = detail::tensor_role(t);
    e.slot = weight_slot(t.name);
    entries_.push_back(std::move(e));
    next_ = entries_.size();
    return entries_.back();
  }

 private:
  const Entry& fresh(const TensorInfo& t, std::int32_t block) {
    single_.role = detail::tensor_role(t);
    single_.slot = weight_slot(t.name);
    single_.role.block = block;
    return single_;
  }

  std::vector<Entry> entries_;
  std::size_t next_ = 0;
  Entry single_;
};

}  // namespace

bool has_tensor_layout(const std::string& arch) { return architecture(arch).tensor_layout; }

TensorLayout::TensorLayout(const ModelSpec& spec) : spec_(spec) {
  const Architecture& arch = architecture(spec.arch);
  if (!arch.tensor_layout) {
    throw Error(ErrorKind::bad_input,
                fmt::format("no tensor layout for architecture '{}'", spec.arch));
  }
  if (spec.n_layer <= 0 || spec.n_embd <= 0 || spec.n_head <= 0 || spec.n_vocab <= 0) {
    throw Error(ErrorKind::bad_input,
                fmt::format("model spec for '{}' lacks layers, width, heads or vocab", spec.arch));
  }
  if (spec.token_embd_type && !row_fits(*spec.token_embd_type, spec.n_embd)) {
    throw Error(ErrorKind::bad_input,
                fmt::format("token_embd_type {} does not fit rows of {} values (model '{}')",
                            to_string(*spec.token_embd_type), spec.n_embd, spec.arch));
  }
  Layout layout(spec_);
  model_layout(layout, arch);
  tensors_ = layout.take();
  native_mxfp4_.resize(tensors_.size());
  keeps_converted_.resize(tensors_.size());
  roles_.reserve(tensors_.size());
  weight_slots_.reserve(tensors_.size());
  NameFacts facts;
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    native_mxfp4_[i] = native_mxfp4(arch, tensors_[i]);
    keeps_converted_[i] = detail::keeps_converted(spec.quantizer, spec.arch, tensors_[i].name);
    const NameFacts::Entry& f = facts.of(tensors_[i]);
    roles_.push_back(f.role);
    weight_slots_.push_back(f.slot);
  }

  // llama-quantize visits tensors by block (non-block tensors first), then by name
  // (llama_model_loader::weight_name_comparer); its counters advance in that order.
  // Each name's block is parsed once (TensorRole::block), not on every comparison.
  order_.resize(tensors_.size());
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  std::sort(order_.begin(), order_.end(), [&](std::size_t a, std::size_t b) {
    if (roles_[a].block != roles_[b].block) return roles_[a].block < roles_[b].block;
    return tensors_[a].name < tensors_[b].name;
  });
  // init_quantize_state_counters reads names only: the same for every file type.
  const detail::QuantState counted = detail::make_quant_state(spec_, roles_);
  n_attention_wv_ = counted.n_attention_wv;
  has_tied_embeddings_ = counted.has_tied_embeddings;
}

TensorLayout::TensorLayout(const TensorLayout&) = default;
TensorLayout::TensorLayout(TensorLayout&&) noexcept = default;
TensorLayout& TensorLayout::operator=(const TensorLayout&) = default;
TensorLayout& TensorLayout::operator=(TensorLayout&&) noexcept = default;
TensorLayout::~TensorLayout() = default;

std::vector<TensorInfo> TensorLayout::typed(FileType ftype) const {
  std::vector<TensorInfo> tensors = tensors_;
  assign_types(tensors, ftype);
  return tensors;
}

void TensorLayout::retype(std::vector<TensorInfo>& tensors, FileType ftype) const {
  if (tensors.size() != tensors_.size()) {
    throw std::invalid_argument("TensorLayout::retype: a tensor list of another length");
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].ne != tensors_[i].ne || tensors[i].name != tensors_[i].name) {
      throw std::invalid_argument("TensorLayout::retype: a tensor list of another layout");
    }
  }
  assign_types(tensors, ftype);
}

void TensorLayout::assign_types(std::vector<TensorInfo>& tensors, FileType ftype) const {
  // Every type is set below from the names and shapes alone: what the list held before does
  // not matter. The converted (F16/BF16/F32) file first: the input of llama-quantize.
  const FileType source = is_float_file(ftype) ? ftype : FileType::mostly_f16;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    tensors[i].type =
        native_mxfp4_[i] ? GgmlType::mxfp4 : detail::converted_type(roles_[i].stays_f32, source);
  }
  if (!is_float_file(ftype)) assign_quantized_types(tensors, ftype);
  if (spec_.token_embd_type) {
    for (TensorInfo& t : tensors) {
      if (t.name == "token_embd.weight") t.type = *spec_.token_embd_type;
    }
  }
}

void TensorLayout::assign_quantized_types(std::vector<TensorInfo>& tensors, FileType ftype) const {
  detail::QuantState state;
  state.n_layer = spec_.n_layer;
  state.n_attention_wv = n_attention_wv_;
  state.has_tied_embeddings = has_tied_embeddings_;
  for (const std::size_t i : order_) {
    TensorInfo& t = tensors[i];
    // The counters advance for a kept tensor too: llama-quantize's --tensor-type replaces the
    // type llama_tensor_get_type chose.
    const GgmlType chosen = detail::quantized_type(spec_, ftype, t, roles_[i], state);
    if (!native_mxfp4_[i] && !keeps_converted_[i]) t.type = chosen;
  }
}

std::vector<TensorInfo> generate_tensors(const ModelSpec& spec, FileType ftype) {
  return TensorLayout(spec).typed(ftype);
}

std::int64_t parameter_count(const std::vector<TensorInfo>& tensors) {
  std::int64_t total = 0;
  for (const TensorInfo& t : tensors) total += t.elements();
  return total;
}

}  // namespace vramplan
