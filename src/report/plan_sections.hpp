// The engine-specific sections of the plan renderers (private to src/report): report/plan.cpp
// lays out what every plan has and calls these for what only one memory model has.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include <vramplan/finding.hpp>
#include <vramplan/model.hpp>
#include <vramplan/plan.hpp>
#include <vramplan/report/env.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/table.hpp>

namespace vramplan::report {

// "\n<title>\n" and one wrapped "  - " bullet per finding; "" when there are none.
[[nodiscard]] std::string bullet_list(const Styled& title, const std::vector<Finding>& items);

// Appends one line of a .env. Text from files reaches it only through format_text(), which
// escapes line breaks; a line break here would be a bug, not something to write.
void env_line(std::string& out, std::string_view text);

// llama.cpp family (table.cpp, env.cpp, plan.cpp).
// GPUs that hold at least one layer (env.cpp).
[[nodiscard]] int gpus_used(const Estimate& e);
// "24576,24576": each GPU's capacity in MiB, as llama.cpp's -ts proportions (env.cpp).
[[nodiscard]] std::string tensor_split(const Estimate& e);
// `speed`: the plan's, shown as one line under the verdict when known.
[[nodiscard]] std::string llama_fit_table(const Model& model, const LlamaPlan& plan,
                                          const std::optional<SpeedEstimate>& speed,
                                          const TableOptions& options);
[[nodiscard]] std::string llama_estimate_table(const Model& model, const LlamaPlan& plan,
                                               const std::optional<SpeedEstimate>& speed,
                                               const TableOptions& options);
[[nodiscard]] std::string llama_env(const Model& model, const LlamaPlan& plan,
                                    const EnvOptions& options);

// "speed:   ~52 tok/s ..." when the plan has a speed estimate, else "" (table.cpp).
[[nodiscard]] std::string speed_line(const std::optional<SpeedEstimate>& speed);

// vLLM (vllm.cpp).
[[nodiscard]] std::string vllm_table(const Model& model, const VllmPlan& plan, bool is_fit,
                                     const std::optional<SpeedEstimate>& speed,
                                     const TableOptions& options);
[[nodiscard]] std::string vllm_env(const Model& model, const VllmPlan& plan,
                                   const EnvOptions& options);
// The file type vLLM loads: the --dtype it plans, or the file's own type.
[[nodiscard]] std::string vllm_file_type(const Model& model, const VllmPlan& plan);
[[nodiscard]] nlohmann::ordered_json vllm_details_json(const VllmPlan& plan);
// `vllm serve`'s flags for the plan, after the model (deploy.cpp).
[[nodiscard]] std::vector<std::string> vllm_args(const VllmPlan& plan);

}  // namespace vramplan::report
