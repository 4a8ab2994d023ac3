// The quantization mix of llama-quantize, restated from ggml-org/llama.cpp@007dbbf3
// src/llama-quant.cpp (functions named in the comments). Assumes what a plain
// `llama-quantize [--imatrix f] in.gguf out.gguf <ftype>` does: no --pure, no per-tensor
// overrides, output tensor quantized, and an importance matrix exactly for the presets that
// cannot be made without one (see assumes_imatrix).
#include "quant_mix.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <string_view>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>

namespace vramplan::detail {
namespace {

using FT = FileType;
using GT = GgmlType;

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

Category category_of(std::string_view name) {
  if (name == "output.weight") return Category::output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
    return Category::token_embd;
  }
  // Every attn_* needle contains "attn_" and every ffn_* needle "ffn_": a name without it
  // matches none of them (one search instead of six, or three).
  if (contains(name, "attn_")) {
    if (contains(name, "attn_qkv.weight")) return Category::attn_qkv;
    if (contains(name, "attn_kv_b.weight")) return Category::attn_kv_b;
    if (contains(name, "attn_v.weight")) return Category::attn_v;
    if (contains(name, "attn_k.weight")) return Category::attn_k;
    if (contains(name, "attn_q.weight")) return Category::attn_q;
    if (contains(name, "attn_output.weight")) return Category::attn_output;
  }
  // No ".weight" here: the expert (_exps) and shared-expert (_shexp) tensors count too.
  if (contains(name, "ffn_")) {
    if (contains(name, "ffn_up")) return Category::ffn_up;
    if (contains(name, "ffn_gate")) return Category::ffn_gate;
    if (contains(name, "ffn_down")) return Category::ffn_down;
  }
  return Category::other;
}

// category_is_attn_v: the V-like projections that get the more-bits treatment. Note that
// the fused attn_qkv lands here too, so its own branch further down in
// llama_tensor_get_type_impl is never reached in this llama.cpp version.
bool is_attn_v_like(Category c) {
  return c == Category::attn_v || c == Category::attn_qkv || c == Category::attn_kv_b;
}

bool is_one_of(FT ftype, std::initializer_list<FT> set) {
  return std::find(set.begin(), set.end(), ftype) != set.end();
}

// ggml_n_dims: trailing dimensions of size 1 do not count.
int n_dims(const TensorInfo& t) {
  int dims = 1;
  for (int i = 3; i > 0; --i) {
    if (t.ne[static_cast<std::size_t>(i)] > 1) {
      dims = i + 1;
      break;
    }
  }
  return dims;
}

// llama_tensor_get_type_impl's use_more_bits: the first and last eighth of the layers and
// every third layer in between get the larger type.
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// tensor_requires_imatrix: llama-quantize refuses IQ1_*, IQ2_*, IQ3_XXS and Q2_K_S without an
// importance matrix, so files of those presets always had one; every other preset is
// assumed made without (the common case, and what tools/quantize/README.md's table shows
// for IQ4_XS/IQ4_NL).
bool assumes_imatrix(FT ftype) {
  return is_one_of(ftype,
                   {FT::mostly_iq1_s, FT::mostly_iq1_m, FT::mostly_iq2_xxs, FT::mostly_iq2_xs,
                    FT::mostly_iq2_s, FT::mostly_iq2_m, FT::mostly_iq3_xxs, FT::mostly_q2_k_s});
}

int n_gqa(const ModelSpec& spec) {
  // llama.cpp's n_gqa() reads block 0. Architectures whose recurrent blocks follow
  // full_attention_interval store one scalar head_count_kv in the file (the spec zeroes it on
  // the recurrent blocks), so block 0 sees that scalar.
  const bool scalar_in_file = architecture(spec.arch).recurrence == Recurrence::interval;
  const std::int32_t n_kv = spec.n_head_kv_per_layer.empty() || scalar_in_file
                                ? spec.n_head_kv
                                : spec.n_head_kv_per_layer.front();
  return n_kv == 0 ? 0 : spec.n_head / n_kv;
}

// llama_model::type == LLM_TYPE_70B, the only model size llama-quant.cpp looks at
// (Architecture::quant_70b_at_80_blocks).
bool is_70b(const ModelSpec& spec) {
  return spec.n_layer == 80 && architecture(spec.arch).quant_70b_at_80_blocks &&
         spec.moe.n_expert != 8 && spec.n_head != spec.n_head_kv;
}

bool falcon_rules(const ModelSpec& spec) { return architecture(spec.arch).quant_falcon_rules; }

// layer_info in llama_tensor_get_type_impl: with experts the block comes from the name
// (Mixtral's tensors are not in block order), otherwise from the running counter.
// `block` is tensor_block(t.name) (TensorRole::block).
int layer_index(const ModelSpec& spec, const TensorInfo& t, std::int32_t block, int counter) {
  if (spec.moe.n_expert > 1) {
    if (block < 0 || block >= spec.n_layer) {
      throw Error(ErrorKind::internal, fmt::format("cannot place tensor {} in a block", t.name));
    }
    return block;
  }
  return counter;
}

// tensor_type_fallback: a row length the chosen type's block does not divide.
GT fallback(const TensorInfo& t, GT target, QuantState& state) {
  const std::int64_t ncols = t.ne[0];
  if (ncols % info(target).block_size == 0) return target;
  ++state.n_fallback;
  GT replacement = GT::f16;
  switch (target) {
    case GT::iq1_s:
    case GT::iq1_m:
    case GT::iq2_xxs:
    case GT::iq2_xs:
    case GT::iq2_s:
    case GT::iq3_xxs:
    case GT::iq3_s:
    case GT::iq4_xs:
      replacement = GT::iq4_nl;
      break;
    case GT::q2_0:
    case GT::q2_k:
    case GT::q3_k:
    case GT::tq1_0:
    case GT::tq2_0:
      replacement = GT::q4_0;
      break;
    case GT::q4_k:
      replacement = GT::q5_0;
      break;
    case GT::q5_k:
      replacement = GT::q5_1;
      break;
    case GT::q6_k:
      replacement = GT::q8_0;
      break;
    default:
      // llama-quantize aborts here ("no tensor type fallback is defined").
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: row length {} is not a multiple of {}'s block ({}) and "
                              "llama-quantize has no fallback for it",
                              t.name, ncols, to_string(target), info(target).block_size));
  }
  // Still no fit (a row length not divisible by 32): llama.cpp stores it as F16.
  if (ncols % info(replacement).block_size != 0) replacement = GT::f16;
  return replacement;
}

