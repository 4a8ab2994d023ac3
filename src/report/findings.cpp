#include <algorithm>
#include <variant>

#include <nlohmann/json.hpp>

#include <vramplan/bytes.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>

#include "findings_json.hpp"

namespace vramplan::report {
namespace {

std::string bytes(const Finding& f, std::string_view name) { return format_bytes(f.number(name)); }

// "0.92": a utilisation held as x 10000.
std::string util(const Finding& f, std::string_view name) {
  return format_text("{}", static_cast<double>(f.number(name)) / 10000.0);
}

// "s" when the finding counts more than one GPU.
std::string gpus_s(const Finding& f) { return f.number("gpus") > 1 ? "s" : ""; }

std::string value_text(const std::variant<std::int64_t, std::string>& value) {
  if (const auto* n = std::get_if<std::int64_t>(&value)) return format_text("{}", *n);
  return format_text("{}", std::get<std::string>(value));
}

// "--ctx 8192 --gpu-layers 20": the changed settings as flags.
std::string changes_text(const Finding& f) {
  std::string text;
  for (const Change& c : f.changes) {
    if (!text.empty()) text += ' ';
    text += format_text("{} {}", flag_of(c.setting), value_text(c.value));
  }
  return text;
}

}  // namespace

std::string_view flag_of(Setting setting) {
  switch (setting) {
    case Setting::none:
      return "";
    case Setting::model:
      return "--model";
    case Setting::vram:
      return "--vram";
    case Setting::ram:
      return "--ram";
    case Setting::engine:
      return "--engine";
    case Setting::backend:
      return "--backend";
    case Setting::ctx:
      return "--ctx";
    case Setting::parallel:
      return "--parallel";
    case Setting::gpu_layers:
      return "--gpu-layers";
    case Setting::cpu_moe:
      return "--cpu-moe";
    case Setting::kv_type:
      return "--kv-type";
    case Setting::flash_attn:
      return "--flash-attn";
    case Setting::batch:
      return "--batch";
    case Setting::ubatch:
      return "--ubatch";
    case Setting::min_ctx:
      return "--min-ctx";
    case Setting::headroom:
      return "--headroom";
    case Setting::cpu_repack:
      return "--cpu-repack";
    case Setting::max_model_len:
      return "--max-model-len";
    case Setting::gpu_memory_utilization:
      return "--gpu-memory-utilization";
    case Setting::max_num_seqs:
      return "--max-num-seqs";
    case Setting::max_num_batched_tokens:
      return "--max-num-batched-tokens";
    case Setting::kv_cache_dtype:
      return "--kv-cache-dtype";
    case Setting::dtype:
      return "--dtype";
    case Setting::tensor_parallel:
      return "--vram";  // one --vram size per GPU sets the TP size
  }
  return "";
}

std::string describe(const Finding& f) {
  using K = FindingKind;
  switch (f.kind) {
    case K::ollama_projector_headroom:
      return format_text(
          "headroom: {} per GPU, the --fit target Ollama sets for a model whose vision "
          "projector ({}) it offloads: the projector + 1 GiB",
          bytes(f, "headroom_bytes"), bytes(f, "projector_bytes"));
    case K::ctx_model_max:
      return format_text("context: the model's maximum, {}", f.number("ctx"));
    case K::ctx_largest_fits:
      return format_text("context: {} is the largest that fits (the model's maximum is {})",
                         f.number("ctx"), f.number("model_max"));
    case K::ctx_floor_too_long:
      return format_text(
          "context: even the floor {} (--min-ctx) does not fit with every layer "
          "on the GPU",
          f.number("floor"));
    case K::experts_in_ram:
      return format_text(
          "every layer on the GPU{}, the experts of the first {} of {} blocks in "
          "RAM (--n-cpu-moe {}): faster than running whole layers on the CPU",
          gpus_s(f), f.number("cpu_moe"), f.number("blocks"), f.number("cpu_moe"));
    case K::experts_in_ram_partial:
      return format_text(
          "{} of {} layers on the GPU{} with the experts of the first {} of {} "
          "blocks in RAM (--n-cpu-moe {}); the other layers run on the CPU "
          "(slower)",
          f.number("gpu_layers"), f.number("total_layers"), gpus_s(f), f.number("cpu_moe"),
          f.number("blocks"), f.number("cpu_moe"));
    case K::partial_offload:
      return format_text("{} of {} layers on the GPU{}; the rest run on the CPU (slower)",
                         f.number("gpu_layers"), f.number("total_layers"), gpus_s(f));
    case K::kv_auto_q8_0:
      if (f.number("f16_gpu_layers") == f.number("total_layers")) {
        return format_text(
            "kv_type: q8_0 (--kv-type auto) allows context {} with all {} layers on the GPU, "
            "where an f16 cache allows {} (--kv-type f16 keeps f16)",
            f.number("ctx"), f.number("total_layers"), f.number("f16_ctx"));
      }
      return format_text(
          "kv_type: q8_0 (--kv-type auto) keeps all {} layers on the GPU at context {}; with "
          "an f16 cache only {} of them fit at context {} (--kv-type f16 keeps f16)",
          f.number("total_layers"), f.number("ctx"), f.number("f16_gpu_layers"),
          f.number("f16_ctx"));
    case K::no_expert_offload:
      return format_text(
          "{} cannot keep only the MoE experts in RAM; llama-server's "
          "--n-cpu-moe keeps attention and the KV cache of more layers on the "
          "GPU: see --engine llamacpp",
          f.word("engine"));
    case K::ctx_from_model:
      return format_text("context {} from {}", f.number("ctx"), f.word("origin"));
    case K::batch_from_model:
      return format_text("batch {} from {}", f.number("batch"), f.word("origin"));
    case K::gpu_layers_from_model:
      return format_text("{} GPU layers (num_gpu) from {}", f.number("gpu_layers"),
                         f.word("origin"));
    case K::gpu_over:
      return format_text("{} needs {} but has {} after {} headroom ({} over)", f.word("device"),
                         bytes(f, "used_bytes"), bytes(f, "budget_bytes"),
                         bytes(f, "headroom_bytes"), bytes(f, "over_bytes"));
    case K::ram_over:
      return format_text("system RAM: needs {} but {} is available after {} for the OS ({} over)",
                         bytes(f, "used_bytes"), bytes(f, "budget_bytes"),
                         bytes(f, "reserve_bytes"), bytes(f, "over_bytes"));
    case K::more_ram:
      return format_text("--ram {}G or more (the CPU part needs {}, plus {} for the OS)",
                         f.number("ram_gib"), bytes(f, "used_bytes"), bytes(f, "reserve_bytes"));
    case K::smaller_quant:
      return format_text("use {} ({} of weights)", f.word("file_type"), bytes(f, "weights_bytes"));
    case K::kv_q8_0:
      return "--kv-type q8_0 (halves the KV cache; needs flash attention)";
    case K::one_slot:
      return "--parallel 1";
    case K::other_settings:
      return changes_text(f);
    case K::alt_kv_q8_0:
    case K::alt_fewer_slots:
    case K::alt_ctx_all_layers:
    case K::alt_smaller_quant:
      return changes_text(f);
    case K::alt_more_gpus:
      return format_text("{} GPUs of {}", f.number("gpus"), bytes(f, "gpu_bytes"));
    case K::ctx_clamped:
      return format_text(
          "context {} is above the model's maximum {}; clamped to {} (as Ollama "
          "does)",
          f.number("ctx"), f.number("model_max"), f.number("model_max"));
    case K::ctx_above_max:
      return format_text(
          "context {} is above the model's maximum {}; {} allocates it anyway, "
          "but the model was not trained for it",
          f.number("ctx"), f.number("model_max"), f.word("engine"));
    case K::embedding_one_slot:
      return format_text("Ollama runs embedding models with one slot; parallel {} -> 1",
                         f.number("parallel"));
    case K::arch_one_slot:
      return format_text("Ollama runs {} models with one slot; parallel {} -> 1", f.word("arch"),
                         f.number("parallel"));
    case K::vision_min_ctx:
      return format_text(
          "Ollama raises the context of vision models to at least 2048; {} -> "
          "2048",
          f.number("ctx"));
    case K::compute_closed_form:
      return format_text(
          "compute buffers from closed forms: the {} graph is not rebuilt "
          "(docs/memory-model.md §5)",
          f.word("arch"));
    case K::experts_on_host:
      return format_text(
          "the experts of the first {} blocks ({}) stay in host memory "
          "(llama.cpp --n-cpu-moe {})",
          f.number("cpu_moe"), bytes(f, "bytes"), f.number("cpu_moe"));
    case K::cpu_repack:
      return format_text(
          "host weights include {} of CPU_REPACK copies ({} CPU; llama.cpp's "
          "--no-repack avoids them: --cpu-repack off)",
          bytes(f, "bytes"), f.word("isa"));
    case K::projector: {
      const std::string& device = f.word("device");  // a GPU's name, or the host's: "CPU"
      const std::string on = device == "CPU" ? std::string("the CPU") : device;
      const auto has = [&](std::string_view name) {
        return std::any_of(f.facts.begin(), f.facts.end(),
                           [&](const Fact& x) { return x.name == name; });
      };
      // An audio encoder (clip.has_audio_encoder) is counted in the bytes, never its buffer.
      const std::string_view audio =
          has("audio_encoder") ? "; its audio encoder's compute buffer is not included" : "";
      if (has("compute")) {
        return format_text(
            "{} projector {} counted on {}, with its image encoder's compute buffer {} "
            "(one warm-up image, flash attention {}){}",
            audio.empty() ? "vision" : "multimodal", bytes(f, "bytes"), on, bytes(f, "compute"),
            f.word("flash_attn"), audio);
      }
      if (!audio.empty()) {
        return format_text(
            "multimodal projector {} counted on {}; its encoders' compute buffers (image, "
            "audio) are not included",
            bytes(f, "bytes"), on);
      }
      return format_text(
          "vision projector {} counted on {}; its image-encoding compute buffer "
          "is not included",
          bytes(f, "bytes"), on);
    }
    case K::vllm_util_lowered:
      return format_text(
          "gpu_memory_utilization {} instead of the default {}: leaves {} "
          "outside the budget for the sampler warm-up ({} needed)",
          util(f, "util_x10000"), util(f, "default_x10000"), bytes(f, "room_bytes"),
          bytes(f, "need_bytes"));
    case K::vllm_util_none_starts:
      return format_text(
          "gpu_memory_utilization {} instead of the default {}: no utilisation "
          "passes the startup and sampler checks",
          util(f, "util_x10000"), util(f, "default_x10000"));
    case K::vllm_len_model_max:
      return format_text("max_model_len: the model's maximum, {}", f.number("max_model_len"));
    case K::vllm_len_largest:
      return format_text(
          "max_model_len: {} is the largest multiple of {} that fits (the "
          "model's maximum is {})",
          f.number("max_model_len"), f.number("block_size"), f.number("model_max"));
    case K::vllm_len_below_floor:
      return format_text("max_model_len: only {} tokens fit, below the floor {} (--min-ctx)",
                         f.number("max_model_len"), f.number("floor"));
    case K::vllm_sampler_tight:
      return format_text(
          "warning: only {} stays outside the budget for the sampler warm-up, "
          "which needs {}; vLLM may stop with 'CUDA out of memory occurred when "
          "warming up sampler with {} dummy requests. Please try lowering "
          "`max_num_seqs` or `gpu_memory_utilization` when initializing the "
          "engine.'",
          bytes(f, "room_bytes"), bytes(f, "need_bytes"), f.number("max_num_seqs"));
    case K::vllm_startup:
      return format_text(
          "startup check: {} free after {} used before vLLM's snapshot is less "
          "than the {} that gpu_memory_utilization {} requests (vLLM: 'Free "
          "memory on device ... on startup is less than desired GPU memory "
          "utilization')",
          bytes(f, "free_bytes"), bytes(f, "pre_snapshot_bytes"), bytes(f, "requested_bytes"),
          util(f, "util_x10000"));
    case K::vllm_no_kv_room:
      return format_text(
          "weights {} + activations {} + non-torch {} + CUDA graphs {} = {} per "
          "GPU exceed the budget {} ({} x {}) by {}: vLLM stops with 'No "
          "available memory for the cache blocks'",
          bytes(f, "weights_bytes"), bytes(f, "activation_bytes"), bytes(f, "non_torch_bytes"),
          bytes(f, "cuda_graph_bytes"), bytes(f, "non_kv_bytes"), bytes(f, "requested_bytes"),
          util(f, "util_x10000"), bytes(f, "total_bytes"), bytes(f, "over_bytes"));
    case K::vllm_kv_short:
      return format_text(
          "one request of max_model_len {} needs {} of KV cache per GPU, {} is "
          "available: the estimated maximum model length is {}",
          f.number("max_model_len"), bytes(f, "needed_bytes"), bytes(f, "available_bytes"),
          f.number("max_fitting_len"));
    case K::vllm_fp8_weights:
      return "--dtype fp8 (vLLM --quantization fp8: linear weights in 1 byte)";
    case K::vllm_fp8_kv:
      return "--kv-cache-dtype fp8 (halves the KV cache per token)";
    case K::vllm_len_unset:
      return "leave --max-model-len unset (the largest length that fits)";
    case K::vllm_fewer_seqs:
      return format_text("--max-num-seqs {} (smaller sampler activations)",
                         f.number("max_num_seqs"));
    case K::vllm_util_095:
      return "--gpu-memory-utilization 0.95";
    case K::vllm_util_unset:
      return "leave --gpu-memory-utilization unset (the highest that starts)";
    case K::vllm_more_gpus:
      return format_text("{} GPUs of {} with tensor parallel size {}", f.number("gpus"),
                         bytes(f, "gpu_bytes"), f.number("gpus"));
    case K::vllm_len_above_max:
      return format_text(
          "max_model_len {} is above the model's maximum {}: vLLM refuses it "
          "unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 is set",
          f.number("max_model_len"), f.number("model_max"));
    case K::vllm_swa_as_full:
      return "sliding-window layers are counted as full attention: vLLM's hybrid KV manager "
             "caches less for them, so the real token capacity is higher";
    case K::vllm_recurrent:
      return "recurrent (Mamba-style) state is not modelled for vLLM: only the attention "
             "layers' KV cache is counted";
    case K::vllm_gguf:
      return "GGUF weights: vLLM loads them through the vllm-gguf-plugin since v0.24";
    case K::vllm_projector:
      return format_text(
          "vision weights {} counted on every GPU; the encoder's profiling "
          "activations are not included",
          bytes(f, "bytes"));
    case K::vllm_catalog_checkpoint: {
      const auto quant = std::find_if(f.facts.begin(), f.facts.end(),
                                      [](const Fact& fact) { return fact.name == "quantization"; });
      if (quant != f.facts.end()) {
        return format_text(
            "catalog model: weights counted as a --quantization {} checkpoint of the Hugging "
            "Face model as vLLM's Marlin kernels hold it (linear layers as packed integers with "
            "16-bit scales per group; embeddings, head and norms in {}); serve that quantized "
            "checkpoint, not the 16-bit one the plan names",
            f.word("quantization"), f.word("dtype"));
      }
      const bool fp8 = f.word("dtype") == "fp8";
      const bool ffn_only = std::any_of(f.facts.begin(), f.facts.end(),
                                        [](const Fact& fact) { return fact.name == "scope"; });
      if (ffn_only) {
        return format_text(
            "catalog model: weights counted as an FP8 checkpoint of the FFN only (--dtype "
            "fp8-ffn): FFN linears 1 byte; attention, the first and last layers, embeddings and "
            "head 2 bytes; the GGUF quantization of the catalog name does not apply");
      }
      return format_text(
          "catalog model: weights counted as vLLM loads the Hugging Face "
          "checkpoint with --dtype {} ({}); the GGUF quantization of the catalog "
          "name does not apply",
          f.word("dtype"),
          fp8 ? "linear weights 1 byte, embeddings and head 2 bytes" : "2 bytes per parameter");
    }
    case K::vllm_no_bf16:
      return format_text(
          "{} has no bfloat16 (compute capability below 8.0): vLLM runs the weights in float16, "
          "as planned (--dtype float16)",
          f.word("gpu"));
    case K::vllm_file_dtype:
      return format_text(
          "--dtype {} sets the compute dtype; the weights are counted as stored "
          "in the file",
          f.word("dtype"));
    case K::check_gpu_over:
      return format_text("{} needs {} under full load but has {} ({} over; the largest part: {})",
                         f.word("device"), bytes(f, "used_bytes"), bytes(f, "capacity_bytes"),
                         bytes(f, "over_bytes"), f.word("component"));
    case K::check_ram_over:
      return format_text("RAM: {} needed, {} given ({} over)", bytes(f, "used_bytes"),
                         bytes(f, "capacity_bytes"), bytes(f, "over_bytes"));
    case K::check_spills:
      if (f.number("cpu_moe") > 0) {
        return format_text(
            "{}: {} of {} layers fit on the GPU with the routed experts of {} blocks in RAM "
            "(llama.cpp's --fit, as --n-cpu-moe {}); they run on the CPU (slower), with {} in RAM",
            f.word("model"), f.number("gpu_layers"), f.number("total_layers"), f.number("cpu_moe"),
            f.number("cpu_moe"), bytes(f, "ram_bytes"));
      }
      return format_text(
          "{}: {} of {} layers fit on the GPU; the engine runs the rest on the CPU (slower), "
          "with {} in RAM",
          f.word("model"), f.number("gpu_layers"), f.number("total_layers"), bytes(f, "ram_bytes"));
    case K::check_not_resident:
      return format_text(
          "the {} models need {} together but the GPU has {} ({} over): they cannot stay "
          "loaded together; each request for an unloaded one evicts another and reloads",
          f.number("models"), bytes(f, "used_bytes"), bytes(f, "capacity_bytes"),
          bytes(f, "over_bytes"));
    case K::check_max_loaded:
      return format_text("at most {} of the {} models may be loaded at once: they take turns",
                         f.number("max_loaded"), f.number("models"));
    case K::check_vllm_startup:
      return format_text(
          "{}: vLLM asks for {} but only {} is free when it starts ({} short): it does not "
          "start",
          f.word("device"), bytes(f, "requested_bytes"), bytes(f, "free_bytes"),
          bytes(f, "over_bytes"));
    case K::check_vllm_no_kv:
      return format_text(
          "{}: one request at full length needs {} of KV cache, the budget leaves {} ({} "
          "short; the weights alone take {}): vLLM does not start",
          f.word("device"), bytes(f, "kv_needed_bytes"), bytes(f, "kv_available_bytes"),
          bytes(f, "over_bytes"), bytes(f, "weights_bytes"));
    case K::check_not_modelled:
      return format_text("{}{}{}: read, but not modelled: the figures are as without it",
                         f.word("name"), f.word("value").empty() ? "" : " ", f.word("value"));
    case K::check_fit_ctx:
      return format_text(
          "{}: no -c is set, so llama-server's --fit shortens the context from the model's {} "
          "to {} tokens to keep its margin free on the GPU (-c N sets it; -c 0 keeps the "
          "maximum)",
          f.word("model"), f.number("model_max"), f.number("ctx"));
    case K::check_projector_retry:
      return format_text(
          "{}: with its vision projector on the GPU the start runs out of memory, so Ollama starts "
          "it again with the projector in RAM (image encoding then runs on the CPU)",
          f.word("model"));
    case K::check_pinned_layers:
      return format_text("{}: {} of {} layers on the GPU, as configured; the rest run on the CPU",
                         f.word("model"), f.number("gpu_layers"), f.number("total_layers"));
    case K::check_fix_kv_q8_0:
      return format_text("a q8_0 KV cache with flash attention on");
    case K::check_fix_parallel:
      return format_text("{} parallel slot{}", f.number("parallel"),
                         f.number("parallel") == 1 ? "" : "s");
    case K::check_fix_ctx:
      return format_text("context {}", f.number("ctx"));
    case K::check_fix_gpu_layers:
      return format_text("{} of {} layers on the GPU", f.number("gpu_layers"),
                         f.number("total_layers"));
    case K::check_fix_quant:
      return format_text("the smaller quantization {} instead of {}", f.word("model"),
                         f.word("from"));
    case K::check_fix_max_loaded:
      return format_text("at most {} model{} loaded at once (the others take turns)",
                         f.number("max_loaded"), f.number("max_loaded") == 1 ? "" : "s");
    case K::check_fix_vllm_kv_fp8:
      return format_text("an fp8 KV cache");
    case K::check_fix_vllm_seqs:
      return format_text("at most {} sequences at once", f.number("max_num_seqs"));
    case K::check_fix_vllm_len:
      return format_text("maximum model length {}", f.number("max_model_len"));
    case K::check_fix_vllm_fp8:
      return format_text("fp8 weights (vLLM's online fp8 quantization)");
    case K::check_fix_combined:
      return format_text("no single change is enough; these together");
    case K::set_vllm_reserved: {
      const std::string held = format_text(
          "{}: the vLLM containers ({}) hold {} once started (CUDA context, the "
          "--gpu-memory-utilization budget, graphs outside it, sampler warm-up)",
          f.word("device"), f.number("containers"), bytes(f, "reserved_bytes"));
      const std::string rule =
          "vLLM checks its budget against the memory free when it starts, so the set must fit "
          "whichever container starts last";
      if (f.number("ollama_models") == 0) return format_text("{}; {}", held, rule);
      return format_text("{}; the Ollama server finds {} free and uses {} of it; {}", held,
                         bytes(f, "left_bytes"), bytes(f, "ollama_bytes"), rule);
    }
    case K::set_vllm_smallest_util:
      return format_text(
          "{}: --gpu-memory-utilization {} reserves that share of the whole GPU; {} is the "
          "smallest whose KV cache holds one request of {} tokens (fit chooses it)",
          f.word("model"), static_cast<double>(f.number("util_x10000")) / 10000,
          static_cast<double>(f.number("smallest_x10000")) / 10000, f.number("max_model_len"));
    case K::set_own_ctx:
      return format_text(
          "{} runs with its own context, {} tokens per slot: set PARAMETER num_ctx {} in its "
          "Modelfile (or options.num_ctx in its requests); OLLAMA_CONTEXT_LENGTH is the others'",
          f.word("model"), f.number("ctx"), f.number("ctx"));
    case K::set_eviction:
      return format_text(
          "taking turns: a request for a model that is not loaded waits while Ollama unloads an "
          "idle one (the shortest keep-alive first, then by file path; OLLAMA_KEEP_ALIVE={} "
          "unloads any model idle that long) and loads it, seconds to a minute each time",
          f.word("keep_alive"));
  }
  return std::string(to_string(f.kind));
}

namespace {

nlohmann::ordered_json value_json(const std::variant<std::int64_t, std::string>& value) {
  if (const auto* n = std::get_if<std::int64_t>(&value)) return *n;
  return std::get<std::string>(value);
}

}  // namespace

nlohmann::ordered_json finding_json(const Finding& finding) {
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  for (const Fact& fact : finding.facts) values[fact.name] = value_json(fact.value);
  nlohmann::ordered_json changes = nlohmann::ordered_json::object();
  for (const Change& change : finding.changes) {
    changes[std::string(to_string(change.setting))] = value_json(change.value);
  }
  return nlohmann::ordered_json{{"kind", std::string(to_string(finding.kind))},
                                {"text", describe(finding)},
                                {"values", values},
                                {"changes", changes}};
}

nlohmann::ordered_json findings_json(const std::vector<Finding>& findings) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const Finding& finding : findings) array.push_back(finding_json(finding));
  return array;
}

}  // namespace vramplan::report
