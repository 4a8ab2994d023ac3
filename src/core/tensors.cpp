// Tensor layouts per architecture. Names are llama.cpp's (src/llama-arch.cpp, LLM_TENSOR_NAMES);
// which tensors exist and their shapes follow each model's load_arch_tensors
// (src/models/<arch>.cpp, formerly llama_model::load_tensors in src/llama-model.cpp) for the
// tensors convert_hf_to_gguf.py writes. ne[0] is the input (row) dimension.
#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include <fmt/format.h>

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
    add(fmt::format("blk.{}.{}", il, what), ne0, ne1, ne2);
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

  // --- shared pieces ---------------------------------------------------------------------

  void token_embd() { add("token_embd.weight", embd(), s_.n_vocab); }

  void output(bool norm_bias = false) {
    add("output_norm.weight", embd());
    if (norm_bias) add("output_norm.bias", embd());
    if (!s_.tied_embeddings) add("output.weight", embd(), s_.n_vocab);
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
  void attn_out(std::int32_t il, bool bias = false) {
    blk(il, "attn_output.weight", o_width(), embd());
    if (bias) blk(il, "attn_output.bias", embd());
  }
  void qk_norm(std::int32_t il) {
    blk(il, "attn_q_norm.weight", head_k());
    blk(il, "attn_k_norm.weight", head_k());
  }
  void ffn_gated(std::int32_t il, std::int64_t n_ff) {
    blk(il, "ffn_gate.weight", embd(), n_ff);
    blk(il, "ffn_up.weight", embd(), n_ff);
    blk(il, "ffn_down.weight", n_ff, embd());
  }
  void experts(std::int32_t il, std::int64_t n_ff_exp) {
    const std::int64_t n_exp = s_.moe.n_expert;
    blk(il, "ffn_gate_inp.weight", embd(), n_exp);
    blk(il, "ffn_gate_exps.weight", embd(), n_ff_exp, n_exp);
    blk(il, "ffn_up_exps.weight", embd(), n_ff_exp, n_exp);
    blk(il, "ffn_down_exps.weight", n_ff_exp, embd(), n_exp);
  }
  void shared_expert(std::int32_t il, std::int64_t width) {
    blk(il, "ffn_gate_shexp.weight", embd(), width);
    blk(il, "ffn_up_shexp.weight", embd(), width);
    blk(il, "ffn_down_shexp.weight", width, embd());
  }

 private:
  const ModelSpec& s_;
  std::int64_t head_k_ = 0;
  std::int64_t head_v_ = 0;
  std::vector<TensorInfo> tensors_;
};

// llama (incl. Mistral, Mixtral, Granite-MoE-shared), granite, internlm2: src/models/llama.cpp.
// Not emitted: rope_freqs.weight ({head_dim/2} F32), written only for llama3-style rope
// scaling, which the spec does not carry (256 bytes).
void llama_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, false);
    l.attn_out(il);
    l.blk(il, "ffn_norm.weight", l.embd());
    if (l.moe_block(il)) {
      l.experts(il, s.moe.n_ff_exp > 0 ? s.moe.n_ff_exp : l.ff(il));
      if (s.moe.n_ff_shexp > 0) l.shared_expert(il, s.moe.n_ff_shexp);  // granite MoE shared
    } else {
      l.ffn_gated(il, l.ff(il));
    }
  }
  l.output();
}

// qwen2: q/k/v biases (src/models/qwen2.cpp).
void qwen2_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, true);
    l.attn_out(il);
    l.blk(il, "ffn_norm.weight", l.embd());
    l.ffn_gated(il, l.ff(il));
  }
  l.output();
}

// qwen3 / qwen3moe: per-head q/k RMS norms, no biases (src/models/qwen3.cpp, qwen3moe.cpp).
void qwen3_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, false);
    l.attn_out(il);
    l.qk_norm(il);
    l.blk(il, "ffn_norm.weight", l.embd());
    if (l.moe_block(il)) {
      l.experts(il, s.moe.n_ff_exp > 0 ? s.moe.n_ff_exp : l.ff(il) / s.moe.n_expert_used);
    } else {
      l.ffn_gated(il, l.ff(il));
    }
  }
  l.output();
}

