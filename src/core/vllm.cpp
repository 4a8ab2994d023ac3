#include <algorithm>
#include <cctype>
#include <utility>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/vllm.hpp>
#include <vramplan/text.hpp>

namespace vramplan {
namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::int32_t kv_heads(const ModelSpec& spec, std::int32_t il) {
  return spec.n_head_kv_per_layer.empty() ? spec.n_head_kv
                                          : spec.n_head_kv_per_layer[static_cast<std::size_t>(il)];
}

// KV heads one rank holds (ModelConfig.get_num_kv_heads): max(1, heads / tp).
std::int64_t rank_kv_heads(std::int64_t heads, std::int32_t tp) {
  return std::max<std::int64_t>(1, heads / tp);
}

enum class Split { replicated, tensor, vocab, kv, fused_qkv, skipped };

// How vLLM's tensor-parallel layers hold a tensor (vllm/model_executor/layers/linear.py and
// vocab_parallel_embedding.py).
Split classify(const TensorInfo& t, const ModelSpec& spec) {
  const std::string_view name = t.name;
  if (name == "token_embd.weight" || name == "output.weight") return Split::vocab;
  // The rope factors a GGUF converter writes (Llama 3.1's, LongRoPE's): vLLM computes them
  // from the config, no weight holds them.
  if (name == "rope_freqs.weight" || name.starts_with("rope_factors_")) return Split::skipped;
  const std::int32_t block = tensor_block(t.name);
  if (block < 0) return Split::replicated;  // output_norm, position embeddings
  if (block >= spec.n_layer - spec.n_nextn) return Split::skipped;  // MTP: not loaded
  if (t.ne[1] == 1 && t.ne[2] == 1) return Split::replicated;       // norms, biases, sinks
  if (contains(name, ".attn_k.") || contains(name, ".attn_v.")) return Split::kv;
  if (contains(name, ".attn_qkv.")) return Split::fused_qkv;
  // ReplicatedLinear in vLLM: the MoE router, MLA's q_a / kv_a down-projections, NextN glue.
  if (contains(name, "ffn_gate_inp") || contains(name, ".attn_q_a.") ||
      contains(name, ".attn_kv_a_mqa.") || contains(name, ".nextn.")) {
    return Split::replicated;
  }
  return Split::tensor;
}

bool is_float(GgmlType type) {
  return type == GgmlType::f32 || type == GgmlType::f16 || type == GgmlType::bf16;
}

// A linear layer's weight (what --quantization or a quantized checkpoint converts): 16/32-bit,
// not the vocab-parallel embedding or head, not a norm or bias, not the MoE router.
bool is_quantized_linear(const TensorInfo& t, Split split) {
  return is_float(t.type) && split != Split::vocab && split != Split::skipped &&
         !(t.ne[1] == 1 && t.ne[2] == 1) && !contains(t.name, "ffn_gate_inp");
}

// One rank's bytes of a linear layer held as VllmIntQuant describes. ne[0] is the input
// dimension (K), the other axes the output channels (N, times the experts of a MoE tensor).
Bytes int_quant_rank_bytes(const TensorInfo& t, Split split, const ModelSpec& spec, std::int32_t tp,
                           const VllmIntQuant& q) {
  const std::int64_t k = t.ne[0];
  const std::int64_t n = t.ne[1] * t.ne[2] * t.ne[3];
  const std::int64_t matrices = t.ne[2] * t.ne[3];  // experts
  // RowParallelLinear splits the input dimension: o_proj and the FFN down projections.
  const bool row_parallel = split == Split::tensor && tp > 1 &&
                            (contains(t.name, ".attn_output.") || contains(t.name, "ffn_down"));
  std::int64_t k_rank = k;
  std::int64_t n_rank = n;
  switch (split) {
    case Split::tensor:
      (row_parallel ? k_rank : n_rank) = ceil_div(row_parallel ? k : n, tp);
      break;
    case Split::kv: {
      const std::int64_t heads = kv_heads(spec, tensor_block(t.name));
      if (heads > 0) n_rank = n / heads * rank_kv_heads(heads, tp);
      break;
    }
    case Split::fused_qkv: {
      const std::int64_t heads = kv_heads(spec, tensor_block(t.name));
      const std::int64_t q_rows = spec.n_head * spec.head_dim_k();
      const std::int64_t kv_rows = n - q_rows;
      n_rank =
          ceil_div(q_rows, tp) + (heads > 0 ? kv_rows / heads * rank_kv_heads(heads, tp) : kv_rows);
      break;
    }
    case Split::replicated:
    case Split::vocab:
    case Split::skipped:
      break;
  }
  // Scale groups along the input: all of K's on every rank for an act-order row-parallel layer.
  const std::int64_t k_groups = q.act_order && row_parallel ? k : k_rank;
  const std::int64_t groups = q.group_size > 0 ? ceil_div(k_groups, q.group_size) : 1;
  Bytes bytes = k_rank * n_rank * q.bits / 8;                // qweight, int32-packed
  bytes += groups * n_rank * 2;                              // scales, 16-bit
  if (q.zero_points) bytes += groups * n_rank * q.bits / 8;  // qzeros, packed
  if (q.act_order) bytes += 2 * 4 * k_rank * matrices;       // g_idx + g_idx_sort_indices
  return bytes;
}

// An FFN-only FP8 checkpoint keeps this linear 16-bit: an attention projection, or any linear
// of the first or last (loaded) layer.
bool kept_by_ffn_only_fp8(const TensorInfo& t, const ModelSpec& spec) {
  const std::int32_t block = tensor_block(t.name);
  return contains(t.name, ".attn_") || block == 0 || block == spec.n_layer - spec.n_nextn - 1;
}

Bytes rank_bytes(const TensorInfo& t, const ModelSpec& spec, std::int32_t tp, bool fp8_linear,
                 const VllmIntQuant* quant = nullptr, bool fp8_ffn_only = false) {
  const Split split = classify(t, spec);
  if (split == Split::skipped) return 0;
  if (quant != nullptr && is_quantized_linear(t, split)) {
    return int_quant_rank_bytes(t, split, spec, tp, *quant);
  }
  const bool to_fp8 = fp8_linear && is_quantized_linear(t, split) &&
                      !(fp8_ffn_only && kept_by_ffn_only_fp8(t, spec));
  Bytes bytes = to_fp8 ? t.elements() : t.bytes();
  // MXFP4 experts (gpt-oss): vLLM's Mxfp4MoEMethod (model_executor/layers/quantization/mxfp4.py)
  // re-lays them out for its kernels and holds the biases in fp32; fitted to the logged loads.
  if (t.type == GgmlType::mxfp4) bytes = bytes / 1000 * vllm_mxfp4_layout_x1000;
  const std::int64_t rows = t.ne[1] * t.ne[2] * t.ne[3];
  const Bytes row = bytes / rows;
  switch (split) {
    case Split::replicated:
    case Split::skipped:
      return bytes;
    case Split::tensor:
      return ceil_div(bytes, tp);
    case Split::vocab:  // VocabParallelEmbedding / ParallelLMHead: vocab padded to 64
      return row * ceil_div(pad_to(t.ne[1], 64), tp);
    case Split::kv: {
      const std::int64_t heads = kv_heads(spec, tensor_block(t.name));
      return heads > 0 ? bytes / heads * rank_kv_heads(heads, tp) : bytes;
    }
    case Split::fused_qkv: {
      const std::int64_t heads = kv_heads(spec, tensor_block(t.name));
      const std::int64_t q_rows = spec.n_head * spec.head_dim_k();
      const std::int64_t kv_rows = t.ne[1] - q_rows;
      const std::int64_t kv_rank_rows =
          heads > 0 ? kv_rows / heads * rank_kv_heads(heads, tp) : kv_rows;
      return row * (ceil_div(q_rows, tp) + kv_rank_rows);
    }
  }
  return bytes;
}

std::string util_text(std::int32_t util_x10000) { return fmt::format("{}", util_x10000 / 10000.0); }

// Peak of the profiling forward and the dummy sampler run (GPUModelRunner.profile_run,
// _dummy_sampler_run): dominated by max_num_seqs rows of fp32 logits and their copies. Per
// release (fitted, bench/accuracy/data/vllm-logs.ndjson): 37.5 B per row x vocab before 0.17
// (Qwen3-14B 5.64 GiB on 0.15/0.16; Qwen3-32B, Llama-3.1-8B, gpt-oss on 0.11), 13.8 B from
// 0.17 (2.23 GiB on 0.17/0.18; the 0.19 sweep). MoE models add up to 0.4 GiB for the routed
// expert buffers (Qwen3-30B-A3B +0.48, DeepSeek-V2-Lite +0.38, Mixtral +0.56 on 0.19), except
// MXFP4 experts (below).
// Multimodal checkpoints (a projector / vision tower) also profile the encoder on the largest
// dummy image ("Encoder cache will be initialized with a budget of N tokens, and profiled with
// 1 image items of the maximum feature size", gpu_model_runner.py): gemma-3 +0.24-0.34 GiB,
// Mistral-Small-3.1 +0.11-0.26 on 0.19.
//
// The hidden states of the dummy forward (max_num_batched_tokens rows of the hidden size in the
// 16-bit model dtype) stay allocated while the sampler runs: profile_run holds them until
// `del hidden_states, output` after _dummy_sampler_run (vllm/v1/worker/gpu_model_runner.py,
// GPUModelRunner.profile_run). 64 MiB for a 4096-wide model at 8192 tokens, 128 MiB for an
// 8192-wide one: the 70B models log 0.07-0.08 GiB more activation than the 7-8B ones of the
// same vocabulary (Llama-3.3-70B 1.96-1.97 vs Llama-3.1-8B 1.89, Qwen2.5-72B 2.29 vs
// Qwen2.5-7B 2.21 GiB on 0.19).
Bytes activation_bytes(const Model& model, std::int32_t max_num_seqs,
                       std::int64_t max_num_batched_tokens, const VllmRules& rules) {
  const ModelSpec& spec = model.spec;
  Bytes a = vllm_activation_base + max_num_batched_tokens * spec.n_embd * 2 +
            max_num_seqs * spec.n_vocab * rules.activation_per_logit_x10 / 10;
  // The MoE margin is the bf16/fp8 fused-MoE path's; gpt-oss's MXFP4 experts (Mxfp4MoEMethod)
  // log none: 7.38 GiB on 0.11 and 2.87 on 0.19 are the logits and hidden-state terms alone.
  const bool mxfp4_experts =
      std::any_of(model.tensors.begin(), model.tensors.end(),
                  [](const TensorInfo& t) { return t.type == GgmlType::mxfp4; });
  if (spec.moe.present() && !mxfp4_experts) a += vllm_activation_moe;
  if (model.projector > 0) a += vllm_activation_encoder;
  return a;
}

// Bytes of KV one request of `len` tokens needs, summed over the layers
// (kv_cache_utils.py max_memory_usage_bytes: what the start-up check compares).
Bytes kv_needed_bytes(const VllmKvLayout& layout, const ModelSpec& spec, std::int64_t len,
                      std::int64_t batched, Bytes bytes_per_token_all) {
  if (!layout.uniform)
    return ceil_div(len, vllm_block_size) * vllm_block_size * bytes_per_token_all;
  std::int64_t full = 0;
  std::int64_t swa = 0;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention la = layer_attention(spec, il);
    if (!la.has_kv) continue;
    (layout.hybrid || layout.swa_groups > 0) && la.swa ? ++swa : ++full;
  }
  VllmKvLayout one_full = layout;
  one_full.full_groups = 1;
  one_full.swa_groups = 0;
  VllmKvLayout one_swa = layout;
  one_swa.full_groups = 0;
  one_swa.swa_groups = 1;
  return layout.page_bytes * (full * vllm_blocks_per_request(one_full, len, batched) +
                              swa * vllm_blocks_per_request(one_swa, len, batched));
}

