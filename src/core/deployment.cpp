// Which names each engine reads and how it parses their values: docs/engines.md, which cites
// ollama's envconfig/config.go, api/types.go and parser/parser.go, llama.cpp's common/arg.cpp
// and vLLM's engine/arg_utils.py for every row of the tables below.
#include <algorithm>
#include <cctype>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include <vramplan/deployment.hpp>
#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

namespace vramplan {
namespace {

// How a value is parsed: the engine's own rule.
enum class Rule {
  // Ollama's environment (envconfig.Var trims spaces and quotes first).
  ollama_uint,      // strconv.ParseUint(s, 10, 64); invalid -> default, logged
  ollama_bool,      // strconv.ParseBool; anything else non-empty -> true
  ollama_duration,  // time.ParseDuration, else ParseInt seconds; else the default, silently
  ollama_kv_type,   // lowercased, passed to llama-server as -ctk/-ctv
  ollama_text,
  // Modelfile PARAMETERs (api.FormatParams): an invalid value fails `ollama create`.
  go_int,
  go_bool,
  go_float,
  go_text,
  // llama-server (common/arg.cpp): std::stoi, is_truthy/is_falsey, modes.
  llama_int,
  llama_bool,        // on/off pair: --mmap/--no-mmap; env on|enabled|true|1, off|...|0
  llama_flag,        // no value: --jinja; env acts when truthy
  llama_flash_attn,  // on|off|auto
  llama_on_off,      // --fit on|off
  llama_gpu_layers,  // auto|all|N
  llama_kv_type,
  llama_text,
  // vLLM (argparse): a bad value stops `vllm serve`.
  vllm_int,
  vllm_human_int,  // human_readable_int: 32k = 32000, 32K = 32768
  vllm_human_int_or_auto,
  vllm_fraction,  // (0, 1]
  vllm_float,
  vllm_text,
  vllm_flag,   // store_true
  vllm_texts,  // one or more values (nargs="+")
};

struct Name {
  std::string_view name;
  std::optional<EngineSetting> setting;  // nullopt: read, but no effect on memory
  Rule rule;
  std::string_view fallback = {};  // the engine's default, where an invalid value falls back
};

// ollama envconfig/config.go (v0.30.0 .. v0.33.0-rc2), docs/engines.md §1.3.
constexpr std::array ollama_env{
    Name{"OLLAMA_CONTEXT_LENGTH", EngineSetting::context, Rule::ollama_uint, "0"},
    Name{"OLLAMA_NUM_PARALLEL", EngineSetting::parallel, Rule::ollama_uint, "1"},
    Name{"OLLAMA_MAX_LOADED_MODELS", EngineSetting::max_loaded_models, Rule::ollama_uint, "0"},
    Name{"OLLAMA_KV_CACHE_TYPE", EngineSetting::kv_cache_type, Rule::ollama_kv_type},
    Name{"OLLAMA_FLASH_ATTENTION", EngineSetting::flash_attention, Rule::ollama_bool},
    Name{"OLLAMA_KEEP_ALIVE", EngineSetting::keep_alive, Rule::ollama_duration, "5m0s"},
    Name{"OLLAMA_SCHED_SPREAD", EngineSetting::sched_spread, Rule::ollama_bool},
    Name{"OLLAMA_GPU_OVERHEAD", EngineSetting::gpu_overhead, Rule::ollama_uint, "0"},
    Name{"OLLAMA_LLM_LIBRARY", EngineSetting::llm_library, Rule::ollama_text},
    Name{"CUDA_VISIBLE_DEVICES", EngineSetting::visible_devices, Rule::ollama_text},
    Name{"HIP_VISIBLE_DEVICES", EngineSetting::visible_devices, Rule::ollama_text},
    Name{"ROCR_VISIBLE_DEVICES", EngineSetting::visible_devices, Rule::ollama_text},
    Name{"GGML_VK_VISIBLE_DEVICES", EngineSetting::visible_devices, Rule::ollama_text},
    Name{"GPU_DEVICE_ORDINAL", EngineSetting::visible_devices, Rule::ollama_text},
    Name{"OLLAMA_VULKAN", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_IGPU_ENABLE", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_HOST", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_ORIGINS", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_MODELS", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_DEBUG", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_DEBUG_LOG_REQUESTS", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_MAX_QUEUE", std::nullopt, Rule::ollama_uint, "512"},
    Name{"OLLAMA_LOAD_TIMEOUT", std::nullopt, Rule::ollama_duration, "5m0s"},
    Name{"OLLAMA_NOPRUNE", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_NOHISTORY", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_NO_CLOUD", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_REMOTES", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_AUTH", std::nullopt, Rule::ollama_bool},
    Name{"OLLAMA_EDITOR", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_GO_TEMPLATE", std::nullopt, Rule::ollama_text},
    Name{"OLLAMA_MAX_TRANSFER_STREAMS", std::nullopt, Rule::ollama_uint, "4"},
    Name{"HSA_OVERRIDE_GFX_VERSION", std::nullopt, Rule::ollama_text},
    Name{"HTTP_PROXY", std::nullopt, Rule::ollama_text},
    Name{"HTTPS_PROXY", std::nullopt, Rule::ollama_text},
    Name{"NO_PROXY", std::nullopt, Rule::ollama_text},
};

// Modelfile PARAMETERs and API options (ollama api/types.go, Options and Runner), §1.4.
constexpr std::array ollama_parameters{
    Name{"num_ctx", EngineSetting::context, Rule::go_int},
    Name{"num_batch", EngineSetting::batch, Rule::go_int},
    Name{"num_gpu", EngineSetting::gpu_layers, Rule::go_int},
    Name{"main_gpu", EngineSetting::main_gpu, Rule::go_int},
    Name{"use_mmap", EngineSetting::use_mmap, Rule::go_bool},
    Name{"num_thread", std::nullopt, Rule::go_int},
    Name{"draft_num_predict", std::nullopt, Rule::go_int},
    Name{"num_keep", std::nullopt, Rule::go_int},
    Name{"seed", std::nullopt, Rule::go_int},
    Name{"num_predict", std::nullopt, Rule::go_int},
    Name{"top_k", std::nullopt, Rule::go_int},
    Name{"top_p", std::nullopt, Rule::go_float},
    Name{"min_p", std::nullopt, Rule::go_float},
    Name{"typical_p", std::nullopt, Rule::go_float},
    Name{"repeat_last_n", std::nullopt, Rule::go_int},
    Name{"temperature", std::nullopt, Rule::go_float},
    Name{"repeat_penalty", std::nullopt, Rule::go_float},
    Name{"presence_penalty", std::nullopt, Rule::go_float},
    Name{"frequency_penalty", std::nullopt, Rule::go_float},
    Name{"stop", std::nullopt, Rule::go_text},
};

// Parameters older Ollama releases took and 0.30 - 0.33 refuse (§1.4): `num_gqa` went in
// v0.1.35, the others in v0.7.0 (commit 3b2d2c8).
constexpr std::array<std::string_view, 7> ollama_removed_parameters{
    "num_gqa", "use_mlock", "low_vram", "f16_kv", "numa", "vocab_only", "logits_all"};

// Names guides and compose files use that Ollama does not read (§1.7), and what does.
struct Misname {
  std::string_view name;
  DiagnosticKind kind;
  SuggestionKind suggestion_kind;
  std::string_view suggestion;
};
constexpr std::array ollama_misnames{
    Misname{"OLLAMA_GPU_LAYERS", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_gpu"},
    Misname{"OLLAMA_NUM_GPU", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_gpu"},
    Misname{"OLLAMA_N_GPU_LAYERS", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_gpu"},
    Misname{"OLLAMA_CTX", DiagnosticKind::not_read, SuggestionKind::variable,
            "OLLAMA_CONTEXT_LENGTH"},
    Misname{"OLLAMA_NUM_CTX", DiagnosticKind::not_read, SuggestionKind::variable,
            "OLLAMA_CONTEXT_LENGTH"},
    Misname{"OLLAMA_CTX_SIZE", DiagnosticKind::not_read, SuggestionKind::variable,
            "OLLAMA_CONTEXT_LENGTH"},
    Misname{"OLLAMA_CONTEXT_SIZE", DiagnosticKind::not_read, SuggestionKind::variable,
            "OLLAMA_CONTEXT_LENGTH"},
    Misname{"OLLAMA_MAX_CONTEXT", DiagnosticKind::not_read, SuggestionKind::variable,
            "OLLAMA_CONTEXT_LENGTH"},
    Misname{"OLLAMA_NUM_THREAD", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_thread"},
    Misname{"OLLAMA_NUM_THREADS", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_thread"},
    Misname{"OLLAMA_BATCH_SIZE", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_batch"},
    Misname{"OLLAMA_NUM_BATCH", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "num_batch"},
    Misname{"OLLAMA_USE_MMAP", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "use_mmap"},
    Misname{"OLLAMA_NO_MMAP", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "use_mmap"},
    Misname{"OLLAMA_MLOCK", DiagnosticKind::not_read, SuggestionKind::none, ""},
    Misname{"OLLAMA_MAIN_GPU", DiagnosticKind::not_read, SuggestionKind::modelfile_parameter,
            "main_gpu"},
    Misname{"OLLAMA_FLASH_ATTN", DiagnosticKind::misspelled, SuggestionKind::variable,
            "OLLAMA_FLASH_ATTENTION"},
    Misname{"OLLAMA_KEEPALIVE", DiagnosticKind::misspelled, SuggestionKind::variable,
            "OLLAMA_KEEP_ALIVE"},
    Misname{"OLLAMA_KV_CACHE", DiagnosticKind::misspelled, SuggestionKind::variable,
            "OLLAMA_KV_CACHE_TYPE"},
    Misname{"OLLAMA_MAX_VRAM", DiagnosticKind::not_read, SuggestionKind::variable,
            "LLAMA_ARG_FIT_TARGET"},
    Misname{"OLLAMA_NEW_ENGINE", DiagnosticKind::not_read, SuggestionKind::none, ""},
    Misname{"OLLAMA_MULTIUSER_CACHE", DiagnosticKind::not_read, SuggestionKind::none, ""},
    Misname{"OLLAMA_NEW_ESTIMATES", DiagnosticKind::not_read, SuggestionKind::none, ""},
    Misname{"OLLAMA_INTEL_GPU", DiagnosticKind::not_read, SuggestionKind::none, ""},
    // Client settings of front ends: where Ollama is, not how it runs.
    Misname{"OLLAMA_BASE_URL", DiagnosticKind::application_variable, SuggestionKind::none, ""},
    Misname{"OLLAMA_BASE_URLS", DiagnosticKind::application_variable, SuggestionKind::none, ""},
    Misname{"OLLAMA_API_BASE", DiagnosticKind::application_variable, SuggestionKind::none, ""},
    Misname{"OLLAMA_URL", DiagnosticKind::application_variable, SuggestionKind::none, ""},
};

// llama-server options (common/arg.cpp at b10309, §2.1 - 2.2). `negative` is the `--no-` form
// of an on/off pair; its variable is `env` with `NO_` inserted after `LLAMA_ARG_`.
struct LlamaOption {
  std::array<std::string_view, 3> flags;
  std::string_view env;
  std::optional<EngineSetting> setting;
  Rule rule;
  std::array<std::string_view, 2> negative = {};
};
constexpr std::array llama_options{
    LlamaOption{
        {"-c", "--ctx-size"}, "LLAMA_ARG_CTX_SIZE", EngineSetting::context, Rule::llama_int},
    LlamaOption{
        {"-np", "--parallel"}, "LLAMA_ARG_N_PARALLEL", EngineSetting::parallel, Rule::llama_int},
    LlamaOption{{"-kvu", "--kv-unified"},
                "LLAMA_ARG_KV_UNIFIED",
                EngineSetting::kv_unified,
                Rule::llama_bool,
                {"-no-kvu", "--no-kv-unified"}},
    LlamaOption{{"-b", "--batch-size"}, "LLAMA_ARG_BATCH", EngineSetting::batch, Rule::llama_int},
    LlamaOption{
        {"-ub", "--ubatch-size"}, "LLAMA_ARG_UBATCH", EngineSetting::ubatch, Rule::llama_int},
    LlamaOption{{"-ngl", "--gpu-layers", "--n-gpu-layers"},
                "LLAMA_ARG_N_GPU_LAYERS",
                EngineSetting::gpu_layers,
                Rule::llama_gpu_layers},
    LlamaOption{{"-fa", "--flash-attn"},
                "LLAMA_ARG_FLASH_ATTN",
                EngineSetting::flash_attention,
                Rule::llama_flash_attn},
    LlamaOption{{"-ctk", "--cache-type-k"},
                "LLAMA_ARG_CACHE_TYPE_K",
                EngineSetting::kv_cache_type_k,
                Rule::llama_kv_type},
    LlamaOption{{"-ctv", "--cache-type-v"},
                "LLAMA_ARG_CACHE_TYPE_V",
                EngineSetting::kv_cache_type_v,
                Rule::llama_kv_type},
    LlamaOption{{"-fit", "--fit"}, "LLAMA_ARG_FIT", EngineSetting::fit, Rule::llama_on_off},
    LlamaOption{{"-fitt", "--fit-target"},
                "LLAMA_ARG_FIT_TARGET",
                EngineSetting::fit_target,
                Rule::llama_text},
    LlamaOption{
        {"-fitc", "--fit-ctx"}, "LLAMA_ARG_FIT_CTX", EngineSetting::fit_ctx, Rule::llama_int},
    LlamaOption{{"-kvo", "--kv-offload"},
                "LLAMA_ARG_KV_OFFLOAD",
                EngineSetting::kv_offload,
                Rule::llama_bool,
                {"-nkvo", "--no-kv-offload"}},
    LlamaOption{{"--swa-full"}, "LLAMA_ARG_SWA_FULL", EngineSetting::swa_full, Rule::llama_flag},
    LlamaOption{
        {"-lm", "--load-mode"}, "LLAMA_ARG_LOAD_MODE", EngineSetting::load_mode, Rule::llama_text},
    LlamaOption{
        {"--mmap"}, "LLAMA_ARG_MMAP", EngineSetting::use_mmap, Rule::llama_bool, {"--no-mmap"}},
    LlamaOption{{"--mlock"}, "LLAMA_ARG_MLOCK", EngineSetting::mlock, Rule::llama_flag},
    LlamaOption{{"-sm", "--split-mode"},
                "LLAMA_ARG_SPLIT_MODE",
                EngineSetting::split_mode,
                Rule::llama_text},
    LlamaOption{{"-ts", "--tensor-split"},
                "LLAMA_ARG_TENSOR_SPLIT",
                EngineSetting::tensor_split,
                Rule::llama_text},
    LlamaOption{
        {"-mg", "--main-gpu"}, "LLAMA_ARG_MAIN_GPU", EngineSetting::main_gpu, Rule::llama_int},
    LlamaOption{{"-dev", "--device"}, "LLAMA_ARG_DEVICE", EngineSetting::devices, Rule::llama_text},
    LlamaOption{{"-ot", "--override-tensor"},
                "LLAMA_ARG_OVERRIDE_TENSOR",
                EngineSetting::override_tensor,
                Rule::llama_text},
    LlamaOption{
        {"-cmoe", "--cpu-moe"}, "LLAMA_ARG_CPU_MOE", EngineSetting::cpu_moe, Rule::llama_flag},
    LlamaOption{{"-ncmoe", "--n-cpu-moe"},
                "LLAMA_ARG_N_CPU_MOE",
                EngineSetting::n_cpu_moe,
                Rule::llama_int},
    // No variable: common/arg.cpp gives the pair no set_env.
    LlamaOption{
        {"--op-offload"}, "", EngineSetting::op_offload, Rule::llama_bool, {"--no-op-offload"}},
    LlamaOption{{"-mm", "--mmproj"}, "LLAMA_ARG_MMPROJ", EngineSetting::mmproj, Rule::llama_text},
    LlamaOption{{"--mmproj-offload"},
                "LLAMA_ARG_MMPROJ_OFFLOAD",
                EngineSetting::mmproj_offload,
                Rule::llama_bool,
                {"--no-mmproj-offload"}},
    LlamaOption{
        {"-cram", "--cache-ram"}, "LLAMA_ARG_CACHE_RAM", EngineSetting::cache_ram, Rule::llama_int},
    LlamaOption{{"-m", "--model"}, "LLAMA_ARG_MODEL", EngineSetting::model, Rule::llama_text},
    LlamaOption{{"-hf", "--hf-repo"}, "LLAMA_ARG_HF_REPO", EngineSetting::model, Rule::llama_text},
    LlamaOption{{"-t", "--threads"}, "LLAMA_ARG_THREADS", std::nullopt, Rule::llama_int},
    LlamaOption{{"--host"}, "LLAMA_ARG_HOST", std::nullopt, Rule::llama_text},
    LlamaOption{{"--port"}, "LLAMA_ARG_PORT", std::nullopt, Rule::llama_int},
    LlamaOption{{"--jinja"}, "LLAMA_ARG_JINJA", std::nullopt, Rule::llama_flag},
    LlamaOption{{"-a", "--alias"}, "LLAMA_ARG_ALIAS", std::nullopt, Rule::llama_text},
    LlamaOption{{"--metrics"}, "LLAMA_ARG_ENDPOINT_METRICS", std::nullopt, Rule::llama_flag},
    LlamaOption{{"--slots"}, "LLAMA_ARG_ENDPOINT_SLOTS", std::nullopt, Rule::llama_flag},
    LlamaOption{{"--api-key"}, "LLAMA_ARG_API_KEY", std::nullopt, Rule::llama_text},
    LlamaOption{{"--chat-template"}, "LLAMA_ARG_CHAT_TEMPLATE", std::nullopt, Rule::llama_text},
};

// LLAMA_ARG_* names people write that llama-server does not read (§2.2).
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> llama_misnames{{
    {"LLAMA_ARG_N_CTX", "LLAMA_ARG_CTX_SIZE"},
    {"LLAMA_ARG_CTX", "LLAMA_ARG_CTX_SIZE"},
    {"LLAMA_ARG_NGL", "LLAMA_ARG_N_GPU_LAYERS"},
    {"LLAMA_ARG_GPU_LAYERS", "LLAMA_ARG_N_GPU_LAYERS"},
    {"LLAMA_ARG_PARALLEL", "LLAMA_ARG_N_PARALLEL"},
    {"LLAMA_ARG_NP", "LLAMA_ARG_N_PARALLEL"},
    {"LLAMA_ARG_BATCH_SIZE", "LLAMA_ARG_BATCH"},
    {"LLAMA_ARG_UBATCH_SIZE", "LLAMA_ARG_UBATCH"},
    {"LLAMA_ARG_CACHE_TYPE", "LLAMA_ARG_CACHE_TYPE_K"},
    {"LLAMA_ARG_FLASH_ATTENTION", "LLAMA_ARG_FLASH_ATTN"},
    {"LLAMA_ARG_N_THREADS", "LLAMA_ARG_THREADS"},
    {"LLAMA_ARG_CONTEXT_SIZE", "LLAMA_ARG_CTX_SIZE"},
}};

// vLLM flags (engine/arg_utils.py, §3.1). `--flag_name` reads as `--flag-name`.
struct VllmOption {
  std::array<std::string_view, 2> flags;
  std::optional<EngineSetting> setting;
  Rule rule;
};
constexpr std::array vllm_options{
    VllmOption{{"--model"}, EngineSetting::model, Rule::vllm_text},
    VllmOption{{"--max-model-len"}, EngineSetting::max_model_len, Rule::vllm_human_int_or_auto},
    VllmOption{
        {"--gpu-memory-utilization"}, EngineSetting::gpu_memory_utilization, Rule::vllm_fraction},
    VllmOption{{"--max-num-seqs"}, EngineSetting::max_num_seqs, Rule::vllm_int},
    VllmOption{
        {"--max-num-batched-tokens"}, EngineSetting::max_num_batched_tokens, Rule::vllm_human_int},
    VllmOption{{"--kv-cache-dtype"}, EngineSetting::kv_cache_dtype, Rule::vllm_text},
    VllmOption{{"--dtype"}, EngineSetting::dtype, Rule::vllm_text},
    VllmOption{{"--quantization", "-q"}, EngineSetting::quantization, Rule::vllm_text},
    VllmOption{{"--tensor-parallel-size", "-tp"}, EngineSetting::tensor_parallel, Rule::vllm_int},
    VllmOption{
        {"--pipeline-parallel-size", "-pp"}, EngineSetting::pipeline_parallel, Rule::vllm_int},
    VllmOption{{"--enforce-eager"}, EngineSetting::enforce_eager, Rule::vllm_flag},
    VllmOption{{"--cpu-offload-gb"}, EngineSetting::cpu_offload_gb, Rule::vllm_float},
    VllmOption{
        {"--kv-cache-memory-bytes"}, EngineSetting::kv_cache_memory_bytes, Rule::vllm_human_int},
    VllmOption{{"--block-size"}, EngineSetting::block_size, Rule::vllm_int},
    VllmOption{{"--max-cudagraph-capture-size"},
               EngineSetting::max_cudagraph_capture_size,
               Rule::vllm_int},
    VllmOption{{"--enable-prefix-caching"}, std::nullopt, Rule::vllm_flag},
    VllmOption{{"--no-enable-prefix-caching"}, std::nullopt, Rule::vllm_flag},
    VllmOption{{"--served-model-name"}, std::nullopt, Rule::vllm_texts},
    VllmOption{{"--host"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--port"}, std::nullopt, Rule::vllm_int},
    VllmOption{{"--api-key"}, std::nullopt, Rule::vllm_texts},
    VllmOption{{"--trust-remote-code"}, std::nullopt, Rule::vllm_flag},
    VllmOption{{"--tokenizer"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--download-dir"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--chat-template"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--enable-auto-tool-choice"}, std::nullopt, Rule::vllm_flag},
    VllmOption{{"--tool-call-parser"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--generation-config"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--limit-mm-per-prompt"}, std::nullopt, Rule::vllm_text},
    VllmOption{{"--uvicorn-log-level"}, std::nullopt, Rule::vllm_text},
};

// Variables vLLM images see that are the usual names for its flags but that vLLM never reads:
// they matter only through `${...}` in a compose `command:` (§3.2).
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> vllm_flag_variables{{
    {"MAX_MODEL_LEN", "--max-model-len"},
    {"GPU_MEMORY_UTILIZATION", "--gpu-memory-utilization"},
    {"MAX_NUM_SEQS", "--max-num-seqs"},
    {"MAX_NUM_BATCHED_TOKENS", "--max-num-batched-tokens"},
    {"KV_CACHE_DTYPE", "--kv-cache-dtype"},
    {"TENSOR_PARALLEL_SIZE", "--tensor-parallel-size"},
    {"PIPELINE_PARALLEL_SIZE", "--pipeline-parallel-size"},
    {"DTYPE", "--dtype"},
    {"QUANTIZATION", "--quantization"},
    {"MODEL", "--model"},
}};

// vLLM's own variables that deployments set (vllm/envs.py), none of them memory sizing.
constexpr std::array<std::string_view, 10> vllm_env{"VLLM_ALLOW_LONG_MAX_MODEL_LEN",
                                                    "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS",
                                                    "VLLM_CPU_KVCACHE_SPACE",
                                                    "VLLM_API_KEY",
                                                    "VLLM_LOGGING_LEVEL",
                                                    "VLLM_WORKER_MULTIPROC_METHOD",
                                                    "VLLM_USAGE_SOURCE",
                                                    "VLLM_NO_USAGE_STATS",
                                                    "VLLM_ATTENTION_BACKEND",
                                                    "VLLM_USE_V1"};

// Read by the container runtime, the libraries under the engine or every program: not an
// application's setting and no memory effect.
constexpr std::array<std::string_view, 16> runtime_env{"PATH",
                                                       "HOME",
                                                       "HOSTNAME",
                                                       "LANG",
                                                       "LD_LIBRARY_PATH",
                                                       "NVIDIA_VISIBLE_DEVICES",
                                                       "NVIDIA_DRIVER_CAPABILITIES",
                                                       "NVIDIA_REQUIRE_CUDA",
                                                       "HF_TOKEN",
                                                       "HF_HOME",
                                                       "HF_HUB_OFFLINE",
                                                       "HUGGING_FACE_HUB_TOKEN",
                                                       "PYTORCH_CUDA_ALLOC_CONF",
                                                       "TRANSFORMERS_CACHE",
                                                       "HF_HUB_ENABLE_HF_TRANSFER",
                                                       "NCCL_DEBUG"};

constexpr std::array<std::string_view, 9> llama_kv_types{"f32",  "f16",    "bf16", "q8_0", "q4_0",
                                                         "q4_1", "iq4_nl", "q5_0", "q5_1"};

template <class Table>
[[nodiscard]] auto find_name(const Table& table, std::string_view name) -> const
    typename Table::value_type* {
  for (const auto& row : table) {
    if (row.name == name) return &row;
  }
  return nullptr;
}

[[nodiscard]] bool contains(const auto& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

// The closest of `known` to `typed`: a typo is at most 2 edits, or a quarter of the name.
[[nodiscard]] std::optional<std::string> closest(std::string_view typed,
                                                 const std::vector<std::string_view>& known) {
  const std::size_t limit = std::max<std::size_t>(2, typed.size() / 4);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string_view candidate : known) {
    // Names are short (a few dozen bytes); a long typed name is no typo of them.
    if (typed.size() > candidate.size() + limit) continue;
    const std::size_t d = edit_distance(lower_ascii(typed), lower_ascii(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

[[nodiscard]] bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

[[nodiscard]] std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// envconfig.Var: strings.Trim(strings.TrimSpace(v), "\"'").
[[nodiscard]] std::string_view ollama_var(std::string_view s) {
  s = trim(s);
  while (!s.empty() && (s.front() == '"' || s.front() == '\'')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '"' || s.back() == '\'')) s.remove_suffix(1);
  return s;
}

[[nodiscard]] bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// strconv.ParseUint(s, 10, 64) / ParseInt(s, 10, 64).
[[nodiscard]] std::optional<std::uint64_t> go_parse_uint(std::string_view s) {
  if (!all_digits(s)) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}
[[nodiscard]] std::optional<std::int64_t> go_parse_int(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  const std::optional<std::uint64_t> u = go_parse_uint(s);
  if (!u) return std::nullopt;
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (*u > max + 1) return std::nullopt;
    return *u == max + 1 ? std::numeric_limits<std::int64_t>::min()
                         : -static_cast<std::int64_t>(*u);
  }
  if (*u > max) return std::nullopt;
  return static_cast<std::int64_t>(*u);
}

[[nodiscard]] std::optional<double> parse_float(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

// std::stoi as llama.cpp calls it: leading spaces, a sign, digits; stops at the first other
// character; no digit or out of int range throws (llama-server does not start).
struct Stoi {
  int value = 0;
  bool trailing = false;  // characters after the number were ignored
};
[[nodiscard]] std::optional<Stoi> cpp_stoi(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const std::size_t first = i;
  std::int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + (s[i] - '0');
    if (v > std::int64_t{std::numeric_limits<int>::max()} + 1) return std::nullopt;
    ++i;
  }
  if (i == first) return std::nullopt;
  if (negative) v = -v;
  if (v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min())
    return std::nullopt;
  return Stoi{static_cast<int>(v), i < s.size()};
}

// Python int(): spaces around, a sign, digits with single underscores between them.
[[nodiscard]] std::optional<std::int64_t> python_int(std::string_view s) {
  s = trim(s);
  std::string digits;
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '_' && i > 0 && i + 1 < s.size() && s[i - 1] != '_') continue;
    digits += s[i];
  }
  const std::optional<std::int64_t> v = go_parse_int(digits);
  if (!v) return std::nullopt;
  return negative ? -*v : *v;
}

// vLLM's human_readable_int (utils/argparse_utils.py): `<number><k|m|g|t>` is decimal,
// `<integer><K|M|G|T>` binary; otherwise int().
[[nodiscard]] std::optional<std::int64_t> vllm_human(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2) {
    const char unit = s.back();
    const std::string_view number = s.substr(0, s.size() - 1);
    constexpr std::string_view decimal = "kmgt";
    constexpr std::string_view binary = "KMGT";
    if (const std::size_t p = decimal.find(unit); p != std::string_view::npos) {
      const std::optional<double> v = parse_float(number);
      if (!v || *v < 0 || number.find_first_not_of("0123456789.") != std::string_view::npos)
        return std::nullopt;
      const double scaled = *v * std::pow(1000.0, static_cast<double>(p + 1));
      if (scaled >= 9.2e18) return std::nullopt;
      return static_cast<std::int64_t>(scaled);
    }
    if (const std::size_t p = binary.find(unit); p != std::string_view::npos) {
      const std::optional<std::uint64_t> v = go_parse_uint(number);
      if (!v || *v >= (std::uint64_t{1} << (62 - 10 * (p + 1)))) return std::nullopt;
      return static_cast<std::int64_t>(*v << (10 * (p + 1)));
    }
  }
  return python_int(s);
}

// "8k" / "32K" meant as tokens: the value that was probably intended, for a suggestion.
[[nodiscard]] std::string kilo_suggestion(std::string_view s) {
  if (s.size() >= 2 && (s.back() == 'k' || s.back() == 'K')) {
    if (const std::optional<std::uint64_t> v = go_parse_uint(s.substr(0, s.size() - 1));
        v && *v < (std::uint64_t{1} << 40)) {
      return std::to_string(*v * 1024);
    }
  }
  return {};
}

[[nodiscard]] bool is_false_word(std::string_view s) {
  const std::string l = lower_ascii(trim(s));
  return l == "off" || l == "no" || l == "n" || l == "disabled" || l == "disable" || l == "none" ||
         l == "never";
}
[[nodiscard]] bool is_true_word(std::string_view s) {
  const std::string l = lower_ascii(trim(s));
  return l == "on" || l == "yes" || l == "y" || l == "enabled" || l == "enable";
}

// How the engine takes one value.
struct Parsed {
  enum class Status {
    ok,
    differs,  // taken, but not as written: `effective`, `suggestion`
    invalid,  // refused: the default `effective` applies (or, when fatal, no start)
    unset,    // an empty value the engine treats as unset
  };
  Status status = Status::ok;
  bool fatal = false;
  ValueType type = ValueType::text;
  std::int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::string text;
  std::string effective;
  std::string suggestion;
};

[[nodiscard]] Parsed integer_value(std::int64_t v) {
  Parsed p;
  p.type = ValueType::integer;
  p.integer = v;
  p.text = std::to_string(v);
  return p;
}
[[nodiscard]] Parsed bool_value(bool v) {
  Parsed p;
  p.type = ValueType::boolean;
  p.boolean = v;
  p.text = v ? "true" : "false";
  return p;
}
[[nodiscard]] Parsed text_value(std::string v) {
  Parsed p;
  p.type = ValueType::text;
  p.text = std::move(v);
  return p;
}
[[nodiscard]] Parsed number_value(double v) {
  Parsed p;
  p.type = ValueType::number;
  p.number = v;
  p.text = fmt::format("{}", v);
  return p;
}
[[nodiscard]] Parsed invalid(bool fatal, std::string effective = {}, std::string suggestion = {}) {
  Parsed p;
  p.status = Parsed::Status::invalid;
  p.fatal = fatal;
  p.effective = std::move(effective);
  p.suggestion = std::move(suggestion);
  return p;
}

[[nodiscard]] std::string duration_suggestion(std::string_view s) {
  const std::string l = lower_ascii(s);
  if (l == "forever" || l == "never" || l == "infinite" || l == "inf" || l == "always") return "-1";
  if (l.size() >= 2 && (l.back() == 'd' || l.back() == 'w')) {
    if (const std::optional<std::uint64_t> n =
            go_parse_uint(std::string_view(l).substr(0, l.size() - 1));
        n && *n < (std::uint64_t{1} << 20)) {
      return fmt::format("{}h", *n * (l.back() == 'd' ? 24 : 168));
    }
  }
  return {};
}

[[nodiscard]] Parsed parse_value(Rule rule, std::string_view raw, std::string_view fallback) {
  switch (rule) {
    case Rule::ollama_uint: {
      const std::string_view s = ollama_var(raw);
      if (s.empty()) return Parsed{.status = Parsed::Status::unset};
      if (const std::optional<std::uint64_t> v = go_parse_uint(s)) {
        if (*v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          return invalid(false, std::string(fallback));
        return integer_value(static_cast<std::int64_t>(*v));
      }
      return invalid(false, std::string(fallback), kilo_suggestion(s));
    }
    case Rule::ollama_bool: {
      const std::string_view s = ollama_var(raw);
      if (s.empty()) return Parsed{.status = Parsed::Status::unset};
      if (const std::optional<bool> b = go_parse_bool(s)) return bool_value(*b);
      // BoolWithDefault: a parse error counts as true.
      Parsed p = bool_value(true);
      if (is_true_word(s)) return p;
      p.status = Parsed::Status::differs;
      p.effective = "true";
      p.suggestion = is_false_word(s) ? "false" : "";
      return p;
    }
    case Rule::ollama_duration: {
      const std::string_view s = ollama_var(raw);
      if (s.empty()) return Parsed{.status = Parsed::Status::unset};
      std::optional<std::int64_t> ns = go_parse_duration(s);
      if (!ns) {
        if (const std::optional<std::int64_t> seconds = go_parse_int(s)) {
          // time.Duration(n) * time.Second wraps in Go as it does here.
          ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(*seconds) * 1000000000ULL);
        }
      }
      if (!ns) {
        // Neither form: the default stays, silently (no log line).
        Parsed p;
        p.status = Parsed::Status::differs;
        p.type = ValueType::duration;
        p.integer = 300LL * 1000000000LL;
        p.text = std::string(fallback);
        p.effective = std::string(fallback);
        p.suggestion = duration_suggestion(s);
        return p;
      }
      Parsed p;
      p.type = ValueType::duration;
      p.integer = *ns;
      p.text = *ns < 0 ? "forever" : go_duration_string(*ns);
      return p;
    }
    case Rule::ollama_kv_type:
    case Rule::llama_kv_type: {
      const std::string s =
          lower_ascii(rule == Rule::ollama_kv_type ? ollama_var(raw) : std::string_view(raw));
      if (s.empty() && rule == Rule::ollama_kv_type) return Parsed{.status = Parsed::Status::unset};
      // Ollama lowercases; llama-server compares as written.
      if (contains(llama_kv_types, rule == Rule::ollama_kv_type ? std::string_view(s) : raw))
        return text_value(s);
      const std::vector<std::string_view> known(llama_kv_types.begin(), llama_kv_types.end());
      return invalid(true, {}, closest(s, known).value_or(""));
    }
    case Rule::ollama_text: {
      const std::string_view s = ollama_var(raw);
      if (s.empty()) return Parsed{.status = Parsed::Status::unset};
      return text_value(std::string(s));
    }
    case Rule::go_int: {
      if (const std::optional<std::int64_t> v = go_parse_int(raw)) return integer_value(*v);
      return invalid(true, {}, kilo_suggestion(raw));
    }
    case Rule::go_bool: {
      if (const std::optional<bool> b = go_parse_bool(raw)) return bool_value(*b);
      return invalid(true, {}, is_false_word(raw) ? "false" : is_true_word(raw) ? "true" : "");
    }
    case Rule::go_float: {
      if (const std::optional<double> v = parse_float(raw)) return number_value(*v);
      return invalid(true);
    }
    case Rule::go_text:
    case Rule::llama_text:
    case Rule::vllm_text:
    case Rule::vllm_texts:
      return text_value(std::string(raw));
    case Rule::llama_int: {
      const std::optional<Stoi> v = cpp_stoi(raw);
      if (!v) return invalid(true, {}, kilo_suggestion(trim(raw)));
      Parsed p = integer_value(v->value);
      if (v->trailing) {
        p.status = Parsed::Status::differs;
        p.effective = std::to_string(v->value);
        p.suggestion = kilo_suggestion(trim(raw));
      }
      return p;
    }
    case Rule::llama_gpu_layers: {
      if (raw == "auto") return integer_value(-1);
      if (raw == "all") return integer_value(-2);
      return parse_value(Rule::llama_int, raw, fallback);
    }
    case Rule::llama_bool:
    case Rule::llama_on_off: {
      if (raw == "on" || raw == "enabled" || raw == "true" || raw == "1") {
        return rule == Rule::llama_bool ? bool_value(true) : text_value("on");
      }
      if (raw == "off" || raw == "disabled" || raw == "false" || raw == "0") {
        return rule == Rule::llama_bool ? bool_value(false) : text_value("off");
      }
      return invalid(true, {}, is_false_word(raw) ? "off" : is_true_word(raw) ? "on" : "");
    }
    case Rule::llama_flash_attn: {
      if (raw == "on" || raw == "enabled" || raw == "true" || raw == "1") return text_value("on");
      if (raw == "off" || raw == "disabled" || raw == "false" || raw == "0")
        return text_value("off");
      if (raw == "auto" || raw == "-1") return text_value("auto");
      return invalid(true, {}, is_false_word(raw) ? "off" : is_true_word(raw) ? "on" : "");
    }
    case Rule::llama_flag: {
      // A variable for a flag without a value: the flag acts when the value is truthy.
      if (raw == "on" || raw == "enabled" || raw == "true" || raw == "1") return bool_value(true);
      Parsed p;
      p.status = is_true_word(raw) ? Parsed::Status::differs : Parsed::Status::unset;
      p.effective = "ignored";
      p.suggestion = p.status == Parsed::Status::differs ? "1" : "";
      return p;
    }
    case Rule::vllm_int: {
      if (const std::optional<std::int64_t> v = python_int(raw)) return integer_value(*v);
      return invalid(true);
    }
    case Rule::vllm_human_int:
    case Rule::vllm_human_int_or_auto: {
      if (rule == Rule::vllm_human_int_or_auto && (trim(raw) == "auto" || trim(raw) == "-1"))
        return integer_value(-1);
      if (const std::optional<std::int64_t> v = vllm_human(raw)) return integer_value(*v);
      return invalid(true);
    }
    case Rule::vllm_float:
    case Rule::vllm_fraction: {
      const std::optional<double> v = parse_float(raw);
      if (!v || (rule == Rule::vllm_fraction && (*v <= 0 || *v > 1))) return invalid(true);
      return number_value(*v);
    }
    case Rule::vllm_flag:
      return bool_value(true);
  }
  return invalid(true);
}

class Interpreter {
 public:
  explicit Interpreter(DeployEngine engine) { out_.engine = engine; }

  Deployment run(const DeploymentInput& input) {
    const std::vector<const EnvEntry*> env = effective_environment(input.environment);
    switch (out_.engine) {
      case DeployEngine::ollama:
        for (const EnvEntry* e : env) ollama_variable(*e);
        for (const ModelfileParameter& p : input.parameters) ollama_parameter(p);
        for (const EnvEntry* e : env) {
          if (e->name.starts_with("LLAMA_ARG_")) ollama_llama_variable(*e, input);
        }
        if (input.from) {
          SettingValue model{.setting = EngineSetting::model,
                             .name = "FROM",
                             .raw = input.from->value,
                             .origin = input.from->origin,
                             .text = input.from->value};
          out_.model = std::move(model);
        }
        break;
      case DeployEngine::llama_server:
        for (const EnvEntry* e : env) llama_variable(*e, env);
        llama_arguments(input.args);
        break;
      case DeployEngine::vllm:
        for (const EnvEntry* e : env) vllm_variable(*e);
        vllm_arguments(input.args);
        break;
    }
    std::sort(out_.settings.begin(), out_.settings.end(),
              [](const SettingValue& a, const SettingValue& b) { return a.setting < b.setting; });
    if (const SettingValue* m = out_.find(EngineSetting::model); m && !out_.model) out_.model = *m;
    return std::move(out_);
  }

 private:
  // The last entry of each name, in input order; the ones it replaces are reported.
  std::vector<const EnvEntry*> effective_environment(const std::vector<EnvEntry>& entries) {
    std::map<std::string_view, std::size_t> last;
    for (std::size_t i = 0; i < entries.size(); ++i) last[entries[i].name] = i;
    std::vector<const EnvEntry*> kept;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const EnvEntry& e = entries[i];
      const std::size_t winner = last[e.name];
      if (winner == i) {
        kept.push_back(&e);
        continue;
      }
      if (entries[winner].value == e.value) continue;  // set twice to the same value
      add(Diagnostic{.kind = DiagnosticKind::overridden,
                     .name = e.name,
                     .value = e.value,
                     .origin = e.origin,
                     .suggestion_kind = SuggestionKind::variable,
                     .suggestion = e.name,
                     .effective = entries[winner].value});
    }
    return kept;
  }

  void add(Diagnostic d) { out_.diagnostics.push_back(std::move(d)); }

  // Applies a parsed value: a setting, or a diagnostic when the engine takes it otherwise.
  void apply(std::optional<EngineSetting> setting, std::string_view name, std::string_view raw,
             const Origin& origin, const Parsed& p) {
    Diagnostic d{.name = std::string(name),
                 .value = std::string(raw),
                 .origin = origin,
                 .setting = setting,
                 .suggestion_kind = SuggestionKind::value,
                 .suggestion = p.suggestion,
                 .effective = p.effective,
                 .fatal = p.fatal};
    if (p.suggestion.empty()) d.suggestion_kind = SuggestionKind::none;
    switch (p.status) {
      case Parsed::Status::unset:
        if (!p.effective.empty()) {
          d.kind = DiagnosticKind::parsed_differently;
          add(std::move(d));
        }
        return;
      case Parsed::Status::invalid:
        d.kind = DiagnosticKind::invalid_value;
        add(std::move(d));
        return;
      case Parsed::Status::differs:
        d.kind = DiagnosticKind::parsed_differently;
        add(d);
        break;
      case Parsed::Status::ok:
        break;
    }
    if (!setting) {
      if (p.status == Parsed::Status::ok) {
        d.kind = DiagnosticKind::not_memory_relevant;
        d.suggestion_kind = SuggestionKind::none;
        add(std::move(d));
      }
      return;
    }
    set(*setting, name, raw, origin, p);
  }

  void set(EngineSetting setting, std::string_view name, std::string_view raw, const Origin& origin,
           const Parsed& p) {
    SettingValue v{.setting = setting,
                   .name = std::string(name),
                   .raw = std::string(raw),
                   .origin = origin,
                   .type = p.type,
                   .integer = p.integer,
                   .number = p.number,
                   .boolean = p.boolean,
                   .text = p.text};
    if (setting == EngineSetting::flash_attention && p.type == ValueType::boolean) {
      v.text = p.boolean ? "on" : "off";
    }
    for (SettingValue& existing : out_.settings) {
      if (existing.setting == setting) {
        existing = std::move(v);
        return;
      }
    }
    out_.settings.push_back(std::move(v));
  }

  // Reports an earlier setting replaced by a stronger source.
  void override_setting(EngineSetting setting, std::string_view by, SuggestionKind kind) {
    const SettingValue* old = out_.find(setting);
    if (!old) return;
    add(Diagnostic{.kind = DiagnosticKind::overridden,
                   .name = old->name,
                   .value = old->raw,
                   .origin = old->origin,
                   .setting = setting,
                   .suggestion_kind = kind,
                   .suggestion = std::string(by)});
  }

  void application(const EnvEntry& e) {
    if (contains(runtime_env, e.name) || e.name.starts_with("NCCL_")) {
      add(Diagnostic{.kind = DiagnosticKind::not_memory_relevant,
                     .name = e.name,
                     .value = e.value,
                     .origin = e.origin});
      return;
    }
    add(Diagnostic{.kind = DiagnosticKind::application_variable,
                   .name = e.name,
                   .value = e.value,
                   .origin = e.origin});
  }

  void unknown_engine_name(const EnvEntry& e, const std::vector<std::string_view>& known,
                           SuggestionKind kind) {
    Diagnostic d{
        .kind = DiagnosticKind::not_read, .name = e.name, .value = e.value, .origin = e.origin};
    if (const std::optional<std::string> c = closest(e.name, known)) {
      d.kind = DiagnosticKind::misspelled;
      d.suggestion_kind = kind;
      d.suggestion = *c;
    }
    add(std::move(d));
  }

  // --- Ollama ---

  void ollama_variable(const EnvEntry& e) {
    if (const Name* n = find_name(ollama_env, e.name)) {
      apply(n->setting, e.name, e.value, e.origin, parse_value(n->rule, e.value, n->fallback));
      return;
    }
    if (const Misname* m = find_name(ollama_misnames, e.name)) {
      add(Diagnostic{.kind = m->kind,
                     .name = e.name,
                     .value = e.value,
                     .origin = e.origin,
                     .suggestion_kind = m->suggestion_kind,
                     .suggestion = std::string(m->suggestion)});
      return;
    }
    if (e.name.starts_with("LLAMA_ARG_")) return;  // after the PARAMETERs: ollama_llama_variable
    if (e.name.starts_with("OLLAMA_")) {
      std::vector<std::string_view> known;
      for (const Name& n : ollama_env) {
        if (n.name.starts_with("OLLAMA_")) known.push_back(n.name);
      }
      unknown_engine_name(e, known, SuggestionKind::variable);
      return;
    }
    application(e);
  }

  void ollama_parameter(const ModelfileParameter& p) {
    const std::string name = lower_ascii(p.name);  // Ollama lowercases PARAMETER names
    if (const Name* n = find_name(ollama_parameters, name)) {
      // PARAMETER num_ctx beats OLLAMA_CONTEXT_LENGTH (server/routes.go).
      if (n->setting) override_setting(*n->setting, name, SuggestionKind::modelfile_parameter);
      apply(n->setting, p.name, p.value, p.origin, parse_value(n->rule, p.value, n->fallback));
      return;
    }
    Diagnostic d{.kind = DiagnosticKind::unknown_name,
                 .name = p.name,
                 .value = p.value,
                 .origin = p.origin,
                 .fatal = true};
    if (contains(ollama_removed_parameters, name)) {
      d.kind = DiagnosticKind::removed_parameter;
    } else {
      std::vector<std::string_view> known;
      for (const Name& n : ollama_parameters) known.push_back(n.name);
      if (const std::optional<std::string> c = closest(name, known)) {
        d.kind = DiagnosticKind::misspelled;
        d.suggestion_kind = SuggestionKind::modelfile_parameter;
        d.suggestion = *c;
      }
    }
    add(std::move(d));
  }

  // LLAMA_ARG_* reach the llama-server Ollama starts, unless Ollama passes the flag itself
  // (§1.3): always -c, -np, --flash-attn, -b/-ub; -ctk/-ctv with OLLAMA_KV_CACHE_TYPE; -ngl
  // when num_gpu >= 0.
  void ollama_llama_variable(const EnvEntry& e, const DeploymentInput&) {
    const LlamaOption* o = find_llama_env(e.name);
    if (o && o->setting) {
      const EngineSetting s = *o->setting;
      std::string_view by;
      SuggestionKind kind = SuggestionKind::variable;
      if (s == EngineSetting::context) {
        by = "OLLAMA_CONTEXT_LENGTH";
      } else if (s == EngineSetting::parallel) {
        by = "OLLAMA_NUM_PARALLEL";
      } else if (s == EngineSetting::flash_attention) {
        by = "OLLAMA_FLASH_ATTENTION";
      } else if (s == EngineSetting::batch || s == EngineSetting::ubatch) {
        by = "num_batch";
        kind = SuggestionKind::modelfile_parameter;
      } else if ((s == EngineSetting::kv_cache_type_k || s == EngineSetting::kv_cache_type_v) &&
                 out_.find(EngineSetting::kv_cache_type)) {
        by = "OLLAMA_KV_CACHE_TYPE";
      } else if (s == EngineSetting::gpu_layers) {
        const SettingValue* num_gpu = out_.find(EngineSetting::gpu_layers);
        if (num_gpu && num_gpu->integer >= 0) {
          by = "num_gpu";
          kind = SuggestionKind::modelfile_parameter;
        }
      }
      if (!by.empty()) {
        add(Diagnostic{.kind = DiagnosticKind::overridden,
                       .name = e.name,
                       .value = e.value,
                       .origin = e.origin,
                       .setting = s,
                       .suggestion_kind = kind,
                       .suggestion = std::string(by)});
        return;
      }
    }
    llama_variable(e, {});
  }

  // --- llama-server ---

  // "--op-offload" -> "LLAMA_ARG_OP_OFFLOAD", as common/arg.cpp names the variables it has.
  [[nodiscard]] static std::string variable_for_flag(std::string_view flag) {
    std::string name = "LLAMA_ARG_";
    for (const char c : flag.substr(flag.find_first_not_of('-'))) {
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return name;
  }

  [[nodiscard]] static const LlamaOption* find_llama_env(std::string_view name) {
    if (name.empty()) return nullptr;  // an option without a variable has env ""
    for (const LlamaOption& o : llama_options) {
      if (o.env == name) return &o;
    }
    return nullptr;
  }
  // The option whose `LLAMA_ARG_NO_*` variable `name` is.
  [[nodiscard]] static const LlamaOption* find_llama_negative_env(std::string_view name) {
    if (!name.starts_with("LLAMA_ARG_NO_")) return nullptr;
    const std::string positive = "LLAMA_ARG_" + std::string(name.substr(13));
    const LlamaOption* o = find_llama_env(positive);
    return o && !o->negative[0].empty() ? o : nullptr;
  }

  void llama_variable(const EnvEntry& e, const std::vector<const EnvEntry*>& env) {
    if (const LlamaOption* o = find_llama_negative_env(e.name)) {
      // Present at all, whatever the value: the option is off (§2.1).
      Parsed p = bool_value(false);
      const bool looks_positive = go_parse_bool(e.value) == false || is_false_word(e.value);
      if (looks_positive) {
        p.status = Parsed::Status::differs;
        p.effective = "false";
      }
      apply(o->setting, e.name, e.value, e.origin, p);
      return;
    }
    if (const LlamaOption* o = find_llama_env(e.name)) {
      // The LLAMA_ARG_NO_* variable wins over the positive one.
      if (!o->negative[0].empty()) {
        const std::string negative = "LLAMA_ARG_NO_" + std::string(e.name.substr(10));
        for (const EnvEntry* other : env) {
          if (other->name == negative) {
            add(Diagnostic{.kind = DiagnosticKind::overridden,
                           .name = e.name,
                           .value = e.value,
                           .origin = e.origin,
                           .setting = o->setting,
                           .suggestion_kind = SuggestionKind::variable,
                           .suggestion = negative});
            return;
          }
        }
      }
      apply(o->setting, e.name, e.value, e.origin, parse_value(o->rule, e.value, {}));
      return;
    }
    if (e.name.starts_with("LLAMA_ARG_")) {
      // The variable an option without one would have (--op-offload: LLAMA_ARG_OP_OFFLOAD, and
      // its LLAMA_ARG_NO_ form): only the flag sets it.
      for (const LlamaOption& o : llama_options) {
        if (!o.env.empty()) continue;
        const std::string positive = variable_for_flag(o.flags[0]);
        const std::string negative = "LLAMA_ARG_NO_" + positive.substr(10);
        if (e.name == positive || e.name == negative) {
          // What was meant: off for the NO_ form or a false value.
          const bool off = e.name == negative || is_false_word(e.value) ||
                           go_parse_bool(e.value) == std::optional<bool>(false);
          add(Diagnostic{.kind = DiagnosticKind::not_read,
                         .name = e.name,
                         .value = e.value,
                         .origin = e.origin,
                         .setting = o.setting,
                         .suggestion_kind = SuggestionKind::flag,
                         .suggestion = std::string(off && !o.negative[0].empty() ? o.negative[0]
                                                                                 : o.flags[0])});
          return;
        }
      }
      for (const auto& [wrong, right] : llama_misnames) {
        if (e.name == wrong) {
          add(Diagnostic{.kind = DiagnosticKind::misspelled,
                         .name = e.name,
                         .value = e.value,
                         .origin = e.origin,
                         .suggestion_kind = SuggestionKind::variable,
                         .suggestion = std::string(right)});
          return;
        }
      }
      std::vector<std::string_view> known;
      for (const LlamaOption& o : llama_options) {
        if (!o.env.empty()) known.push_back(o.env);
      }
      unknown_engine_name(e, known, SuggestionKind::variable);
      return;
    }
    if (out_.engine == DeployEngine::llama_server) {
      if (const Name* n = find_name(ollama_env, e.name);
          n && n->setting == EngineSetting::visible_devices) {
        apply(n->setting, e.name, e.value, e.origin, text_value(e.value));
        return;
      }
      application(e);
    }
  }

  [[nodiscard]] static const LlamaOption* find_llama_flag(std::string_view flag, bool& negative) {
    for (const LlamaOption& o : llama_options) {
      if (contains(o.flags, flag)) {
        negative = false;
        return &o;
      }
      if (contains(o.negative, flag)) {
        negative = true;
        return &o;
      }
    }
    return nullptr;
  }

  void llama_arguments(const std::vector<CommandArg>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
      const CommandArg& a = args[i];
      std::string flag = a.text;
      std::optional<std::string> inline_value;
      if (flag.starts_with("--")) {
        std::replace(flag.begin(), flag.end(), '_', '-');
        if (const std::size_t eq = flag.find('='); eq != std::string::npos) {
          inline_value = flag.substr(eq + 1);
          flag.resize(eq);
        }
      }
      bool negative = false;
      const LlamaOption* o =
          flag.starts_with("-") && flag.size() > 1 ? find_llama_flag(flag, negative) : nullptr;
      if (!o) {
        unknown_flag(a, flag, llama_flag_names());
        // An unknown flag's value, if it looks like one, is not a flag either.
        if (!inline_value && i + 1 < args.size() && !args[i + 1].text.starts_with("-")) ++i;
        continue;
      }
      if (inline_value) {
        // llama-server looks the whole word up: `--ctx-size=8192` is an invalid argument.
        add(Diagnostic{.kind = DiagnosticKind::unknown_name,
                       .name = a.text,
                       .value = *inline_value,
                       .origin = a.origin,
                       .setting = o->setting,
                       .suggestion_kind = SuggestionKind::flag,
                       .suggestion = flag,
                       .fatal = true});
        continue;
      }
      const bool takes_value =
          !negative && o->rule != Rule::llama_flag && !(o->rule == Rule::llama_bool);
      Parsed p;
      std::string raw;
      if (!takes_value) {
        p = bool_value(!negative);
      } else if (inline_value) {
        raw = *inline_value;
        p = parse_value(o->rule, raw, {});
      } else if (i + 1 < args.size()) {
        raw = args[++i].text;
        p = parse_value(o->rule, raw, {});
      } else {
        add(Diagnostic{.kind = DiagnosticKind::invalid_value,
                       .name = a.text,
                       .origin = a.origin,
                       .setting = o->setting,
                       .fatal = true});
        continue;
      }
      // A flag beats its variable (llama-server warns).
      if (o->setting) {
        if (const SettingValue* old = out_.find(*o->setting);
            old && old->name.starts_with("LLAMA_ARG_"))
          override_setting(*o->setting, a.text, SuggestionKind::flag);
      }
      apply(o->setting, flag, raw, a.origin, p);
    }
  }

  [[nodiscard]] static std::vector<std::string_view> llama_flag_names() {
    std::vector<std::string_view> names;
    for (const LlamaOption& o : llama_options) {
      for (const std::string_view f : o.flags) {
        if (f.starts_with("--")) names.push_back(f);
      }
      for (const std::string_view f : o.negative) {
        if (f.starts_with("--")) names.push_back(f);
      }
    }
    return names;
  }

  void unknown_flag(const CommandArg& a, std::string_view flag,
                    const std::vector<std::string_view>& known) {
    Diagnostic d{.kind = DiagnosticKind::unknown_name,
                 .name = std::string(flag),
                 .value = a.text,
                 .origin = a.origin,
                 .fatal = true};
    if (flag.starts_with("--")) {
      if (const std::optional<std::string> c = closest(flag, known)) {
        d.kind = DiagnosticKind::misspelled;
        d.suggestion_kind = SuggestionKind::flag;
        d.suggestion = *c;
      }
    }
    add(std::move(d));
  }

  // --- vLLM ---

  void vllm_variable(const EnvEntry& e) {
    for (const auto& [name, flag] : vllm_flag_variables) {
      if (e.name == name) {
        add(Diagnostic{.kind = DiagnosticKind::not_read,
                       .name = e.name,
                       .value = e.value,
                       .origin = e.origin,
                       .suggestion_kind = SuggestionKind::flag,
                       .suggestion = std::string(flag)});
        return;
      }
    }
    if (contains(vllm_env, e.name)) {
      add(Diagnostic{.kind = DiagnosticKind::not_memory_relevant,
                     .name = e.name,
                     .value = e.value,
                     .origin = e.origin});
      return;
    }
    if (e.name == "CUDA_VISIBLE_DEVICES") {
      apply(EngineSetting::visible_devices, e.name, e.value, e.origin, text_value(e.value));
      return;
    }
    if (e.name.starts_with("VLLM_")) {
      unknown_engine_name(e, std::vector<std::string_view>(vllm_env.begin(), vllm_env.end()),
                          SuggestionKind::variable);
      return;
    }
    application(e);
  }

  void vllm_arguments(const std::vector<CommandArg>& args) {
    std::vector<std::string_view> known;
    for (const VllmOption& o : vllm_options) {
      for (const std::string_view f : o.flags) {
        if (f.starts_with("--")) known.push_back(f);
      }
    }
    bool positional_seen = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const CommandArg& a = args[i];
      if (!a.text.starts_with("-") || a.text == "-") {
        if (i == 0 && a.text == "serve") {
          // The image already runs `vllm serve`: a second `serve` is an unrecognized argument.
          add(Diagnostic{.kind = DiagnosticKind::unknown_name,
                         .name = a.text,
                         .value = a.text,
                         .origin = a.origin,
                         .fatal = true});
          continue;
        }
        if (!positional_seen) {
          positional_seen = true;
          set(EngineSetting::model, "model", a.text, a.origin, text_value(a.text));
          continue;
        }
        add(Diagnostic{.kind = DiagnosticKind::unknown_name,
                       .name = a.text,
                       .value = a.text,
                       .origin = a.origin,
                       .fatal = true});
        continue;
      }
      std::string flag = a.text;
      std::optional<std::string> inline_value;
      if (const std::size_t eq = flag.find('='); eq != std::string::npos) {
        inline_value = flag.substr(eq + 1);
        flag.resize(eq);
      }
      if (flag.starts_with("--")) std::replace(flag.begin(), flag.end(), '_', '-');
      const VllmOption* o = nullptr;
      for (const VllmOption& candidate : vllm_options) {
        if (contains(candidate.flags, flag)) o = &candidate;
      }
      if (!o) {
        unknown_flag(a, flag, known);
        if (!inline_value && i + 1 < args.size() && !args[i + 1].text.starts_with("-")) ++i;
        continue;
      }
      if (o->rule == Rule::vllm_flag) {
        apply(o->setting, flag, "", a.origin, bool_value(true));
        continue;
      }
      std::string raw;
      if (inline_value) {
        raw = *inline_value;
      } else if (i + 1 < args.size()) {
        raw = args[++i].text;
        // nargs="+": every following word up to the next flag.
        while (o->rule == Rule::vllm_texts && i + 1 < args.size() &&
               !args[i + 1].text.starts_with("-")) {
          raw += ' ';
          raw += args[++i].text;
        }
      } else {
        add(Diagnostic{.kind = DiagnosticKind::invalid_value,
                       .name = flag,
                       .origin = a.origin,
                       .setting = o->setting,
                       .fatal = true});
        continue;
      }
      apply(o->setting, flag, raw, a.origin, parse_value(o->rule, raw, {}));
    }
  }

  Deployment out_;
};

}  // namespace

std::string_view deploy_engine_name(DeployEngine engine) {
  switch (engine) {
    case DeployEngine::ollama:
      return "ollama";
    case DeployEngine::llama_server:
      return "llama-server";
    case DeployEngine::vllm:
      return "vllm";
  }
  return "?";
}

std::optional<DeployEngine> engine_of_image(std::string_view image) {
  if (const std::size_t at = image.find('@'); at != std::string_view::npos)
    image = image.substr(0, at);
  for (const std::string_view prefix : {"docker.io/", "index.docker.io/"}) {
    if (image.starts_with(prefix)) image.remove_prefix(prefix.size());
  }
  std::string_view repo = image;
  std::string_view tag;
  if (const std::size_t colon = image.rfind(':');
      colon != std::string_view::npos && image.find('/', colon) == std::string_view::npos) {
    repo = image.substr(0, colon);
    tag = image.substr(colon + 1);
  }
  if (repo == "ollama/ollama") return DeployEngine::ollama;
  if (repo == "vllm/vllm-openai") return DeployEngine::vllm;
  if ((repo == "ghcr.io/ggml-org/llama.cpp" || repo == "ghcr.io/ggerganov/llama.cpp") &&
      tag.starts_with("server")) {
    return DeployEngine::llama_server;
  }
  return std::nullopt;
}

std::vector<EnvEntry> image_environment(DeployEngine engine, std::string_view image) {
  const Origin origin{std::string(image), 0};
  switch (engine) {
    case DeployEngine::ollama:
      return {{"OLLAMA_HOST", "0.0.0.0:11434", origin},
              {"NVIDIA_VISIBLE_DEVICES", "all", origin},
              {"NVIDIA_DRIVER_CAPABILITIES", "compute,utility", origin}};
    case DeployEngine::llama_server:
      return {{"LLAMA_ARG_HOST", "0.0.0.0", origin}};
    case DeployEngine::vllm:
      return {{"VLLM_USAGE_SOURCE", "production-docker-image", origin}};
  }
  return {};
}

std::string_view setting_name(EngineSetting setting) {
  static constexpr std::array<std::string_view, 51> names{"context",
                                                          "parallel",
                                                          "max_loaded_models",
                                                          "kv_cache_type",
                                                          "kv_cache_type_k",
                                                          "kv_cache_type_v",
                                                          "flash_attention",
                                                          "gpu_layers",
                                                          "batch",
                                                          "ubatch",
                                                          "keep_alive",
                                                          "sched_spread",
                                                          "gpu_overhead",
                                                          "use_mmap",
                                                          "load_mode",
                                                          "mlock",
                                                          "main_gpu",
                                                          "split_mode",
                                                          "tensor_split",
                                                          "devices",
                                                          "visible_devices",
                                                          "kv_unified",
                                                          "kv_offload",
                                                          "swa_full",
                                                          "fit",
                                                          "fit_target",
                                                          "fit_ctx",
                                                          "cpu_moe",
                                                          "n_cpu_moe",
                                                          "override_tensor",
                                                          "mmproj",
                                                          "mmproj_offload",
                                                          "cache_ram",
                                                          "llm_library",
                                                          "model",
                                                          "max_model_len",
                                                          "gpu_memory_utilization",
                                                          "max_num_seqs",
                                                          "max_num_batched_tokens",
                                                          "dtype",
                                                          "kv_cache_dtype",
                                                          "quantization",
                                                          "tensor_parallel",
                                                          "pipeline_parallel",
                                                          "enforce_eager",
                                                          "cpu_offload_gb",
                                                          "kv_cache_memory_bytes",
                                                          "block_size",
                                                          "max_cudagraph_capture_size",
                                                          "op_offload",
                                                          ""};
  const auto i = static_cast<std::size_t>(setting);
  return i < names.size() ? names[i] : "?";
}

std::string_view diagnostic_kind_name(DiagnosticKind kind) {
  switch (kind) {
    case DiagnosticKind::not_read:
      return "not_read";
    case DiagnosticKind::application_variable:
      return "application_variable";
    case DiagnosticKind::misspelled:
      return "misspelled";
    case DiagnosticKind::parsed_differently:
      return "parsed_differently";
    case DiagnosticKind::invalid_value:
      return "invalid_value";
    case DiagnosticKind::not_memory_relevant:
      return "not_memory_relevant";
    case DiagnosticKind::overridden:
      return "overridden";
    case DiagnosticKind::removed_parameter:
      return "removed_parameter";
    case DiagnosticKind::unknown_name:
      return "unknown_name";
  }
  return "?";
}

const SettingValue* Deployment::find(EngineSetting setting) const {
  for (const SettingValue& v : settings) {
    if (v.setting == setting) return &v;
  }
  return nullptr;
}

Deployment interpret_deployment(const DeploymentInput& input) {
  const std::size_t total = input.environment.size() + input.args.size() + input.parameters.size();
  if (total > deployment_max_entries) {
    throw Error(ErrorKind::bad_input,
                fmt::format("the deployment has {} variables, arguments and parameters, more than "
                            "the limit of {}",
                            total, deployment_max_entries));
  }
  return Interpreter(input.engine).run(input);
}

std::optional<bool> go_parse_bool(std::string_view text) {
  if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
      text == "True")
    return true;
  if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
      text == "False")
    return false;
  return std::nullopt;
}

std::optional<std::int64_t> go_parse_duration(std::string_view s) {
  // [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ ; "0" alone is allowed.
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  constexpr std::uint64_t limit = std::uint64_t{1} << 63;
  std::uint64_t total = 0;
  while (!s.empty()) {
    std::uint64_t whole = 0;
    bool digits = false;
    bool overflow = false;
    while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
      digits = true;
      if (whole > (limit - 1) / 10) overflow = true;
      whole = whole * 10 + static_cast<std::uint64_t>(s.front() - '0');
      if (whole > limit) overflow = true;
      s.remove_prefix(1);
    }
    if (overflow) return std::nullopt;
    std::uint64_t frac = 0;
    double scale = 1;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        digits = true;
        if (frac <= (std::numeric_limits<std::uint64_t>::max() - 9) / 10 && scale < 1e18) {
          frac = frac * 10 + static_cast<std::uint64_t>(s.front() - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
      }
    }
    if (!digits) return std::nullopt;
    std::size_t unit_length = 0;
    while (unit_length < s.size() && s[unit_length] != '.' &&
           (s[unit_length] < '0' || s[unit_length] > '9'))
      ++unit_length;
    const std::string_view unit = s.substr(0, unit_length);
    s.remove_prefix(unit_length);
    std::uint64_t multiplier = 0;
    if (unit == "ns") {
      multiplier = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      multiplier = 1000;
    } else if (unit == "ms") {
      multiplier = 1000000;
    } else if (unit == "s") {
      multiplier = 1000000000;
    } else if (unit == "m") {
      multiplier = 60ULL * 1000000000;
    } else if (unit == "h") {
      multiplier = 3600ULL * 1000000000;
    } else {
      return std::nullopt;  // missing or unknown unit
    }
    if (whole > limit / multiplier) return std::nullopt;
    std::uint64_t v = whole * multiplier;
    if (frac > 0) {
      v += static_cast<std::uint64_t>(static_cast<double>(frac) *
                                      (static_cast<double>(multiplier) / scale));
      if (v > limit) return std::nullopt;
    }
    total += v;
    if (total > limit) return std::nullopt;
  }
  if (total == limit && !negative) return std::nullopt;
  if (negative)
    return total == limit ? std::numeric_limits<std::int64_t>::min()
                          : -static_cast<std::int64_t>(total);
  return static_cast<std::int64_t>(total);
}

std::string go_duration_string(std::int64_t ns) {
  if (ns == 0) return "0s";
  const bool negative = ns < 0;
  std::uint64_t u = negative ? 0 - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::string out = negative ? "-" : "";
  constexpr std::uint64_t second = 1000000000;
  if (u < second) {
    // ns, µs or ms with a fraction, as Go prints them.
    const char* unit = "ns";
    std::uint64_t div = 1;
    if (u >= 1000000) {
      unit = "ms";
      div = 1000000;
    } else if (u >= 1000) {
      unit = "\xC2\xB5s";
      div = 1000;
    }
    std::string frac = std::to_string(u % div);
    if (div > 1) {
      frac = std::string(std::to_string(div).size() - 1 - frac.size(), '0') + frac;
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
    } else {
      frac.clear();
    }
    return out + std::to_string(u / div) + (frac.empty() ? "" : "." + frac) + unit;
  }
  const std::uint64_t hours = u / (3600 * second);
  u -= hours * 3600 * second;
  const std::uint64_t minutes = u / (60 * second);
  u -= minutes * 60 * second;
  std::string seconds = std::to_string(u / second);
  std::string frac = fmt::format("{:09}", u % second);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) seconds += "." + frac;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + seconds + "s";
}

// The names vramplan writes for a setting nothing sets yet (docs/engines.md §5): the
// environment variable for Ollama and llama-server, the flag for vLLM.
std::string_view setting_default_name(DeployEngine e, EngineSetting s, bool modelfile_only) {
  using S = EngineSetting;
  if (e == DeployEngine::ollama) {
    switch (s) {
      case S::context:
        return modelfile_only ? "num_ctx" : "OLLAMA_CONTEXT_LENGTH";
      case S::parallel:
        return "OLLAMA_NUM_PARALLEL";
      case S::kv_cache_type:
        return "OLLAMA_KV_CACHE_TYPE";
      case S::flash_attention:
        return "OLLAMA_FLASH_ATTENTION";
      case S::max_loaded_models:
        return "OLLAMA_MAX_LOADED_MODELS";
      case S::sched_spread:
        return "OLLAMA_SCHED_SPREAD";
      case S::gpu_layers:
        return "num_gpu";
      default:
        return "";
    }
  }
  if (e == DeployEngine::llama_server) {
    switch (s) {
      case S::context:
        return "LLAMA_ARG_CTX_SIZE";
      case S::parallel:
        return "LLAMA_ARG_N_PARALLEL";
      case S::kv_cache_type_k:
        return "LLAMA_ARG_CACHE_TYPE_K";
      case S::kv_cache_type_v:
        return "LLAMA_ARG_CACHE_TYPE_V";
      case S::flash_attention:
        return "LLAMA_ARG_FLASH_ATTN";
      case S::gpu_layers:
        return "LLAMA_ARG_N_GPU_LAYERS";
      default:
        return "";
    }
  }
  switch (s) {
    case S::max_model_len:
      return "--max-model-len";
    case S::max_num_seqs:
      return "--max-num-seqs";
    case S::kv_cache_dtype:
      return "--kv-cache-dtype";
    case S::quantization:
      return "--quantization";
    default:
      return "";
  }
}

std::string setting_value_text(DeployEngine engine, EngineSetting setting, std::string_view value) {
  // Ollama's boolean variables take a Go boolean (envconfig.Bool: strconv.ParseBool).
  if ((setting == EngineSetting::flash_attention || setting == EngineSetting::sched_spread) &&
      engine == DeployEngine::ollama) {
    return value == "on" ? "true" : "false";
  }
  return std::string(value);
}

}  // namespace vramplan
