#include <algorithm>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/finding.hpp>

namespace vramplan {
namespace {

const Fact& fact(const Finding& finding, std::string_view name) {
  const auto it = std::find_if(finding.facts.begin(), finding.facts.end(),
                               [&](const Fact& f) { return f.name == name; });
  if (it == finding.facts.end()) {
    throw Error(ErrorKind::internal,
                fmt::format("finding {} has no fact '{}'", to_string(finding.kind), name));
  }
  return *it;
}

}  // namespace

std::string_view to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::ctx_model_max:
      return "ctx_model_max";
    case FindingKind::ollama_projector_headroom:
      return "ollama_projector_headroom";
    case FindingKind::ctx_largest_fits:
      return "ctx_largest_fits";
    case FindingKind::ctx_floor_too_long:
      return "ctx_floor_too_long";
    case FindingKind::experts_in_ram:
      return "experts_in_ram";
    case FindingKind::experts_in_ram_partial:
      return "experts_in_ram_partial";
    case FindingKind::partial_offload:
      return "partial_offload";
    case FindingKind::kv_auto_q8_0:
      return "kv_auto_q8_0";
    case FindingKind::no_expert_offload:
      return "no_expert_offload";
    case FindingKind::ctx_from_model:
      return "ctx_from_model";
    case FindingKind::batch_from_model:
      return "batch_from_model";
    case FindingKind::gpu_layers_from_model:
      return "gpu_layers_from_model";
    case FindingKind::gpu_over:
      return "gpu_over";
    case FindingKind::ram_over:
      return "ram_over";
    case FindingKind::more_ram:
      return "more_ram";
    case FindingKind::smaller_quant:
      return "smaller_quant";
    case FindingKind::kv_q8_0:
      return "kv_q8_0";
    case FindingKind::one_slot:
      return "one_slot";
    case FindingKind::other_settings:
      return "other_settings";
    case FindingKind::alt_kv_q8_0:
      return "alt_kv_q8_0";
    case FindingKind::alt_fewer_slots:
      return "alt_fewer_slots";
    case FindingKind::alt_ctx_all_layers:
      return "alt_ctx_all_layers";
    case FindingKind::alt_smaller_quant:
      return "alt_smaller_quant";
    case FindingKind::alt_more_gpus:
      return "alt_more_gpus";
    case FindingKind::ctx_clamped:
      return "ctx_clamped";
    case FindingKind::ctx_above_max:
      return "ctx_above_max";
    case FindingKind::embedding_one_slot:
      return "embedding_one_slot";
    case FindingKind::arch_one_slot:
      return "arch_one_slot";
    case FindingKind::vision_min_ctx:
      return "vision_min_ctx";
    case FindingKind::compute_closed_form:
      return "compute_closed_form";
    case FindingKind::experts_on_host:
      return "experts_on_host";
    case FindingKind::cpu_repack:
      return "cpu_repack";
    case FindingKind::projector:
      return "projector";
    case FindingKind::vllm_util_lowered:
      return "vllm_util_lowered";
    case FindingKind::vllm_util_none_starts:
      return "vllm_util_none_starts";
    case FindingKind::vllm_len_model_max:
      return "vllm_len_model_max";
    case FindingKind::vllm_len_largest:
      return "vllm_len_largest";
    case FindingKind::vllm_len_below_floor:
      return "vllm_len_below_floor";
    case FindingKind::vllm_sampler_tight:
      return "vllm_sampler_tight";
    case FindingKind::vllm_startup:
      return "vllm_startup";
    case FindingKind::vllm_no_kv_room:
      return "vllm_no_kv_room";
    case FindingKind::vllm_kv_short:
      return "vllm_kv_short";
    case FindingKind::vllm_fp8_weights:
      return "vllm_fp8_weights";
    case FindingKind::vllm_fp8_kv:
      return "vllm_fp8_kv";
    case FindingKind::vllm_len_unset:
      return "vllm_len_unset";
    case FindingKind::vllm_fewer_seqs:
      return "vllm_fewer_seqs";
    case FindingKind::vllm_util_095:
      return "vllm_util_095";
    case FindingKind::vllm_util_unset:
      return "vllm_util_unset";
    case FindingKind::vllm_more_gpus:
      return "vllm_more_gpus";
    case FindingKind::vllm_len_above_max:
      return "vllm_len_above_max";
    case FindingKind::vllm_swa_as_full:
      return "vllm_swa_as_full";
    case FindingKind::vllm_recurrent:
      return "vllm_recurrent";
    case FindingKind::vllm_gguf:
      return "vllm_gguf";
    case FindingKind::vllm_projector:
      return "vllm_projector";
    case FindingKind::vllm_catalog_checkpoint:
      return "vllm_catalog_checkpoint";
    case FindingKind::vllm_file_dtype:
      return "vllm_file_dtype";
    case FindingKind::vllm_no_bf16:
      return "vllm_no_bf16";
    case FindingKind::check_gpu_over:
      return "check_gpu_over";
    case FindingKind::check_ram_over:
      return "check_ram_over";
    case FindingKind::check_spills:
      return "check_spills";
    case FindingKind::check_not_resident:
      return "check_not_resident";
    case FindingKind::check_max_loaded:
      return "check_max_loaded";
    case FindingKind::check_vllm_startup:
      return "check_vllm_startup";
    case FindingKind::check_vllm_no_kv:
      return "check_vllm_no_kv";
    case FindingKind::check_pinned_layers:
      return "check_pinned_layers";
    case FindingKind::check_fit_ctx:
      return "check_fit_ctx";
    case FindingKind::check_projector_retry:
      return "check_projector_retry";
    case FindingKind::check_not_modelled:
      return "check_not_modelled";
    case FindingKind::check_fix_kv_q8_0:
      return "check_fix_kv_q8_0";
    case FindingKind::check_fix_parallel:
      return "check_fix_parallel";
    case FindingKind::check_fix_ctx:
      return "check_fix_ctx";
    case FindingKind::check_fix_gpu_layers:
      return "check_fix_gpu_layers";
    case FindingKind::check_fix_quant:
      return "check_fix_quant";
    case FindingKind::check_fix_max_loaded:
      return "check_fix_max_loaded";
    case FindingKind::check_fix_vllm_kv_fp8:
      return "check_fix_vllm_kv_fp8";
    case FindingKind::check_fix_vllm_seqs:
      return "check_fix_vllm_seqs";
    case FindingKind::check_fix_vllm_len:
      return "check_fix_vllm_len";
    case FindingKind::check_fix_vllm_fp8:
      return "check_fix_vllm_fp8";
    case FindingKind::check_fix_combined:
      return "check_fix_combined";
    case FindingKind::set_vllm_reserved:
      return "set_vllm_reserved";
    case FindingKind::set_eviction:
      return "set_eviction";
    case FindingKind::set_vllm_smallest_util:
      return "set_vllm_smallest_util";
    case FindingKind::set_own_ctx:
      return "set_own_ctx";
  }
  return "";
}

std::int64_t Finding::number(std::string_view name) const {
  const Fact& f = fact(*this, name);
  if (const auto* n = std::get_if<std::int64_t>(&f.value)) return *n;
  throw Error(ErrorKind::internal,
              fmt::format("finding {}: '{}' is not a number", to_string(kind), name));
}

const std::string& Finding::word(std::string_view name) const {
  const Fact& f = fact(*this, name);
  if (const auto* w = std::get_if<std::string>(&f.value)) return *w;
  throw Error(ErrorKind::internal,
              fmt::format("finding {}: '{}' is not a name", to_string(kind), name));
}

}  // namespace vramplan
