// `vramplan size` (sizing.hpp; rules and sources: docs/sizing.md §7).
#include <algorithm>
#include <map>
#include <numeric>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/sizing.hpp>
#include <vramplan/tensors.hpp>

#include "sizing_engines.hpp"

namespace vramplan {

std::string_view to_string(SizeLayout layout) {
  switch (layout) {
    case SizeLayout::single:
      return "single";
    case SizeLayout::layer_split:
      return "layer-split";
    case SizeLayout::rpc:
      return "rpc";
    case SizeLayout::tensor:
      return "tensor-parallel";
    case SizeLayout::tensor_pipeline:
      return "tensor-pipeline-parallel";
  }
  return "?";
}

namespace {

// "One GPU with no limit", for the memory the whole model takes.
constexpr Bytes unlimited_gpu = Bytes{1} << 50;  // 1 PiB

Backend backend_of(const Gpu& gpu) {
  switch (gpu.vendor) {
    case GpuVendor::nvidia:
    case GpuVendor::amd:
      return Backend::cuda;  // ROCm runs ggml-cuda's code (HIP)
    case GpuVendor::intel:
      return Backend::vulkan;
    case GpuVendor::apple:
      return Backend::metal;
  }
  return Backend::cuda;
}

std::int32_t ceil_div(std::int64_t a, std::int64_t b) {
  return static_cast<std::int32_t>((a + b - 1) / b);
}

// The heaviest pipeline stage of `pp` as a model of its own (docs/sizing.md §7.2): the last
// ceil(L / pp) blocks (L without NextN blocks, which vLLM does not load), so no leading dense
// blocks, with the per-layer arrays sliced to them. It keeps the input embedding as well as the
// output head, which only the first and the last stage hold: one vocabulary matrix too many.
ModelSpec stage_spec(const ModelSpec& spec, std::int32_t pp) {
  const std::int32_t layers = spec.n_layer - spec.n_nextn;
  const std::int32_t per = ceil_div(layers, pp);
  const std::int32_t first = layers - per;
  ModelSpec s = spec;
  s.n_layer = per;
  s.n_nextn = 0;
  const auto slice = [&](auto& v) {
    if (v.empty()) return;
    using V = std::decay_t<decltype(v)>;
    v = V(v.begin() + first, v.begin() + first + per);
  };
  slice(s.n_head_kv_per_layer);
  slice(s.n_ff_per_layer);
  slice(s.recurrent.layers);
  if (s.swa.window > 0 && s.swa.layers.empty() && s.swa.period > 0) {
    for (std::int32_t il = first; il < first + per; ++il) {
      s.swa.layers.push_back(layer_attention(spec, il).swa);
    }
  } else {
    slice(s.swa.layers);
  }
  s.moe.n_leading_dense = std::max(0, s.moe.n_leading_dense - first);
  return s;
}

class Sizer {
 public:
  Sizer(const Model& model, const SizeRequest& request) : model_(model), request_(request) {
    if (request.gpus_per_node < 1 || request.gpus_per_node > 64 || request.max_nodes < 1 ||
        request.max_nodes > 64) {
      throw Error(ErrorKind::invalid_setting,
                  fmt::format("size: GPUs per node ({}) and nodes ({}) must be between 1 and 64",
                              request.gpus_per_node, request.max_nodes));
    }
    if (request.parallel && *request.parallel < 1) {
      throw Error(ErrorKind::invalid_setting, "size: ", Setting::parallel, " must be at least 1");
    }
    ctx_ = request.ctx.value_or(std::min(size_default_ctx, model.spec.n_ctx_train));
    if (ctx_ < 1)
      throw Error(ErrorKind::invalid_setting, "size: ", Setting::ctx, " must be at least 1");
    if (request.family == SizeEngine::llama_cpp) {
      engine_ = request.engine != nullptr ? request.engine : &engine(EngineId::llamacpp);
      if (engine_->id == EngineId::vllm) {
        throw Error(ErrorKind::invalid_setting, "size: vLLM is sized with SizeEngine::vllm");
      }
    } else {
      vllm_.emplace(sizing_engines::vllm_model(model, request.vllm_dtype));
    }
  }