// The decimal number at the start of `text`, of at most `max_digits` digits (so it cannot
// overflow): its value and how many characters it took (0: none).
std::pair<std::int32_t, std::size_t> leading_number(std::string_view text, std::size_t max_digits) {
  std::int32_t value = 0;
  std::size_t digits = 0;
  while (digits < text.size() && digits < max_digits &&
         std::isdigit(static_cast<unsigned char>(text[digits])) != 0) {
    value = value * 10 + (text[digits] - '0');
    ++digits;
  }
  return {value, digits};
}

}  // namespace

VllmRules vllm_rules(std::int32_t release) {
  VllmRules r;
  r.release = std::clamp(release, vllm_oldest_release, vllm_newest_release);
  // 0.92 and the CUDA-graph estimate inside the budget from 0.21 (PR #38284,
  // vllm/config/cache.py and vllm/envs.py); 0.90 and graphs outside before.
  r.default_util_x10000 = r.release >= 21 ? 9200 : 9000;
  r.cudagraph_in_budget = r.release >= 21;
  // The profiling peak fell by 60 % between 0.16 and 0.17 (llm-d-planner's version sweep).
  r.activation_per_logit_x10 =
      r.release >= 17 ? vllm_activation_per_logit_x10 : vllm_activation_per_logit_old_x10;
  // Non-torch memory of the profiling forward at TP >= 2 on H100 (NCCL and all-reduce buffers
  // allocated on the first collectives): 0.54-0.55 GiB logged on 0.11.0
  // (llm-d-benchmark), 2.06-2.21 on 0.19.0 (llm-d-planner). The releases between, and 0.10, were
  // not measured: they keep the larger figure (the safe side).
  r.non_torch_tp = r.release == 11 ? vllm_non_torch_tp_011 : vllm_non_torch_tp;
  return r;
}