// Output head (and a tied token embedding, which doubles as the head).
GT output_type(const ModelSpec& spec, FT ftype, const TensorInfo& t, GT type) {
  if (ftype == FT::mostly_mxfp4_moe) return GT::q8_0;
  if (falcon_rules(spec) || t.ne[0] % info(type).block_size != 0) return GT::q8_0;
  if (is_one_of(ftype, {FT::mostly_iq2_xxs, FT::mostly_iq2_xs, FT::mostly_iq3_xxs, FT::mostly_iq1_s,
                        FT::mostly_iq2_s, FT::mostly_iq2_m, FT::mostly_iq1_m})) {
    return GT::q5_k;
  }
  return type != GT::q8_0 ? GT::q6_k : type;
}

GT token_embd_type(FT ftype, GT type) {
  if (is_one_of(ftype,
                {FT::mostly_iq2_xxs, FT::mostly_iq2_xs, FT::mostly_iq1_s, FT::mostly_iq1_m})) {
    return GT::q2_k;
  }
  if (is_one_of(ftype, {FT::mostly_iq2_s, FT::mostly_iq2_m, FT::mostly_iq3_xxs})) {
    return GT::iq3_s;
  }
  if (is_one_of(ftype, {FT::mostly_tq1_0, FT::mostly_tq2_0})) return GT::q4_k;
  return type;
}