  [[nodiscard]] std::int64_t ctx() const { return ctx_; }
  [[nodiscard]] std::int64_t estimates() const { return estimates_; }

  std::optional<SizeOption> on_card(const Gpu& gpu, Bytes memory) {
    return request_.family == SizeEngine::llama_cpp ? llama_on_card(gpu, memory)
                                                    : vllm_on_card(gpu, memory);
  }

  // The whole model on one GPU without a limit.
  void whole(SizeResult& out) {
    if (request_.family == SizeEngine::llama_cpp) {
      const sizing_engines::FullOffload f = full(Backend::cuda, {unlimited_gpu});
      out.vram_needed = f.max_gpu + request_.headroom.for_device(f.max_gpu);
      out.ram_needed = f.host;
      ++estimates_;
      out.ram_cpu_only =
          sizing_engines::llama_cpu_only(model_, *engine_, ctx_, request_.parallel, &cache_);
      return;
    }
    const sizing_engines::VllmOutcome o = stage(1, 1, unlimited_gpu, "");
    out.vram_needed = o.card_needed;
  }

 private:
  sizing_engines::FullOffload full(Backend backend, const std::vector<Bytes>& gpus) {
    ++estimates_;
    return sizing_engines::llama_full_offload(model_, *engine_, backend, ctx_, request_.parallel,
                                              gpus, request_.headroom, &cache_);
  }

  [[nodiscard]] std::int32_t max_gpus() const {
    return request_.gpus_per_node * request_.max_nodes;
  }

  std::optional<SizeOption> llama_on_card(const Gpu& gpu, Bytes memory) {
    const Backend backend = backend_of(gpu);
    // A lower bound on the count: the GPUs together hold at least what one unlimited GPU
    // does (weights and KV only move; compute buffers and overhead repeat per GPU).
    if (!single_total_) {
      single_total_ = full(backend, {unlimited_gpu}).max_gpu;
    }
    const Bytes usable = memory - request_.headroom.for_device(memory);
    if (usable <= 0) return std::nullopt;
    std::int64_t bound = std::max<std::int64_t>(1, *single_total_ / usable);
    // A second bound: however the layers are split, some GPU holds ceil(L / n) blocks, and
    // every block that is not a NextN block weighs at least the lightest one.
    const std::int32_t per_gpu = blocks_that_fit(usable);
    if (per_gpu < 1) return std::nullopt;
    bound = std::max<std::int64_t>(bound, ceil_div(model_.spec.n_layer, per_gpu));
    if (bound > max_gpus()) return std::nullopt;
    std::int32_t n = static_cast<std::int32_t>(bound);
    for (; n <= max_gpus(); ++n) {
      const sizing_engines::FullOffload f =
          full(backend, std::vector<Bytes>(static_cast<std::size_t>(n), memory));
      if (!f.fits) continue;
      SizeOption o;
      o.gpu = &gpu;
      o.gpu_memory = memory;
      o.gpus = n;
      o.nodes = ceil_div(n, request_.gpus_per_node);
      o.layout = n == 1         ? SizeLayout::single
                 : o.nodes == 1 ? SizeLayout::layer_split
                                : SizeLayout::rpc;
      o.per_gpu_bytes = f.max_gpu;
      o.per_gpu_headroom = f.max_headroom;
      o.per_gpu_weights = f.max_gpu_weights;
      return o;
    }
    return std::nullopt;
  }

