#include <vramplan/estimate.hpp>

#include <algorithm>
#include <iterator>
#include <string_view>
#include <numeric>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include <vramplan/vision_encoder.hpp>

#include <vramplan/architecture.hpp>
#include <vramplan/compute.hpp>
#include <vramplan/error.hpp>
#include <vramplan/reserve_graph.hpp>

namespace vramplan {
namespace {

Bytes sum(const std::vector<DeviceUsage>& devices, Bytes DeviceUsage::*field) {
  Bytes total = 0;
  for (const DeviceUsage& d : devices) {
    total = checked_add(total, d.*field, "the estimate's total");
  }
  return total;
}

constexpr std::string_view weights_what = "the total of the model's weights";
constexpr std::string_view compute_what = "the compute buffer";

// Device index of each offloadable layer (blocks, then the output layer at index n_layer):
// -1 for the host. llama.cpp's -sm layer split: offloaded layers are cut into contiguous
// runs by cumulative capacity fractions (llama.cpp src/llama-model.cpp load_tensors).
std::vector<int> place_layers(std::int32_t n_layer, std::int32_t gpu_layers,
                              const std::vector<Bytes>& gpus) {
  std::vector<int> device(static_cast<std::size_t>(n_layer) + 1, -1);
  if (gpus.empty() || gpu_layers <= 0) return device;
  std::vector<double> cumulative(gpus.size());
  const double total = static_cast<double>(std::accumulate(gpus.begin(), gpus.end(), Bytes{0}));
  double running = 0;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    running +=
        total > 0 ? static_cast<double>(gpus[i]) / total : 1.0 / static_cast<double>(gpus.size());
    cumulative[i] = running;
  }
  const std::int32_t first = n_layer + 1 - gpu_layers;
  for (std::int32_t il = first; il <= n_layer; ++il) {
    const double position = static_cast<double>(il - first) / static_cast<double>(gpu_layers);
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), position);
    const auto index = std::min<std::ptrdiff_t>(it - cumulative.begin(),
                                                static_cast<std::ptrdiff_t>(gpus.size()) - 1);
    device[static_cast<std::size_t>(il)] = static_cast<int>(index);
  }
  return device;
}

// Architectures Ollama loads with one slot whatever OLLAMA_NUM_PARALLEL says (ollama/ollama
// server/sched.go, v0.33.0-rc2: "model architecture does not currently support parallel
// requests").
bool ollama_one_slot(std::string_view arch) {
  static constexpr std::string_view archs[] = {
      "mllama", "qwen3vl", "qwen3vlmoe", "qwen35",         "qwen35moe",      "qwen3next",
      "lfm2",   "lfm2moe", "nemotron_h", "nemotron_h_moe", "nemotron_h_omni"};
  return std::find(std::begin(archs), std::end(archs), arch) != std::end(archs);
}

std::string device_name(Backend backend, std::size_t index) {
  switch (backend) {
    case Backend::cuda:
      return fmt::format("CUDA{}", index);
    case Backend::metal:
      return "Metal";
    case Backend::vulkan:
      return fmt::format("Vulkan{}", index);
    case Backend::cpu:
      break;
  }
  return "CPU";
}

// Pipeline parallelism (llama_context's constructor, src/llama-context.cpp): several devices,
// every layer offloaded (n_gpu_layers > n_layer), the layer split, the KV cache offloaded, no
// tensor override (--n-cpu-moe is one: common/arg.cpp adds it to tensor_buft_overrides), and
// async compute and events on every GPU. The scheduler then keeps GGML_SCHED_MAX_COPIES
// copies of its inputs (ggml_backend_sched_new: n_copies = parallel ? 4 : 1).
bool pipeline_parallel(const std::vector<int>& placement, const Config& config, std::size_t n_gpus,
                       const sched::GpuRules& rules) {
  const bool all_offloaded =
      std::all_of(placement.begin(), placement.end(), [](int dev) { return dev >= 0; });
  return n_gpus > 1 && all_offloaded && config.kv_offload && config.cpu_moe == 0 &&
         rules.async_events;
}

