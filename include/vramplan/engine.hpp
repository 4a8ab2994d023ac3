// Engines are data: how a runtime turns the user's settings (context, slots, batch) into
// llama.cpp's context parameters, its defaults, and the version whose rules are modelled.
// Facts: Ollama llm/llama_server.go, server/routes.go; llama.cpp common/arg.cpp,
// src/llama-context.cpp (docs/engines.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <vramplan/bytes.hpp>

namespace vramplan {

enum class EngineId {
  ollama,        // Ollama >= 0.30: llama-server underneath, -c num_ctx*np -np np -b=-ub
  llamacpp,      // llama-server
  llamacpp_lib,  // llama.cpp used as a library (node-llama-cpp, llama-cli, bindings)
  vllm,          // vLLM V1: its own memory model (vllm.hpp); the llama.cpp fields are unused
};

// How an engine's memory is laid out: the buffers llama.cpp allocates (planner.hpp,
// estimate.hpp) or vLLM's utilization budget (vllm.hpp). Front-end profiles share one.
enum class MemoryModel { llamacpp, vllm };

enum class Backend { cpu, cuda, metal, vulkan };

// How the engine's context setting maps to llama.cpp's n_ctx.
enum class ContextMeaning {
  per_slot,  // Ollama num_ctx: every slot gets it; llama.cpp -c = ctx * parallel
  total,     // llama-server -c / library n_ctx: all slots together
};

// How many logits the compute graph reserves (n_outputs_max, llama.cpp src/llama-context.cpp).
enum class OutputReserve {
  per_sequence,  // llama-server since b9460: min(n_batch, n_parallel)
  per_token,     // library default: n_batch
};

enum class DefaultContext {
  vram_tier,  // Ollama >= 0.15.5: 4096 / 32768 / 262144 by total VRAM, clamped to the model
  model_max,  // llama-server: the model's context_length
};

struct Engine {
  EngineId id;
  MemoryModel memory;
  std::string_view name;     // as typed: "ollama", "llamacpp", "llamacpp-lib"
  std::string_view display;  // "Ollama", "llama-server", "llama.cpp (library)"
  std::string_view version;  // the release whose rules are modelled
  ContextMeaning ctx_meaning;
  OutputReserve output_reserve;
  DefaultContext default_ctx;
  std::int32_t default_parallel;
  bool unified_when_parallel_unset;  // llama-server -np auto: 4 slots, unified KV
  bool batch_equals_ubatch;          // Ollama passes -b N -ub N; node-llama-cpp likewise
  std::int64_t default_batch;        // -b
  std::int64_t default_ubatch;       // -ub
  bool auto_batch;                   // Ollama's automatic batch (llm/llama_server.go)
  bool expert_offload;               // can keep MoE experts on the CPU (--n-cpu-moe)
  Bytes fit_margin;                  // llama.cpp --fit target per device (1024 MiB)
};

[[nodiscard]] std::span<const Engine> engines();
[[nodiscard]] const Engine* find_engine(std::string_view name);
[[nodiscard]] const Engine& engine(EngineId id);

[[nodiscard]] std::string_view to_string(Backend backend);
[[nodiscard]] std::optional<Backend> parse_backend(std::string_view name);

// Ollama's VRAM-tier default context (>= v0.15.5): total VRAM >= 47 GiB -> 262144,
// >= 23 GiB -> 32768, else 4096 (Ollama server/routes.go).
[[nodiscard]] std::int64_t ollama_vram_tier_ctx(Bytes total_vram);

// Ollama's automatic batch size (Ollama >= 0.30, llm/llama_server.go), given the
// total context (num_ctx * np), its preflight prediction and the available VRAM.
[[nodiscard]] std::int64_t ollama_auto_batch(std::int64_t ctx_total, Bytes predicted,
                                             Bytes available, bool flash_attn, Backend backend,
                                             Bytes smallest_gpu);

}  // namespace vramplan