// The 1- and 2-bit IQ presets have their own small table.
GT very_low_bit_type(const ModelSpec& spec, FT ftype, Category cat, GT type, QuantState& state) {
  const bool iq2_s_like = is_one_of(ftype, {FT::mostly_iq2_s, FT::mostly_iq2_m});
  const std::int32_t n_expert = spec.moe.n_expert;
  if (is_attn_v_like(cat)) {
    if (n_gqa(spec) >= 4 || n_expert >= 4) {
      type = GT::q4_k;
    } else {
      type = iq2_s_like ? GT::iq3_s : GT::q2_k;
    }
    ++state.i_attention_wv;
  } else if (n_expert == 8 && cat == Category::attn_k) {
    type = GT::q4_k;
  } else if (cat == Category::ffn_down) {
    if (state.i_ffn_down < state.n_layer / 8) type = iq2_s_like ? GT::iq3_s : GT::q2_k;
    ++state.i_ffn_down;
  } else if (cat == Category::attn_output) {
    if (n_expert == 8) {
      type = GT::q5_k;
    } else if (is_one_of(ftype, {FT::mostly_iq1_s, FT::mostly_iq1_m})) {
      type = GT::iq2_xxs;
    } else if (iq2_s_like) {
      type = GT::iq3_s;
    }
  }
  return type;
}

GT attn_v_type(const ModelSpec& spec, FT ftype, GT type, QuantState& state) {
  const int gqa = n_gqa(spec);
  const int i = state.i_attention_wv;
  if (ftype == FT::mostly_q2_k) {
    type = gqa >= 4 ? GT::q4_k : GT::q3_k;
  } else if (ftype == FT::mostly_q2_k_s && gqa >= 4) {
    type = GT::q4_k;
  } else if (ftype == FT::mostly_iq3_xxs) {
    type = gqa >= 4 ? GT::q4_k : GT::iq3_xxs;  // (iq3_s without an imatrix)
  } else if (is_one_of(ftype, {FT::mostly_iq3_xs, FT::mostly_iq3_s}) && gqa >= 4) {
    type = GT::q4_k;
  } else if (ftype == FT::mostly_iq3_m) {
    type = GT::q4_k;
  } else if (ftype == FT::mostly_q3_k_m) {
    type = i < 2 ? GT::q5_k : GT::q4_k;
  } else if (ftype == FT::mostly_q3_k_l) {
    type = GT::q5_k;
  } else if (is_one_of(ftype, {FT::mostly_iq4_nl, FT::mostly_iq4_xs}) && gqa >= 4) {
    type = GT::q5_k;
  } else if (is_one_of(ftype, {FT::mostly_q4_k_m, FT::mostly_q5_k_m}) &&
             use_more_bits(i, state.n_attention_wv)) {
    type = GT::q6_k;
  } else if (ftype == FT::mostly_q4_k_s && i < 4) {
    type = GT::q5_k;
  }
  // 70B: attn_v is 8x smaller than attn_q, so more bits cost little.
  if (is_70b(spec) && (type == GT::q3_k || type == GT::q4_k)) type = GT::q5_k;
  if (spec.moe.n_expert == 8) type = GT::q8_0;
  ++state.i_attention_wv;
  return type;
}

GT ffn_down_type(const ModelSpec& spec, FT ftype, const TensorInfo& t, std::int32_t block, GT type,
                 QuantState& state) {
  const bool falcon = falcon_rules(spec);
  const int i = layer_index(spec, t, block, state.i_ffn_down);
  const int n = state.n_layer;
  if (ftype == FT::mostly_q2_k) {
    type = GT::q3_k;
  } else if (ftype == FT::mostly_q2_k_s) {
    if (i < n / 8) type = GT::q4_k;
  } else if (ftype == FT::mostly_q3_k_m) {
    if (i < n / 16) {
      type = GT::q5_k;
    } else {
      type = !falcon || use_more_bits(i, n) ? GT::q4_k : GT::q3_k;
    }
  } else if (ftype == FT::mostly_iq3_m &&
             (i < n / 8 || (spec.moe.n_expert == 8 && use_more_bits(i, n)))) {
    type = GT::q4_k;
  } else if (ftype == FT::mostly_q3_k_l) {
    type = falcon ? GT::q4_k : GT::q5_k;
  } else if (ftype == FT::mostly_q4_k_m) {
    if (falcon) {
      type = i < n / 16 ? GT::q6_k : use_more_bits(i, n) ? GT::q5_k : GT::q4_k;
    } else if (use_more_bits(i, n)) {
      type = GT::q6_k;
    }
  } else if (i < n / 8 && is_one_of(ftype, {FT::mostly_iq4_nl, FT::mostly_iq4_xs}) &&
             !assumes_imatrix(ftype)) {
    type = GT::q5_k;
  } else if (ftype == FT::mostly_q5_k_m && use_more_bits(i, n)) {
    type = GT::q6_k;
  } else if (ftype == FT::mostly_q4_k_s && !falcon && i < n / 8) {
    type = GT::q5_k;
  }
  // Not restated: IQ3_XXS without an imatrix (q4_K/q3_K; such files cannot be made) and
  // Q4_0/Q5_0 with one (Q4_1/Q5_1 on the first eighth).
  ++state.i_ffn_down;
  return type;
}

