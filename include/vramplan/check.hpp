// `vramplan check` (issue 11): an existing deployment's settings, evaluated under full load (every
// slot busy at its full context) on the given GPUs and RAM, per device and per model; and the
// smallest single change that makes it fit, tried in the order a person would accept one. Pure
// data in, data out: the readers (io/deploy_files.hpp) and interpret_deployment() make the
// Deployment, the command line spells the changes as the file's variables, flags or PARAMETERs,
// the renderers (report/check.hpp) say it. Rules: docs/engines.md §1.6 (Ollama's scheduler),
// §2 (llama-server), §3 (vLLM), §5 (check).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/deployment.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/model.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan {

// One model the deployment serves, as resolved by the command line.
struct CheckModel {
  Model model;
  // Other quantizations of the same model (catalog), largest first or in any order: the
  // smaller-quantization fix picks the largest whose set fits.
  std::vector<Model> alternatives;
  // vLLM: a catalog entry, loaded as its Hugging Face checkpoint in the deployment's dtype
  // (vllm_checkpoint_model); false for a file, whose tensors are used as they are.
  bool from_catalog = true;
  // Ollama: the model's own context (its Modelfile's num_ctx, or the requests' options.num_ctx),
  // which beats the server's OLLAMA_CONTEXT_LENGTH; nullopt: the server's.
  std::optional<std::int64_t> ctx;
};

// A change to one engine setting; the value as the engine reads it ("q8_0", "1", "8192",
// "0.9", "on"); for EngineSetting::model, a model name.
struct SettingChange {
  EngineSetting setting = EngineSetting::context;
  std::string value;
  friend bool operator==(const SettingChange&, const SettingChange&) = default;
};

enum class CheckVerdict {
  fits,            // everything requested on the GPUs, and in RAM
  spills,          // runs, but layers the engine was free to place went to the CPU
  out_of_memory,   // a GPU or the RAM is over capacity: the load fails
  take_turns,      // Ollama: the models cannot be resident together; they evict each other
  does_not_start,  // vLLM: its start-up or KV-cache check fails
};

[[nodiscard]] std::string_view to_string(CheckVerdict verdict);

// The memory of one model (per device) as the engine would run it.
struct CheckedModel {
  std::string name;
  // Set in a plan of separate containers (model_set.hpp) when the model is not the result's
  // engine's: a vLLM container beside an Ollama server.
  std::optional<DeployEngine> engine;
  std::int64_t ctx = 0;  // llama family: the context setting (per slot for Ollama); vLLM: length
  std::int32_t parallel = 1;  // slots, vLLM: max_num_seqs
  std::string kv_type;        // "f16", "q8_0"; vLLM "auto"/"fp8"
  bool flash_attention = true;
  std::int32_t gpu_layers = 0;
  std::int32_t total_layers = 0;
  std::int32_t cpu_moe = 0;    // blocks whose routed experts stay in RAM (--n-cpu-moe, --fit)
  bool layers_chosen = false;  // the engine places the layers (nothing pins them)
  bool embedding = false;
  std::vector<Bytes> gpu_bytes;  // per GPU
  Bytes ram_bytes = 0;           // host memory (CPU layers, buffers)
  CheckVerdict verdict = CheckVerdict::fits;
};

// One device's totals over the models resident together.
struct CheckedDevice {
  std::string name;    // "GPU0", ..., "RAM"
  Bytes capacity = 0;  // 0: not given (RAM without --ram)
  Bytes used = 0;
  Bytes weights = 0;
  Bytes kv_cache = 0;
  Bytes compute = 0;  // compute buffers and output (vLLM: activation peak)
  Bytes other = 0;    // runtime overhead, projectors, vLLM's reservations
  [[nodiscard]] Bytes over() const { return capacity > 0 && used > capacity ? used - capacity : 0; }
};

// A single change tried, and what it gives.
struct CheckFix {
  Finding what;  // a check_fix_* finding
  std::vector<SettingChange> changes;
  bool fits = false;
  Bytes gpu_used = 0;             // the largest GPU's use after the change
  std::int32_t gpu_layers = 0;    // layers on the GPUs after it, all models together
  std::int32_t total_layers = 0;  // of that many
  std::int32_t cpu_moe = 0;       // blocks whose routed experts stay in RAM, all models together
};

struct CheckResult {
  DeployEngine engine = DeployEngine::ollama;
  CheckVerdict verdict = CheckVerdict::fits;
  [[nodiscard]] bool fits() const { return verdict == CheckVerdict::fits; }
  std::int32_t max_loaded = 0;  // Ollama: models allowed at once (after the default)
  bool resident_together = true;
  std::vector<CheckedModel> models;
  std::vector<CheckedDevice> devices;  // GPUs in order, then "RAM"
  std::vector<Finding> findings;       // why it does not fit, and notes
  // The first single change, in the order tried, that fits; else the changes combined in that
  // order (check_fix_combined), which may still not fit (fits = false: the closest).
  std::optional<CheckFix> fix;
  std::vector<CheckFix> alternatives;  // further single changes that fit
  std::int64_t evaluations = 0;        // configurations evaluated (bounded)
};

struct CheckRequest {
  std::vector<CheckModel> models;  // at least one
  std::vector<Bytes> gpus;         // at least one
  Bytes ram = 0;                   // 0: not checked
  // Settings no fix may change (fit of several models: what the user fixed on the command
  // line); the KV cache types count as one.
  std::vector<EngineSetting> keep;
  // Whether "fewer models loaded at once" (Ollama: they take turns) may be offered.
  bool take_turns = true;
};

// A model's name with its quantization when the name does not end in it ("llama3.1-8b Q3_K_M"):
// how a smaller-quantization fix names the model (SettingChange::value).
[[nodiscard]] std::string quantized_name(const Model& model);

// llama-server's -fitt / LLAMA_ARG_FIT_TARGET: MiB per GPU, separated by ',' or '/', one value
// for every GPU (llama.cpp common/arg.cpp); the margins in bytes, at most 15 (llama.cpp refuses
// llama_max_devices() values or more), each at most 2^40 MiB. nullopt when llama-server would
// refuse the text.
[[nodiscard]] std::optional<std::vector<Bytes>> parse_fit_target(std::string_view text);

// A vLLM deployment's settings as vLLM's request (no GPUs): what a vLLM service of a compose file
// runs with beside others (model_set.hpp).
[[nodiscard]] VllmRequest vllm_request_of(const Deployment& deployment);

// Evaluates `deployment` for `request`. Throws Error{invalid_setting} for a configuration the
// engine would refuse that is not a matter of memory (no model, more models than a vLLM server
// serves), Error{bad_input} when a size overflows.
[[nodiscard]] CheckResult check_deployment(const Deployment& deployment,
                                           const CheckRequest& request);

}  // namespace vramplan