// The backend's scheduler rules, for the closed forms' questions about them (which the replay
// answers itself): CUDA's and Metal's from their sources, Vulkan's generic ones.
const sched::GpuRules& backend_rules(Backend backend) {
  if (const sched::GpuRules* rules = replay_rules(backend)) return *rules;
  return sched::vulkan_generic();
}

// The compute buffers of the GPUs and the host from the scheduler replay (sched.hpp): the
// prompt graph, then the generation graph (one token per sequence); each buffer keeps the
// larger (llama_context::sched_reserve reserves both, ggml_gallocr never shrinks). Returns one
// entry per GPU, then the host's.
std::vector<Bytes> scheduled_compute(const Model& model, const ComputeParams& cp,
                                     const std::vector<int>& placement, const Config& config,
                                     std::size_t n_gpus, const sched::GpuRules& rules) {
  const ModelSpec& spec = model.spec;
  std::unordered_map<std::string_view, Bytes> sizes;
  sizes.reserve(model.tensors.size());
  for (const TensorInfo& t : model.tensors) sizes.emplace(t.name, t.bytes());
  const WeightBytes weights = [&](std::int32_t layer, std::string_view role) -> Bytes {
    const std::string name = layer < 0 ? std::string(role) : fmt::format("blk.{}.{}", layer, role);
    if (const auto it = sizes.find(name); it != sizes.end()) return it->second;
    // A tied output is a copy of token_embd.
    if (role == "output.weight") {
      if (const auto it = sizes.find("token_embd.weight"); it != sizes.end()) return it->second;
    }
    return 0;
  };
  sched::Placement p;
  p.n_layer = spec.n_layer;
  p.block_on_gpu.resize(static_cast<std::size_t>(spec.n_layer));
  p.n_gpus = static_cast<int>(n_gpus);
  if (n_gpus > 1) p.block_gpu.resize(static_cast<std::size_t>(spec.n_layer));
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const int dev = placement[static_cast<std::size_t>(il)];
    p.block_on_gpu[static_cast<std::size_t>(il)] = dev >= 0;
    if (n_gpus > 1) p.block_gpu[static_cast<std::size_t>(il)] = std::max(dev, 0);
  }
  const int output_dev = placement[static_cast<std::size_t>(spec.n_layer)];
  p.output_on_gpu = output_dev >= 0;
  p.output_gpu = std::max(output_dev, 0);
  if (pipeline_parallel(placement, config, n_gpus, rules)) p.n_copies = sched::max_copies;
  p.cpu_moe = config.cpu_moe;
  p.kv_offload = config.kv_offload;
  p.op_offload = config.op_offload;
  // Both graphs are built in one per-thread storage, kept from estimate to estimate (estimates
  // do not nest): a replay reuses the memory of the last instead of faulting in a new array.
  thread_local graph::Graph storage;
  // llama_context::graph_get_cb puts each block's norm on the block's device for a batch under
  // 32 tokens or when every layer is offloaded (n_gpu_layers > n_layer).
  const bool full_offload =
      std::all_of(placement.begin(), placement.end(), [](int dev) { return dev >= 0; });
  const auto replay = [&](std::int64_t n_tokens, std::int64_t n_outputs) {
    graph::Graph g = reserve_graph(spec, cp, n_tokens, n_outputs, &weights, &storage);
    p.pin_layer_norms = n_tokens < 32 || full_offload;
    const sched::Result r = sched::replay(g, p, rules);
    storage = std::move(g);
    return r;
  };
  const sched::Result pp = replay(reserve_n_tokens(cp), cp.n_outputs);
  const std::int64_t n_seq = std::max<std::int64_t>(1, cp.n_seq);
  const sched::Result tg = replay(n_seq, n_seq);
  std::vector<Bytes> out(n_gpus + 1, 0);
  for (std::size_t i = 0; i < n_gpus && i < pp.gpus.size() && i < tg.gpus.size(); ++i) {
    out[i] = std::max(pp.gpus[i], tg.gpus[i]);
  }
  out.back() = std::max(pp.host, tg.host);
  return out;
}

}  // namespace