GT attn_output_type(const ModelSpec& spec, FT ftype, GT type) {
  if (falcon_rules(spec)) return ftype == FT::mostly_q3_k_l ? GT::q4_k : type;
  if (spec.moe.n_expert == 8) {
    if (is_one_of(ftype,
                  {FT::mostly_q2_k, FT::mostly_iq3_xs, FT::mostly_iq3_xxs, FT::mostly_q3_k_s,
                   FT::mostly_q3_k_m, FT::mostly_iq4_nl, FT::mostly_q4_k_s, FT::mostly_q4_k_m,
                   FT::mostly_iq3_s, FT::mostly_iq3_m, FT::mostly_iq4_xs})) {
      return GT::q5_k;
    }
    return type;
  }
  switch (ftype) {
    case FT::mostly_q2_k:
      return GT::q3_k;
    case FT::mostly_iq3_xxs:
      return GT::iq3_s;
    case FT::mostly_q3_k_m:
      return GT::q4_k;
    case FT::mostly_q3_k_l:
      return GT::q5_k;
    case FT::mostly_iq3_m:
      return GT::q4_k;
    default:
      return type;
  }
}

// ffn_gate / ffn_up: only IQ3_XS lowers the middle layers.
GT ffn_gate_up_type(const ModelSpec& spec, FT ftype, const TensorInfo& t, std::int32_t block,
                    GT type, int& counter, int n) {
  const int i = layer_index(spec, t, block, counter);
  if (ftype == FT::mostly_iq3_xs && i >= n / 8 && i < 7 * n / 8) type = GT::iq3_xxs;
  ++counter;
  return type;
}

// llama_tensor_get_type_impl: the preset's per-role rules.
GT mix_type(const ModelSpec& spec, FT ftype, const TensorInfo& t, const TensorRole& role, GT type,
            QuantState& state) {
  const Category cat = role.category;
  if (cat == Category::output || (state.has_tied_embeddings && cat == Category::token_embd)) {
    return output_type(spec, ftype, t, type);
  }
  if (ftype == FT::mostly_mxfp4_moe) {
    // Anything with a third dimension (the experts) is MXFP4, everything else Q8_0.
    return t.ne[2] > 1 ? GT::mxfp4 : GT::q8_0;
  }
  if (cat == Category::token_embd) return token_embd_type(ftype, type);
  if (is_one_of(ftype, {FT::mostly_iq2_xxs, FT::mostly_iq2_xs, FT::mostly_iq1_s, FT::mostly_iq2_s,
                        FT::mostly_iq2_m, FT::mostly_iq1_m})) {
    return very_low_bit_type(spec, ftype, cat, type, state);
  }
  if (is_attn_v_like(cat)) return attn_v_type(spec, ftype, type, state);
  switch (cat) {
    case Category::attn_k:
      if (spec.moe.n_expert == 8) return GT::q8_0;
      if (ftype == FT::mostly_iq3_xs) return GT::iq3_xxs;
      if (ftype == FT::mostly_iq3_xxs) return GT::iq2_s;
      return type;
    case Category::attn_q:
      if (ftype == FT::mostly_iq3_xs) return GT::iq3_xxs;
      if (ftype == FT::mostly_iq3_xxs) return GT::iq2_s;
      return type;
    case Category::ffn_down:
      return ffn_down_type(spec, ftype, t, role.block, type, state);
    case Category::attn_output:
      return attn_output_type(spec, ftype, type);
    case Category::ffn_gate:
      return ffn_gate_up_type(spec, ftype, t, role.block, type, state.i_ffn_gate, state.n_layer);
    case Category::ffn_up:
      return ffn_gate_up_type(spec, ftype, t, role.block, type, state.i_ffn_up, state.n_layer);
    default:
      return type;
  }
}

}  // namespace