std::optional<std::int32_t> parse_vllm_release(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) text.remove_prefix(1);
  if (text.rfind("0.", 0) != 0) return std::nullopt;
  text.remove_prefix(2);
  const auto [minor, digits] = leading_number(text, 3);
  if (digits == 0) return std::nullopt;
  const std::string_view rest = text.substr(digits);
  // A patch level ("0.11.2") is the same rules; anything else is not a release name.
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2 || rest.size() > 4) return std::nullopt;
    for (const char c : rest.substr(1)) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    }
  }
  if (minor < vllm_oldest_release || minor > vllm_newest_release) return std::nullopt;
  return minor;
}

std::optional<std::int32_t> vllm_image_release(std::string_view image) {
  const std::size_t colon = image.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return parse_vllm_release(image.substr(colon + 1));
}

std::string vllm_release_name(std::int32_t release) { return fmt::format("0.{}", release); }

std::string vllm_known_releases() {
  std::string out;
  for (std::int32_t r = vllm_oldest_release; r <= vllm_newest_release; ++r) {
    if (!out.empty()) out += ", ";
    out += vllm_release_name(r);
  }
  return out;
}

VllmKvLayout vllm_kv_layout(const ModelSpec& spec, std::int32_t tp, std::int64_t dtype_bytes) {
  VllmKvLayout layout;
  std::int32_t full = 0;
  std::int32_t swa = 0;
  Bytes page = -1;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention la = layer_attention(spec, il);
    if (!la.has_kv) continue;
    const Bytes layer_page =
        vllm_block_size * (spec.mla.present()
                               ? (spec.mla.kv_lora_rank + spec.mla.qk_rope_head_dim) * dtype_bytes
                               : rank_kv_heads(kv_heads(spec, il), tp) *
                                     (spec.head_dim_k() + spec.head_dim_v()) * dtype_bytes);
    if (page >= 0 && layer_page != page) layout.uniform = false;
    page = layer_page;
    la.swa&& spec.swa.window > 0 ? ++swa : ++full;
  }
  if (full + swa == 0) return layout;
  layout.page_bytes = page;
  if (!layout.uniform) {
    // Layers of different page sizes: vramplan does not replay vLLM's page unification;
    // every layer is counted as full attention (fewer tokens than vLLM: the safe side).
    layout.page_bytes = vllm_block_size * vllm_kv_bytes_per_token(spec, tp, dtype_bytes);
    layout.group_size = 1;
    layout.full_groups = 1;
    return layout;
  }
  layout.window = swa > 0 ? spec.swa.window : 0;
  if (full == 0 || swa == 0) {
    layout.group_size = full + swa;
    (swa > 0 ? layout.swa_groups : layout.full_groups) = 1;
    return layout;
  }
  layout.hybrid = true;
  const std::int32_t lo = std::min(full, swa);
  const std::int32_t hi = std::max(full, swa);
  layout.group_size = 2 * hi < 3 * lo ? hi : lo;  // max < 1.5 x min: the larger count
  layout.full_groups = static_cast<std::int32_t>(ceil_div(full, layout.group_size));
  layout.swa_groups = static_cast<std::int32_t>(ceil_div(swa, layout.group_size));
  return layout;
}

