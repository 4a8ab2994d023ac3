// The subcommands, after CLI11's subcom_in_files example: an options struct, a function that
// registers its flags on a CLI11 subcommand, and a function that runs it (no CLI11 inside).
#pragma once

#include <string>
#include <vector>

#include <vramplan/cli.hpp>
#include <vramplan/error.hpp>

#include "../common.hpp"
#include "../exit_code.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// --engine vllm only (src/cli/engine_vllm.cpp, docs/cli.md "vLLM").
struct VllmFlags {
  FlagValue max_model_len, gpu_memory_utilization, max_num_seqs, max_num_batched_tokens;
  FlagValue kv_cache_dtype, dtype, gpu_name, cudagraph_estimate;
  bool enforce_eager = false;
};

// `fit` and `estimate`: one set of flags, one path (plan.cpp); `fitted` tells them apart.
struct PlanOptions {
  bool fitted = false;  // `fit`: the unset settings are chosen; `estimate`: they take defaults
  ModelFlags model;
  OutputFlags output;
  FlagValue ctx, parallel, kv_type, flash_attn, gpu_layers, cpu_moe, ubatch, batch;
  FlagValue ram;                 // fit only
  std::string headroom = "fit";  // fit only
  FlagValue min_ctx;             // fit only
  VllmFlags vllm;
};

struct ModelsOptions {
  std::string query;
  std::vector<std::string> catalogs;
  std::string format = "table";
};

struct InspectOptions {
  ModelFlags model;  // only model and catalogs are used
  OutputFlags output;
};

CLI::App* setup_fit(CLI::App& app, PlanOptions& options);
CLI::App* setup_estimate(CLI::App& app, PlanOptions& options);
CLI::App* setup_inspect(CLI::App& app, InspectOptions& options);
CLI::App* setup_models(CLI::App& app, ModelsOptions& options);

// `fit` or `estimate`, as options.fitted says.
[[nodiscard]] ExitCode run_plan(const PlanOptions& options, Context& context);
[[nodiscard]] ExitCode run_models(const ModelsOptions& options, Context& context);
[[nodiscard]] ExitCode run_inspect(const InspectOptions& options, Context& context);

}  // namespace vramplan::cli
