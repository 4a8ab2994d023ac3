// vLLM's front: its engine arguments as flags of `fit` and `estimate`, turned into a VllmRequest
// for its memory model (core vllm.hpp). The llama.cpp-only flags are refused rather than
// ignored.
#include <cctype>
#include <charconv>
#include <cmath>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/speed.hpp>
#include <vramplan/text.hpp>
#include <vramplan/vllm.hpp>

#include "devices.hpp"
#include "engine_front.hpp"

namespace vramplan::cli {
namespace {

constexpr const char* group = "vLLM (--engine vllm)";

// vLLM's human-readable integers (vllm/engine/arg_utils.py, human_readable_int): 1k = 1000, 1K =
// 1024, 32K = 32768.
std::int64_t parse_model_len(std::string_view flag, const std::string& text) {
  if (!text.empty() && (text.back() == 'k' || text.back() == 'K')) {
    const std::int64_t unit = text.back() == 'k' ? 1000 : 1024;
    return parse_integer(flag, text.substr(0, text.size() - 1), 1, (1 << 24) / unit) * unit;
  }
  return parse_integer(flag, text, 1, 1 << 24);
}

// A fraction in (0, 1] with at most four decimals, as 1/10000 units.
std::int32_t parse_util(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  const double scaled = value * 10000.0;
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(value > 0) ||
      value > 1 || std::fabs(scaled - std::round(scaled)) > 1e-6) {
    throw Error(ErrorKind::usage, fmt::format("--gpu-memory-utilization must be a fraction in "
                                              "(0, 1] with at most 4 decimals, got '{}'",
                                              text));
  }
  return static_cast<std::int32_t>(std::lround(scaled));
}

// `--engine vllm@RELEASE`: the rules of that release; plain `vllm`: the newest implemented.
std::int32_t parse_release(const std::string& engine) {
  const std::size_t at = engine.find('@');
  if (at == std::string::npos) return vllm_newest_release;
  const std::string text = engine.substr(at + 1);
  if (const std::optional<std::int32_t> release = parse_vllm_release(text)) return *release;
  throw Error(ErrorKind::usage,
              fmt::format("--engine vllm@{}: unknown vLLM release (known: {}; plain 'vllm' = {})",
                          text, vllm_known_releases(), vllm_release_name(vllm_newest_release)));
}

struct Parsed {
  VllmRequest request;
  bool dtype_given = false;
  bool no_bf16 = false;  // the cards have no bfloat16 (a T4, a V100)
  std::string card;      // the catalog's name for the cards, "" without --gpu
  Devices devices;       // owns the catalog cards (the speed estimate reads them)
};

// A dtype the cards cannot run is refused as vLLM refuses it at start.
void check_card(const Parsed& p) {
  const VllmRequest& r = p.request;
  const std::string card = p.card.empty() ? std::string("this GPU") : p.card;
  if (p.no_bf16 && p.dtype_given && r.dtype == VllmDtype::bf16) {
    throw Error(ErrorKind::usage, fmt::format("--dtype bf16: {} has no bfloat16 (compute "
                                              "capability below 8.0); use --dtype fp16",
                                              card));
  }
  if (!r.fp8_supported && r.dtype == VllmDtype::fp8) {
    throw Error(ErrorKind::usage, fmt::format("--dtype fp8: {} has no fp8 (before Ada and "
                                              "Hopper); use --dtype fp16 or bf16",
                                              card));
  }
  if (!r.fp8_supported && r.kv_cache_dtype == VllmKvDtype::fp8) {
    throw Error(ErrorKind::usage,
                fmt::format("--kv-cache-dtype fp8: {} has no fp8 (before Ada and Hopper)", card));
  }
}

// Flags shared by fit and estimate; `ctx` is --ctx, accepted as --max-model-len.
Parsed parse_common(const ModelFlags& model, const VllmFlags& f, const FlagValue& ctx,
                    Context& context) {
  Parsed p;
  VllmRequest& r = p.request;
  r.release = parse_release(model.engine);
  p.devices = resolve_devices(model, context);  // --vram, --gpu, auto
  const Devices& devices = p.devices;
  if (devices.empty()) {
    throw Error(ErrorKind::usage,
                "--engine vllm needs --vram or --gpu: the memory of each GPU as torch "
                "sees it (one size per GPU; several GPUs = tensor parallel)");
  }
  r.gpus = devices.vram;
  // What the cards can do (the GPU catalog): no bfloat16 before Ampere, no fp8 before Ada.
  const Gpu* card = devices.gpus.empty() ? nullptr : devices.gpus.front();
  p.card = card != nullptr ? card->name : std::string();
  p.no_bf16 = devices.supports(GpuFeature::bf16) == Support::no;
  r.fp8_supported = devices.supports(GpuFeature::fp8) != Support::no;
  if (model.backend.has_value() && *model.backend != "cuda") {
    throw Error(ErrorKind::usage, fmt::format("--engine vllm plans CUDA GPUs; --backend '{}' does "
                                              "not apply",
                                              *model.backend));
  }
  if (model.mmproj) warn(context, "--mmproj: the projector counts as replicated weights");
  if (ctx && f.max_model_len) {
    throw Error(ErrorKind::usage, "give either --ctx or --max-model-len, not both");
  }
  if (f.max_model_len.has_value())
    r.max_model_len = parse_model_len("--max-model-len", *f.max_model_len);
  if (ctx) r.max_model_len = parse_token_count("--ctx", *ctx, 1, 1 << 24);
  if (f.gpu_memory_utilization.has_value()) r.util_x10000 = parse_util(*f.gpu_memory_utilization);
  if (f.max_num_seqs.has_value()) {
    r.max_num_seqs =
        static_cast<std::int32_t>(parse_integer("--max-num-seqs", *f.max_num_seqs, 1, 65536));
  }
  if (f.max_num_batched_tokens.has_value()) {
    r.max_num_batched_tokens =
        parse_integer("--max-num-batched-tokens", *f.max_num_batched_tokens, 1, 1 << 24);
  }
  if (f.kv_cache_dtype.has_value()) {
    const std::optional<VllmKvDtype> kv = parse_vllm_kv_dtype(*f.kv_cache_dtype);
    if (!kv) {
      throw Error(ErrorKind::usage, fmt::format("--kv-cache-dtype: '{}' is not modelled (use auto "
                                                "or fp8)",
                                                *f.kv_cache_dtype));
    }
    r.kv_cache_dtype = *kv;
  }
  // fp8-ffn: an FP8 checkpoint that keeps attention (and the first and last layers) 16-bit.
  r.fp8_ffn_only = f.dtype.has_value() && lower_ascii(*f.dtype) == "fp8-ffn";
  if (f.dtype.has_value()) {
    const std::optional<VllmDtype> dtype =
        r.fp8_ffn_only ? std::optional<VllmDtype>(VllmDtype::fp8) : parse_vllm_dtype(*f.dtype);
    if (!dtype) {
      throw Error(ErrorKind::usage,
                  fmt::format("--dtype: unknown dtype '{}' (use auto, bf16, fp16, fp8 or fp8-ffn)",
                              *f.dtype));
    }
    r.dtype = *dtype;
    p.dtype_given = true;
  }
  if (f.quantization.has_value()) {
    const std::string& q = *f.quantization;
    if (q == "fp8") {
      throw Error(ErrorKind::usage, "--quantization fp8: use --dtype fp8 (vLLM's online fp8)");
    }
    r.int_quant = parse_vllm_int_quant(q);
    if (!r.int_quant) {
      throw Error(ErrorKind::usage,
                  fmt::format("--quantization: '{}' is not modelled (use gptq, gptq-int8, awq, "
                              "w4a16 or w8a16, optionally with -g<group size> or -gchannel and "
                              "-act, e.g. gptq-g128-act)",
                              q));
    }
    if (p.dtype_given && r.dtype == VllmDtype::fp8) {
      throw Error(ErrorKind::usage,
                  "give either --dtype fp8 or --quantization, not both: a GPTQ/AWQ "
                  "checkpoint keeps its other weights in 16 bits");
    }
  }
  if (f.cudagraph_estimate.has_value()) {
    r.cudagraph_in_budget = parse_on_off_auto("--cudagraph-estimate", *f.cudagraph_estimate, false);
  }
  // vLLM's A100 rule reads the device name: the card's, unless --gpu-name says otherwise.
  r.gpu_name = f.gpu_name.value_or(p.card);
  r.enforce_eager = f.enforce_eager;
  if (p.no_bf16 && !p.dtype_given) r.dtype = VllmDtype::fp16;
  check_card(p);
  return p;
}

// vLLM splits the model over equal GPUs; core refuses others too, in its own terms.
void check_equal_gpus(const VllmRequest& request) {
  for (const Bytes gpu : request.gpus) {
    if (gpu != request.gpus.front()) {
      throw Error(ErrorKind::usage,
                  "--engine vllm: tensor parallelism needs GPUs of the same "
                  "size (every --vram value equal)");
    }
  }
}

void refuse(bool given, std::string_view flag, std::string_view instead) {
  if (given) {
    throw Error(ErrorKind::usage,
                fmt::format("{} does not apply to --engine vllm{}", flag, instead));
  }
}

// The model as vLLM would load it. Catalog entries become their Hugging Face checkpoint in
// --dtype (default bf16); files keep their tensors.
PlannedModel load(const ModelFlags& flags, Parsed& parsed, std::vector<Finding>& notes,
                  Context& context) {
  const Catalog catalog = load_catalog(flags.catalogs, context);
  io::LoadedModel resolved = resolve_model(catalog, flags, context, false);
  warn_notes(context, resolved.notes);
  PlannedModel out;
  VllmRequest& r = parsed.request;
  if (resolved.kind == io::SourceKind::catalog) {
    if (r.dtype == VllmDtype::checkpoint)
      r.dtype = parsed.no_bf16 ? VllmDtype::fp16 : VllmDtype::bf16;
    if (parsed.no_bf16 && !parsed.dtype_given) {
      notes.push_back(Finding(FindingKind::vllm_no_bf16, {{"gpu", parsed.card}}));
    }
    Finding checkpoint(FindingKind::vllm_catalog_checkpoint,
                       {{"dtype", std::string(to_string(r.dtype))}});
    if (r.int_quant) checkpoint.facts.push_back({"quantization", to_string(*r.int_quant)});
    if (r.fp8_ffn_only) checkpoint.facts.push_back({"scope", std::string("ffn")});
    notes.push_back(std::move(checkpoint));
    out.model = vllm_checkpoint_model(resolved.model, r.dtype);
    const CatalogEntry* entry = catalog.find_id(resolved.model.entry_id);
    out.model_ref = flags.model;
    if (entry != nullptr && !entry->hf.empty()) {
      // The instruct/chat checkpoint is what people serve; else the first listed.
      out.model_ref = entry->hf.front();
      for (const std::string& repo : entry->hf) {
        std::string l = repo;
        for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (l.find("instruct") != std::string::npos || l.find("-it") != std::string::npos ||
            l.find("chat") != std::string::npos) {
          out.model_ref = repo;
          break;
        }
      }
    }
  } else {
    if (r.int_quant) {
      throw Error(ErrorKind::usage,
                  "--quantization applies to catalog models; a model file is counted as its "
                  "tensors are stored");
    }
    if (!parsed.dtype_given) r.dtype = VllmDtype::checkpoint;
    if (r.dtype == VllmDtype::bf16 || r.dtype == VllmDtype::fp16) {
      notes.push_back(
          Finding(FindingKind::vllm_file_dtype, {{"dtype", std::string(to_string(r.dtype))}}));
    }
    out.model = resolved.model;
    out.model_ref = flags.model;
  }
  return out;
}

void warn_sampler(const VllmEstimate& e, Context& context) {
  if (!e.sampler_ok) {
    warn(context, fmt::format("the sampler warm-up may run out of memory: {} outside the budget, "
                              "{} needed (lower --max-num-seqs or --gpu-memory-utilization)",
                              format_bytes(e.sampler_room), format_bytes(e.sampler_need)));
  }
}

void refuse_llama_flags(const PlanOptions& o) {
  refuse(o.parallel.has_value(), "--parallel", " (use --max-num-seqs)");
  refuse(o.kv_type.has_value(), "--kv-type", " (use --kv-cache-dtype auto|fp8)");
  refuse(o.flash_attn.has_value(), "--flash-attn", "");
  refuse(o.gpu_layers.has_value(), "--gpu-layers", " (vLLM keeps every layer on the GPUs)");
  refuse(o.cpu_moe.has_value(), "--cpu-moe", " (vLLM keeps every expert on the GPUs)");
  refuse(o.ubatch.has_value(), "--ubatch", " (use --max-num-batched-tokens)");
  refuse(o.batch.has_value(), "--batch", " (use --max-num-batched-tokens)");
  refuse(o.op_offload.has_value(), "--op-offload", " (a llama.cpp setting)");
  refuse(o.ram_bandwidth.has_value(), "--ram-bandwidth", " (vLLM keeps the weights on the GPUs)");
  refuse(o.headroom != "fit", "--headroom",
         " (the budget is --gpu-memory-utilization; what stays outside it is checked)");
}

PlannedModel plan_vllm(const PlanOptions& o, Context& context) {
  Parsed parsed = parse_common(o.model, o.vllm, o.ctx, context);
  if (o.min_ctx.has_value()) {
    parsed.request.min_model_len = parse_token_count("--min-ctx", *o.min_ctx, 1, 1 << 24);
  }
  if (o.ram.has_value()) {
    static_cast<void>(parse_ram(*o.ram, "--ram", context));
    warn(context, "--ram is not used by --engine vllm (the plan is per GPU)");
  }
  std::vector<Finding> notes;
  PlannedModel out = load(o.model, parsed, notes, context);
  check_equal_gpus(parsed.request);
  VllmPlan plan;
  if (o.fitted) {
    plan = vllm_fit(out.model, parsed.request);
  } else {
    plan.estimate = vllm_estimate(out.model, parsed.request);
  }
  plan.estimate.notes.insert(plan.estimate.notes.begin(), notes.begin(), notes.end());
  warn_sampler(plan.estimate, context);
  // The speed of one sequence on a known card (every GPU the same one; speed.hpp), for a plan
  // vLLM can start: a closest attempt that does not fit would not run at all.
  std::optional<SpeedEstimate> speed;
  const Gpu* card = parsed.devices.same_card();
  if (card != nullptr && (o.fitted ? plan.fits : plan.estimate.fits())) {
    const VllmEstimate& e = plan.estimate;
    speed = vllm_plan_speed(out.model, *card, e.tensor_parallel, e.dtype == VllmDtype::fp8,
                            static_cast<double>(e.kv_bytes_per_token), e.max_model_len);
  }
  out.plan = to_plan(std::move(plan), o.fitted);
  out.plan.speed = speed;
  return out;
}

void add_vllm_flags(CLI::App& app, PlanOptions& o, bool is_fit) {
  VllmFlags& f = o.vllm;
  app.add_option("--max-model-len", f.max_model_len,
                 is_fit ? "fixed max_model_len (default: the largest that fits, up to the "
                          "model's maximum; 32K = 32768, 32k = 32000)"
                        : "max_model_len (default: the model's maximum)")
      ->type_name("N")
      ->group(group);
  app.add_option("--gpu-memory-utilization", f.gpu_memory_utilization,
                 is_fit ? "fixed budget fraction (default 0.92 from vLLM 0.21, 0.9 before; "
                          "lowered when vLLM would not start)"
                        : "budget fraction of each GPU (default 0.92 from vLLM 0.21, 0.9 before)")
      ->type_name("F")
      ->group(group);
  app.add_option("--max-num-seqs", f.max_num_seqs,
                 "default: 1024 on GPUs >= 70 GiB except A100, else 256")
      ->type_name("N")
      ->group(group);
  app.add_option("--max-num-batched-tokens", f.max_num_batched_tokens,
                 "default: 8192 on GPUs >= 70 GiB except A100, else 2048")
      ->type_name("N")
      ->group(group);
  app.add_option("--kv-cache-dtype", f.kv_cache_dtype, "auto (model dtype) or fp8")
      ->type_name("auto|fp8")
      ->group(group);
  app.add_option("--dtype", f.dtype,
                 "weights: bf16 (catalog default), fp16, fp8 (--quantization fp8), fp8-ffn (an "
                 "FP8 checkpoint keeping attention and the first and last layers in bf16, as "
                 "Meta's Llama-3.1-405B FP8), auto (as stored in the file)")
      ->type_name("DTYPE")
      ->group(group);
  app.add_option("--quantization", f.quantization,
                 "catalog models served as a GPTQ/AWQ checkpoint: gptq, gptq-int8, awq, w4a16 or "
                 "w8a16, with -gN (group size, default 128) or -gchannel and -act (act order), "
                 "e.g. gptq-g128-act; the linear layers in vLLM's Marlin layout")
      ->type_name("FORMAT")
      ->group(group);
  app.add_option("--gpu-name", f.gpu_name, "GPU name, for vLLM's A100 rule (e.g. 'A100-SXM4-80GB')")
      ->type_name("NAME")
      ->group(group);
  app.add_flag("--enforce-eager", f.enforce_eager, "no CUDA graphs")->group(group);
  app.add_option("--cudagraph-estimate", f.cudagraph_estimate,
                 "CUDA-graph memory inside the budget: on (default from vLLM 0.21) or off "
                 "(default before)")
      ->type_name("on|off")
      ->group(group);
}

}  // namespace

const EngineFront vllm_front{MemoryModel::vllm, add_vllm_flags, refuse_llama_flags, plan_vllm};

VllmService vllm_set_service(const PlanOptions& o, const std::string& model,
                             const std::string& engine, Context& context) {
  ModelFlags flags = o.model;
  flags.model = model;
  flags.engine = engine;
  Parsed parsed = parse_common(flags, o.vllm, o.ctx, context);
  std::vector<Finding> notes;
  PlannedModel loaded = load(flags, parsed, notes, context);
  warn_notes(context, notes);
  return VllmService{.model = std::move(loaded.model),
                     .model_ref = std::move(loaded.model_ref),
                     .request = std::move(parsed.request)};
}

}  // namespace vramplan::cli