std::int64_t vllm_blocks_per_request(const VllmKvLayout& layout, std::int64_t len,
                                     std::int64_t max_num_batched_tokens) {
  const std::int64_t full = ceil_div(len, vllm_block_size);
  const std::int64_t swa =
      ceil_div(std::min(layout.window - 1 + max_num_batched_tokens, len), vllm_block_size) + 1;
  return layout.full_groups * full + layout.swa_groups * swa;
}

std::string_view to_string(VllmDtype dtype) {
  switch (dtype) {
    case VllmDtype::checkpoint:
      return "auto";
    case VllmDtype::bf16:
      return "bf16";
    case VllmDtype::fp16:
      return "fp16";
    case VllmDtype::fp8:
      return "fp8";
  }
  return "auto";
}

std::optional<VllmDtype> parse_vllm_dtype(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "auto") return VllmDtype::checkpoint;
  if (t == "bf16" || t == "bfloat16") return VllmDtype::bf16;
  if (t == "fp16" || t == "f16" || t == "float16" || t == "half") return VllmDtype::fp16;
  if (t == "fp8") return VllmDtype::fp8;
  return std::nullopt;
}

std::string_view vllm_dtype_flag(VllmDtype dtype) {
  switch (dtype) {
    case VllmDtype::bf16:
    case VllmDtype::fp8:
      return "bfloat16";
    case VllmDtype::fp16:
      return "float16";
    case VllmDtype::checkpoint:
      break;
  }
  return "auto";
}

std::optional<VllmIntQuant> parse_vllm_int_quant(std::string_view text) {
  const std::string t = lower_ascii(text);
  std::string_view rest = t;
  VllmIntQuant q;
  auto take = [&rest](std::string_view prefix) {
    if (rest.substr(0, prefix.size()) != prefix) return false;
    rest.remove_prefix(prefix.size());
    return true;
  };
  if (take("gptq-int8") || take("w8a16")) {
    q.bits = 8;
  } else if (take("gptq-int4") || take("gptq") || take("w4a16")) {
    q.bits = 4;
  } else if (take("awq")) {
    q.zero_points = true;
  } else {
    return std::nullopt;
  }
  if (take("-gchannel")) {
    q.group_size = -1;
  } else if (take("-g")) {
    const auto [group, digits] = leading_number(rest, 6);
    if (digits == 0 || group < 1 || group > 65536) return std::nullopt;
    q.group_size = group;
    rest.remove_prefix(digits);
  }
  if (take("-act")) {
    if (q.zero_points) return std::nullopt;  // AWQ has no act order
    q.act_order = true;
  }
  if (!rest.empty()) return std::nullopt;
  return q;
}

