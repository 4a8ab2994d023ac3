// What a plan says beyond its numbers, as data: a decision the planner made, a reason a
// configuration does not fit, a change that would make it fit, a note about an assumption or a
// clamp. Each is a kind, the numbers and names it rests on, and the settings it changes; the
// words are the renderers' (src/report/findings.cpp), so every format says the same thing and
// JSON carries both the data and the text (docs/cli.md "JSON output").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <vramplan/setting.hpp>

namespace vramplan {

enum class FindingKind {
  // llama.cpp family, decisions
  ctx_model_max,              // ctx: the model's maximum fits
  ollama_projector_headroom,  // headroom_bytes, projector_bytes: Ollama's fit target for it
  ctx_largest_fits,           // ctx, model_max
  ctx_floor_too_long,         // floor: even the shortest context allowed does not fit
  experts_in_ram,             // cpu_moe, blocks, gpus: every layer on the GPUs, experts in RAM
  experts_in_ram_partial,     // gpu_layers, total_layers, gpus, cpu_moe, blocks
  partial_offload,            // gpu_layers, total_layers, gpus
  no_expert_offload,          // engine: the engine cannot keep only the experts in RAM
  ctx_from_model,             // ctx, origin: a model default (Ollama .params) used as a setting
  batch_from_model,           // batch, origin
  gpu_layers_from_model,      // gpu_layers, origin
  kv_auto_q8_0,  // ctx, total_layers, f16_gpu_layers, f16_ctx: --kv-type auto chose q8_0
  // llama.cpp family, reasons
  gpu_over,  // device, used_bytes, budget_bytes, headroom_bytes, over_bytes
  ram_over,  // used_bytes, budget_bytes, reserve_bytes, over_bytes
  // llama.cpp family, suggestions
  more_ram,        // ram_gib, used_bytes, reserve_bytes
  smaller_quant,   // file_type, weights_bytes
  kv_q8_0,         // the q8_0 cache (with flash attention)
  one_slot,        // parallel 1
  other_settings,  // only `changes`: the settings the planner would pick instead
  // llama.cpp family, alternatives (a plan that fits with layers on the CPU or a shorter
  // context than asked; each with the settings to give in `changes`)
  alt_kv_q8_0,         // a q8_0 cache (flash attention on)
  alt_fewer_slots,     // parallel
  alt_ctx_all_layers,  // ctx, asked_ctx: the longest context with every layer on the GPU
  alt_smaller_quant,   // model, file_type, weights_bytes
  alt_more_gpus,       // gpus, gpu_bytes: one more GPU of the same size
  // llama.cpp family, notes of an estimate
  ctx_clamped,          // ctx, model_max (Ollama clamps)
  ctx_above_max,        // ctx, model_max, engine
  embedding_one_slot,   // parallel
  arch_one_slot,        // parallel, arch
  vision_min_ctx,       // ctx
  compute_closed_form,  // arch
  experts_on_host,      // cpu_moe, bytes
  cpu_repack,           // bytes, isa
  projector,            // bytes, device; compute, flash_attn when the encoder is rebuilt
  // vLLM, decisions
  vllm_util_lowered,      // util_x10000, default_x10000, room_bytes, need_bytes
  vllm_util_none_starts,  // util_x10000, default_x10000
  vllm_len_model_max,     // max_model_len
  vllm_len_largest,       // max_model_len, block_size, model_max
  vllm_len_below_floor,   // max_model_len, floor
  vllm_sampler_tight,     // room_bytes, need_bytes, max_num_seqs
  // vLLM, reasons
  vllm_startup,     // free_bytes, pre_snapshot_bytes, requested_bytes, util_x10000
  vllm_no_kv_room,  // weights_bytes, activation_bytes, non_torch_bytes, cuda_graph_bytes,
                    // non_kv_bytes, requested_bytes, util_x10000, total_bytes, over_bytes
  vllm_kv_short,    // max_model_len, needed_bytes, available_bytes, max_fitting_len
  // vLLM, suggestions
  vllm_fp8_weights,
  vllm_fp8_kv,
  vllm_len_unset,
  vllm_fewer_seqs,  // max_num_seqs
  vllm_util_095,
  vllm_util_unset,
  vllm_more_gpus,  // gpus, gpu_bytes
  // vLLM, notes
  vllm_len_above_max,  // max_model_len, model_max
  vllm_swa_as_full,
  vllm_recurrent,
  vllm_gguf,
  vllm_projector,           // bytes
  vllm_catalog_checkpoint,  // dtype: a catalog model counted as its Hugging Face checkpoint
  vllm_file_dtype,          // dtype: --dtype sets the compute dtype of a file's weights
  vllm_no_bf16,             // gpu: the card has no bfloat16, so the weights are planned in fp16
  // check (issue 11), reasons
  check_gpu_over,      // device, used_bytes, capacity_bytes, over_bytes, component
  check_ram_over,      // used_bytes, capacity_bytes, over_bytes
  check_spills,        // model, gpu_layers, total_layers, cpu_moe, ram_bytes
  check_not_resident,  // models, used_bytes, capacity_bytes, over_bytes, max_loaded
  check_max_loaded,    // max_loaded, models: fewer may be loaded at once than are served
  check_vllm_startup,  // device, free_bytes, requested_bytes, over_bytes
  check_vllm_no_kv,    // device, kv_needed_bytes, kv_available_bytes, over_bytes, weights_bytes
  // check, notes
  check_pinned_layers,    // model, gpu_layers, total_layers: partial offload by the user's choice
  check_fit_ctx,          // model, ctx, model_max: llama-server's --fit shortened the unset context
  check_projector_retry,  // model: Ollama's start with the projector offloaded ran out of
                          // memory; its second start keeps the projector in host memory
  check_not_modelled,     // name, value: a setting that moves memory which check does not apply
  // check, fixes (each with the changed settings in CheckFix::changes)
  check_fix_kv_q8_0,      // a q8_0 cache, flash attention on
  check_fix_parallel,     // parallel
  check_fix_ctx,          // ctx
  check_fix_gpu_layers,   // gpu_layers, total_layers
  check_fix_quant,        // model, from
  check_fix_max_loaded,   // max_loaded: the models take turns
  check_fix_vllm_kv_fp8,  // an fp8 KV cache
  check_fix_vllm_seqs,    // max_num_seqs
  check_fix_vllm_len,     // max_model_len
  check_fix_vllm_fp8,     // fp8 weights (vLLM's online quantization)
  check_fix_combined,     // several of the above, in that order
  // several models (model_set.hpp), notes
  set_vllm_reserved,  // device, containers, reserved_bytes, left_bytes, ollama_bytes, ollama_models
  set_eviction,       // keep_alive: how Ollama's models take turns
  set_vllm_smallest_util,  // model, util_x10000, smallest_x10000, max_model_len
  set_own_ctx,             // model, ctx: a model's own num_ctx, beside the server's context
};

// The JSON name of a kind: "ctx_largest_fits".
[[nodiscard]] std::string_view to_string(FindingKind kind);

// A number or a name a finding rests on ("ctx" = 8192, "device" = "CUDA0"); byte counts end
// in "_bytes" or are named "bytes".
struct Fact {
  std::string name;
  std::variant<std::int64_t, std::string> value;

  bool operator==(const Fact&) const = default;
};

// A setting a suggestion changes, with its new value.
struct Change {
  Setting setting = Setting::none;
  std::variant<std::int64_t, std::string> value;

  bool operator==(const Change&) const = default;
};

struct Finding {
  FindingKind kind{};
  std::vector<Fact> facts;
  std::vector<Change> changes;

  Finding() = default;
  Finding(FindingKind k, std::initializer_list<Fact> f = {}, std::vector<Change> c = {})
      : kind(k), facts(f), changes(std::move(c)) {}

  // The fact called `name`; Error{internal} when it is missing or of the other type.
  [[nodiscard]] std::int64_t number(std::string_view name) const;
  [[nodiscard]] const std::string& word(std::string_view name) const;

  bool operator==(const Finding&) const = default;
};

}  // namespace vramplan
