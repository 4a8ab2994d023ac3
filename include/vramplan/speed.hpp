// Speed estimate next to a plan (issue 12 part 5, docs/speed.md): decode and prefill tokens
// per second of one sequence, from the bytes each decoded token reads and the FLOPs each
// prompt token costs. A roofline model with a few constants fitted on public llama-bench
// results (bench/speed/llama-bench.tsv, scripts/speed/calibrate.py). It is an estimate.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <vramplan/ggml_type.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/model.hpp>

namespace vramplan {

// How a device realises its memory bandwidth and compute; one set of fitted constants each
// (docs/speed.md §3).
enum class SpeedClass {
  apple_m1,  // Apple Silicon, Metal, unified LPDDR memory, by GPU generation
  apple_m2,
  apple_m3,
  apple_m4,     // and later chips until they have data of their own
  gddr_ampere,  // NVIDIA GDDR cards up to Ampere (GeForce, RTX A-series, A10/A40)
  gddr_ada,     // NVIDIA GDDR cards from Ada on (GeForce RTX 40/50, RTX Ada, L4/L40S)
  gddr_other,   // AMD and Intel GDDR cards
  hbm,          // HBM datacenter cards (V100, A100, H100, H200, B200, MI-series)
};

[[nodiscard]] std::string_view to_string(SpeedClass speed_class);

// The class of a GPU catalog entry (models/hardware/gpus.yaml fields): Apple by `arch`
// (apple-m1 .. apple-m4; later chips count as M4), HBM when `memory_type` says so or, with no
// GDDR type stated, for datacenter architectures (volta, hopper, CDNA gfx90a/gfx942) and peak
// bandwidth above 1500 GB/s; else GDDR by vendor and architecture.
[[nodiscard]] SpeedClass speed_class(std::string_view vendor, std::string_view arch,
                                     std::string_view memory_type, double bandwidth_gbps);

// Where the model's layers run: llama.cpp's -ngl (of n_layer + 1 offloadable layers, the
// output layer first) and --n-cpu-moe (routed experts of the first N blocks stay in host
// memory).
struct LayerSplit {
  std::int32_t gpu_layers = 0;
  std::int32_t n_cpu_moe = 0;
};

// What one token costs, per side of the split.
struct TokenReads {
  double gpu_weight_bytes = 0;   // weights read per decoded token on the GPU
  double host_weight_bytes = 0;  // on the host: CPU blocks, --n-cpu-moe experts
  // One row of token_embd (host memory): a few KiB, reported but not timed.
  double embedding_row_bytes = 0;
  // K and V read per decoded token, per cached position, of full-attention layers and of
  // sliding-window layers (which read at most `swa_window` positions); each layer's cache
  // lives with its layer.
  double gpu_kv_bytes_per_position = 0;
  double gpu_swa_kv_bytes_per_position = 0;
  double host_kv_bytes_per_position = 0;
  double host_swa_kv_bytes_per_position = 0;
  double matmul_flops = 0;                  // 2 x active weight elements (token_embd excluded)
  double attention_flops_per_position = 0;  // QK^T and softmax x V per cached position
  std::int32_t gpu_blocks = 0;  // repeating blocks on the GPU (per-layer launch overhead)
  std::int32_t host_blocks = 0;
  std::int64_t swa_window = 0;  // sliding window in tokens (0 = none)
};

// Bytes and FLOPs per token of `model` under `split`: every block's weights (of routed
// experts only n_expert_used / n_expert), the output head in full, one row of token_embd;
// the KV cache of each layer with its layer. Throws Error{bad_input} for a split out of range.
[[nodiscard]] TokenReads token_reads(const Model& model, LayerSplit split,
                                     GgmlType type_k = GgmlType::f16,
                                     GgmlType type_v = GgmlType::f16);

// The device side of an estimate.
struct SpeedDevice {
  SpeedClass speed_class = SpeedClass::gddr_ada;
  double bandwidth_gbps = 0;       // peak GPU memory bandwidth, GB/s (10^9 B/s), > 0
  double host_bandwidth_gbps = 0;  // system RAM bandwidth; needed only with host weights
  std::int32_t gpu_cores = 0;      // Apple only: GPU cores of the chip (prefill scales with them)
};

struct SpeedInputs {
  TokenReads reads;  // per GPU: with tensor parallel, one rank's share
  SpeedDevice device;
  bool f16_weights = false;  // weights mostly F16/BF16/F32 (GEMM path in prefill)
  // GPUs splitting every matrix (vLLM's tensor parallel): each block then waits for two
  // all-reduces per token (docs/speed.md §8; an assumed latency, not fitted).
  std::int32_t tensor_parallel = 1;
};

// True for file types whose weights are mostly F16, BF16 or F32 (Model::file_type).
[[nodiscard]] bool is_float_file_type(FileType file_type);

// Decode of one sequence with `depth` tokens already in the cache (0 = llama-bench tg at an
// empty context), tokens/s. Throws Error{bad_input} for a zero bandwidth where bytes are read.
[[nodiscard]] double decode_tokens_per_s(const SpeedInputs& inputs, std::int64_t depth = 0);

// Prompt processing of `n_prompt` tokens in one batch at an empty cache (512 = llama-bench's
// pp512), tokens/s. Throws Error{bad_input} for an Apple device without `gpu_cores`.
[[nodiscard]] double prefill_tokens_per_s(const SpeedInputs& inputs, std::int64_t n_prompt = 512);

struct SpeedEstimate {
  double decode_tokens_per_s = 0;         // empty context (tg128)
  double decode_at_ctx_tokens_per_s = 0;  // with `n_ctx` tokens in the cache
  double prefill_tokens_per_s = 0;        // pp512
  std::int64_t n_ctx = 0;
};

[[nodiscard]] SpeedEstimate estimate_speed(const SpeedInputs& inputs, std::int64_t n_ctx);

// The fitted constants (docs/speed.md §3), exposed for the documentation and the tests.
struct SpeedConstants {
  double bandwidth_efficiency;  // realised share of peak bandwidth in decode
  double layer_overhead_us;     // fixed time per block per decoded token
  // Realised prefill compute: GFLOP/s per GPU core on Apple, FLOP per byte of peak bandwidth
  // (FLOP/s per byte/s) elsewhere.
  double prefill_rate;
  double f16_prefill_factor;  // prefill of F16/BF16/F32 weights against quantized ones
};
[[nodiscard]] SpeedConstants speed_constants(SpeedClass speed_class);

// A catalog card as the speed model sees it; `ram_bandwidth_gbps` (0 = unknown) times the host
// part. Apple chips take their smaller configuration's core count, the conservative one
// (docs/speed.md §7).
[[nodiscard]] SpeedDevice speed_device(const Gpu& gpu, double ram_bandwidth_gbps);

// The speed of a llama.cpp plan on `gpu` (every GPU that card), one sequence with `n_ctx`
// cached tokens at most; nothing when the card does not say enough (no bandwidth, an Apple chip
// without core counts) or the plan reads host memory and `ram_bandwidth_gbps` is 0.
[[nodiscard]] std::optional<SpeedEstimate> plan_speed(const Model& model, const Gpu& gpu,
                                                      double ram_bandwidth_gbps, LayerSplit split,
                                                      GgmlType kv_type, std::int64_t n_ctx);

// The speed of a vLLM plan on `tensor_parallel` GPUs that are all `gpu`, one sequence with
// `n_ctx` cached tokens at most (docs/speed.md §8). `model` is the model as vLLM loads it
// (vllm_checkpoint_model); `fp8_weights` counts the linear weights at one byte each;
// `kv_bytes_per_token` is one rank's KV bytes per cached token (VllmEstimate). The constants are
// llama.cpp's (no vLLM results fitted); nothing when the card has no bandwidth or is an Apple
// chip (vLLM plans CUDA GPUs).
[[nodiscard]] std::optional<SpeedEstimate> vllm_plan_speed(const Model& model, const Gpu& gpu,
                                                           std::int32_t tensor_parallel,
                                                           bool fp8_weights,
                                                           double kv_bytes_per_token,
                                                           std::int64_t n_ctx);

}  // namespace vramplan