std::string to_string(const VllmIntQuant& quant) {
  std::string out = quant.zero_points ? "awq" : quant.bits == 8 ? "gptq-int8" : "gptq";
  out += quant.group_size > 0 ? fmt::format("-g{}", quant.group_size) : std::string("-gchannel");
  if (quant.act_order) out += "-act";
  return out;
}

std::string_view to_string(VllmKvDtype dtype) { return dtype == VllmKvDtype::fp8 ? "fp8" : "auto"; }

std::optional<VllmKvDtype> parse_vllm_kv_dtype(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "auto") return VllmKvDtype::model;
  if (t == "fp8" || t == "fp8_e4m3" || t == "fp8_e5m2") return VllmKvDtype::fp8;
  return std::nullopt;
}

VllmBatchDefaults vllm_batch_defaults(Bytes gpu_total, std::string_view gpu_name) {
  if (gpu_total >= 70 * gib && !contains(lower_ascii(gpu_name), "a100")) return {1024, 8192};
  return {256, 2048};
}

Model vllm_checkpoint_model(const Model& model, VllmDtype dtype) {
  if (dtype == VllmDtype::checkpoint) return model;
  const FileType ftype = dtype == VllmDtype::fp16 ? FileType::mostly_f16 : FileType::mostly_bf16;
  const GgmlType half = dtype == VllmDtype::fp16 ? GgmlType::f16 : GgmlType::bf16;
  // A GGUF's duplicate of a tied head (ModelSpec::stored_output) is not in vLLM's weights.
  ModelSpec checkpoint = model.spec;
  checkpoint.stored_output = false;
  std::vector<TensorInfo> tensors = generate_tensors(checkpoint, ftype);
  for (TensorInfo& t : tensors) {
    if (t.type == GgmlType::f32) t.type = half;  // vLLM keeps norms in the model dtype
  }
  Model out =
      make_model(model.name, model.source, model.spec, ftype, std::move(tensors), model.projector);
  out.entry_id = model.entry_id;
  out.projector_encoder = model.projector_encoder;
  out.file = model.file;
  return out;
}

Bytes vllm_rank_weight_bytes(const Model& model, std::int32_t tp, bool fp8_linear) {
  Bytes total = 0;
  for (const TensorInfo& t : model.tensors) total += rank_bytes(t, model.spec, tp, fp8_linear);
  return total + model.projector;  // vision towers: replicated on every rank
}

Bytes vllm_rank_weight_bytes_fp8_ffn(const Model& model, std::int32_t tp) {
  Bytes total = 0;
  for (const TensorInfo& t : model.tensors) {
    total += rank_bytes(t, model.spec, tp, true, nullptr, true);
  }
  return total + model.projector;
}

Bytes vllm_rank_weight_bytes(const Model& model, std::int32_t tp, const VllmIntQuant& quant) {
  Bytes total = 0;
  for (const TensorInfo& t : model.tensors) total += rank_bytes(t, model.spec, tp, false, &quant);
  return total + model.projector;
}

Bytes vllm_kv_bytes_per_token(const ModelSpec& spec, std::int32_t tp, std::int64_t dtype_bytes) {
  Bytes total = 0;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention la = layer_attention(spec, il);
    if (!la.has_kv) continue;
    if (spec.mla.present()) {
      total += (spec.mla.kv_lora_rank + spec.mla.qk_rope_head_dim) * dtype_bytes;
      continue;
    }
    total += rank_kv_heads(kv_heads(spec, il), tp) * (spec.head_dim_k() + spec.head_dim_v()) *
             dtype_bytes;
  }
  return total;
}

void vllm_check_tensor_parallel(const ModelSpec& spec, std::int32_t tp) {
  if (spec.n_head % tp != 0) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("tensor parallel size {} does not work for this model: vLLM says "
                            "'Total number of attention heads ({}) must be divisible by tensor "
                            "parallel size ({}).'",
                            tp, spec.n_head, tp));
  }
  if (spec.mla.present()) return;
  const std::int32_t kv = spec.n_head_kv;
  if (kv > 0 && kv % tp != 0 && tp % kv != 0) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("tensor parallel size {} does not work for this model: its {} KV "
                            "heads must divide the tensor parallel size or be divisible by it",
                            tp, kv));
  }
}

