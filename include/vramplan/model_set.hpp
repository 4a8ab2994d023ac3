// Several models served by one Ollama server on the same GPUs (issue 11 §2): `fit` and
// `estimate` with --model given more than once. The set is evaluated as `vramplan check`
// evaluates a deployment (check.hpp: every model under full load, Ollama's scheduler rules for
// which models stay loaded together), from the server settings the command line gives; `fit`
// then applies the first single change that makes the set fit, in the order check tries them
// (a q8_0 KV cache, fewer slots, a shorter context, a smaller quantization, fewer models loaded
// at once), never one that changes a setting the user fixed. Rules: docs/engines.md §1.6 and
// docs/cli.md "Several models".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/check.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/ggml_type.hpp>

namespace vramplan {

struct SetRequest {
  std::vector<CheckModel> models;  // two or more
  std::vector<Bytes> gpus;         // at least one
  Bytes ram = 0;                   // 0: not checked
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

struct SetPlan {
  CheckResult result;  // the set as planned, every model under full load
  // The server's settings for the set, in EngineSetting order: context, parallel, max loaded
  // models, KV cache type, flash attention.
  std::vector<SetSetting> settings;
  std::vector<Finding> decisions;  // the change fit applied (a check_fix_* finding), if any
  std::vector<SettingChange> changes;  // what it changed (a model: its new quantized_name)
  // Every model loaded together with all its layers placed (some may run on the CPU), or
  // taking turns because fit chose that; false when a device runs out of memory.
  bool fits = false;
};

// Plans `request`. Throws what check_deployment() throws, and Error{invalid_setting} for fewer
// than two models.
[[nodiscard]] SetPlan plan_model_set(const SetRequest& request);

}  // namespace vramplan
