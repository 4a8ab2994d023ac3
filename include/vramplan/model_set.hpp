// Several models served by one Ollama server on the same GPUs (issue 11 §2): `fit` and
// `estimate` with --model given more than once. The set is evaluated as `vramplan check`
// evaluates a deployment (check.hpp: every model under full load, Ollama's scheduler rules for
// which models stay loaded together), from the server settings the command line gives; `fit`
// then applies the first single change that makes the set fit, in the order check tries them
// (a q8_0 KV cache, fewer slots, a shorter context, a smaller quantization, fewer models loaded
// at once), never one that changes a setting the user fixed. Rules: docs/engines.md §1.6 and
// docs/cli.md "Several models".
//
// vLLM servers in their own containers on the same GPU (--model vllm=MODEL) are part of a set:
// each holds its CUDA context, its whole --gpu-memory-utilization budget (a fraction of the
// device, checked against the free memory when it starts), its CUDA graphs and its sampler
// warm-up; the Ollama server gets what they leave. `fit` gives each the smallest utilisation
// that serves one request of its length, so that the set fits whatever order the containers
// start in (docs/cli.md "Separate containers on one GPU").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/check.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan {

// One vLLM server in its own container on the set's GPU.
struct VllmService {
  std::string name;       // how the tables name it; "" = the model's name
  Model model;            // as vLLM loads it (a catalog entry: its checkpoint in the dtype)
  std::string model_ref;  // what `vllm serve` gets: a Hugging Face repository or a path
  // Its settings; `gpus` is the set's. Unset max_model_len: the set's context, else the smaller
  // of the model's maximum and vllm_set_default_len; unset utilisation: the release's default
  // (estimate) or the smallest that serves one request of that length (fit).
  VllmRequest request;
};

// A vLLM server's length in a set when nothing sets it: a shared GPU is sized for ordinary
// chat turns, not the model's whole window (docs/cli.md "Separate containers on one GPU").
inline constexpr std::int64_t vllm_set_default_len = 8192;

struct SetRequest {
  std::vector<CheckModel> models;  // the Ollama server's; with `vllm`, two or more in all
  // The Ollama server's settings as its files give them (`check` of a compose file): evaluated
  // as they are, instead of the fields below; only with fitted = false.
  std::optional<Deployment> ollama;
  std::vector<VllmService> vllm;  // separate vLLM containers (one GPU only)
  std::vector<Bytes> gpus;        // at least one
  Bytes ram = 0;                  // 0: not checked
  // The server's settings; nullopt: Ollama's default (estimate) or the planner's choice (fit).
  std::optional<std::int64_t> ctx;       // per slot, every model (OLLAMA_CONTEXT_LENGTH)
  std::optional<std::int32_t> parallel;  // OLLAMA_NUM_PARALLEL
  std::optional<GgmlType> kv_type;       // nullopt: f16, or q8_0 when that makes the set fit
  std::optional<bool> flash_attn;        // nullopt: on
  bool fitted = true;                    // fit: change what is free until the set fits
};

// One setting of the server for the whole set, as the engine reads it ("8192", "q8_0", "on").
struct SetSetting {
  EngineSetting setting = EngineSetting::context;
  std::string value;
  bool changed = false;  // chosen by fit to make the set fit (not given, not a default)
};

// A vLLM container of the set as planned.
struct VllmServicePlan {
  std::string model_ref;
  VllmPlan plan;  // its estimate (plan.fits: it starts and serves one request of its length)
  // What it holds on the GPU once started: CUDA context, the whole budget, CUDA graphs captured
  // outside it and the sampler warm-up.
  Bytes footprint = 0;
  bool util_chosen = false;  // fit chose the utilisation
};

struct SetPlan {
  // The set as planned, every model under full load: the Ollama server's models, then a row
  // per vLLM container (CheckedModel::engine), devices summed over all of them.
  CheckResult result;
  std::vector<VllmServicePlan> vllm;  // in the order given
  // The Ollama server's models: the first rows of result.models (the vLLM rows come last).
  [[nodiscard]] std::size_t ollama_models() const { return result.models.size() - vllm.size(); }
  // The server's settings for the set, in EngineSetting order: context, parallel, max loaded
  // models, KV cache type, flash attention, and OLLAMA_SCHED_SPREAD on several GPUs.
  std::vector<SetSetting> settings;
  std::vector<Finding> decisions;      // the change fit applied (a check_fix_* finding), if any
  std::vector<SettingChange> changes;  // what it changed (a model: its new quantized_name)
  // Every model loaded together with all its layers placed (some may run on the CPU), or
  // taking turns because fit chose that; false when a device runs out of memory.
  bool fits = false;
};

// Plans `request`. Throws what check_deployment() and vllm_estimate() throw, and
// Error{invalid_setting} for fewer than two models, or vLLM containers on several GPUs.
[[nodiscard]] SetPlan plan_model_set(const SetRequest& request);

}  // namespace vramplan
