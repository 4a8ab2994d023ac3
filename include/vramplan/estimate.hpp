// The memory breakdown of one explicit configuration, per device. Invariant (tested): the
// components of every device, and of the whole estimate, add up exactly to its total.
#pragma once

#include <vramplan/sched.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/compute.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/limits.hpp>
#include <vramplan/model.hpp>
#include <vramplan/weights.hpp>

namespace vramplan {

// Where a vision projector (its weights and its encoder's compute buffer) is placed.
enum class ProjectorOffload : std::uint8_t {
  // The engine's rule for a plan vramplan writes: the first GPU when any layer is offloaded;
  // with Ollama only when every layer is (vramplan's Ollama plans pin num_gpu, and Ollama keeps
  // the projector on the CPU for a pinned partial offload) and every GPU holds the projector
  // and 1 GiB (Ollama llm/llama_server.go shouldDisableMMProjOffload).
  engine,
  gpu,  // the first GPU whatever the layers (llama-server's default, even with -ngl 0)
  cpu,  // host memory (llama-server --no-mmproj-offload; Ollama's "cpu-only", ...)
};

// One explicit configuration, in the engine's own terms.
struct Config {
  std::int64_t ctx = 0;         // the engine's context setting (see ContextMeaning)
  std::int32_t parallel = 1;    // slots / sequences
  std::int32_t gpu_layers = 0;  // of n_layer + 1 (the output layer counts as one)
  GgmlType type_k = GgmlType::f16;
  GgmlType type_v = GgmlType::f16;
  bool flash_attn = true;
  std::int64_t n_batch = 2048;
  std::int64_t n_ubatch = 512;
  bool kv_unified = false;
  bool kv_offload = true;  // KV on the device of its layer (llama.cpp default)
  // Op offload (llama.cpp --no-op-offload turns it off; vramplan's --op-offload off): ops of
  // 32 tokens or more on host weights run on the GPU, which holds copies of those weights.
  bool op_offload = true;
  CpuRepack cpu_repack = CpuRepack::avx2;  // host weights' CPU_REPACK copies (weights.hpp)
  // llama.cpp's --n-cpu-moe: the routed-expert tensors of blocks 0..cpu_moe-1 stay in host
  // memory even where their block is offloaded (MoE models only).
  std::int32_t cpu_moe = 0;
  ProjectorOffload projector_offload = ProjectorOffload::engine;

  bool operator==(const Config&) const = default;
};

enum class DeviceKind { gpu, host };

struct DeviceUsage {
  std::string name;  // "CUDA0", "CUDA1", "CPU" (host RAM)
  DeviceKind kind = DeviceKind::host;
  Bytes capacity = 0;       // 0 when unknown
  std::int32_t layers = 0;  // offloadable layers placed here (output layer counts as one)
  Bytes weights = 0;
  Bytes kv_cache = 0;
  Bytes compute = 0;
  Bytes output = 0;
  Bytes overhead = 0;

  [[nodiscard]] Bytes total() const {
    constexpr std::string_view what = "a device's total";
    return checked_add(
        checked_add(checked_add(checked_add(weights, kv_cache, what), compute, what), output, what),
        overhead, what);
  }
};

struct Estimate {
  const Engine* engine = nullptr;
  Backend backend = Backend::cpu;
  Config config;
  ContextParams context;  // what llama.cpp is given
  ContextShape shape;     // what llama.cpp derives
  std::int64_t n_outputs = 0;
  std::int32_t total_layers = 0;  // n_layer + 1
  KvCache kv;
  std::vector<DeviceUsage> devices;  // GPUs in order, then the host ("CPU")
  std::vector<Finding> notes;        // facts worth telling (clamps, assumptions)
  // The vision projector's weights and encoder buffer on the first GPU (0 when it is on the
  // host or absent), counted in that device's weights and compute. llama-server's --fit measures
  // the text model and adds this to that GPU's margin (mtmd_get_memory_usage).
  Bytes projector_on_gpu = 0;

