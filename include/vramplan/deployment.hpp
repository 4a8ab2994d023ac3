// What an existing deployment configures: the names an engine reads, how it parses their
// values, and what it makes of names it does not read (issue 11, `vramplan check`). Pure: the
// readers of io/deploy_files.hpp turn .env, compose files and Modelfiles into a
// DeploymentInput; interpret_deployment() turns that into typed settings and diagnostics. The
// facts and their upstream sources are in docs/engines.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vramplan {

// Where a value was written: a file and a 1-based line; line 0 when it has no line of its own
// (an image's ENV, a variable given on the command line).
struct Origin {
  std::string file;
  std::size_t line = 0;
  friend bool operator==(const Origin&, const Origin&) = default;
};

enum class DeployEngine { ollama, llama_server, vllm };

[[nodiscard]] std::string_view deploy_engine_name(DeployEngine engine);

// The engine a container image runs, from its reference: `ollama/ollama[:tag]`,
// `ghcr.io/ggml-org/llama.cpp:server*` (also the older `ggerganov` owner), `vllm/vllm-openai`
// (`docker.io/` and `library/` prefixes and `@sha256:` digests allowed); nullopt otherwise.
[[nodiscard]] std::optional<DeployEngine> engine_of_image(std::string_view image);

// One variable of the engine's environment.
struct EnvEntry {
  std::string name;
  std::string value;
  Origin origin;
};

// The ENV an engine's official image sets (docs/engines.md §1.8, §2.3, §3.3), each with the
// origin {image, 0}: the weakest layer of a container's environment.
[[nodiscard]] std::vector<EnvEntry> image_environment(DeployEngine engine, std::string_view image);

// One word of the engine's command line, after the entry point.
struct CommandArg {
  std::string text;
  Origin origin;
};

// One Modelfile PARAMETER (Ollama).
struct ModelfileParameter {
  std::string name;
  std::string value;
  Origin origin;
};

struct DeploymentInput {
  DeployEngine engine = DeployEngine::ollama;
  // Weakest first (image ENV, env_file, environment): a later entry of the same name replaces
  // an earlier one.
  std::vector<EnvEntry> environment;
  std::vector<CommandArg> args;
  std::vector<ModelfileParameter> parameters;
  std::optional<ModelfileParameter> from;  // the Modelfile's FROM (name "FROM")
};

// The settings vramplan models. The names in comments are examples; the tables in
// deployment.cpp (docs/engines.md) say which name of which engine sets what.
enum class EngineSetting {
  context,                 // per slot for Ollama (num_ctx), all slots for llama-server (-c)
  parallel,                // OLLAMA_NUM_PARALLEL, -np
  max_loaded_models,       // OLLAMA_MAX_LOADED_MODELS
  kv_cache_type,           // OLLAMA_KV_CACHE_TYPE (K and V)
  kv_cache_type_k,         // -ctk
  kv_cache_type_v,         // -ctv
  flash_attention,         // "on", "off" or "auto"
  gpu_layers,              // num_gpu, -ngl: -1 automatic, -2 all
  batch,                   // num_batch (batch and ubatch), -b
  ubatch,                  // -ub
  keep_alive,              // nanoseconds; negative: never unload
  sched_spread,            // OLLAMA_SCHED_SPREAD
  gpu_overhead,            // OLLAMA_GPU_OVERHEAD, bytes
  use_mmap,                // use_mmap, --mmap/--no-mmap
  load_mode,               // --load-mode
  mlock,                   // --mlock
  main_gpu,                // main_gpu, -mg
  split_mode,              // -sm
  tensor_split,            // -ts
  devices,                 // -dev
  visible_devices,         // CUDA_VISIBLE_DEVICES and the like
  kv_unified,              // -kvu
  kv_offload,              // -kvo/-nkvo
  swa_full,                // --swa-full
  fit,                     // --fit, LLAMA_ARG_FIT
  fit_target,              // --fit-target (MiB, list)
  fit_ctx,                 // --fit-ctx
  cpu_moe,                 // --cpu-moe
  n_cpu_moe,               // --n-cpu-moe
  override_tensor,         // -ot
  mmproj,                  // --mmproj
  mmproj_offload,          // --mmproj-offload
  cache_ram,               // --cache-ram (MiB)
  llm_library,             // OLLAMA_LLM_LIBRARY
  model,                   // -m, --model, vLLM's positional model
  max_model_len,           // --max-model-len (-1: auto)
  gpu_memory_utilization,  // --gpu-memory-utilization
  max_num_seqs,            // --max-num-seqs
  max_num_batched_tokens,  // --max-num-batched-tokens
  dtype,                   // --dtype
  kv_cache_dtype,          // --kv-cache-dtype
  quantization,            // --quantization
  tensor_parallel,         // --tensor-parallel-size
  pipeline_parallel,       // --pipeline-parallel-size
  enforce_eager,           // --enforce-eager
  cpu_offload_gb,          // --cpu-offload-gb
  kv_cache_memory_bytes,   // --kv-cache-memory-bytes
  block_size,              // --block-size
  max_cudagraph_capture_size,
  op_offload,  // --op-offload/--no-op-offload (llama-server; no variable)
};

