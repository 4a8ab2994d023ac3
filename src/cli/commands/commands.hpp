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

struct FitOptions {
  ModelFlags model;
  OutputFlags output;
  std::string ram;
  std::string ctx, parallel, kv_type, flash_attn, gpu_layers, ubatch, batch;
  std::string headroom = "fit";
  std::string min_ctx;
};

struct EstimateOptions {
  ModelFlags model;
  OutputFlags output;
  std::string ctx, parallel, kv_type, flash_attn, gpu_layers, ubatch, batch;
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

CLI::App* setup_fit(CLI::App& app, FitOptions& options);
CLI::App* setup_inspect(CLI::App& app, InspectOptions& options);
CLI::App* setup_estimate(CLI::App& app, EstimateOptions& options);
CLI::App* setup_models(CLI::App& app, ModelsOptions& options);

[[nodiscard]] ExitCode run_fit(const FitOptions& options, Context& context);
[[nodiscard]] ExitCode run_estimate(const EstimateOptions& options, Context& context);
[[nodiscard]] ExitCode run_models(const ModelsOptions& options, Context& context);
[[nodiscard]] ExitCode run_inspect(const InspectOptions& options, Context& context);

}  // namespace vramplan::cli
