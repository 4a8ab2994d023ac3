// The engine seam of `size` and `recommend` (sizing_engines.hpp).
#include "sizing_engines.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan::sizing_engines {

Model catalog_model(const CatalogEntry& entry, FileType quant) {
  return catalog_model(entry, quant, TensorLayout(entry.spec));
}

namespace {

// "llama3.1:8b-q4_k_m": the entry's first Ollama name (else its id) and the quantization.
std::string catalog_model_name(const CatalogEntry& entry, FileType quant) {
  std::string quant_name(to_string(quant));
  std::transform(quant_name.begin(), quant_name.end(), quant_name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string name = entry.ollama.empty() ? entry.id : entry.ollama.front();
  name += (name.find(':') == std::string::npos ? ":" : "-") + quant_name;
  return name;
}

Bytes projector_bytes(const CatalogEntry& entry) {
  return entry.projector ? entry.projector->bytes : 0;
}

}  // namespace

Model catalog_model(const CatalogEntry& entry, FileType quant, const TensorLayout& layout) {
  Model m = make_model(catalog_model_name(entry, quant), fmt::format("catalog: {}", entry.source),
                       entry.spec, quant, layout.typed(quant), layout.weight_slots(),
                       projector_bytes(entry));
  if (entry.projector) m.projector_encoder = entry.projector->encoder;
  return m;
}

void retype_catalog_model(Model& model, const CatalogEntry& entry, FileType quant,
                          const TensorLayout& layout) {
  layout.retype(model.tensors, quant);  // throws, changing nothing, for another entry's list
  model = make_model(catalog_model_name(entry, quant), fmt::format("catalog: {}", entry.source),
                     entry.spec, quant, std::move(model.tensors), layout.weight_slots(),
                     projector_bytes(entry));
  if (entry.projector) model.projector_encoder = entry.projector->encoder;
}

namespace {

// The configuration the planner starts from (planner.cpp make_config) with `gpu_layers` fixed.
Config full_config(const Model& model, const Engine& engine, Backend backend, std::int64_t ctx,
                   std::optional<std::int32_t> parallel, std::int32_t gpu_layers,
                   const std::vector<Bytes>& gpus) {
  Config c;
  c.ctx = ctx;
  c.parallel = parallel.value_or(engine.default_parallel);
  c.gpu_layers = gpu_layers;
  c.kv_unified = !parallel && engine.unified_when_parallel_unset;
  c.n_ubatch = engine_default_ubatch(model, engine, backend, ctx, c.parallel, c.flash_attn, gpus);
  c.n_batch = engine.batch_equals_ubatch ? c.n_ubatch : engine.default_batch;
  c.n_batch = std::max(c.n_batch, c.n_ubatch);
  return c;
}

}  // namespace

FullOffload llama_full_offload(const Model& model, const Engine& engine, Backend backend,
                               std::int64_t ctx, std::optional<std::int32_t> parallel,
                               const std::vector<Bytes>& gpus, const Headroom& headroom,
                               ComputeCache* cache) {
  const Config config =
      full_config(model, engine, backend, ctx, parallel, model.spec.n_layer + 1, gpus);
  const Estimate e = estimate(model, engine, backend, config, gpus, cache);
  FullOffload out;
  out.fits = true;
  for (const DeviceUsage& d : e.devices) {
    if (d.kind != DeviceKind::gpu) continue;
    const Bytes total = d.total();
    const Bytes room = headroom.for_device(d.capacity);
    if (total + room > d.capacity) out.fits = false;
    if (total > out.max_gpu) {
      out.max_gpu = total;
      out.max_gpu_weights = d.weights;
      out.max_headroom = room;
    }
  }
  out.host = e.host().total();
  return out;
}

Bytes llama_cpu_only(const Model& model, const Engine& engine, std::int64_t ctx,
                     std::optional<std::int32_t> parallel, ComputeCache* cache) {
  const Config config = full_config(model, engine, Backend::cpu, ctx, parallel, 0, {});
  return estimate(model, engine, Backend::cpu, config, {}, cache).host().total();
}

FitOutcome llama_fit(const Model& model, const Engine& engine, Backend backend,
                     const std::vector<Bytes>& vram, Bytes ram, const Headroom& headroom,
                     std::int64_t min_ctx, GgmlType kv_type, ComputeCache* cache) {
  FitRequest request;
  request.kv_type = kv_type;
  request.engine = &engine;
  request.backend = backend;
  request.vram = vram;
  request.ram = ram;
  request.headroom = headroom;
  request.min_ctx = min_ctx;
  const LlamaPlan plan = fit(model, request, {}, cache);
  FitOutcome out;
  out.fits = plan.fits;
  out.gpu_layers = plan.recommendation.gpu_layers;
  out.total_layers = plan.recommendation.total_layers;
  out.cpu_moe = plan.recommendation.cpu_moe;
  out.ctx = plan.recommendation.ctx;
  out.kv_type = plan.recommendation.kv_type;
  for (const DeviceUsage& d : plan.estimate.devices) {
    if (d.kind == DeviceKind::gpu) out.gpu += d.total();
  }
  out.host = plan.estimate.devices.empty() ? 0 : plan.estimate.host().total();
  out.estimates = plan.estimates;
  return out;
}

std::optional<FitOutcome> llama_fit_whole(const Model& model, const Engine& engine, Backend backend,
                                          const std::vector<Bytes>& vram, Bytes ram,
                                          const Headroom& headroom, ComputeCache* cache) {
  if (backend == Backend::cpu || vram.empty()) return std::nullopt;
  // planner.cpp make_config() at (n_ctx_train, n_layer + 1, f16), through default_config() with
  // the context fixed: the same slots, batches, flash attention and CPU repack.
  FitRequest request;
  request.engine = &engine;
  request.backend = backend;
  request.vram = vram;
  request.ctx = model.spec.n_ctx_train;
  const Config config = default_config(model, request);
  const Estimate e = estimate(model, engine, backend, config, vram, cache);
  FitOutcome out;
  for (std::size_t i = 0; i < vram.size(); ++i) {
    const Bytes used = e.devices[i].total();
    if (used > vram[i] - headroom.for_device(vram[i])) return std::nullopt;
    out.gpu += used;
  }
  out.host = e.host().total();
  // planner.cpp ram_reserve_bytes: 1 GiB left to the OS.
  if (ram > 0 && out.host > ram - gib) return std::nullopt;
  out.fits = true;
  out.gpu_layers = config.gpu_layers;
  out.total_layers = e.total_layers;
  out.cpu_moe = config.cpu_moe;
  out.ctx = config.ctx;
  out.kv_type = config.type_k;
  out.estimates = 1;
  return out;
}

Model vllm_model(const Model& model, VllmDtype dtype) {
  return vllm_checkpoint_model(model, dtype);
}

bool vllm_tp_valid(const ModelSpec& spec, std::int32_t tp) {
  try {
    vllm_check_tensor_parallel(spec, tp);
    return true;
  } catch (const Error&) {
    return false;
  }
}

VllmOutcome vllm_stage(const Model& stage, std::int32_t tp, Bytes gpu_memory,
                       std::string_view gpu_name, std::int64_t max_model_len,
                       std::optional<std::int32_t> max_num_seqs, VllmDtype dtype) {
  VllmRequest request;
  request.gpus.assign(static_cast<std::size_t>(tp), gpu_memory);
  request.gpu_name = std::string(gpu_name);
  request.dtype = dtype;
  request.max_model_len = max_model_len;
  request.max_num_seqs = max_num_seqs;
  const VllmEstimate e = vllm_estimate(stage, request);
  const VllmDevice& d = e.devices.front();
  VllmOutcome out;
  out.fits = e.fits();
  out.per_gpu =
      d.pre_snapshot + d.weights + d.activation + d.non_torch + d.cuda_graph + e.kv_needed;
  out.card_needed = d.pre_snapshot +
                    static_cast<Bytes>(
                        std::llround(static_cast<double>(out.per_gpu - d.pre_snapshot) / e.util()));
  out.weights = d.weights;
  out.kv_tokens = e.kv_tokens;
  return out;
}

}  // namespace vramplan::sizing_engines