VllmEstimate vllm_estimate(const Model& model, const VllmRequest& request) {
  const ModelSpec& spec = model.spec;
  if (architecture(spec.arch).ollama_engine_only) {
    refuse_ollama_engine_only(spec.arch);
  }
  if (request.gpus.empty()) {
    throw Error(ErrorKind::invalid_setting, "vLLM needs ", Setting::vram,
                " (the memory of each GPU, as torch sees it)");
  }
  const Bytes total = request.gpus.front();
  for (const Bytes g : request.gpus) {
    if (g != total) {
      throw Error(ErrorKind::invalid_setting,
                  "tensor parallelism needs GPUs of the same size (every ", Setting::vram,
                  " value equal)");
    }
  }
  const auto tp = static_cast<std::int32_t>(request.gpus.size());
  vllm_check_tensor_parallel(spec, tp);

  VllmEstimate e;
  const VllmRules rules = vllm_rules(request.release);
  const VllmBatchDefaults defaults = vllm_batch_defaults(total, request.gpu_name);
  e.release = rules.release;
  e.tensor_parallel = tp;
  e.max_model_len = request.max_model_len.value_or(spec.n_ctx_train);
  e.util_x10000 = request.util_x10000.value_or(rules.default_util_x10000);
  e.max_num_seqs = request.max_num_seqs.value_or(defaults.max_num_seqs);
  e.max_num_batched_tokens =
      request.max_num_batched_tokens.value_or(defaults.max_num_batched_tokens);
  e.dtype = request.dtype;
  e.int_quant = request.int_quant;
  e.fp8_ffn_only = request.fp8_ffn_only;
  e.kv_cache_dtype = request.kv_cache_dtype;
  e.enforce_eager = request.enforce_eager;
  e.cudagraph_in_budget = request.cudagraph_in_budget.value_or(rules.cudagraph_in_budget);
  if (e.max_model_len < 1) {
    throw Error(ErrorKind::invalid_setting, "", Setting::max_model_len, " must be at least 1");
  }
  if (e.util_x10000 < 1 || e.util_x10000 > 10000) {
    throw Error(ErrorKind::invalid_setting, "", Setting::gpu_memory_utilization,
                " must be in (0, 1]");
  }

  // vLLM computes math.ceil(total * util) on the byte count.
  // Split so that no product overflows, whatever the capacity (exact: util_x10000 <= 10000).
  e.requested = total / 10000 * e.util_x10000 + ceil_div(total % 10000 * e.util_x10000, 10000);
  const Bytes pre = tp > 1 ? vllm_pre_snapshot_tp : vllm_pre_snapshot_tp1;
  const bool fp8 = request.dtype == VllmDtype::fp8;
  const Bytes weights = (request.int_quant ? vllm_rank_weight_bytes(model, tp, *request.int_quant)
                         : fp8 && request.fp8_ffn_only ? vllm_rank_weight_bytes_fp8_ffn(model, tp)
                                                       : vllm_rank_weight_bytes(model, tp, fp8)) +
                        vllm_weight_extra;
  const Bytes activation = activation_bytes(model, e.max_num_seqs, e.max_num_batched_tokens, rules);
  const Bytes non_torch = tp > 1 ? rules.non_torch_tp : vllm_non_torch_tp1;
  const Bytes graphs = e.enforce_eager ? 0 : vllm_cuda_graph;
  const Bytes graphs_applied = e.cudagraph_in_budget ? graphs : 0;
  e.cuda_graph_outside = graphs - graphs_applied;

  for (std::size_t i = 0; i < request.gpus.size(); ++i) {
    VllmDevice d;
    d.name = fmt::format("GPU{}", i);
    d.total = total;
    d.pre_snapshot = pre;
    d.weights = weights;
    d.activation = activation;
    d.non_torch = non_torch;
    d.cuda_graph = graphs_applied;
    d.kv_cache = e.requested - weights - activation - non_torch - graphs_applied;
    d.outside_budget = total - pre - e.requested;
    e.devices.push_back(d);
  }
  const VllmDevice& d = e.devices.front();

  const std::int64_t dtype_bytes = e.kv_cache_dtype == VllmKvDtype::fp8 ? 1 : 2;
  e.kv_bytes_per_token = vllm_kv_bytes_per_token(spec, tp, dtype_bytes);
  e.page_bytes = vllm_block_size * e.kv_bytes_per_token;
  const VllmKvLayout& layout = e.kv_layout = vllm_kv_layout(spec, tp, dtype_bytes);
  const std::int64_t batched = e.max_num_batched_tokens;
  // get_num_blocks: available // page_size // group_size; "GPU KV cache size" (0.19's
  // kv_cache_utils.py) = num_blocks // number of groups * block_size.
  const Bytes slot = layout.page_bytes * layout.group_size;
  const std::int32_t groups = layout.full_groups + layout.swa_groups;
  e.num_blocks = d.kv_cache > 0 && slot > 0 ? d.kv_cache / slot : 0;
  e.kv_tokens = groups > 0 ? e.num_blocks / groups * vllm_block_size : 0;
  e.blocks_per_request =
      std::max<std::int64_t>(1, vllm_blocks_per_request(layout, e.max_model_len, batched));
  e.kv_needed = kv_needed_bytes(layout, spec, e.max_model_len, batched, e.kv_bytes_per_token);
  e.max_concurrency = static_cast<double>(e.num_blocks) / static_cast<double>(e.blocks_per_request);
  // estimate_max_model_len: the longest request whose summed need fits (binary search).
  e.max_fitting_len = 0;
  for (std::int64_t lo = 1, hi = spec.n_ctx_train; lo <= hi && d.kv_cache > 0;) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (kv_needed_bytes(layout, spec, mid, batched, e.kv_bytes_per_token) <= d.kv_cache) {
      e.max_fitting_len = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }

  e.startup_ok = d.outside_budget >= 0;
  e.kv_ok = e.startup_ok && d.kv_cache > 0 && e.kv_needed <= d.kv_cache;
  e.sampler_need = e.max_num_seqs * spec.n_vocab * 4 + vllm_sampler_margin;
  e.sampler_room = d.outside_budget - e.cuda_graph_outside;
  e.sampler_ok = e.sampler_room >= e.sampler_need;

  if (e.max_model_len > spec.n_ctx_train) {
    e.notes.push_back(Finding(FindingKind::vllm_len_above_max, {{"max_model_len", e.max_model_len},
                                                                {"model_max", spec.n_ctx_train}}));
  }
  bool swa = false;
  bool recurrent = false;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention la = layer_attention(spec, il);
    swa = swa || (la.has_kv && la.swa);
    recurrent = recurrent || la.recurrent;
  }
  if (swa && !layout.uniform) {
    e.notes.push_back(Finding(FindingKind::vllm_swa_as_full));
  }
  if (recurrent) {
    e.notes.push_back(Finding(FindingKind::vllm_recurrent));
  }
  if (model.file.has_value() && model.file->format.rfind("GGUF", 0) == 0) {
    e.notes.push_back(Finding(FindingKind::vllm_gguf));
  }
  if (model.projector > 0) {
    e.notes.push_back(Finding(FindingKind::vllm_projector, {{"bytes", model.projector}}));
  }
  return e;
}