QuantState make_quant_state(const ModelSpec& spec, const std::vector<TensorInfo>& tensors) {
  QuantState state;
  state.n_layer = spec.n_layer;
  for (const TensorInfo& t : tensors) {
    const Category cat = category_of(t.name);
    if (is_attn_v_like(cat)) ++state.n_attention_wv;
    if (cat == Category::output) state.has_tied_embeddings = false;
  }
  return state;
}

QuantState make_quant_state(const ModelSpec& spec, const std::vector<TensorRole>& roles) {
  QuantState state;
  state.n_layer = spec.n_layer;
  for (const TensorRole& role : roles) {
    if (is_attn_v_like(role.category)) ++state.n_attention_wv;
    if (role.category == Category::output) state.has_tied_embeddings = false;
  }
  return state;
}

// The Ollama library's builds. Gemma 3n reads per_layer_token_embd on every layer for every
// token, and Ollama leaves it unquantized: its Go quantizer skipped the tensor from the start
// (ollama/ollama server/quantization.go, d0b32def "skip quantizing per_layer_token_embd",
// 2025-06-26, the release that added gemma3n: the library's gemma3n files date from then), and
// since the quantizer became llama-quantize (9db4bdba, 2026-05-29) llamaQuantizeArgs passes
// `--tensor-type ^per_layer_token_embd\.weight$=f16` for Q4_K_S and Q4_K_M.
//
// Ollama 0.6.5 to 0.6.8 quantized with the llama.cpp copy it vendored, patched to leave vision
// tensors alone by a substring test: `quantize &= name.find("v.") == std::string::npos` and the
// same for "mm." (ollama/ollama llama/llama.cpp/src/llama-quant.cpp, 6bd0a983 "model: support
// for mistral-small in the ollama runner", 2025-03-14, first in v0.6.5). "blk.N.attn_v.weight"
// contains "v.", so every attn_v stayed as converted (F16) in the files made with it, until the
// quantizer moved to Go (424810450 "Move quantization to new backend", 2025-05-06, v0.6.9-rc0
// and v0.7.0), whose test spares "_v.". The library's April 2025 qwen3 files are such builds:
// the Qwen3 8B one Ollama serves loads as 36 f16, 199 q4_K, 19 q6_K and 145 f32 tensors, 4.86
// GiB (intel/ipex-llm issue 13301), the Qwen3 32B one as 64 f16, 353 q4_K, 33 q6_K, 18.81 GiB
// (ollama/ollama issue 14774): one f16 attn_v per block, no attn_v among the q6_K.
bool keeps_converted(Quantizer who, std::string_view arch, std::string_view name) {
  switch (who) {
    case Quantizer::llama_quantize:
      return false;
    case Quantizer::ollama:
      return arch == "gemma3n" && name == "per_layer_token_embd.weight";
    case Quantizer::ollama_065:
      return name.find("v.") != std::string_view::npos ||
             name.find("mm.") != std::string_view::npos;
  }
  return false;
}

// llama_ftype_get_default_type.
GgmlType default_type(FileType ftype) {
  switch (ftype) {
    case FT::all_f32:
      return GT::f32;
    case FT::mostly_f16:
      return GT::f16;
    case FT::mostly_bf16:
      return GT::bf16;
    case FT::mostly_q4_0:
      return GT::q4_0;
    case FT::mostly_q4_1:
      return GT::q4_1;
    case FT::mostly_q5_0:
      return GT::q5_0;
    case FT::mostly_q5_1:
      return GT::q5_1;
    case FT::mostly_q8_0:
      return GT::q8_0;
    case FT::mostly_mxfp4_moe:
      return GT::mxfp4;
    case FT::mostly_q2_k_s:
    case FT::mostly_q2_k:
      return GT::q2_k;
    case FT::mostly_iq3_xs:
      return GT::iq3_s;
    case FT::mostly_q3_k_s:
    case FT::mostly_q3_k_m:
    case FT::mostly_q3_k_l:
      return GT::q3_k;
    case FT::mostly_q4_k_s:
    case FT::mostly_q4_k_m:
      return GT::q4_k;
    case FT::mostly_q5_k_s:
    case FT::mostly_q5_k_m:
      return GT::q5_k;
    case FT::mostly_q6_k:
      return GT::q6_k;
    case FT::mostly_tq1_0:
      return GT::tq1_0;
    case FT::mostly_tq2_0:
      return GT::tq2_0;
    case FT::mostly_iq2_xxs:
      return GT::iq2_xxs;
    case FT::mostly_iq2_xs:
      return GT::iq2_xs;
    case FT::mostly_iq2_s:
      return GT::iq2_xs;  // sic: IQ2_S files are mostly iq2_xs
    case FT::mostly_iq2_m:
      return GT::iq2_s;
    case FT::mostly_iq3_xxs:
      return GT::iq3_xxs;
    case FT::mostly_iq1_s:
      return GT::iq1_s;
    case FT::mostly_iq1_m:
      return GT::iq1_m;
    case FT::mostly_iq4_nl:
      return GT::iq4_nl;
    case FT::mostly_iq4_xs:
      return GT::iq4_xs;
    case FT::mostly_iq3_s:
    case FT::mostly_iq3_m:
      return GT::iq3_s;
  }
  throw Error(ErrorKind::bad_input,
              fmt::format("file type {} cannot be generated", static_cast<int>(ftype)));
}

