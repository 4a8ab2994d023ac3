// `vramplan size` as a library (issue 12 part 3, docs/sizing.md §7): the memory a model needs,
// and from the GPU catalog which cards run it alone and how many of each otherwise: a layer
// split for llama.cpp and Ollama, tensor x pipeline parallel for vLLM (with its divisibility
// rules), multi-node layouts (vLLM TP x PP over nodes, llama.cpp RPC) when one node is not
// enough, each option with its per-GPU memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/model.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan {

// The engine family a size is planned for.
enum class SizeEngine {
  llama_cpp,  // llama.cpp, llama-server, Ollama: layer split in proportion to memory
  vllm,       // vLLM: tensor parallel within a node, pipeline parallel over nodes
};

inline constexpr std::int32_t size_default_gpus_per_node = 8;
inline constexpr std::int32_t size_default_max_nodes = 8;
// The context planned when none is given: the planner's floor (FitRequest::min_ctx), or the
// model's maximum if smaller.
inline constexpr std::int64_t size_default_ctx = 4096;

struct SizeRequest {
  SizeEngine family = SizeEngine::llama_cpp;
  // The llama.cpp-family engine (llama-server by default); unused for vLLM.
  const Engine* engine = nullptr;
  std::optional<std::int64_t> ctx;       // engine terms; unset: size_default_ctx (or model max)
  std::optional<std::int32_t> parallel;  // slots (llama.cpp) / --max-num-seqs (vLLM)
  Headroom headroom = fit_headroom();    // llama.cpp family: kept free on every GPU
  // vLLM: how the checkpoint holds its weights (bf16; fp8 for checkpoints published in FP8,
  // such as DeepSeek-V3/R1, or --quantization fp8). `checkpoint` takes the model as given.
  VllmDtype vllm_dtype = VllmDtype::bf16;
  std::int32_t gpus_per_node = size_default_gpus_per_node;
  std::int32_t max_nodes = size_default_max_nodes;
};

// How an option spreads the model.
enum class SizeLayout {
  single,           // one GPU
  layer_split,      // llama.cpp -sm layer over the GPUs of one machine
  rpc,              // llama.cpp layer split over several machines (rpc-server on each)
  tensor,           // vLLM tensor parallel in one node
  tensor_pipeline,  // vLLM tensor parallel x pipeline parallel (in one node or over nodes)
};
[[nodiscard]] std::string_view to_string(SizeLayout layout);

// One way to run the model on one kind of card.
struct SizeOption {
  const Gpu* gpu = nullptr;
  Bytes gpu_memory = 0;   // per device: what the planner is given for this card
  std::int32_t gpus = 0;  // devices in all
  std::int32_t tensor_parallel = 1;
  std::int32_t pipeline_parallel = 1;
  std::int32_t nodes = 1;
  SizeLayout layout = SizeLayout::single;
  // Memory the busiest GPU holds: llama.cpp, the largest device total of the estimate (the
  // headroom comes on top); vLLM, what one rank needs for one request of the context (weights,
  // activations, non-torch, CUDA graphs, KV) with the memory used before vLLM's budget.
  Bytes per_gpu_bytes = 0;
  Bytes per_gpu_headroom = 0;  // llama.cpp family: kept free on top (0 for vLLM)
  Bytes per_gpu_weights = 0;   // the busiest GPU's weights
  // vLLM: tokens the KV cache of this option holds at the default utilisation.
  std::int64_t kv_tokens = 0;
};

// A card that has no option, and why.
struct SizeSkip {
  const Gpu* gpu = nullptr;
  std::string
      reason;  // "unified memory: the budget depends on the machine", "needs more than 64 GPUs"
};

struct SizeResult {
  SizeEngine family = SizeEngine::llama_cpp;
  std::string model;     // Model::name
  std::int64_t ctx = 0;  // the context sized (engine terms)
  std::int32_t parallel = 1;
  // The whole model on one GPU with no limit: the GPU memory it takes (with the headroom for
  // the llama.cpp family), and the host memory it still needs (llama.cpp keeps the input
  // embeddings in RAM); for vLLM the RAM is not modelled (0).
  Bytes vram_needed = 0;
  Bytes ram_needed = 0;
  // llama.cpp family: the RAM a CPU-only run needs (0 for vLLM).
  Bytes ram_cpu_only = 0;
  // The smallest option per card, smallest set first (fewest GPUs, then least memory in all,
  // then the catalog's order).
  std::vector<SizeOption> options;
  std::vector<SizeSkip> skipped;
  // Index into `options` of the cards that run it alone, in order.
  std::vector<std::size_t> single_gpu;
  // Work done, for the bounds tests: engine estimates run.
  std::int64_t estimates = 0;
  std::vector<std::string> notes;
};

// Sizes `model` against every card of `gpus` (docs/sizing.md §7). For vLLM the model is taken
// as its checkpoint in `vllm_dtype` (vllm_checkpoint_model). Throws Error{usage} for a context or
// slot count out of range, or gpus_per_node / max_nodes outside [1, 64].
[[nodiscard]] SizeResult size_model(const Model& model, const GpuCatalog& gpus,
                                    const SizeRequest& request);

// The smallest option for one card (nullopt when none within the node limits); used by
// size_model and exposed for the tests' properties.
[[nodiscard]] std::optional<SizeOption> size_on_card(const Model& model, const Gpu& gpu,
                                                     Bytes gpu_memory, const SizeRequest& request);

}  // namespace vramplan
