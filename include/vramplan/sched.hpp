// A replay of ggml-backend's scheduler (ggml_backend_sched_split_graph, ggml/src/ggml-backend.cpp
// of llama.cpp de3ff815ea7d559ee917f063901b8986f038abc6 as bundled with node-llama-cpp 3.22.1)
// for one or several GPUs of one backend beside the CPU: which backend runs each node of the
// reserved graph, where the graph is split, which tensors are copied into a split's backend
// (graph inputs, activations, host weights of ops offloaded to the GPU), the copies pipeline
// parallelism keeps of them, then ggml-alloc over the copied graph with one buffer per backend. Its
// result is the compute buffer of each backend. docs/memory-model.md
// ("Scheduler") describes the rules.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/graph_alloc.hpp>

namespace vramplan::sched {

// What the scheduler needs to know of a GPU backend and its device: data, with sources.
struct GpuRules {
  std::string_view name;
  Bytes alignment = 0;       // its buffer type's alignment (the compute buffer)
  Bytes host_alignment = 0;  // its host buffer type's alignment (the CPU's compute buffer)
  // offload_op: an op on a host weight runs on the GPU when its batch size reaches this.
  std::int64_t offload_min_batch = 32;
  // supports_op rejects an op any of whose tensors is larger than this (0: no limit).
  Bytes max_tensor = 0;
  // The backend reorders the nodes of each of its splits (the Vulkan backend's graph_optimize,
  // off with GGML_VK_DISABLE_GRAPH_OPTIMIZE=1).
  bool reorders_nodes = false;
  // The backend keeps the tensors of the MoE fusions it will run alive until the fused
  // subgraph's end (the CUDA backend's graph_optimize, off with GGML_CUDA_DISABLE_FUSION=1).
  bool moe_fusion_deps = false;
  // A flash-attention node over a cache that is not f16 allocates f16 copies of K and V after
  // its result for the tensor-core and tile kernels, and for the vector kernel (batches of up
  // to 2 tokens on Ada or newer) when it has no instance for the cache's types
  // (ggml_cuda_flash_attn_ext_get_alloc_size, ggml_cuda_get_best_fattn_kernel).
  bool fattn_f16_copies = false;
  // offload_op takes only matrix multiplications (mul_mat, mul_mat_id), not every op at the
  // batch size (Metal's ggml_backend_metal_device_offload_op).
  bool offload_matmul_only = false;
  // The device reports async compute and events (ggml_backend_dev_props::caps), which
  // llama_context requires of every GPU before it enables pipeline parallelism.
  bool async_events = false;
  // supports_op's shape rules for the recurrent mixers' ops (the hybrids' graphs; every other
  // op of the rebuilt graphs is supported at any shape). Mamba2's SSM_SCAN: only a state size
  // of 128 or 256 and a head size that is a multiple of 16 (the Vulkan and CUDA kernels).
  bool ssm_scan_state_128_256 = false;
  // SSM_CONV: only channel counts (its first source's ne[1]) that are a multiple of this
  // (CUDA: 128; 1 for any).
  std::int64_t ssm_conv_channels_multiple = 1;
  // GATED_DELTA_NET: only V head sizes (its third source's ne[0]) that are a power of two of at
  // least 16 and at most this (Vulkan: 16 to 128; 0 for any), or a multiple of
  // gdn_head_multiple (Metal: 32; 1 for any).
  std::int64_t gdn_max_head = 0;
  std::int64_t gdn_head_multiple = 1;
  std::string_view source;
};

// llama.cpp's Vulkan backend on the Vulkan oracle's device (Mesa lavapipe): the device limits
// vulkaninfo reports there (minStorageBufferOffsetAlignment 16, minMemoryMapAlignment 64,
// maxStorageBufferRange 128 MiB).
[[nodiscard]] const GpuRules& vulkan_lavapipe();
// llama.cpp's Vulkan backend on a typical discrete GPU (a 4 GiB storage-buffer range).
[[nodiscard]] const GpuRules& vulkan_generic();
// llama.cpp's CUDA backend: 128-byte device buffers, CUDA_Host (pinned) host buffers with the
// CPU's 32-byte alignment, op offload from 32 tokens, no size limit on an op's tensors, the MoE
// fusions' allocation dependencies, flash attention's f16 copies of a quantized cache (an Ada,
// Hopper or newer GPU: the H200 measured in bench/accuracy/cuda).
[[nodiscard]] const GpuRules& cuda();
// llama.cpp's Metal backend (ggml/src/ggml-metal/ggml-metal.cpp): 32-byte buffers (shared,
// private and mapped alike), no host buffer type (the CPU keeps its own 32-byte buffer), op
// offload of matrix multiplications only from 32 tokens, no events (so no pipeline
// parallelism). Read from the source, not measured; its own graph_optimize (node reordering for
// concurrency) is not replayed.
[[nodiscard]] const GpuRules& metal();

// ggml-backend.cpp's GGML_SCHED_MAX_COPIES (a build option, 4 by default): the copies of every
// graph input and split input a scheduler keeps when it runs in parallel.
inline constexpr int max_copies = 4;

// Where the model's memory lives.
struct Placement {
  std::int32_t n_layer = 0;
  std::vector<bool> block_on_gpu;  // per block
  bool output_on_gpu = false;
  // Several GPUs of the same backend (layer split): the GPU of each block that is on a GPU and
  // of the output layer. Empty: every GPU block is on GPU 0.
  int n_gpus = 1;
  std::vector<int> block_gpu;
  int output_gpu = 0;
  // The scheduler's n_copies: 1, or max_copies with pipeline parallelism (several GPUs that hold
  // every layer, llama_context's pipeline_parallel).
  int n_copies = 1;
  std::int32_t cpu_moe = 0;  // routed experts of blocks below this stay in host memory
  bool kv_offload = true;
  bool op_offload = true;
  // Each block's norm runs on the block's device (llama_context::graph_get_cb, for a batch
  // under 32 tokens or with every layer offloaded): graph::Tensor::layer_norm nodes.
  bool pin_layer_norms = false;
};

struct Result {
  Bytes gpu = 0;            // GPU 0's compute buffer
  Bytes host = 0;           // the CPU backend's compute buffer (the GPU's host buffer type)
  std::vector<Bytes> gpus;  // every GPU's compute buffer (gpus[0] == gpu)
  int splits = 0;
};

// Schedules and allocates `graph` (built with weight sizes, reserve_graph.hpp).
[[nodiscard]] Result replay(const graph::Graph& graph, const Placement& placement,
                            const GpuRules& gpu);

}  // namespace vramplan::sched
