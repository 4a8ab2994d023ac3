// The subcommands, after CLI11's subcom_in_files example: each file under cli/commands/ defines
// `Command add_NAME_command(CLI::App&)`, which registers the subcommand and its flags on
// options it owns and returns how to run it. src/CMakeLists.txt lists the names in --help order
// and generates the table make_app() walks (docs/architecture.md "How to add a command").
#pragma once

#include <functional>
#include <span>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <vramplan/cli.hpp>
#include <vramplan/error.hpp>

#include "../common.hpp"
#include "../devices.hpp"
#include "../exit_code.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// --engine vllm only (src/cli/engine_vllm.cpp, docs/cli.md "vLLM").
struct VllmFlags {
  FlagValue max_model_len, gpu_memory_utilization, max_num_seqs, max_num_batched_tokens;
  FlagValue kv_cache_dtype, dtype, quantization, gpu_name, cudagraph_estimate;
  bool enforce_eager = false;
};

// `fit` and `estimate`: one set of flags, one path (plan.cpp); `fitted` tells them apart.
struct PlanOptions {
  bool fitted = false;  // `fit`: the unset settings are chosen; `estimate`: they take defaults
  ModelFlags model;
  OutputFlags output;
  FlagValue ctx, parallel, kv_type, flash_attn, gpu_layers, cpu_moe, ubatch, batch;
  FlagValue op_offload;          // llama.cpp engines: on (default) or off (--no-op-offload)
  FlagValue ram;                 // fit only
  std::string headroom = "fit";  // fit only
  FlagValue min_ctx;             // fit only
  FlagValue ram_bandwidth;       // GB/s, for the speed of what runs on the CPU
  VllmFlags vllm;
};

// --op-offload: on, also when not given, or off (llama-server's --no-op-offload); "auto" and
// other words are usage errors (plan.cpp).
[[nodiscard]] bool op_offload_on(const PlanOptions& options);

// `fit` or `estimate`, as options.fitted says (plan.cpp).
[[nodiscard]] ExitCode run_plan(const PlanOptions& options, Context& context);

// `fit` or `estimate` with --model given more than once: several models on one Ollama server
// (model_set.cpp), in `format` (table, json, env or compose).
[[nodiscard]] ExitCode run_model_set(const PlanOptions& options, Format format, Context& context);

// A registered command: its CLI11 subcommand and how to run it with the flags parsed into it.
struct Command {
  CLI::App* app = nullptr;
  std::function<ExitCode(Context&)> run;
};

// A command whose flags land in `options`, owned by the returned Command: `setup` adds the
// subcommand and its flags to `app`, `run` runs it once they are parsed.
template <class Options>
[[nodiscard]] Command make_command(CLI::App& app, Options options,
                                   CLI::App* (*setup)(CLI::App&, Options&),
                                   ExitCode (*run)(const Options&, Context&)) {
  auto owned = std::make_shared<Options>(std::move(options));
  CLI::App* sub = setup(app, *owned);
  return Command{sub, [owned, run](Context& context) { return run(*owned, context); }};
}

// The generated table (src/CMakeLists.txt): every command's add_NAME_command, in --help order.
using CommandFactory = Command (*)(CLI::App& app);
[[nodiscard]] std::span<const CommandFactory> command_factories();

}  // namespace vramplan::cli