Bytes Estimate::weights() const { return sum(devices, &DeviceUsage::weights); }
Bytes Estimate::kv_cache() const { return sum(devices, &DeviceUsage::kv_cache); }
Bytes Estimate::compute() const { return sum(devices, &DeviceUsage::compute); }
Bytes Estimate::output() const { return sum(devices, &DeviceUsage::output); }
Bytes Estimate::overhead() const { return sum(devices, &DeviceUsage::overhead); }
Bytes Estimate::total() const {
  Bytes total = 0;
  for (const DeviceUsage& d : devices) {
    total = checked_add(total, d.total(), "the estimate's total");
  }
  return total;
}

Bytes gpu_weights(const WeightGroup& group, Backend backend) {
  switch (backend) {
    case Backend::cuda:
      return group.cuda;
    case Backend::vulkan:
      return group.vulkan;
    case Backend::metal:
      return group.metal;
    case Backend::cpu:
      break;
  }
  return group.host;
}

Bytes gpu_weights(const WeightLayout& layout, Backend backend) {
  // The per-device tensors once: a copy more on each further GPU.
  Bytes sum = checked_add(gpu_weights(layout.output, backend),
                          gpu_weights(layout.per_device, backend), weights_what);
  for (const WeightGroup& block : layout.blocks) {
    sum = checked_add(sum, gpu_weights(block, backend), weights_what);
  }
  return sum;
}

Bytes gpu_runtime_overhead(Backend backend) {
  // Memory a GPU process holds outside llama.cpp's buffers: CUDA context, cuBLAS handles and
  // workspace, loaded kernels. Ollama reserves 457 MiB per CUDA/ROCm/Vulkan GPU and 512 MiB
  // on Metal for exactly this (Ollama ml/device.go MinimumMemory).
  switch (backend) {
    case Backend::cuda:
    case Backend::vulkan:
      return 457 * mib;
    case Backend::metal:
      return 512 * mib;
    case Backend::cpu:
      break;
  }
  return 0;
}

bool ollama_offloads_projector(Bytes projector, const std::vector<Bytes>& gpus,
                               std::optional<std::int32_t> num_gpu, std::int32_t total_layers) {
  if (projector <= 0 || gpus.empty()) return false;
  if (num_gpu && (*num_gpu == 0 || (*num_gpu > 0 && *num_gpu < total_layers))) {
    return false;  // "cpu-only", "partial-text-offload"
  }
  const Bytes required = checked_add(projector, gib, "the projector's fit target");
  // A GPU with less room than that: "limited-vram".
  return std::ranges::all_of(gpus, [&](Bytes gpu) { return gpu >= required; });
}

const sched::GpuRules* replay_rules(Backend backend) {
  switch (backend) {
    case Backend::cuda:
      return &sched::cuda();
    case Backend::metal:
      return &sched::metal();
    case Backend::vulkan:
    case Backend::cpu:
      break;
  }
  return nullptr;
}

Bytes mapped_host_weights(const Model& model, const Config& config, Bytes alignment) {
  const std::int32_t n_layer = model.spec.n_layer;
  const auto on_host = [&](const TensorInfo& t) {
    const WeightSlot slot = weight_slot(t.name);
    const std::int32_t il = slot.block;
    if (slot.per_device) {  // with the blocks: on the host when block 0 is
      return !layer_on_gpu(0, n_layer, config.gpu_layers);
    }
    if (il < 0) {
      // The input layer stays on the CPU; the output layer follows -ngl.
      return !slot.output_group || !layer_on_gpu(n_layer, n_layer, config.gpu_layers);
    }
    if (!layer_on_gpu(il, n_layer, config.gpu_layers)) return true;
    return il < config.cpu_moe && is_expert_tensor(t.name);
  };
  Bytes offset = 0, first = 0, last = 0;
  bool any = false;
  for (const TensorInfo& t : model.tensors) {
    offset = (offset + alignment - 1) / alignment * alignment;
    const Bytes end = checked_add(offset, t.bytes(), weights_what);
    if (on_host(t)) {
      if (!any) first = offset;
      any = true;
      last = end;
    }
    offset = end;
  }
  return any ? last - first : 0;
}