// gemma (v1), gemma2, gemma3: tied head; gemma2+ add post-attention and post-FFN norms,
// gemma3 adds per-head q/k norms (src/models/gemma*.cpp).
void gemma_layout(Layout& l, int version) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, false);
    l.attn_out(il);
    if (version >= 3) l.qk_norm(il);
    if (version >= 2) l.blk(il, "post_attention_norm.weight", l.embd());
    l.blk(il, "ffn_norm.weight", l.embd());
    l.ffn_gated(il, l.ff(il));
    if (version >= 2) l.blk(il, "post_ffw_norm.weight", l.embd());
  }
  l.output();
}

// phi3 (Phi-3, Phi-3.5, Phi-4, Phi-4-mini): fused qkv and fused gate+up written as ffn_up
// {n_embd, 2*n_ff} (src/models/phi3.cpp). Not emitted: rope_factors_long/short.weight
// ({rope_dim/2} F32 each), present only in LongRoPE (128k) conversions; the spec has no
// rope-scaling type to tell them apart, and they are a few hundred bytes.
void phi3_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.blk(il, "attn_qkv.weight", l.embd(), l.q_width() + l.k_width(il) + l.v_width(il));
    l.attn_out(il);
    l.blk(il, "ffn_norm.weight", l.embd());
    l.blk(il, "ffn_up.weight", l.embd(), 2 * l.ff(il));
    l.blk(il, "ffn_down.weight", l.ff(il), l.embd());
  }
  l.output();
}

// deepseek2 (DeepSeek-V2/V3/R1, Kimi-K2, GLM-4.7-Flash): MLA with the kv_b projection split
// into attn_k_b / attn_v_b as the current converter writes it (src/models/deepseek2.cpp).
void deepseek2_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  const Mla& m = s.mla;
  const std::int64_t n_head = s.n_head;
  const std::int64_t q_head = m.qk_nope_head_dim + m.qk_rope_head_dim;
  const std::int32_t n_main = s.n_layer - s.n_nextn;
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    if (m.q_lora_rank > 0) {
      l.blk(il, "attn_q_a_norm.weight", m.q_lora_rank);
      l.blk(il, "attn_q_a.weight", l.embd(), m.q_lora_rank);
      l.blk(il, "attn_q_b.weight", m.q_lora_rank, n_head * q_head);
    } else {
      l.blk(il, "attn_q.weight", l.embd(), n_head * q_head);
    }
    l.blk(il, "attn_kv_a_norm.weight", m.kv_lora_rank);
    l.blk(il, "attn_kv_a_mqa.weight", l.embd(), m.kv_lora_rank + m.qk_rope_head_dim);
    l.blk(il, "attn_k_b.weight", m.qk_nope_head_dim, m.kv_lora_rank, n_head);
    l.blk(il, "attn_v_b.weight", m.kv_lora_rank, m.v_head_dim, n_head);
    l.blk(il, "attn_output.weight", n_head * m.v_head_dim, l.embd());
    l.blk(il, "ffn_norm.weight", l.embd());
    if (l.moe_block(il)) {
      l.experts(il, s.moe.n_ff_exp);
      // V3-style routing bias (noaux_tc); V2 and V2-Lite (64/160 experts) have none. The
      // spec has no gating field, so 256+ experts stands for "V3 family".
      if (s.moe.n_expert >= 256) l.blk(il, "exp_probs_b.bias", s.moe.n_expert);
      l.shared_expert(il, s.moe.shared_width());
    } else {
      l.ffn_gated(il, l.ff(il));
    }
    if (il >= n_main) {  // NextN / MTP block
      l.blk(il, "nextn.eh_proj.weight", 2 * l.embd(), l.embd());
      l.blk(il, "nextn.enorm.weight", l.embd());
      l.blk(il, "nextn.hnorm.weight", l.embd());
      l.blk(il, "nextn.shared_head_norm.weight", l.embd());
    }
  }
  l.output();
}

// gpt-oss: attention sinks, biases everywhere, experts with biases, no ffn_norm (the
// post-attention norm feeds the MoE) (src/models/openai-moe.cpp).
void gpt_oss_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  const std::int64_t n_ff_exp = s.moe.n_ff_exp;
  const std::int64_t n_exp = s.moe.n_expert;
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, true);
    l.attn_out(il, true);
    l.blk(il, "attn_sinks.weight", s.n_head);
    l.blk(il, "post_attention_norm.weight", l.embd());
    l.experts(il, n_ff_exp);
    l.blk(il, "ffn_gate_inp.bias", n_exp);
    l.blk(il, "ffn_gate_exps.bias", n_ff_exp, n_exp);
    l.blk(il, "ffn_up_exps.bias", n_ff_exp, n_exp);
    l.blk(il, "ffn_down_exps.bias", l.embd(), n_exp);
  }
  l.output();
}