  // The most blocks one GPU with `usable` bytes can hold, NextN blocks free (they may not be
  // loaded): n_nextn more than the lightest other blocks that fit.
  [[nodiscard]] std::int32_t blocks_that_fit(Bytes usable) {
    if (!lightest_block_) {
      // Each block's tensors as stored (WeightGroup::host), no more than a GPU allocates.
      const std::vector<WeightGroup>& blocks = model_.weights.blocks;
      const auto real = blocks.begin() + (model_.spec.n_layer - model_.spec.n_nextn);
      lightest_block_ = blocks.begin() == real
                            ? 0
                            : std::min_element(blocks.begin(), real,
                                               [](const WeightGroup& a, const WeightGroup& b) {
                                                 return a.host < b.host;
                                               })
                                  ->host;
    }
    const std::int64_t fit =
        *lightest_block_ > 0 ? usable / *lightest_block_ : std::int64_t{model_.spec.n_layer};
    return static_cast<std::int32_t>(
        std::min<std::int64_t>(fit + model_.spec.n_nextn, model_.spec.n_layer));
  }

  const Model& stage_model(std::int32_t pp) {
    if (pp == 1) return *vllm_;
    auto it = stages_.find(pp);
    if (it == stages_.end()) {
      ModelSpec s = stage_spec(model_.spec, pp);
      Model m = make_model(model_.name, model_.source, s, model_.file_type,
                           generate_tensors(s, model_.file_type), 0);
      it = stages_.emplace(pp, sizing_engines::vllm_model(m, request_.vllm_dtype)).first;
    }
    return it->second;
  }

  sizing_engines::VllmOutcome stage(std::int32_t tp, std::int32_t pp, Bytes memory,
                                    std::string_view gpu_name) {
    ++estimates_;
    return sizing_engines::vllm_stage(stage_model(pp), tp, memory, gpu_name, ctx_,
                                      request_.parallel, request_.vllm_dtype);
  }

  std::optional<SizeOption> vllm_on_card(const Gpu& gpu, Bytes memory) {
    // Tensor parallel sizes: powers of two that divide the node (a TP group never spans
    // nodes) and split the heads as vLLM requires.
    std::vector<std::int32_t> tps;
    for (std::int32_t tp = 1; tp <= request_.gpus_per_node; tp *= 2) {
      if (request_.gpus_per_node % tp == 0 && sizing_engines::vllm_tp_valid(vllm_->spec, tp)) {
        tps.push_back(tp);
      }
    }
    const std::int32_t layers = model_.spec.n_layer - model_.spec.n_nextn;
    struct Candidate {
      std::int32_t tp, pp;
    };
    std::vector<Candidate> candidates;
    // In one node: any TP x PP that fits in it.
    for (std::int32_t tp : tps) {
      for (std::int32_t pp = 1; pp <= layers && tp * pp <= request_.gpus_per_node; ++pp) {
        candidates.push_back({tp, pp});
      }
    }
    // Over nodes: whole nodes, TP the largest valid size in a node, the stages over the rest
    // (vLLM's advice: TP = GPUs per node, PP = nodes; docs/sizing.md §7.2).
    if (!tps.empty()) {
      const std::int32_t tp = tps.back();
      const std::int32_t stages_per_node = request_.gpus_per_node / tp;
      for (std::int32_t nodes = 2; nodes <= request_.max_nodes; ++nodes) {
        if (nodes * stages_per_node > layers) break;
        candidates.push_back({tp, nodes * stages_per_node});
      }
    }
    // Fewest GPUs first; for one count the larger TP (fewer stages: vLLM's advice is TP
    // within a node, PP over nodes).
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.tp * a.pp != b.tp * b.pp ? a.tp * a.pp < b.tp * b.pp : a.pp < b.pp;
    });
    // A lower bound: the GPUs together hold at least the weights, within the default 0.92.
    // (fp8 counts the linear weights of the bf16 tensor list as one byte: half is a bound.)
    const Bytes weights = request_.vllm_dtype == VllmDtype::fp8
                              ? vllm_->weights.file_tensor_bytes / 2
                              : vllm_->weights.file_tensor_bytes;
    const Bytes budget = memory / 100 * 92;
    for (const Candidate& c : candidates) {
      const std::int32_t n = c.tp * c.pp;
      if (budget <= 0 || weights / n > budget) continue;
      const sizing_engines::VllmOutcome o = stage(c.tp, c.pp, memory, gpu.name);
      if (!o.fits) continue;
      SizeOption opt;
      opt.gpu = &gpu;
      opt.gpu_memory = memory;
      opt.gpus = n;
      opt.tensor_parallel = c.tp;
      opt.pipeline_parallel = c.pp;
      opt.nodes = ceil_div(n, request_.gpus_per_node);
      opt.layout = n == 1      ? SizeLayout::single
                   : c.pp == 1 ? SizeLayout::tensor
                               : SizeLayout::tensor_pipeline;
      opt.per_gpu_bytes = o.per_gpu;
      opt.per_gpu_weights = o.weights;
      opt.kv_tokens = o.kv_tokens;
      return opt;
    }
    return std::nullopt;
  }

