#include <vramplan/speed.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/vllm.hpp>
#include <vramplan/weights.hpp>

namespace vramplan {
namespace {

// The fitted constants, one row per SpeedClass (order of the enum), as printed by
// scripts/speed/calibrate.py from bench/speed/llama-bench.tsv; docs/speed.md §3 has the fit,
// its command and its errors. Rows of one group share values (the Apple generations their
// decode constants, the GDDR classes their overhead and F16 factor): 19 fitted numbers.
constexpr SpeedConstants kConstants[] = {
    // bandwidth_efficiency, layer_overhead_us, prefill_rate, f16_prefill_factor
    {0.914, 186.6, 224.4, 1.07},  // apple_m1 (prefill_rate in GFLOP/s per GPU core)
    {0.914, 186.6, 244.4, 1.07},  // apple_m2
    {0.914, 186.6, 257.6, 1.07},  // apple_m3
    {0.914, 186.6, 304.3, 1.07},  // apple_m4
    {0.878, 86.5, 75.2, 1.54},    // gddr_ampere (prefill_rate in FLOP per byte of bandwidth)
    {0.939, 86.5, 119.8, 1.54},   // gddr_ada
    {0.744, 86.5, 64.8, 1.54},    // gddr_other
    {0.603, 102.0, 54.3, 1.45},   // hbm
};

// Not fitted (no partial-offload rows in the data): the share of the host's RAM bandwidth
// that CPU layers realise in decode, and the host-to-GPU link that carries host weights to
// the GPU for batched prompt processing (llama.cpp's op offload; PCIe 4.0 x16 realises
// about 25 GB/s). docs/speed.md §5.
constexpr double kHostBandwidthEfficiency = 0.6;
constexpr double kHostToGpuGbps = 25.0;

// Not fitted either (no multi-GPU result in the data): with tensor parallel every block ends
// its attention and its MLP with an all-reduce of one token's hidden state (vLLM
// model_executor/layers/linear.py RowParallelLinear, reduce_results), a latency-bound NCCL
// call of about 10 us on NVLink. docs/speed.md §8.
constexpr double kAllReduceUs = 10.0;
constexpr int kAllReducesPerBlock = 2;

constexpr double kGiga = 1e9;

const SpeedConstants& constants(SpeedClass speed_class) {
  return kConstants[static_cast<std::size_t>(speed_class)];
}

bool is_apple(SpeedClass speed_class) {
  return speed_class == SpeedClass::apple_m1 || speed_class == SpeedClass::apple_m2 ||
         speed_class == SpeedClass::apple_m3 || speed_class == SpeedClass::apple_m4;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Seconds to stream `bytes` at `gbps` x `efficiency`; zero bytes cost nothing even where the
// bandwidth is unknown.
double stream_seconds(double bytes, double gbps, double efficiency, const char* what) {
  if (bytes <= 0) return 0;
  if (gbps <= 0) {
    throw Error{
        ErrorKind::bad_input,
        fmt::format("speed: {} bandwidth is needed for {:.0f} bytes per token", what, bytes)};
  }
  return bytes / (gbps * kGiga * efficiency);
}

double positions(std::int64_t depth, std::int64_t window) {
  const std::int64_t read = window > 0 ? std::min(depth, window) : depth;
  return static_cast<double>(std::max<std::int64_t>(read, 0));
}

// The all-reduces of one forward pass under tensor parallel (none on one GPU).
double all_reduce_seconds(const SpeedInputs& inputs) {
  if (inputs.tensor_parallel <= 1) return 0;
  return inputs.reads.gpu_blocks * kAllReducesPerBlock * kAllReduceUs * 1e-6;
}

}  // namespace

std::string_view to_string(SpeedClass speed_class) {
  switch (speed_class) {
    case SpeedClass::apple_m1:
      return "apple-m1";
    case SpeedClass::apple_m2:
      return "apple-m2";
    case SpeedClass::apple_m3:
      return "apple-m3";
    case SpeedClass::apple_m4:
      return "apple-m4";
    case SpeedClass::gddr_ampere:
      return "gddr-ampere";
    case SpeedClass::gddr_ada:
      return "gddr-ada";
    case SpeedClass::gddr_other:
      return "gddr-other";
    case SpeedClass::hbm:
      return "hbm";
  }
  return "?";
}

SpeedClass speed_class(std::string_view vendor, std::string_view arch, std::string_view memory_type,
                       double bandwidth_gbps) {
  if (vendor == "apple") {
    if (arch == "apple-m1") return SpeedClass::apple_m1;
    if (arch == "apple-m2") return SpeedClass::apple_m2;
    if (arch == "apple-m3") return SpeedClass::apple_m3;
    return SpeedClass::apple_m4;
  }
  if (starts_with(memory_type, "HBM")) return SpeedClass::hbm;
  const bool gddr_stated = starts_with(memory_type, "GDDR");
  if (!gddr_stated && (arch == "volta" || arch == "hopper" || arch == "gfx90a" ||
                       arch == "gfx942" || bandwidth_gbps > 1500)) {
    return SpeedClass::hbm;
  }
  if (vendor != "nvidia") return SpeedClass::gddr_other;
  if (arch == "ada" || arch == "blackwell") return SpeedClass::gddr_ada;
  return SpeedClass::gddr_ampere;
}

TokenReads token_reads(const Model& model, LayerSplit split, GgmlType type_k, GgmlType type_v) {
  const ModelSpec& spec = model.spec;
  const WeightLayout& layout = model.weights;
  const std::int32_t n_layer = spec.n_layer;
  if (split.gpu_layers < 0 || split.gpu_layers > n_layer + 1 || split.n_cpu_moe < 0) {
    throw Error{ErrorKind::bad_input,
                fmt::format("speed: layer split {} GPU layers, {} CPU MoE blocks is out of "
                            "range for {} layers",
                            split.gpu_layers, split.n_cpu_moe, n_layer)};
  }
  TokenReads reads;
  const double expert_share = spec.moe.present() ? static_cast<double>(spec.moe.n_expert_used) /
                                                       static_cast<double>(spec.moe.n_expert)
                                                 : 1.0;
  const std::size_t n_blocks = std::min(layout.blocks.size(), layout.experts.size());
  for (std::size_t i = 0; i < n_blocks; ++i) {
    const auto il = static_cast<std::int32_t>(i);
    const bool on_gpu = layer_on_gpu(il, n_layer, split.gpu_layers);
    const auto experts = static_cast<double>(layout.experts[i].host);
    const double dense = static_cast<double>(layout.blocks[i].host) - experts;
    const double active_experts = experts * expert_share;
    (on_gpu ? reads.gpu_weight_bytes : reads.host_weight_bytes) += dense;
    const bool experts_on_gpu = on_gpu && il >= split.n_cpu_moe;
    (experts_on_gpu ? reads.gpu_weight_bytes : reads.host_weight_bytes) += active_experts;
    (on_gpu ? reads.gpu_blocks : reads.host_blocks) += 1;

    const LayerAttention attention = layer_attention(spec, il);
    if (!attention.has_kv) continue;
    double kv = 0;
    if (attention.k_width > 0) kv += static_cast<double>(row_bytes(type_k, attention.k_width));
    if (attention.v_width > 0) kv += static_cast<double>(row_bytes(type_v, attention.v_width));
    if (attention.swa) {
      (on_gpu ? reads.gpu_swa_kv_bytes_per_position : reads.host_swa_kv_bytes_per_position) += kv;
    } else {
      (on_gpu ? reads.gpu_kv_bytes_per_position : reads.host_kv_bytes_per_position) += kv;
    }
    const std::int64_t head_k = spec.head_dim_k();
    const std::int64_t head_v = spec.head_dim_v();
    reads.attention_flops_per_position += 2.0 * spec.n_head * static_cast<double>(head_k + head_v);
  }
  reads.swa_window = spec.swa.window;

  // The rope factors (a copy with every block's device) are read with block 0's.
  (layer_on_gpu(0, n_layer, split.gpu_layers) ? reads.gpu_weight_bytes : reads.host_weight_bytes) +=
      static_cast<double>(layout.per_device.host);
  // The output head is read in full every token; token_embd is a row lookup.
  const bool output_on_gpu = layer_on_gpu(n_layer, n_layer, split.gpu_layers);
  (output_on_gpu ? reads.gpu_weight_bytes : reads.host_weight_bytes) +=
      static_cast<double>(layout.output.host);
  if (spec.n_vocab > 0) {
    reads.embedding_row_bytes =
        static_cast<double>(layout.input.host) / static_cast<double>(spec.n_vocab);
  }

  for (const TensorInfo& tensor : model.tensors) {
    if (tensor.ne[1] <= 1) continue;  // norms and biases
    const auto elements = static_cast<double>(tensor.elements());
    if (tensor.name.starts_with("token_embd.")) {
      if (layout.output_tied) reads.matmul_flops += 2.0 * elements;  // it is also the head
      continue;
    }
    reads.matmul_flops += 2.0 * elements * (is_expert_tensor(tensor.name) ? expert_share : 1.0);
  }
  return reads;
}

double decode_tokens_per_s(const SpeedInputs& inputs, std::int64_t depth) {
  const TokenReads& r = inputs.reads;
  const SpeedConstants& k = constants(inputs.device.speed_class);
  const double full = positions(depth, 0);
  const double swa = positions(depth, r.swa_window);
  const double gpu_bytes = r.gpu_weight_bytes + r.gpu_kv_bytes_per_position * full +
                           r.gpu_swa_kv_bytes_per_position * swa;
  const double host_bytes = r.host_weight_bytes + r.host_kv_bytes_per_position * full +
                            r.host_swa_kv_bytes_per_position * swa;
  const double seconds =
      stream_seconds(gpu_bytes, inputs.device.bandwidth_gbps, k.bandwidth_efficiency, "GPU") +
      r.gpu_blocks * k.layer_overhead_us * 1e-6 + all_reduce_seconds(inputs) +
      stream_seconds(host_bytes, inputs.device.host_bandwidth_gbps, kHostBandwidthEfficiency,
                     "host RAM");
  return 1.0 / seconds;
}

double prefill_tokens_per_s(const SpeedInputs& inputs, std::int64_t n_prompt) {
  if (n_prompt <= 0) throw Error{ErrorKind::bad_input, "speed: n_prompt must be positive"};
  const TokenReads& r = inputs.reads;
  const SpeedConstants& k = constants(inputs.device.speed_class);
  if (inputs.device.bandwidth_gbps <= 0) {
    throw Error{ErrorKind::bad_input, "speed: GPU bandwidth is needed for prefill"};
  }
  // Apple: GFLOP/s per GPU core; elsewhere FLOP per byte of peak bandwidth.
  double scale = inputs.device.bandwidth_gbps;
  if (is_apple(inputs.device.speed_class)) {
    if (inputs.device.gpu_cores <= 0) {
      throw Error{ErrorKind::bad_input, "speed: the Apple GPU core count is needed for prefill"};
    }
    scale = inputs.device.gpu_cores;
  }
  const double flops_per_s =
      k.prefill_rate * scale * kGiga * (inputs.f16_weights ? k.f16_prefill_factor : 1.0);
  // Each prompt token attends to the tokens before it: n/2 positions on average.
  const double mean_positions = static_cast<double>(n_prompt) / 2.0;
  const double flops = static_cast<double>(n_prompt) *
                       (r.matmul_flops + r.attention_flops_per_position * mean_positions);
  const double seconds = flops / flops_per_s + all_reduce_seconds(inputs) +
                         stream_seconds(r.gpu_weight_bytes, inputs.device.bandwidth_gbps,
                                        k.bandwidth_efficiency, "GPU") +
                         stream_seconds(r.host_weight_bytes, kHostToGpuGbps, 1.0, "host link");
  return static_cast<double>(n_prompt) / seconds;
}

SpeedEstimate estimate_speed(const SpeedInputs& inputs, std::int64_t n_ctx) {
  return SpeedEstimate{.decode_tokens_per_s = decode_tokens_per_s(inputs, 0),
                       .decode_at_ctx_tokens_per_s = decode_tokens_per_s(inputs, n_ctx),
                       .prefill_tokens_per_s = prefill_tokens_per_s(inputs, 512),
                       .n_ctx = n_ctx};
}

SpeedConstants speed_constants(SpeedClass speed_class) { return constants(speed_class); }

bool is_float_file_type(FileType file_type) {
  return file_type == FileType::all_f32 || file_type == FileType::mostly_f16 ||
         file_type == FileType::mostly_bf16;
}

SpeedDevice speed_device(const Gpu& gpu, double ram_bandwidth_gbps) {
  SpeedDevice d;
  d.speed_class = speed_class(to_string(gpu.vendor), gpu.arch, gpu.memory_type.value_or(""),
                              gpu.bandwidth_gbps.value_or(0));
  d.bandwidth_gbps = gpu.bandwidth_gbps.value_or(0);
  d.host_bandwidth_gbps = ram_bandwidth_gbps;
  if (!gpu.gpu_cores.empty()) {
    d.gpu_cores = *std::min_element(gpu.gpu_cores.begin(), gpu.gpu_cores.end());
  }
  return d;
}

std::optional<SpeedEstimate> plan_speed(const Model& model, const Gpu& gpu,
                                        double ram_bandwidth_gbps, LayerSplit split,
                                        GgmlType kv_type, std::int64_t n_ctx) {
  if (!gpu.bandwidth_gbps) return std::nullopt;
  try {
    SpeedInputs in;
    in.reads = token_reads(model, split, kv_type, kv_type);
    in.device = speed_device(gpu, ram_bandwidth_gbps);
    in.f16_weights = is_float_file_type(model.file_type);
    if ((in.reads.host_weight_bytes > 0 || in.reads.host_kv_bytes_per_position > 0) &&
        in.device.host_bandwidth_gbps <= 0) {
      return std::nullopt;
    }
    return estimate_speed(in, n_ctx);
  } catch (const Error&) {
    return std::nullopt;  // a device the model cannot time (an Apple chip without core counts)
  }
}

std::optional<SpeedEstimate> vllm_plan_speed(const Model& model, const Gpu& gpu,
                                             std::int32_t tensor_parallel, bool fp8_weights,
                                             double kv_bytes_per_token, std::int64_t n_ctx) {
  if (!gpu.bandwidth_gbps || tensor_parallel < 1) return std::nullopt;
  try {
    SpeedInputs in;
    in.device = speed_device(gpu, 0);
    if (is_apple(in.device.speed_class)) return std::nullopt;
    in.tensor_parallel = tensor_parallel;
    in.f16_weights = !fp8_weights && is_float_file_type(model.file_type);
    // Every layer on the GPUs: what one token reads of the whole model, then one rank's share.
    // Each rank holds its slice of every linear (and fp8 linears at one byte per weight), so
    // the active bytes scale as the rank's weights do against the whole 16-bit model
    // (vllm_rank_weight_bytes; the vision tower is not read per token).
    TokenReads r = token_reads(model, {model.spec.n_layer + 1, 0});
    const auto whole = static_cast<double>(vllm_rank_weight_bytes(model, 1, false));
    const auto rank =
        static_cast<double>(vllm_rank_weight_bytes(model, tensor_parallel, fp8_weights));
    const auto projector = static_cast<double>(model.projector);
    if (whole - projector <= 0) return std::nullopt;
    const double share = (rank - projector) / (whole - projector);
    r.gpu_weight_bytes *= share;
    r.matmul_flops /= tensor_parallel;
    r.attention_flops_per_position /= tensor_parallel;
    // vLLM's KV bytes per token of one rank (its dtype, KV heads split or replicated), divided
    // between full-attention and sliding-window layers as the llama.cpp layout divides them.
    const double full = r.gpu_kv_bytes_per_position;
    const double swa = r.gpu_swa_kv_bytes_per_position;
    const double swa_share = full + swa > 0 ? swa / (full + swa) : 0;
    r.gpu_kv_bytes_per_position = kv_bytes_per_token * (1 - swa_share);
    r.gpu_swa_kv_bytes_per_position = kv_bytes_per_token * swa_share;
    in.reads = r;
    return estimate_speed(in, n_ctx);
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace vramplan