// command-r (Cohere): parallel attention + FFN off one norm, tied head; Command-R+ (64
// blocks) adds 2-D per-head q/k layer norms (src/models/command-r.cpp).
void command_r_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    if (s.n_layer >= 64) {
      l.blk(il, "attn_q_norm.weight", l.head_k(), s.n_head);
      l.blk(il, "attn_k_norm.weight", l.head_k(), l.n_head_kv(il));
    }
    l.attn_qkv(il, false);
    l.attn_out(il);
    l.ffn_gated(il, l.ff(il));
  }
  l.output();
}

// starcoder2: layer norms with bias, biases on every projection, non-gated GELU FFN
// (src/models/starcoder2.cpp).
void starcoder2_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.blk(il, "attn_norm.bias", l.embd());
    l.attn_qkv(il, true);
    l.attn_out(il, true);
    l.blk(il, "ffn_norm.weight", l.embd());
    l.blk(il, "ffn_norm.bias", l.embd());
    l.blk(il, "ffn_up.weight", l.embd(), l.ff(il));
    l.blk(il, "ffn_up.bias", l.ff(il));
    l.blk(il, "ffn_down.weight", l.ff(il), l.embd());
    l.blk(il, "ffn_down.bias", l.embd());
  }
  l.output(/*norm_bias=*/true);
}

// olmo2: post-norms only, q/k norms over the whole projection (src/models/olmo2.cpp).
void olmo2_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.attn_qkv(il, false);
    l.attn_out(il);
    l.blk(il, "attn_q_norm.weight", l.q_width());
    l.blk(il, "attn_k_norm.weight", l.k_width(il));
    l.blk(il, "post_attention_norm.weight", l.embd());
    l.ffn_gated(il, l.ff(il));
    l.blk(il, "post_ffw_norm.weight", l.embd());
  }
  l.output();
}

// llama4: MoE on every every_n-th block with one shared expert of the expert width, dense
// FFN elsewhere (src/models/llama4.cpp).
void llama4_layout(Layout& l) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    l.blk(il, "attn_norm.weight", l.embd());
    l.attn_qkv(il, false);
    l.attn_out(il);
    l.blk(il, "ffn_norm.weight", l.embd());
    if (l.moe_block(il)) {
      l.experts(il, s.moe.n_ff_exp);
      l.shared_expert(il, s.moe.n_ff_shexp > 0 ? s.moe.n_ff_shexp : s.moe.n_ff_exp);
    } else {
      l.ffn_gated(il, l.ff(il));
    }
  }
  l.output();
}

// bert and nomic-bert encoders: token types, embedding layer norm, post-norms with bias, no
// output head (src/models/bert.cpp). bert has learned positions and separate biased q/k/v;
// nomic-bert has rope, a fused bias-free qkv and a gated FFN.
void bert_layout(Layout& l, bool nomic) {
  const ModelSpec& s = l.spec();
  l.token_embd();
  l.add("token_types.weight", l.embd(), 2);  // type_vocab_size 2 (BERT, nomic)
  if (!nomic) l.add("position_embd.weight", l.embd(), s.n_ctx_train);
  l.add("token_embd_norm.weight", l.embd());
  l.add("token_embd_norm.bias", l.embd());
  for (std::int32_t il = 0; il < s.n_layer; ++il) {
    if (nomic) {
      l.blk(il, "attn_qkv.weight", l.embd(), l.q_width() + l.k_width(il) + l.v_width(il));
      l.attn_out(il);
    } else {
      l.attn_qkv(il, true);
      l.attn_out(il, true);
    }
    l.blk(il, "attn_output_norm.weight", l.embd());
    l.blk(il, "attn_output_norm.bias", l.embd());
    if (nomic) {
      l.ffn_gated(il, l.ff(il));
    } else {
      l.blk(il, "ffn_up.weight", l.embd(), l.ff(il));
      l.blk(il, "ffn_up.bias", l.ff(il));
      l.blk(il, "ffn_down.weight", l.ff(il), l.embd());
      l.blk(il, "ffn_down.bias", l.embd());
    }
    l.blk(il, "layer_output_norm.weight", l.embd());
    l.blk(il, "layer_output_norm.bias", l.embd());
  }
}

