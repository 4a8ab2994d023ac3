#include <algorithm>
#include <cctype>

#include <fmt/format.h>

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
  const std::int32_t block = tensor_block(t.name);
  if (block < 0) return Split::replicated;  // output_norm, rope_freqs, position embeddings
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

Bytes rank_bytes(const TensorInfo& t, const ModelSpec& spec, std::int32_t tp, bool fp8_linear) {
  const Split split = classify(t, spec);
  if (split == Split::skipped) return 0;
  const bool to_fp8 = fp8_linear && is_float(t.type) && split != Split::vocab &&
                      !(t.ne[1] == 1 && t.ne[2] == 1) && !contains(t.name, "ffn_gate_inp");
  const Bytes bytes = to_fp8 ? t.elements() : t.bytes();
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

Bytes activation_bytes(const ModelSpec& spec, std::int32_t max_num_seqs) {
  Bytes a = vllm_activation_base + max_num_seqs * spec.n_vocab * vllm_activation_per_logit_x10 / 10;
  if (spec.moe.present()) a += vllm_activation_moe;
  return a;
}

}  // namespace

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
  std::vector<TensorInfo> tensors = generate_tensors(model.spec, ftype);
  for (TensorInfo& t : tensors) {
    if (t.type == GgmlType::f32) t.type = half;  // vLLM keeps norms in the model dtype
  }
  Model out =
      make_model(model.name, model.source, model.spec, ftype, std::move(tensors), model.projector);
  out.entry_id = model.entry_id;
  out.file = model.file;
  return out;
}

Bytes vllm_rank_weight_bytes(const Model& model, std::int32_t tp, bool fp8_linear) {
  Bytes total = 0;
  for (const TensorInfo& t : model.tensors) total += rank_bytes(t, model.spec, tp, fp8_linear);
  return total + model.projector;  // vision towers: replicated on every rank
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
  const VllmBatchDefaults defaults = vllm_batch_defaults(total, request.gpu_name);
  e.tensor_parallel = tp;
  e.max_model_len = request.max_model_len.value_or(spec.n_ctx_train);
  e.util_x10000 = request.util_x10000.value_or(vllm_default_util_x10000);
  e.max_num_seqs = request.max_num_seqs.value_or(defaults.max_num_seqs);
  e.max_num_batched_tokens =
      request.max_num_batched_tokens.value_or(defaults.max_num_batched_tokens);
  e.dtype = request.dtype;
  e.kv_cache_dtype = request.kv_cache_dtype;
  e.enforce_eager = request.enforce_eager;
  e.cudagraph_in_budget = request.cudagraph_in_budget;
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
  const Bytes weights =
      vllm_rank_weight_bytes(model, tp, request.dtype == VllmDtype::fp8) + vllm_weight_extra;
  const Bytes activation = activation_bytes(spec, e.max_num_seqs);
  const Bytes non_torch = tp > 1 ? vllm_non_torch_tp : vllm_non_torch_tp1;
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
  e.num_blocks = d.kv_cache > 0 && e.page_bytes > 0 ? d.kv_cache / e.page_bytes : 0;
  e.kv_tokens = e.num_blocks * vllm_block_size;
  e.blocks_per_request = ceil_div(e.max_model_len, vllm_block_size);
  e.kv_needed = e.blocks_per_request * e.page_bytes;
  e.max_concurrency = static_cast<double>(e.num_blocks) / static_cast<double>(e.blocks_per_request);
  e.max_fitting_len = std::min(e.kv_tokens, spec.n_ctx_train);

  e.startup_ok = d.outside_budget >= 0;
  e.kv_ok = e.startup_ok && e.num_blocks >= e.blocks_per_request;
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
  if (swa) {
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
  if (!request.util_x10000) {
    // Step the default down while vLLM would refuse to start or the sampler warm-up would fail.
    std::int32_t util = vllm_default_util_x10000;
    r.util_x10000 = util;
    VllmEstimate e = vllm_estimate(model, r);
    while ((!e.startup_ok || !e.sampler_ok) && util > 1000) {
      util -= 100;
      r.util_x10000 = util;
      e = vllm_estimate(model, r);
    }
    if (util != vllm_default_util_x10000) {
      a.decisions.push_back(
          e.startup_ok && e.sampler_ok
              ? Finding(FindingKind::vllm_util_lowered,
                        {{"util_x10000", util},
                         {"default_x10000", vllm_default_util_x10000},
                         {"room_bytes", e.sampler_room},
                         {"need_bytes", e.sampler_need}},
                        {{Setting::gpu_memory_utilization, util_text(util)}})
              : Finding(FindingKind::vllm_util_none_starts,
                        {{"util_x10000", util}, {"default_x10000", vllm_default_util_x10000}}));
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
  const std::int64_t len = a.estimate.kv_tokens / vllm_block_size * vllm_block_size;
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
  if (request.fp8_supported &&
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