// convert_hf_to_gguf.py, ModelBase.prepare_tensors: which tensors stay F32.
bool stays_f32_when_converted(const TensorInfo& t) {
  const std::string_view name = t.name;
  // The shared-expert gate is a {1, n_embd} matrix in the checkpoint: the converter counts two
  // dimensions and writes the float type (qwen3next; ggml then sees one and never quantizes it).
  if (name.ends_with("ffn_gate_inp_shexp.weight")) return false;
  if (n_dims(t) <= 1 || name.ends_with("_norm.weight") || !name.ends_with(".weight")) {
    return true;
  }
  return contains(name, "ffn_gate_inp.") || contains(name, "ssm_conv1d.") ||
         name == "position_embd.weight" || name == "token_types.weight";
}

GgmlType converted_type(const TensorInfo& t, FileType ftype) {
  return converted_type(stays_f32_when_converted(t), ftype);
}

GgmlType converted_type(bool stays_f32, FileType ftype) {
  if (ftype == FT::all_f32 || stays_f32) return GT::f32;
  return ftype == FT::mostly_bf16 ? GT::bf16 : GT::f16;
}

// tensor_allows_quantization (the parts that concern text models of the supported archs,
// plus the cheap name checks for the others).
bool allows_quantization(const TensorInfo& t) {
  if (n_dims(t) < 2) return false;
  const std::string_view name = t.name;
  if (!name.ends_with("weight")) return false;
  if (contains(name, "_norm.weight")) return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  static constexpr std::array<std::string_view, 12> kept_as_is{"ffn_gate_inp.weight",
                                                               "ffn_gate_tid2eid.weight",
                                                               "altup",
                                                               "laurel",
                                                               "per_layer_model_proj",
                                                               "ssm_conv1d",
                                                               "shortconv.conv.weight",
                                                               "time_mix_first.weight",
                                                               "attn_rel_b.weight",
                                                               "indexer.k_proj.weight",
                                                               "indexer.q_proj.weight",
                                                               "time_mix_lerp_fused.weight"};
  return std::none_of(kept_as_is.begin(), kept_as_is.end(),
                      [&](std::string_view part) { return contains(name, part); });
}

// llama_tensor_get_type (outer wrapper): pick by preset, then fix the row-length misfits.
TensorRole tensor_role(const TensorInfo& t) {
  return TensorRole{.category = category_of(t.name),
                    .quantizable = allows_quantization(t),
                    .stays_f32 = stays_f32_when_converted(t),
                    .block = tensor_block(t.name)};
}

GgmlType quantized_type(const ModelSpec& spec, FileType ftype, const TensorInfo& t,
                        QuantState& state) {
  return quantized_type(spec, ftype, t, tensor_role(t), state);
}

GgmlType quantized_type(const ModelSpec& spec, FileType ftype, const TensorInfo& t,
                        const TensorRole& role, QuantState& state) {
  if (!role.quantizable) return t.type;
  const GT base = default_type(ftype);
  if (!is_quantized(base)) return base;
  return fallback(t, mix_type(spec, ftype, t, role, base, state), state);
}

}  // namespace vramplan::detail