using LayoutFn = std::function<void(Layout&)>;

const std::map<std::string, LayoutFn, std::less<>>& layouts() {
  static const std::map<std::string, LayoutFn, std::less<>> table{
      {"llama", llama_layout},
      {"granite", llama_layout},
      {"internlm2", llama_layout},
      {"qwen2", qwen2_layout},
      {"qwen3", qwen3_layout},
      {"qwen3moe", qwen3_layout},
      {"gemma", [](Layout& l) { gemma_layout(l, 1); }},
      {"gemma2", [](Layout& l) { gemma_layout(l, 2); }},
      {"gemma3", [](Layout& l) { gemma_layout(l, 3); }},
      {"phi3", phi3_layout},
      {"deepseek2", deepseek2_layout},
      {"gpt-oss", gpt_oss_layout},
      {"command-r", command_r_layout},
      {"starcoder2", starcoder2_layout},
      {"olmo2", olmo2_layout},
      {"llama4", llama4_layout},
      {"bert", [](Layout& l) { bert_layout(l, false); }},
      {"nomic-bert", [](Layout& l) { bert_layout(l, true); }},
  };
  return table;
}

bool is_float_file(FileType ftype) {
  return ftype == FileType::all_f32 || ftype == FileType::mostly_f16 ||
         ftype == FileType::mostly_bf16;
}

// gpt-oss checkpoints ship their experts in MXFP4 and convert_hf_to_gguf.py writes them
// as MXFP4 whatever --outtype says; llama-quantize refuses to requantize them without
// --allow-requantize, so every gpt-oss file keeps MXFP4 experts.
bool native_mxfp4(const ModelSpec& spec, const TensorInfo& t) {
  return spec.arch == "gpt-oss" && t.ne[2] > 1 && t.name.ends_with("_exps.weight");
}

}  // namespace

bool has_tensor_layout(const std::string& arch) { return layouts().contains(arch); }

std::vector<TensorInfo> generate_tensors(const ModelSpec& spec, FileType ftype) {
  const auto found = layouts().find(spec.arch);
  if (found == layouts().end()) {
    throw Error(ErrorKind::bad_input,
                fmt::format("no tensor layout for architecture '{}'", spec.arch));
  }
  if (spec.n_layer <= 0 || spec.n_embd <= 0 || spec.n_head <= 0 || spec.n_vocab <= 0) {
    throw Error(ErrorKind::bad_input,
                fmt::format("model spec for '{}' lacks layers, width, heads or vocab", spec.arch));
  }
  Layout layout(spec);
  found->second(layout);
  std::vector<TensorInfo> tensors = layout.take();

  // The converted (F16/BF16/F32) file first: the input of llama-quantize.
  const FileType source = is_float_file(ftype) ? ftype : FileType::mostly_f16;
  for (TensorInfo& t : tensors) {
    t.type = native_mxfp4(spec, t) ? GgmlType::mxfp4 : detail::converted_type(t, source);
  }
  if (is_float_file(ftype)) return tensors;

  // llama-quantize visits tensors by block (non-block tensors first), then by name
  // (llama_model_loader::weight_name_comparer); its counters advance in that order.
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::int32_t ba = tensor_block(tensors[a].name);
    const std::int32_t bb = tensor_block(tensors[b].name);
    if (ba != bb) return ba < bb;
    return tensors[a].name < tensors[b].name;
  });
  detail::QuantState state = detail::make_quant_state(spec, tensors);
  for (const std::size_t i : order) {
    TensorInfo& t = tensors[i];
    const GgmlType chosen = detail::quantized_type(spec, ftype, t, state);
    if (!native_mxfp4(spec, t)) t.type = chosen;
  }
  return tensors;
}

std::int64_t parameter_count(const std::vector<TensorInfo>& tensors) {
  std::int64_t total = 0;
  for (const TensorInfo& t : tensors) total += t.elements();
  return total;
}

}  // namespace vramplan