  const Model& model_;
  const SizeRequest& request_;
  const Engine* engine_ = nullptr;
  std::int64_t ctx_ = 0;
  std::int64_t estimates_ = 0;
  ComputeCache cache_;
  std::optional<Bytes> single_total_;
  std::optional<Bytes> lightest_block_;  // the lightest block's weights, NextN blocks aside
  std::optional<Model> vllm_;
  std::map<std::int32_t, Model> stages_;
};

// The memory sized for one device of a card, or why there is none.
std::optional<Bytes> card_memory(const Gpu& gpu, SizeEngine family, std::string& why) {
  if (!gpu.memory_bytes) {
    why = gpu.unified_memory ? "unified memory: the GPU's share depends on the machine"
                             : "the catalog has no memory size for it";
    return std::nullopt;
  }
  if (family == SizeEngine::vllm) {
    if (gpu.vllm && !*gpu.vllm) {
      why = "vLLM does not run on it";
      return std::nullopt;
    }
    // What torch sees where the catalog has it (vLLM's --vram), else nvidia-smi's total.
    if (gpu.cuda_total_bytes) return *gpu.cuda_total_bytes / gpu.devices_per_board;
  }
  return *gpu.memory_bytes / gpu.devices_per_board;
}

}  // namespace

std::optional<SizeOption> size_on_card(const Model& model, const Gpu& gpu, Bytes gpu_memory,
                                       const SizeRequest& request) {
  Sizer sizer(model, request);
  return sizer.on_card(gpu, gpu_memory);
}

SizeResult size_model(const Model& model, const GpuCatalog& gpus, const SizeRequest& request) {
  Sizer sizer(model, request);
  SizeResult out;
  out.family = request.family;
  out.model = model.name;
  out.ctx = sizer.ctx();
  out.parallel = request.parallel.value_or(
      request.family == SizeEngine::vllm
          ? 0
          : (request.engine != nullptr ? request.engine : &engine(EngineId::llamacpp))
                ->default_parallel);
  sizer.whole(out);
  for (const Gpu& gpu : gpus.gpus()) {
    std::string why;
    const std::optional<Bytes> memory = card_memory(gpu, request.family, why);
    if (!memory) {
      out.skipped.push_back({&gpu, why});
      continue;
    }
    std::optional<SizeOption> option = sizer.on_card(gpu, *memory);
    if (!option) {
      out.skipped.push_back({&gpu, fmt::format("needs more than {} nodes of {} GPUs",
                                               request.max_nodes, request.gpus_per_node)});
      continue;
    }
    out.options.push_back(*option);
  }
  std::stable_sort(out.options.begin(), out.options.end(),
                   [](const SizeOption& a, const SizeOption& b) {
                     if (a.gpus != b.gpus) return a.gpus < b.gpus;
                     return a.gpus * a.gpu_memory < b.gpus * b.gpu_memory;
                   });
  for (std::size_t i = 0; i < out.options.size(); ++i) {
    if (out.options[i].gpus == 1) out.single_gpu.push_back(i);
  }
  if (request.family == SizeEngine::vllm) {
    out.notes.push_back(
        fmt::format("vLLM: weights as the {} checkpoint; a pipeline stage is sized as the "
                    "heaviest one with the input embedding and the output head both counted",
                    to_string(request.vllm_dtype)));
  }
  out.estimates = sizer.estimates();
  return out;
}

}  // namespace vramplan
