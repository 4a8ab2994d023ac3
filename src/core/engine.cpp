#include <vramplan/engine.hpp>

#include <array>

namespace vramplan {
namespace {

constexpr Bytes fit_margin = 1024 * mib;  // llama.cpp --fit default target (-fitt), per GPU

// Ollama llm/llama_server.go (v0.30+ runs llama-server: -c num_ctx*np -np np, -b = -ub,
// n_outputs_max per sequence since the pinned b10488 > b9460) and §2 (defaults);
// llama.cpp common/arg.cpp (llama-server defaults, b10309) and src/llama-context.cpp (output
// reserve).
constexpr std::array<Engine, 4> engine_table{{
    {EngineId::ollama, MemoryModel::llamacpp, "ollama", "Ollama", "0.30-0.33 (llama-server b10488)",
     ContextMeaning::per_slot, OutputReserve::per_sequence, DefaultContext::vram_tier,
     /*default_parallel=*/1, /*unified_when_parallel_unset=*/false,
     /*batch_equals_ubatch=*/true, /*default_batch=*/512, /*default_ubatch=*/512,
     /*auto_batch=*/true, /*expert_offload=*/false, fit_margin},  // ollama#11772
    {EngineId::llamacpp, MemoryModel::llamacpp, "llamacpp", "llama-server", "b10309",
     ContextMeaning::total, OutputReserve::per_sequence, DefaultContext::model_max,
     /*default_parallel=*/4, /*unified_when_parallel_unset=*/true,
     /*batch_equals_ubatch=*/false, /*default_batch=*/2048, /*default_ubatch=*/512,
     /*auto_batch=*/false, /*expert_offload=*/true, fit_margin},
    {EngineId::llamacpp_lib, MemoryModel::llamacpp, "llamacpp-lib", "llama.cpp (library)", "b10309",
     ContextMeaning::total, OutputReserve::per_token, DefaultContext::model_max,
     /*default_parallel=*/1, /*unified_when_parallel_unset=*/false,
     /*batch_equals_ubatch=*/true, /*default_batch=*/512, /*default_ubatch=*/512,
     /*auto_batch=*/false, /*expert_offload=*/true, fit_margin},  // tensor_buft_overrides
    // vLLM: planned by vllm_estimate / vllm_fit (docs/memory-model.md "vLLM"); only id, names and
    // version are read. Context = max_model_len per request; slots = max_num_seqs
    // (vllm/engine/arg_utils.py).
    {EngineId::vllm, MemoryModel::vllm, "vllm", "vLLM", "0.10-0.21 (V1 engine)",
     ContextMeaning::per_slot, OutputReserve::per_sequence, DefaultContext::model_max,
     /*default_parallel=*/1, /*unified_when_parallel_unset=*/false,
     /*batch_equals_ubatch=*/false, /*default_batch=*/2048, /*default_ubatch=*/2048,
     /*auto_batch=*/false, /*expert_offload=*/false, fit_margin},
}};

}  // namespace

std::span<const Engine> engines() { return engine_table; }

const Engine* find_engine(std::string_view name) {
  // "vllm@0.11": vLLM with the rules of one release (the CLI checks the release).
  if (name.rfind("vllm@", 0) == 0) return &engine_table[3];
  for (const Engine& e : engine_table) {
    if (e.name == name) return &e;
  }
  if (name == "llama-server" || name == "llama.cpp") return &engine_table[1];
  return nullptr;
}

const Engine& engine(EngineId id) {
  for (const Engine& e : engine_table) {
    if (e.id == id) return e;
  }
  return engine_table[0];
}

std::string_view to_string(Backend backend) {
  switch (backend) {
    case Backend::cpu:
      return "cpu";
    case Backend::cuda:
      return "cuda";
    case Backend::metal:
      return "metal";
    case Backend::vulkan:
      return "vulkan";
  }
  return "cpu";
}

std::optional<Backend> parse_backend(std::string_view name) {
  for (Backend b : {Backend::cpu, Backend::cuda, Backend::metal, Backend::vulkan}) {
    if (to_string(b) == name) return b;
  }
  return std::nullopt;
}

std::int64_t ollama_vram_tier_ctx(Bytes total_vram) {
  if (total_vram >= 47 * gib) return 262144;
  if (total_vram >= 23 * gib) return 32768;
  return 4096;
}

std::int64_t ollama_auto_batch(std::int64_t ctx_total, Bytes predicted, Bytes available,
                               bool flash_attn, Backend backend, Bytes smallest_gpu) {
  if (backend == Backend::cuda && !flash_attn) {
    return ctx_total > 4096 && smallest_gpu > 0 && smallest_gpu <= 8 * gib ? 256 : 512;
  }
  std::int64_t batch = ctx_total > 32768 ? 2048 : ctx_total > 4096 ? 1024 : 512;
  auto surcharge = [](std::int64_t b) -> Bytes {
    return b >= 2048 ? 2 * gib : b >= 1024 ? 768 * mib : 0;
  };
  auto too_big = [&](std::int64_t b) {
    const double avail = static_cast<double>(available);
    const double pred = static_cast<double>(predicted);
    return pred > 0.8 * avail || (b >= 2048 && pred > 0.6 * avail) ||
           (b >= 1024 && pred > 0.75 * avail) ||
           static_cast<double>(surcharge(b)) > 0.8 * avail - pred;
  };
  while (batch > 512 && too_big(batch)) batch /= 2;
  return batch;
}

}  // namespace vramplan
