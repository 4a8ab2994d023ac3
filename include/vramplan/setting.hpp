// The settings a deployment has, by name: what an error, a decision or a suggestion points at.
// Core names them as the JSON keys do (to_string: "ctx", "gpu_layers"); the command line knows
// their flags (src/cli/flags.cpp) and the renderers their words (src/report/findings.cpp).
#pragma once

#include <string_view>

namespace vramplan {

enum class Setting {
  none,
  model,
  vram,
  ram,
  engine,
  backend,
  ctx,
  parallel,
  gpu_layers,
  cpu_moe,
  kv_type,
  flash_attn,
  batch,
  ubatch,
  min_ctx,
  headroom,
  cpu_repack,
  // vLLM's engine arguments
  max_model_len,
  gpu_memory_utilization,
  max_num_seqs,
  max_num_batched_tokens,
  kv_cache_dtype,
  dtype,
  tensor_parallel,
};

[[nodiscard]] constexpr std::string_view to_string(Setting setting) {
  switch (setting) {
    case Setting::none:
      return "";
    case Setting::model:
      return "model";
    case Setting::vram:
      return "vram";
    case Setting::ram:
      return "ram";
    case Setting::engine:
      return "engine";
    case Setting::backend:
      return "backend";
    case Setting::ctx:
      return "ctx";
    case Setting::parallel:
      return "parallel";
    case Setting::gpu_layers:
      return "gpu_layers";
    case Setting::cpu_moe:
      return "cpu_moe";
    case Setting::kv_type:
      return "kv_type";
    case Setting::flash_attn:
      return "flash_attn";
    case Setting::batch:
      return "batch";
    case Setting::ubatch:
      return "ubatch";
    case Setting::min_ctx:
      return "min_ctx";
    case Setting::headroom:
      return "headroom";
    case Setting::cpu_repack:
      return "cpu_repack";
    case Setting::max_model_len:
      return "max_model_len";
    case Setting::gpu_memory_utilization:
      return "gpu_memory_utilization";
    case Setting::max_num_seqs:
      return "max_num_seqs";
    case Setting::max_num_batched_tokens:
      return "max_num_batched_tokens";
    case Setting::kv_cache_dtype:
      return "kv_cache_dtype";
    case Setting::dtype:
      return "dtype";
    case Setting::tensor_parallel:
      return "tensor_parallel";
  }
  return "";
}

}  // namespace vramplan
