// The plan every engine returns, whatever its memory model: whether it fits, the settings
// (typed key/values), each device's memory by component, and what the planner decided, why it
// does not fit and what would — plus the engine's own figures in `detail`. `fit` and `estimate`
// build one for every engine, and each output format has one renderer of it (src/report/plan*).
//
// An engine is a front-end profile (Ollama, llama-server, the library, vLLM's server: engine.hpp)
// over a memory model (MemoryModel: llama.cpp's buffers in planner.hpp and estimate.hpp, vLLM's
// utilization budget in vllm.hpp). A memory model fills this envelope through to_plan() below;
// docs/architecture.md "How to add an engine".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/setting.hpp>
#include <vramplan/speed.hpp>
#include <vramplan/vllm.hpp>

namespace vramplan {

// One part of a device's memory, named as the JSON key stem: "weights", "kv_cache", "compute",
// "output", "overhead" (llama.cpp); "pre_snapshot", "weights", "activation", "non_torch",
// "cuda_graph", "kv_cache" (vLLM). A vLLM KV pool over budget is negative.
struct Component {
  std::string_view name;
  Bytes bytes = 0;
};

struct PlanDevice {
  std::string name;  // "CUDA0", "CPU", "GPU0"
  DeviceKind kind = DeviceKind::host;
  Bytes capacity = 0;                  // 0 when unknown
  std::optional<std::int32_t> layers;  // llama.cpp: offloadable layers placed here
  std::vector<Component> components;

  // The components' sum, overflow-checked: what the engine takes on this device.
  [[nodiscard]] Bytes total() const;
};

// One setting of the plan in the engine's own terms: its JSON key ("ctx", "max_model_len"), the
// setting it is (Setting::none for derived figures such as total_layers) and its value.
struct PlanValue {
  std::string_view key;
  Setting setting = Setting::none;
  std::variant<std::int64_t, double, bool, std::string> value;
};

// A change that would make a configuration that does not fit, fit (or come closer), with the
// figures of the changed plan: "gpu_bytes" (llama.cpp), "max_model_len" and "kv_tokens" (vLLM).
struct PlanSuggestion {
  Finding change;
  bool fits = false;
  std::vector<Fact> figures;
};

// Another complete plan for a request that fits only with part of the model on the CPU or a
// shorter context than asked (planner.hpp Alternative): the change (its `changes` are the
// settings to give), the settings of the changed plan, its figures ("gpus", "gpu_bytes": what it
// takes on the GPUs, "gpu_capacity_bytes") and its speed when the plan's is known.
struct PlanAlternative {
  Finding change;
  bool fits = false;
  std::vector<PlanValue> recommendation;
  std::vector<Fact> figures;
  std::optional<SpeedEstimate> speed;
};

struct Plan {
  const Engine* engine = nullptr;
  bool fitted = false;  // from `fit` (settings chosen) rather than `estimate` (settings given)
  bool fits = false;
  std::vector<PlanValue> recommendation;  // for `estimate`, the settings as given or defaulted
  std::vector<PlanDevice> devices;        // GPUs in order, then the host where the engine has one
  std::vector<Finding> decisions;         // what was chosen and why
  std::vector<Finding> reasons;           // why it does not fit
  std::vector<Finding> notes;             // clamps, assumptions
  std::vector<PlanSuggestion> suggestions;
  // llama.cpp engines: when the plan puts layers on the CPU or shortens the context.
  std::vector<PlanAlternative> alternatives;
  // How fast one sequence decodes and a prompt is read, when the device is known well enough
  // (a catalog card with its bandwidth: --gpu; the host's with --ram-bandwidth): an estimate
  // from the bytes each token reads (speed.hpp, docs/speed.md).
  std::optional<SpeedEstimate> speed;
  // The memory model's own result, for the figures only it has (llama.cpp's context shape and
  // headroom, vLLM's budget checks and KV blocks).
  std::variant<LlamaPlan, VllmPlan> detail;

  [[nodiscard]] Bytes total() const;  // over every device
};

// The envelope of a llama.cpp-family plan. `fitted` false: an estimate (plan.estimate of the
// given config); fits when every device with a known capacity holds its total.
[[nodiscard]] Plan to_plan(LlamaPlan plan, bool fitted);
// The envelope of a vLLM plan; `fitted` false: an estimate (plan.estimate of the given request).
[[nodiscard]] Plan to_plan(VllmPlan plan, bool fitted);

}  // namespace vramplan
