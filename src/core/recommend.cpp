// `vramplan recommend` (recommend.hpp; rules and sources: docs/sizing.md §8).
#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/recommend.hpp>

#include "sizing_engines.hpp"

namespace vramplan {

std::string_view to_string(ModelTask task) {
  switch (task) {
    case ModelTask::any:
      return "any";
    case ModelTask::chat:
      return "chat";
    case ModelTask::code:
      return "code";
    case ModelTask::embed:
      return "embed";
    case ModelTask::vision:
      return "vision";
  }
  return "?";
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A code model says so in its names: "coder", "codellama", "codestral", "starcoder",
// "codegemma" all contain "code"; Mistral's Devstral does not.
bool is_code_model(const CatalogEntry& entry) {
  const auto named = [](std::string_view text) {
    const std::string l = lower(text);
    return l.find("code") != std::string::npos || l.find("devstral") != std::string::npos;
  };
  if (named(entry.id) || named(entry.name)) return true;
  return std::any_of(entry.ollama.begin(), entry.ollama.end(), named);
}

// llama.cpp tools/quantize/quantize.cpp, QUANT_OPTIONS: "+x ppl @ Llama-3-8B" per type (F16
// and BF16 against Mistral-7B, within noise of 0). Types it gives only bits per weight for take
// the delta of the K-quant of their size class (stated in `basis`).
constexpr std::array<QuantQuality, 31> quality_table{{
    {FileType::all_f32, 0.0, "reference"},
    {FileType::mostly_f16, 0.0, "quantize.cpp: +0.0020 @ Mistral-7B (noise)"},
    {FileType::mostly_bf16, 0.0, "quantize.cpp: -0.0050 @ Mistral-7B (noise)"},
    {FileType::mostly_q8_0, 0.0026, "quantize.cpp"},
    {FileType::mostly_q6_k, 0.0217, "quantize.cpp"},
    {FileType::mostly_q5_k_m, 0.0569, "quantize.cpp"},
    {FileType::mostly_q5_k_s, 0.1049, "quantize.cpp"},
    {FileType::mostly_q5_1, 0.1062, "quantize.cpp"},
    {FileType::mostly_q5_0, 0.1316, "quantize.cpp"},
    {FileType::mostly_q4_k_m, 0.1754, "quantize.cpp"},
    {FileType::mostly_q4_k_s, 0.2689, "quantize.cpp"},
    {FileType::mostly_q4_1, 0.4511, "quantize.cpp"},
    {FileType::mostly_q4_0, 0.4685, "quantize.cpp"},
    {FileType::mostly_q3_k_l, 0.5562, "quantize.cpp"},
    {FileType::mostly_q3_k_m, 0.6569, "quantize.cpp"},
    {FileType::mostly_q3_k_s, 1.6321, "quantize.cpp"},
    {FileType::mostly_q2_k_s, 3.1836, "quantize.cpp"},
    {FileType::mostly_q2_k, 3.5199, "quantize.cpp"},
    {FileType::mostly_iq4_nl, 0.2689, "as Q4_K_S (4.5 bpw; no delta published)"},
    {FileType::mostly_iq4_xs, 0.2689, "as Q4_K_S (4.25 bpw; no delta published)"},
    {FileType::mostly_iq3_m, 0.6569, "as Q3_K_M (3.66 bpw; no delta published)"},
    {FileType::mostly_iq3_s, 1.6321, "as Q3_K_S (3.44 bpw; no delta published)"},
    {FileType::mostly_iq3_xs, 1.6321, "as Q3_K_S (3.3 bpw; no delta published)"},
    {FileType::mostly_iq3_xxs, 1.6321, "as Q3_K_S (3.06 bpw; no delta published)"},
    {FileType::mostly_iq2_m, 3.5199, "as Q2_K (2.7 bpw; no delta published)"},
    {FileType::mostly_iq2_s, 3.5199, "as Q2_K (2.5 bpw; no delta published)"},
    {FileType::mostly_iq2_xs, 3.5199, "as Q2_K (2.31 bpw; no delta published)"},
    {FileType::mostly_iq2_xxs, 3.5199, "as Q2_K (2.06 bpw; no delta published)"},
    {FileType::mostly_iq1_m, 3.5199, "as Q2_K (1.75 bpw; no delta published; optimistic)"},
    {FileType::mostly_iq1_s, 3.5199, "as Q2_K (1.56 bpw; no delta published; optimistic)"},
    {FileType::mostly_mxfp4_moe, 0.0, "the released weights (gpt-oss ships MXFP4 experts)"},
}};

// File sizes of Llama-3-8B per type, GB, from the same QUANT_OPTIONS lines (types given only in
// bits per weight: bpw x 8.03e9 / 8; MXFP4 4.25 bpw): the order in which one model's files grow.
double nominal_gb(FileType type) {
  switch (type) {
    case FileType::mostly_iq1_s:
      return 1.57;
    case FileType::mostly_iq1_m:
      return 1.76;
    case FileType::mostly_iq2_xxs:
      return 2.07;
    case FileType::mostly_iq2_xs:
      return 2.32;
    case FileType::mostly_iq2_s:
      return 2.51;
    case FileType::mostly_iq2_m:
      return 2.71;
    case FileType::mostly_q2_k_s:
      return 2.95;  // QUANT_OPTIONS: 2.96G, as Q2_K
    case FileType::mostly_q2_k:
      return 2.96;
    case FileType::mostly_iq3_xxs:
      return 3.07;
    case FileType::mostly_iq3_xs:
      return 3.31;
    case FileType::mostly_q3_k_s:
      return 3.41;
    case FileType::mostly_iq3_s:
      return 3.45;
    case FileType::mostly_iq3_m:
      return 3.67;
    case FileType::mostly_q3_k_m:
      return 3.74;
    case FileType::mostly_q3_k_l:
      return 4.03;
    case FileType::mostly_iq4_xs:
      return 4.27;
    case FileType::mostly_mxfp4_moe:
      return 4.27;
    case FileType::mostly_q4_0:
      return 4.34;
    case FileType::mostly_q4_k_s:
      return 4.37;
    case FileType::mostly_iq4_nl:
      return 4.52;
    case FileType::mostly_q4_k_m:
      return 4.58;
    case FileType::mostly_q4_1:
      return 4.78;
    case FileType::mostly_q5_0:
      return 5.21;
    case FileType::mostly_q5_k_s:
      return 5.22;
    case FileType::mostly_q5_k_m:
      return 5.33;
    case FileType::mostly_q5_1:
      return 5.65;
    case FileType::mostly_q6_k:
      return 6.14;
    case FileType::mostly_q8_0:
      return 7.96;
    case FileType::mostly_f16:
      return 14.0;
    case FileType::mostly_bf16:
      return 14.0;
    case FileType::all_f32:
      return 26.0;
    case FileType::mostly_tq1_0:
      return 1.70;
    case FileType::mostly_tq2_0:
      return 2.07;
  }
  return 26.0;
}

}  // namespace

Bytes weights_lower_bound(const CatalogEntry& entry, FileType quant, bool gpu) {
  double params = entry.params_published * 0.9;
  if (gpu) {
    // The input embeddings stay in RAM: token_embd, and gemma3n's per-layer token embeddings.
    double input_width = static_cast<double>(entry.spec.n_embd);
    if (architecture(entry.spec.arch).altup) {
      input_width += static_cast<double>(kAltupPerLayerEmbd) * entry.spec.n_layer;
    }
    params -= static_cast<double>(entry.spec.n_vocab) * input_width;
  }
  if (params <= 0) return 0;
  const auto bytes_per_param = [](GgmlType type) {
    const GgmlTypeInfo& t = info(type);
    return static_cast<double>(t.type_size) / static_cast<double>(t.block_size);
  };
  double per_param = bytes_per_param(info(quant).base);
  // gpt-oss checkpoints ship their experts in MXFP4, which every file type keeps.
  if (entry.spec.arch == "gpt-oss")
    per_param = std::min(per_param, bytes_per_param(GgmlType::mxfp4));
  // The Ollama library's gemma3n keeps its per-layer token embeddings as converted (F16, or
  // F32 in an F32 file; quant_mix.cpp keeps_converted). On the GPU they are not counted.
  double kept = 0;
  if (!gpu && entry.spec.quantizer == Quantizer::ollama && architecture(entry.spec.arch).altup) {
    kept = std::min(params, static_cast<double>(kAltupPerLayerEmbd) * entry.spec.n_layer *
                                static_cast<double>(entry.spec.n_vocab));
  }
  const double kept_per_param = std::max(per_param, bytes_per_param(GgmlType::f16));
  return static_cast<Bytes>((params - kept) * per_param + kept * kept_per_param);
}

namespace {

// The speed of a plan on the request's card, when it says enough (speed.hpp plan_speed).
std::optional<SpeedEstimate> plan_speed(const Model& model, const sizing_engines::FitOutcome& f,
                                        const RecommendRequest& request) {
  if (request.gpu == nullptr) return std::nullopt;
  return vramplan::plan_speed(model, *request.gpu, request.ram_bandwidth_gbps,
                              {f.gpu_layers, f.cpu_moe}, f.kv_type, f.ctx);
}

// Weight bytes that must be on the GPUs with every layer offloaded (all but the input
// embeddings, which llama.cpp keeps in RAM), a lower bound on what a full offload needs.
Bytes offloaded_weights(const Model& model, Backend backend) {
  return gpu_weights(model.weights, backend) + model.projector;
}

}  // namespace

std::optional<ModelTask> parse_model_task(std::string_view text) {
  const std::string l = lower(text);
  if (l == "any") return ModelTask::any;
  if (l == "chat") return ModelTask::chat;
  if (l == "code") return ModelTask::code;
  if (l == "embed" || l == "embedding") return ModelTask::embed;
  if (l == "vision") return ModelTask::vision;
  return std::nullopt;
}

bool serves(const CatalogEntry& entry, ModelTask task) {
  switch (task) {
    case ModelTask::any:
      return true;
    case ModelTask::embed:
      return !entry.spec.causal;
    case ModelTask::vision:
      return entry.projector.has_value();
    case ModelTask::code:
      return entry.spec.causal && is_code_model(entry);
    case ModelTask::chat:
      return entry.spec.causal && !is_code_model(entry);
  }
  return false;
}

std::span<const QuantQuality> quant_quality_table() { return quality_table; }

double quant_quality(FileType type) {
  for (const QuantQuality& q : quality_table) {
    if (q.type == type) return 1.0 / (1.0 + q.ppl_delta);
  }
  // TQ1_0 / TQ2_0 (ternary): as the lowest class.
  return 1.0 / (1.0 + 3.5199);
}

double quality_score(double params, FileType quant) { return params / 1e9 * quant_quality(quant); }

bool ranks_before(const RecommendItem& a, const RecommendItem& b) {
  if (a.quality != b.quality) return a.quality > b.quality;
  if (a.weights != b.weights) return a.weights < b.weights;
  return a.order < b.order;
}

RecommendResult recommend(const Catalog& catalog, const RecommendRequest& request) {
  if (request.vram.empty())
    throw Error(ErrorKind::invalid_setting, "recommend: no ", Setting::vram, " given");
  for (Bytes v : request.vram) {
    if (v <= 0)
      throw Error(ErrorKind::invalid_setting, "recommend: ", Setting::vram, " must be positive");
  }
  if (request.ram < 0)
    throw Error(ErrorKind::invalid_setting, "recommend: ", Setting::ram, " must not be negative");
  const Engine& eng = request.engine != nullptr ? *request.engine : engine(EngineId::llamacpp);
  if (eng.id == EngineId::vllm) {
    throw Error(ErrorKind::invalid_setting,
                "recommend: plans llama.cpp engines (llama-server, Ollama); "
                "vLLM is not supported here");
  }

  // The budgets the planner will use (planner.cpp): capacity minus headroom per GPU, RAM minus
  // the reserve for the operating system.
  Bytes gpu_budget = 0;
  for (Bytes v : request.vram) gpu_budget += v - request.headroom.for_device(v);
  const Bytes ram_budget = request.ram > 0 ? std::max<Bytes>(0, request.ram - gib) : 0;

  // Every combination of the task, best quality first: the walk can stop once both lists
  // have `limit` items, and what it skips could only rank lower.
  struct Candidate {
    const CatalogEntry* entry;
    std::size_t entry_index;
    FileType quant;
    double quality;
    std::int64_t order;
  };
  std::vector<Candidate> candidates;
  std::int64_t order = 0;
  const std::vector<CatalogEntry>& entries = catalog.entries();
  for (std::size_t e = 0; e < entries.size(); ++e) {
    for (FileType quant : entries[e].quants) {
      const std::int64_t position = order++;
      if (!serves(entries[e], request.task)) continue;
      // Families only Ollama's own engine ran (mllama, up to Ollama 0.24): neither llama.cpp nor
      // the Ollama releases vramplan follows load them, so they are never recommended.
      if (architecture(entries[e].spec.arch).ollama_engine_only) continue;
      candidates.push_back(
          {&entries[e], e, quant, quality_score(entries[e].params_published, quant), position});
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.quality > b.quality; });
  // Per entry, the smallest file size class known to be too big: larger ones are too.
  std::vector<double> too_big(entries.size(), 1e300);
  // Per entry, one place for its Model (each quantization in turn), and its tensor layout,
  // built once and typed per quantization.
  std::vector<std::unique_ptr<Model>> models(entries.size());
  std::vector<std::unique_ptr<const TensorLayout>> layouts(entries.size());
  // The compute buffers of every plan of the sweep (compute.hpp): the quantizations of an entry
  // share its spec, so their whole-offload estimates and much of their context searches probe
  // the same graphs, and replaying a graph is most of an estimate's time.
  ComputeCache graphs;

  RecommendResult out;
  out.candidates = static_cast<std::int64_t>(candidates.size());
  const auto done = [&] {
    return request.limit > 0 && out.full_gpu.size() >= request.limit &&
           (ram_budget <= 0 || out.offload.size() >= request.limit);
  };
  for (const Candidate& c : candidates) {
    if (done()) {
      out.stopped_early = true;
      break;
    }
    const CatalogEntry& entry = *c.entry;
    const FileType quant = c.quant;
    const double size_class = nominal_gb(quant);
    if (size_class >= too_big[c.entry_index]) {
      ++out.prefiltered;
      continue;
    }
    // Prefilter on weights alone, first bounded from the parameter count, then exact: what
    // must sit on the GPUs for a full offload, and the whole file for an offload.
    const bool bound_gpu = weights_lower_bound(entry, quant, true) <= gpu_budget;
    const bool bound_all =
        ram_budget > 0 && weights_lower_bound(entry, quant, false) <= gpu_budget + ram_budget;
    if (!bound_gpu && !bound_all) {
      ++out.prefiltered;
      too_big[c.entry_index] = size_class;
      continue;
    }
    // A full list takes nothing more (what comes later ranks lower): a candidate that could
    // only land there is not planned.
    const bool gpu_full = request.limit > 0 && out.full_gpu.size() >= request.limit;
    const bool offload_full =
        ram_budget <= 0 || (request.limit > 0 && out.offload.size() >= request.limit);
    if (offload_full && !bound_gpu) {
      ++out.prefiltered;
      continue;
    }
    std::unique_ptr<const TensorLayout>& layout = layouts[c.entry_index];
    if (!layout) layout = std::make_unique<const TensorLayout>(entry.spec);
    std::unique_ptr<Model>& slot = models[c.entry_index];
    if (slot) {
      // The entry's Model in the quantization planned before: its tensor list is re-typed.
      sizing_engines::retype_catalog_model(*slot, entry, quant, *layout);
    } else {
      slot = std::make_unique<Model>(sizing_engines::catalog_model(entry, quant, *layout));
    }
    const Model& model = *slot;
    const bool may_fit_gpu = offloaded_weights(model, request.backend) <= gpu_budget;
    const bool may_offload = ram_budget > 0 && model.weights.file_tensor_bytes + model.projector <=
                                                   gpu_budget + ram_budget;
    if (!may_fit_gpu && !may_offload) {
      ++out.prefiltered;
      too_big[c.entry_index] = size_class;
      continue;
    }
    if ((offload_full && !may_fit_gpu) || (gpu_full && !may_offload)) {
      ++out.prefiltered;
      continue;
    }
    // Whole on the GPUs at the full context: fit() would stop at its first estimate. Else the
    // planner's searches.
    std::optional<sizing_engines::FitOutcome> whole =
        may_fit_gpu ? sizing_engines::llama_fit_whole(model, eng, request.backend, request.vram,
                                                      request.ram, request.headroom, &graphs)
                    : std::nullopt;
    sizing_engines::FitOutcome f =
        whole
            ? *whole
            : sizing_engines::llama_fit(model, eng, request.backend, request.vram, request.ram,
                                        request.headroom, request.min_ctx, GgmlType::f16, &graphs);
    ++out.fits;
    out.estimates += f.estimates;
    const auto full = [](const sizing_engines::FitOutcome& o) {
      return o.fits && o.gpu_layers == o.total_layers && o.cpu_moe == 0;
    };
    if (!full(f) && may_fit_gpu && cache_type_fits_heads(model.spec, GgmlType::q8_0)) {
      // A q8_0 KV cache halves the cache (llama.cpp -ctk/-ctv q8_0 with flash attention,
      // Ollama's OLLAMA_KV_CACHE_TYPE): on the GPU that way beats part of it on the CPU.
      const sizing_engines::FitOutcome q8 =
          sizing_engines::llama_fit(model, eng, request.backend, request.vram, request.ram,
                                    request.headroom, request.min_ctx, GgmlType::q8_0, &graphs);
      ++out.fits;
      out.estimates += q8.estimates;
      if (full(q8)) f = q8;
    }
    if (!f.fits) continue;
    RecommendItem item;
    item.entry = &entry;
    item.quant = quant;
    item.name = model.name;
    item.params =
        entry.params_published > 0 ? entry.params_published : static_cast<double>(model.n_params);
    item.quality = quality_score(item.params, quant);
    item.full_gpu = full(f);
    item.gpu_layers = f.gpu_layers;
    item.total_layers = f.total_layers;
    item.cpu_moe = f.cpu_moe;
    item.ctx = f.ctx;
    item.max_ctx = model.spec.n_ctx_train;
    item.kv_type = f.kv_type;
    item.weights = model.weights.file_tensor_bytes;
    item.gpu_bytes = f.gpu;
    item.ram_bytes = f.host;
    item.order = c.order;
    item.speed = plan_speed(model, f, request);
    if (item.full_gpu) {
      if (request.limit == 0 || out.full_gpu.size() < request.limit) {
        out.full_gpu.push_back(std::move(item));
      }
    } else if (ram_budget > 0 && (request.limit == 0 || out.offload.size() < request.limit)) {
      out.offload.push_back(std::move(item));
    }
  }
  out.graphs = graphs.misses();
  std::sort(out.full_gpu.begin(), out.full_gpu.end(), ranks_before);
  std::sort(out.offload.begin(), out.offload.end(), ranks_before);
  if (request.gpu == nullptr) {
    out.notes.push_back("no speed: name the GPU for the speed estimate");
  } else if (request.ram_bandwidth_gbps <= 0 && !out.offload.empty()) {
    out.notes.push_back("no speed for offloaded models: the RAM bandwidth is not known");
  }
  return out;
}

}  // namespace vramplan