Estimate estimate(const Model& model, const Engine& engine, Backend backend,
                  const Config& config_in, const std::vector<Bytes>& gpus_in, ComputeCache* cache,
                  const sched::GpuRules* gpu_rules) {
  const ModelSpec& spec = model.spec;
  Estimate est;
  est.engine = &engine;
  est.backend = backend;
  est.total_layers = spec.n_layer + 1;
  Config config = config_in;

  if (architecture(spec.arch).ollama_engine_only) {
    refuse_ollama_engine_only(spec.arch);
  }
  if (config.parallel < 1 || config.parallel > 256) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("parallel must be between 1 and 256, got {}", config.parallel));
  }
  if (config.ctx < 1) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("context must be at least 1, got {}", config.ctx));
  }
  if (config.gpu_layers < 0 || config.gpu_layers > est.total_layers) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("gpu layers must be between 0 and {} for this model, got {}",
                            est.total_layers, config.gpu_layers));
  }
  if (config.cpu_moe < 0 || config.cpu_moe > spec.n_layer) {
    throw Error(ErrorKind::invalid_setting, "", Setting::cpu_moe,
                fmt::format(" must be between 0 and {} for this model, got {}", spec.n_layer,
                            config.cpu_moe));
  }
  if (config.cpu_moe > 0 && !spec.moe.present()) {
    throw Error(ErrorKind::invalid_setting, "", Setting::cpu_moe,
                " applies to mixture-of-experts models only");
  }
  if (config.cpu_moe > 0 && !engine.expert_offload) {
    throw Error(ErrorKind::invalid_setting, "", Setting::cpu_moe,
                fmt::format(": {} cannot keep experts on the CPU", engine.display));
  }
  if (config.n_ubatch < 1 || config.n_batch < 1 || config.n_ubatch > max_batch ||
      config.n_batch > max_batch) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("batch and ubatch must be between 1 and {}, got {} and {}", max_batch,
                            config.n_batch, config.n_ubatch));
  }
  if (config.ctx > spec.n_ctx_train) {
    // Ollama clamps num_ctx to the model's context_length (Ollama llm/llama_server.go); llama.cpp
    // only warns and allocates what it was given (llama_context constructor).
    if (engine.id == EngineId::ollama) {
      est.notes.push_back(Finding(FindingKind::ctx_clamped,
                                  {{"ctx", config.ctx}, {"model_max", spec.n_ctx_train}}));
      config.ctx = spec.n_ctx_train;
    } else {
      est.notes.push_back(
          Finding(FindingKind::ctx_above_max, {{"ctx", config.ctx},
                                               {"model_max", spec.n_ctx_train},
                                               {"engine", std::string(engine.display)}}));
    }
  }
  if (engine.id == EngineId::ollama) {
    // Ollama (llm/llama_server.go): embedding models always get one slot; vision models at least
    // 2048.
    if (!spec.causal && config.parallel > 1) {
      est.notes.push_back(
          Finding(FindingKind::embedding_one_slot, {{"parallel", config.parallel}}));
      config.parallel = 1;
    } else if (ollama_one_slot(spec.arch) && config.parallel > 1) {
      est.notes.push_back(Finding(FindingKind::arch_one_slot,
                                  {{"parallel", config.parallel}, {"arch", spec.arch}}));
      config.parallel = 1;
    }
    if (model.projector > 0 && config.ctx < 2048) {
      est.notes.push_back(Finding(FindingKind::vision_min_ctx, {{"ctx", config.ctx}}));
      config.ctx = std::min<std::int64_t>(2048, spec.n_ctx_train);
    }
  }
  if (config.ctx > max_context) {
    // Only a value that skipped its own range check gets here (the flags stop at 2^24).
    throw Error(ErrorKind::invalid_setting,
                fmt::format("context must be between 1 and {}, got {}", max_context, config.ctx));
  }
  if (engine.batch_equals_ubatch) config.n_batch = config.n_ubatch;
  if (engine.output_reserve == OutputReserve::per_token && config.n_batch < config.parallel) {
    // llama_context::output_reserve: max(n_outputs, n_seq_max) <= n_outputs_max (= n_batch
    // for a library context) is a GGML_ASSERT; llama.cpp aborts instead of loading.
    throw Error(ErrorKind::invalid_setting,
                fmt::format("batch {} is smaller than parallel {}: {} aborts on it (its output "
                            "buffer holds one row per sequence at least); use ",
                            config.n_batch, config.parallel, engine.display),
                engine.batch_equals_ubatch ? Setting::ubatch : Setting::batch,
                fmt::format(" {} or more", config.parallel));
  }

  std::vector<Bytes> gpus = gpus_in;
  if (backend == Backend::cpu) {
    gpus.clear();
    config.gpu_layers = 0;
  } else if (gpus.empty()) {
    gpus.push_back(0);  // one GPU of unknown capacity
  }
  est.config = config;

  const std::int64_t llama_n_ctx =
      engine.ctx_meaning == ContextMeaning::per_slot ? config.ctx * config.parallel : config.ctx;
  est.context = ContextParams{.n_ctx = llama_n_ctx,
                              .n_seq = config.parallel,
                              .kv_unified = config.kv_unified,
                              .n_batch = config.n_batch,
                              .n_ubatch = config.n_ubatch,
                              .type_k = config.type_k,
                              .type_v = config.type_v,
                              .flash_attn = config.flash_attn};
  est.kv = kv_cache(spec, est.context);
  est.shape = est.kv.shape;
  // llama_context::sched_reserve reserves its graph for min(n_ctx, n_ubatch) tokens. A causal
  // model's ubatch never exceeds its context (the batch is capped there); a non-causal one's
  // can (llama-embedding's ubatch is its batch, 2048, beside a BERT's 512-token context), and
  // its graph then has n_ctx tokens.
  ContextShape graph_shape = est.shape;
  graph_shape.n_ubatch = std::min(est.shape.n_ctx, est.shape.n_ubatch);
  const std::int64_t reserved = engine.output_reserve == OutputReserve::per_sequence
                                    ? std::min<std::int64_t>(est.shape.n_batch, config.parallel)
                                    : est.shape.n_batch;
  est.n_outputs = std::min(reserved, graph_shape.n_ubatch);

  const ComputeParams cp{.shape = graph_shape,
                         .n_outputs = est.n_outputs,
                         .flash_attn = config.flash_attn,
                         .type_k = config.type_k,
                         .type_v = config.type_v,
                         .n_seq = config.parallel};
  const ComputeBuffer graph = cache != nullptr ? cache->buffer(spec, cp) : compute_buffer(spec, cp);

  const std::vector<int> placement = place_layers(spec.n_layer, config.gpu_layers, gpus);
  std::vector<DeviceUsage> devices(gpus.size() + 1);
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    devices[i].name = device_name(backend, i);
    devices[i].kind = DeviceKind::gpu;
    devices[i].capacity = gpus[i];
    devices[i].overhead = gpu_runtime_overhead(backend);
  }
  DeviceUsage& host = devices.back();
  host.name = "CPU";
  host.kind = DeviceKind::host;

  // The CPU's weights go to the first buffer type of llama.cpp's CPU list that takes them
  // (make_cpu_buft_list, src/llama-model.cpp): a GPU's host buffer type (CUDA_Host, Vulkan_Host)
  // comes before the CPU's extra types, so beside a CUDA or Vulkan GPU nothing is repacked, not
  // even the experts --n-cpu-moe overrides to the CPU (bench/accuracy/cuda: no CPU_REPACK buffer
  // in 165 runs with Q4_0/Q4_K host weights on an AVX-512 host).
  if (!gpus.empty() && (backend == Backend::cuda || backend == Backend::vulkan)) {
    config.cpu_repack = CpuRepack::off;
  }
  const WeightLayout& w = model.weights;
  host.weights += w.input.host;
  Bytes largest_host_tensor = 0;
  Bytes repacked = 0;
  Bytes experts_on_host = 0;  // --cpu-moe: expert tensors of offloaded blocks
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const int dev = placement[static_cast<std::size_t>(il)];
    const WeightGroup& block = w.blocks[static_cast<std::size_t>(il)];
    const Bytes kv = est.kv.per_layer[static_cast<std::size_t>(il)];
    if (dev < 0) {
      const Bytes repack = block.repack[static_cast<std::size_t>(config.cpu_repack)];
      host.weights =
          checked_add(host.weights, checked_add(block.host, repack, weights_what), weights_what);
      repacked = checked_add(repacked, repack, weights_what);
      host.kv_cache = checked_add(host.kv_cache, kv, "the KV cache");
      ++host.layers;
      largest_host_tensor = std::max(largest_host_tensor, block.largest_tensor);
    } else {
      DeviceUsage& d = devices[static_cast<std::size_t>(dev)];
      d.weights = checked_add(d.weights, gpu_weights(block, backend), weights_what);
      if (il < config.cpu_moe) {
        // The experts are overridden to the CPU buffer type (-ot ...=CPU), which lets the
        // CPU_REPACK copies apply to them too.
        const WeightGroup& experts = w.experts[static_cast<std::size_t>(il)];
        const Bytes repack = experts.repack[static_cast<std::size_t>(config.cpu_repack)];
        d.weights -= gpu_weights(experts, backend);
        host.weights = checked_add(host.weights, checked_add(experts.host, repack, weights_what),
                                   weights_what);
        repacked = checked_add(repacked, repack, weights_what);
        experts_on_host = checked_add(experts_on_host, experts.host, weights_what);
        largest_host_tensor = std::max(largest_host_tensor, experts.largest_tensor);
      }
      Bytes& kv_on = config.kv_offload ? d.kv_cache : host.kv_cache;
      kv_on = checked_add(kv_on, kv, "the KV cache");
      ++d.layers;
    }
  }
  // One copy of the per-device tensors (rope_freqs) on each device that holds a block; the
  // output layer is counted after this, so `layers` counts blocks here.
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (devices[i].layers > 0) {
      devices[i].weights =
          checked_add(devices[i].weights, gpu_weights(w.per_device, backend), weights_what);
    }
  }
  if (host.layers > 0) host.weights = checked_add(host.weights, w.per_device.host, weights_what);
  const int output_dev = placement[static_cast<std::size_t>(spec.n_layer)];
  if (output_dev < 0) {
    // On the CPU a tied output shares token_embd's mmap'd pages: no second copy.
    // A tied output is token_embd's own pages; its repacked copy is not modelled (token_embd
    // keeps its type; llama.cpp's tied models here use a non-repacked type for it).
    const Bytes output_repack =
        w.output_tied ? 0 : w.output.repack[static_cast<std::size_t>(config.cpu_repack)];
    host.weights = checked_add(
        host.weights, checked_add(w.output.host - w.tied_copy, output_repack, weights_what),
        weights_what);
    repacked = checked_add(repacked, output_repack, weights_what);
    ++host.layers;
    largest_host_tensor = std::max(largest_host_tensor, w.output.largest_tensor);
  } else {
    Bytes& out_weights = devices[static_cast<std::size_t>(output_dev)].weights;
    out_weights = checked_add(out_weights, gpu_weights(w.output, backend), weights_what);
    ++devices[static_cast<std::size_t>(output_dev)].layers;
  }

  if (!graph_modelled(spec)) {
    est.notes.push_back(Finding(FindingKind::compute_closed_form, {{"arch", spec.arch}}));
  }
  if (experts_on_host > 0) {
    est.notes.push_back(Finding(FindingKind::experts_on_host,
                                {{"cpu_moe", config.cpu_moe}, {"bytes", experts_on_host}}));
  }
  if (repacked > 0) {
    est.notes.push_back(
        Finding(FindingKind::cpu_repack,
                {{"bytes", repacked}, {"isa", std::string(to_string(config.cpu_repack))}}));
  }

  // Vision projector: on the first GPU or in host memory as Config::projector_offload says
  // (ProjectorOffload::engine: llama-server's default for a plan with offloaded layers, Ollama's
  // rule). Its encoder reserves its own compute buffer where its weights are (llama.cpp
  // tools/mtmd/clip.cpp warmup, for one square image of the tower's size), with flash
  // attention as the server's setting: clip falls back to none only where the backend lacks
  // the op; CUDA has it for the head sizes of the rebuilt encoders (64 to 128, ggml-cuda
  // fattn.cu) but Llama 4's 88 (cuda_flash_attn_takes). GPU buffers are aligned to 128 bytes,
  // the CPU's to 32.
  Bytes projector_compute = 0;
  DeviceUsage* projector_device = nullptr;
  if (model.projector > 0) {
    bool on_gpu = !gpus.empty();
    switch (config.projector_offload) {
      case ProjectorOffload::engine:
        on_gpu = engine.id == EngineId::ollama
                     ? ollama_offloads_projector(model.projector, gpus, config.gpu_layers,
                                                 est.total_layers)
                     : on_gpu && config.gpu_layers > 0;
        break;
      case ProjectorOffload::gpu:
        break;
      case ProjectorOffload::cpu:
        on_gpu = false;
        break;
    }
    projector_device = on_gpu ? &devices.front() : &host;
    projector_device->weights =
        checked_add(projector_device->weights, model.projector, weights_what);
    Finding f(FindingKind::projector,
              {{"bytes", model.projector}, {"device", projector_device->name}});
    if (model.projector_encoder) {
      const bool fa = config.flash_attn && (!on_gpu || backend != Backend::cuda ||
                                            cuda_flash_attn_takes(*model.projector_encoder));
      projector_compute =
          clip_compute_buffer(*model.projector_encoder, spec.n_embd, fa, on_gpu ? 128 : 32);
      f = Finding(FindingKind::projector, {{"bytes", model.projector},
                                           {"device", projector_device->name},
                                           {"compute", projector_compute},
                                           {"flash_attn", std::string(fa ? "on" : "off")}});
    }
    if (model.projector_audio) f.facts.push_back({"audio_encoder", std::string("not modelled")});
    est.notes.push_back(std::move(f));
  }

  const bool partial = config.gpu_layers > 0 && config.gpu_layers < est.total_layers;
  const Bytes inputs = host_input_buffer(spec, cp);
  if (gpus.empty()) {
    host.compute = graph.peak(true);
  } else {
    // Op offload (llama.cpp's default, src/llama-context.cpp): an op on a host weight with a
    // batch of 32 tokens or more runs on the GPU, which copies the weight into its compute
    // buffer; the CPU is left the graph inputs and the one-token generation graph.
    const bool op_offload = config.op_offload && graph_shape.n_ubatch >= 32;
    for (std::size_t i = 0; i < gpus.size(); ++i) {
      DeviceUsage& d = devices[i];
      const bool holds_output = static_cast<int>(i) == output_dev;
      if (d.layers > 0) d.compute = graph.peak(holds_output);
      // Counted on the first GPU: the staging copy is the largest host-resident tensor. With
      // no layer on the GPU it still runs the prompt's offloaded ops, the output matmul and its
      // logits included. Checked against 165 CUDA runs (docs/accuracy.md, "CUDA"): never
      // below llama.cpp's buffer but for MoE fusions; the scheduler replay is exact.
      if (i == 0 && op_offload && (partial || config.gpu_layers == 0 || experts_on_host > 0)) {
        d.compute = checked_add(d.compute, largest_host_tensor, compute_what);
        if (d.layers == 0) d.compute = checked_add(d.compute, graph.peak(true), compute_what);
      }
    }
    // The host's compute buffer (CUDA_Host) holds the graph inputs, plus the activations of
    // the layers that run on the CPU when op offload does not take their prompt to the GPU.
    host.compute = inputs;
    if (host.layers > 0 && !op_offload) {
      host.compute = checked_add(host.compute, graph.peak(output_dev < 0), compute_what);
    }
    // Pipeline parallelism keeps sched::max_copies copies of every split's inputs, none freed.
    // The closed form adds, on every GPU, the extra copies of the KQ mask as the GPU reads it
    // (F16 with flash attention) and of the hidden state its first layer reads (on a GPU after
    // the first, the one it receives: llama.cpp's graph callback runs the first layer's norm on
    // that GPU, so only the previous layer's output crosses); on the host, one more set
    // of the inputs with flash attention, two more masks and one more hidden state without.
    // Fitted to the scheduler replay, which the planner reports (test
    // Estimate.PipelineParallelClosedFormFollowsTheReplay; docs/memory-model.md §6).
    if (pipeline_parallel(placement, config, gpus.size(), backend_rules(backend))) {
      const auto mul = [](Bytes a, Bytes b) { return checked_mul(a, b, compute_what); };
      const auto add = [](Bytes a, Bytes b) { return checked_add(a, b, compute_what); };
      const Bytes n_ub = graph_shape.n_ubatch;
      const Bytes mask = mul(4 * n_ub, add(est.shape.n_ctx_seq, est.shape.n_swa_cells));
      const Bytes hidden = mul(4 * n_ub, spec.n_embd);
      const Bytes read_mask = config.flash_attn ? mask / 2 : mask;
      const Bytes extra = mul(sched::max_copies - 1, add(read_mask, hidden));
      for (std::size_t i = 0; i < gpus.size(); ++i) {
        devices[i].compute = add(devices[i].compute, extra);
      }
      host.compute = add(host.compute,
                         config.flash_attn ? add(mask, hidden) : add(mul(3, mask), mul(2, hidden)));
    }
    // Below 32 tokens the expert matmuls of --cpu-moe blocks run on the CPU: the k experts'
    // gate, up, SwiGLU and down rows of one layer. Checked against the scheduler replay
    // (exact on 165 CUDA runs, none below 32 tokens): 0.05-3.3 MiB above it for Qwen3
    // 30B-A3B, gpt-oss 20B and DeepSeek-Coder-V2 16B at 1-31 tokens; not measured on a GPU.
    if (experts_on_host > 0 && graph_shape.n_ubatch < 32) {
      host.compute +=
          4 * graph_shape.n_ubatch * spec.moe.n_expert_used * (3 * spec.moe.n_ff_exp + spec.n_embd);
    }
  }
  // A rebuilt graph: the scheduler replay gives every compute buffer, on Vulkan GPUs always
  // (checked on one and on several lavapipe devices, docs/accuracy.md), on one or several GPUs
  // of another backend when its rules are given (CUDA: sched::cuda()); for a hybrid's graph
  // where its family was measured (schedule_modelled).
  if ((backend == Backend::vulkan || gpu_rules != nullptr) && !gpus.empty() &&
      schedule_modelled(spec)) {
    const std::vector<Bytes> compute =
        scheduled_compute(model, cp, placement, config, gpus.size(),
                          gpu_rules != nullptr ? *gpu_rules : sched::vulkan_generic());
    for (std::size_t i = 0; i < gpus.size(); ++i) devices[i].compute = compute[i];
    host.compute = compute.back();
  }
  if (projector_compute > 0) {
    projector_device->compute =
        checked_add(projector_device->compute, projector_compute, compute_what);
  }
  if (projector_device != nullptr && projector_device != &host) {
    est.projector_on_gpu = checked_add(model.projector, projector_compute, compute_what);
  }
  host.output = output_buffer(spec, config.parallel);

  est.devices = std::move(devices);
  return est;
}

}  // namespace vramplan