namespace {

// One attempt of the recommender: util fixed, max_model_len chosen when unset.
struct Attempt {
  VllmEstimate estimate;
  bool fits = false;
  std::vector<Finding> decisions;
};

Attempt attempt(const Model& model, const VllmRequest& request) {
  const std::int64_t model_max = model.spec.n_ctx_train;
  Attempt a;
  VllmRequest r = request;
  const std::int32_t default_util = vllm_rules(request.release).default_util_x10000;
  if (!request.util_x10000) {
    // Step the default down while vLLM would refuse to start or the sampler warm-up would fail.
    std::int32_t util = default_util;
    r.util_x10000 = util;
    VllmEstimate e = vllm_estimate(model, r);
    while ((!e.startup_ok || !e.sampler_ok) && util > 1000) {
      util -= 100;
      r.util_x10000 = util;
      e = vllm_estimate(model, r);
    }
    if (util != default_util) {
      a.decisions.push_back(
          e.startup_ok && e.sampler_ok
              ? Finding(FindingKind::vllm_util_lowered,
                        {{"util_x10000", util},
                         {"default_x10000", default_util},
                         {"room_bytes", e.sampler_room},
                         {"need_bytes", e.sampler_need}},
                        {{Setting::gpu_memory_utilization, util_text(util)}})
              : Finding(FindingKind::vllm_util_none_starts,
                        {{"util_x10000", util}, {"default_x10000", default_util}}));
    }
  }
  r.max_model_len = request.max_model_len.value_or(model_max);
  a.estimate = vllm_estimate(model, r);
  if (request.max_model_len) {
    a.fits = a.estimate.fits();
    return a;
  }
  if (a.estimate.fits()) {
    a.fits = true;
    a.decisions.push_back(Finding(FindingKind::vllm_len_model_max, {{"max_model_len", model_max}}));
    return a;
  }
  // --max-model-len auto: the largest multiple of the block size that fits.
  const std::int64_t floor = std::min(request.min_model_len, model_max);
  const std::int64_t len = a.estimate.max_fitting_len / vllm_block_size * vllm_block_size;
  if (a.estimate.startup_ok && len >= std::max<std::int64_t>(floor, 1)) {
    r.max_model_len = len;
    a.estimate = vllm_estimate(model, r);
    a.fits = a.estimate.fits();
    a.decisions.push_back(Finding(
        FindingKind::vllm_len_largest,
        {{"max_model_len", len}, {"block_size", vllm_block_size}, {"model_max", model_max}}));
  } else if (a.estimate.startup_ok && len > 0) {
    r.max_model_len = len;
    a.estimate = vllm_estimate(model, r);
    a.decisions.push_back(
        Finding(FindingKind::vllm_len_below_floor, {{"max_model_len", len}, {"floor", floor}}));
  }
  return a;
}

}  // namespace