// snake_case name of a setting ("context", "gpu_memory_utilization").
[[nodiscard]] std::string_view setting_name(EngineSetting setting);

enum class ValueType {
  integer,   // `integer`
  number,    // `number`
  boolean,   // `boolean`
  text,      // `text`: a mode ("on", "off", "auto") or a type name, normalised as the engine does
  duration,  // `integer` nanoseconds; negative: forever
};

// A setting as the engine ends up reading it.
struct SettingValue {
  EngineSetting setting = EngineSetting::context;
  std::string name;  // the variable, flag or PARAMETER as written ("OLLAMA_NUM_PARALLEL", "-c")
  std::string raw;   // the value as written (after interpolation and quote removal)
  Origin origin;
  ValueType type = ValueType::text;
  std::int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::string text;
};

enum class DiagnosticKind {
  not_read,              // no release of the engine reads this name; `control` says what does
  application_variable,  // not the engine's: an application's, the system's or a client's
  misspelled,            // close to a name the engine reads: `suggestion`
  parsed_differently,    // read, but the engine makes `effective` of it; `suggestion` = intended
  invalid_value,         // read, refused: the engine uses `effective` (its default) or, when
                         // `fatal`, does not start (or `ollama create` fails)
  not_memory_relevant,   // read, no effect on memory
  overridden,            // read, but `suggestion` (a stronger name) sets the same setting
  removed_parameter,     // a Modelfile PARAMETER Ollama no longer accepts (`fatal`)
  unknown_name,          // an unknown flag or Modelfile PARAMETER the engine refuses (`fatal`)
};

[[nodiscard]] std::string_view diagnostic_kind_name(DiagnosticKind kind);

// What `suggestion` is.
enum class SuggestionKind {
  none,
  variable,             // an environment variable name
  flag,                 // a command-line flag
  modelfile_parameter,  // a Modelfile PARAMETER (also the API option of the same name)
  value,                // a value for the same name
};

struct Diagnostic {
  DiagnosticKind kind = DiagnosticKind::not_read;
  std::string name;   // as written
  std::string value;  // as written
  Origin origin;
  std::optional<EngineSetting> setting;  // the setting concerned, when there is one
  SuggestionKind suggestion_kind = SuggestionKind::none;
  std::string suggestion;
  std::string effective;  // what the engine uses instead, as text ("on", "5m0s", "8")
  bool fatal = false;     // the engine does not start with it
};

struct Deployment {
  DeployEngine engine = DeployEngine::ollama;
  std::optional<SettingValue> model;  // FROM, -m/--model, vLLM's model
  // The effective value of each setting that is set, at most one per EngineSetting, in
  // EngineSetting order.
  std::vector<SettingValue> settings;
  // Environment entries replaced by a later one of the same name first, then in the order
  // the engine reads its sources (environment, then Modelfile or arguments).
  std::vector<Diagnostic> diagnostics;

  [[nodiscard]] const SettingValue* find(EngineSetting setting) const;
};

// Caps on what interpret_deployment takes (the readers' own caps are lower).
inline constexpr std::size_t deployment_max_entries = 65536;

// Reads `input` as `input.engine` does. Never throws for what a file holds: everything the
// engine would ignore, misread or refuse becomes a Diagnostic. Throws Error{bad_input} only when
// the input is larger than deployment_max_entries.
[[nodiscard]] Deployment interpret_deployment(const DeploymentInput& input);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
[[nodiscard]] std::optional<bool> go_parse_bool(std::string_view text);

// Go's time.ParseDuration, in nanoseconds (nullopt on a syntax error or an overflow).
[[nodiscard]] std::optional<std::int64_t> go_parse_duration(std::string_view text);

// Go's time.Duration.String(): "5m0s", "24h0m0s", "1.5s", "0s".
[[nodiscard]] std::string go_duration_string(std::int64_t nanoseconds);

// The name `engine` reads for `setting` where nothing sets it yet: an environment variable
// (Ollama, llama-server) or a flag (vLLM); with `modelfile_only`, Ollama's Modelfile PARAMETER
// for the context (num_ctx); "" when vramplan writes none (docs/engines.md §5).
[[nodiscard]] std::string_view setting_default_name(DeployEngine engine, EngineSetting setting,
                                                    bool modelfile_only = false);

// `value` ("on", "q8_0", "8192": a setting's value as check and fit produce it) as the name of
// setting_default_name() takes it: Ollama's boolean variables want a Go boolean ("true").
[[nodiscard]] std::string setting_value_text(DeployEngine engine, EngineSetting setting,
                                             std::string_view value);

}  // namespace vramplan