  [[nodiscard]] Bytes weights() const;
  [[nodiscard]] Bytes kv_cache() const;
  [[nodiscard]] Bytes compute() const;
  [[nodiscard]] Bytes output() const;
  [[nodiscard]] Bytes overhead() const;
  [[nodiscard]] Bytes total() const;
  [[nodiscard]] const DeviceUsage& host() const { return devices.back(); }
};

// A weight group as a GPU of `backend` allocates it (WeightGroup: CUDA's row padding and
// 128-byte alignment, Vulkan's 16, Metal's 32); the plain sum on the CPU.
[[nodiscard]] Bytes gpu_weights(const WeightGroup& group, Backend backend);
// The output layer and every block as GPUs of `backend` allocate them: what a full offload puts
// on the GPUs (the input layer stays in host memory).
[[nodiscard]] Bytes gpu_weights(const WeightLayout& layout, Backend backend);

// Per-GPU runtime overhead not inside any llama.cpp buffer (CUDA context, cuBLAS
// workspace, kernels): docs/memory-model.md "Runtime overhead".
[[nodiscard]] Bytes gpu_runtime_overhead(Backend backend);

// Whether Ollama offloads a vision projector of `projector` bytes (Ollama >= 0.30.11,
// llm/llama_server.go shouldDisableMMProjOffload): not when num_gpu is 0 ("cpu-only"), pins
// fewer than `total_layers` ("partial-text-offload"), or a GPU has less than the projector's
// bytes + 1 GiB ("limited-vram"); num_gpu unset (nullopt or negative) offloads it even where
// llama.cpp's --fit then offloads only some layers. Never without GPUs or a projector.
[[nodiscard]] bool ollama_offloads_projector(Bytes projector, const std::vector<Bytes>& gpus,
                                             std::optional<std::int32_t> num_gpu,
                                             std::int32_t total_layers);

// The scheduler-replay rules `fit`, `plan` and `estimate` report a backend's compute buffers
// with (FitRequest::exact_compute): CUDA's, Metal's; nullptr for a backend without (the CPU;
// Vulkan replays its one GPU in every estimate).
[[nodiscard]] const sched::GpuRules* replay_rules(Backend backend);

// The largest context and batch estimate() takes: validate()'s cap on a model's context and
// the --batch/--ubatch flags' maximum. With validate()'s caps on the model they keep every
// size far from overflow, which is checked anyway (docs/reliability.md §4).
inline constexpr std::int64_t max_context = std::int64_t{1} << 27;
inline constexpr std::int64_t max_batch = std::int64_t{1} << 20;

// Computes the breakdown. `gpus` are the GPU capacities (empty: CPU only); offloaded layers
// are split over them in proportion to capacity, the output layer on the last one, as
// llama.cpp's default -sm layer split does. Throws Error{usage} for impossible settings
// (parallel < 1, ctx outside [1, max_context] after Ollama's clamp, a batch outside
// [1, max_batch], gpu_layers > n_layer + 1, a KV type llama.cpp refuses), Error{bad_input}
// when a size overflows.
// With mmap (llama.cpp's default), the host weights are not copied but mapped: llama.cpp maps
// one range of the file for the CPU buffer type, from the first to the last tensor placed there
// (llama_model_loader::get_mapping_range, src/llama-model-loader.cpp), and logs that range as
// CPU_Mapped. GPU tensors lying between two host tensors (the non-expert tensors of a block whose
// experts --n-cpu-moe keeps on the host) are mapped too, though only the host tensors' pages are
// ever read (resident). Tensors in file order, each tensor's data aligned to `alignment` (GGUF's
// general.alignment, 32 by default). 0 when nothing is on the host.
[[nodiscard]] Bytes mapped_host_weights(const Model& model, const Config& config,
                                        Bytes alignment = 32);

// `cache` (compute.hpp), when given, supplies and keeps the compute buffer: the same bytes as
// without it, sooner when it has the buffer.
[[nodiscard]] Estimate estimate(const Model& model, const Engine& engine, Backend backend,
                                const Config& config, const std::vector<Bytes>& gpus,
                                ComputeCache* cache = nullptr,
                                const sched::GpuRules* gpu_rules = nullptr);

}  // namespace vramplan
