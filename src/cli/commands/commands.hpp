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

// --engine vllm only (src/cli/commands/vllm.cpp, docs/cli.md "vLLM").
struct VllmFlags {
  FlagValue max_model_len, gpu_memory_utilization, max_num_seqs, max_num_batched_tokens;
  FlagValue kv_cache_dtype, dtype, gpu_name, cudagraph_estimate;
  bool enforce_eager = false;
};

struct FitOptions {
  ModelFlags model;
  OutputFlags output;
  FlagValue ram;
  FlagValue ctx, parallel, kv_type, flash_attn, gpu_layers, cpu_moe, ubatch, batch;
  std::string headroom = "fit";
  FlagValue min_ctx;
  VllmFlags vllm;
};

struct EstimateOptions {
  ModelFlags model;
  OutputFlags output;
  FlagValue ctx, parallel, kv_type, flash_attn, gpu_layers, cpu_moe, ubatch, batch;
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

// `check` (check.cpp): an existing deployment's files.
struct CheckOptions {
  FlagValue env, compose, service, modelfile;
  std::vector<std::string> models;  // --model, repeatable
  FlagValue vram, ram, engine;
  std::vector<std::string> catalogs;
  OutputFlags output;
};

CLI::App* setup_fit(CLI::App& app, FitOptions& options);
CLI::App* setup_inspect(CLI::App& app, InspectOptions& options);
CLI::App* setup_estimate(CLI::App& app, EstimateOptions& options);
CLI::App* setup_models(CLI::App& app, ModelsOptions& options);

[[nodiscard]] ExitCode run_fit(const FitOptions& options, Context& context);
CLI::App* setup_check(CLI::App& app, CheckOptions& options);
[[nodiscard]] ExitCode run_check(const CheckOptions& options, Context& context);
[[nodiscard]] ExitCode run_estimate(const EstimateOptions& options, Context& context);
[[nodiscard]] ExitCode run_models(const ModelsOptions& options, Context& context);
[[nodiscard]] ExitCode run_inspect(const InspectOptions& options, Context& context);

// --engine vllm (vllm.cpp): its flags on fit/estimate, and the runs they branch to.
void add_vllm_flags(CLI::App& app, VllmFlags& flags, bool is_fit);
// Error{usage} when a vLLM-only flag is given with another engine.
void reject_vllm_flags(const VllmFlags& flags);
[[nodiscard]] ExitCode run_fit_vllm(const FitOptions& options, Context& context);
[[nodiscard]] ExitCode run_estimate_vllm(const EstimateOptions& options, Context& context);

}  // namespace vramplan::cli