VllmPlan vllm_fit(const Model& model, const VllmRequest& request) {
  VllmPlan plan;
  Attempt best = attempt(model, request);
  plan.fits = best.fits;
  plan.estimate = best.estimate;
  plan.decisions = best.decisions;
  const VllmEstimate& e = plan.estimate;
  const VllmDevice& d = e.devices.front();
  if (plan.fits) {
    if (!e.sampler_ok) {
      plan.decisions.push_back(
          Finding(FindingKind::vllm_sampler_tight, {{"room_bytes", e.sampler_room},
                                                    {"need_bytes", e.sampler_need},
                                                    {"max_num_seqs", e.max_num_seqs}}));
    }
    return plan;
  }

  // Why not, with vLLM's own numbers.
  const Bytes non_kv = d.weights + d.activation + d.non_torch + d.cuda_graph;
  if (!e.startup_ok) {
    plan.reasons.push_back(
        Finding(FindingKind::vllm_startup, {{"free_bytes", d.total - d.pre_snapshot},
                                            {"pre_snapshot_bytes", d.pre_snapshot},
                                            {"requested_bytes", e.requested},
                                            {"util_x10000", e.util_x10000}}));
  } else if (d.kv_cache <= 0) {
    plan.reasons.push_back(
        Finding(FindingKind::vllm_no_kv_room, {{"weights_bytes", d.weights},
                                               {"activation_bytes", d.activation},
                                               {"non_torch_bytes", d.non_torch},
                                               {"cuda_graph_bytes", d.cuda_graph},
                                               {"non_kv_bytes", non_kv},
                                               {"requested_bytes", e.requested},
                                               {"util_x10000", e.util_x10000},
                                               {"total_bytes", d.total},
                                               {"over_bytes", non_kv - e.requested}}));
  } else {
    plan.reasons.push_back(
        Finding(FindingKind::vllm_kv_short, {{"max_model_len", e.max_model_len},
                                             {"needed_bytes", e.kv_needed},
                                             {"available_bytes", d.kv_cache},
                                             {"max_fitting_len", e.max_fitting_len}}));
  }

  // What would fit: each change alone, planned the same way.
  auto try_change = [&](const VllmRequest& changed, const Model& m, const Finding& change) {
    try {
      const Attempt a = attempt(m, changed);
      plan.suggestions.push_back(VllmSuggestion{
          change, a.fits, a.fits ? a.estimate.max_model_len : 0, a.estimate.kv_tokens});
    } catch (const Error& refused) {
      // An alternative vLLM would refuse (a TP size the heads cannot split) is not suggested;
      // anything else is a real error.
      if (refused.kind() != ErrorKind::invalid_setting) throw;
    }
  };
  // fp8 weights replace 16-bit ones; a GPTQ/AWQ checkpoint's linears are smaller already.
  if (request.fp8_supported && !request.int_quant &&
      (request.dtype == VllmDtype::bf16 || request.dtype == VllmDtype::fp16)) {
    VllmRequest fp8 = request;
    fp8.dtype = VllmDtype::fp8;
    try_change(fp8, model,
               Finding(FindingKind::vllm_fp8_weights, {}, {{Setting::dtype, std::string("fp8")}}));
  }
  if (request.fp8_supported && request.kv_cache_dtype == VllmKvDtype::model) {
    VllmRequest kv = request;
    kv.kv_cache_dtype = VllmKvDtype::fp8;
    try_change(
        kv, model,
        Finding(FindingKind::vllm_fp8_kv, {}, {{Setting::kv_cache_dtype, std::string("fp8")}}));
  }
  if (request.max_model_len) {
    VllmRequest open = request;
    open.max_model_len.reset();
    open.min_model_len = 1;
    try_change(
        open, model,
        Finding(FindingKind::vllm_len_unset, {}, {{Setting::max_model_len, std::string("auto")}}));
  }
  if (request.max_num_seqs.value_or(e.max_num_seqs) > 64) {
    VllmRequest fewer = request;
    fewer.max_num_seqs = std::max(64, e.max_num_seqs / 4);
    try_change(fewer, model,
               Finding(FindingKind::vllm_fewer_seqs, {{"max_num_seqs", *fewer.max_num_seqs}},
                       {{Setting::max_num_seqs, *fewer.max_num_seqs}}));
  }
  if (request.util_x10000 && *request.util_x10000 < 9500) {
    VllmRequest higher = request;
    higher.util_x10000 = 9500;
    try_change(higher, model,
               Finding(FindingKind::vllm_util_095, {},
                       {{Setting::gpu_memory_utilization, std::string("0.95")}}));
  }
  if (request.util_x10000 && !e.startup_ok) {
    VllmRequest open = request;
    open.util_x10000.reset();
    try_change(open, model,
               Finding(FindingKind::vllm_util_unset, {},
                       {{Setting::gpu_memory_utilization, std::string("auto")}}));
  }
  const auto tp = static_cast<std::int32_t>(request.gpus.size());
  for (std::int32_t more = tp * 2; more <= 8; more *= 2) {
    VllmRequest wider = request;
    wider.gpus.assign(static_cast<std::size_t>(more), d.total);
    try_change(wider, model,
               Finding(FindingKind::vllm_more_gpus, {{"gpus", more}, {"gpu_bytes", d.total}},
                       {{Setting::tensor_parallel, more}}));
  }
  return plan;
}

}  // namespace vramplan
