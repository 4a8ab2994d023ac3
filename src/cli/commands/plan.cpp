// `vramplan fit` and `vramplan estimate`: one path for every engine. The flags are parsed and
// planned by the engine's front (engine_front.hpp), which returns the plan envelope; one
// renderer per format writes it (report/plan.hpp).
#include <array>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/report/plan.hpp>
#include <vramplan/version.hpp>

#include "../engine_front.hpp"
#include "commands.hpp"

namespace vramplan::cli {
namespace {

void add_engine_flags(CLI::App& sub, PlanOptions& o) {
  for (const EngineFront* front : engine_fronts()) {
    if (front->add_flags != nullptr) front->add_flags(sub, o, o.fitted);
  }
}

void add_op_offload_flag(CLI::App& sub, PlanOptions& o) {
  sub.add_option("--op-offload", o.op_offload,
                 "llama.cpp engines: on (default) or off, llama-server's --no-op-offload: "
                 "batches of 32 tokens or more on host weights run on the GPU, whose compute "
                 "buffer holds copies of those weights")
      ->type_name("on|off");
}

void add_speed_flags(CLI::App& sub, PlanOptions& o) {
  sub.add_option("--ram-bandwidth", o.ram_bandwidth,
                 "system RAM bandwidth in GB/s: with --gpu, the speed estimate of a plan with "
                 "layers or experts on the CPU (e.g. 80)")
      ->type_name("GBPS");
}

}  // namespace

// The registry of memory models: a new one is a front (engine_front.hpp) added here.
std::span<const EngineFront* const> engine_fronts() {
  static constexpr std::array<const EngineFront*, 2> fronts{&llamacpp_front, &vllm_front};
  return fronts;
}

const EngineFront& engine_front(std::string_view engine_name) {
  const Engine* engine = find_engine(engine_name);
  const MemoryModel memory = engine != nullptr ? engine->memory : MemoryModel::llamacpp;
  for (const EngineFront* front : engine_fronts()) {
    if (front->memory == memory) return *front;
  }
  return llamacpp_front;
}

namespace {

constexpr std::initializer_list<Format> fit_formats{
    Format::table, Format::json, Format::env, Format::compose, Format::modelfile, Format::flags};

CLI::App* setup_fit(CLI::App& app, PlanOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "fit", "find the settings (GPU layers, context, slots, KV type) that make a model fit");
  add_model_flags(*sub, o.model);
  sub->add_option("--ram", o.ram, "system RAM to fit the CPU part into (e.g. 64G)")
      ->type_name("SIZE");
  sub->add_option("--ctx", o.ctx, "fixed context length (default: chosen by the planner)")
      ->type_name("N");
  sub->add_option("--parallel", o.parallel, "fixed number of parallel slots")->type_name("N");
  sub->add_option("--kv-type", o.kv_type,
                  "KV cache type: auto (default: f16, or q8_0 when that keeps every layer on the "
                  "GPU), or a fixed f16, q8_0, q4_0, ...")
      ->type_name("TYPE");
  sub->add_option("--flash-attn", o.flash_attn, "on, off or auto (default: auto = on)")
      ->type_name("on|off|auto");
  sub->add_option("--gpu-layers", o.gpu_layers, "fixed GPU layers: N or all")->type_name("N|all");
  sub->add_option("--cpu-moe", o.cpu_moe,
                  "fixed number of blocks whose MoE experts stay in RAM: N or all (llama.cpp's "
                  "--n-cpu-moe; default: chosen by the planner for llama.cpp engines)")
      ->type_name("N|all");
  sub->add_option("--ubatch", o.ubatch, "fixed physical batch size (-ub)")->type_name("N");
  sub->add_option("--batch", o.batch, "fixed logical batch size (-b)")->type_name("N");
  add_op_offload_flag(*sub, o);
  sub->add_option("--headroom", o.headroom,
                  "memory kept free per GPU: fit, stable, conservative, none, SIZE or N%")
      ->type_name("POLICY")
      ->default_str("fit");
  sub->add_option("--min-ctx", o.min_ctx, "shortest context the planner may pick (default 4096)")
      ->type_name("N");
  add_speed_flags(*sub, o);
  add_output_flags(*sub, o.output, fit_formats, true);
  add_engine_flags(*sub, o);
  sub->footer("Example: vramplan fit --vram 24G --ram 64G --model llama3.1:70b --format env");
  return sub;
}

CLI::App* setup_estimate(CLI::App& app, PlanOptions& o) {
  CLI::App* sub =
      app.add_subcommand("estimate", "memory needed by one explicit configuration, per device");
  add_model_flags(*sub, o.model);
  sub->add_option("--ctx", o.ctx,
                  "context length (default: the engine's: Ollama's VRAM tier, or 4096 without "
                  "--vram; the model's maximum for llama.cpp)")
      ->type_name("N");
  sub->add_option("--parallel", o.parallel, "parallel slots (default: the engine's)")
      ->type_name("N");
  sub->add_option("--gpu-layers", o.gpu_layers,
                  "layers on the GPU: N or all (default: all with a GPU backend)")
      ->type_name("N|all");
  sub->add_option("--cpu-moe", o.cpu_moe,
                  "MoE models: keep the experts of the first N blocks in RAM, as llama.cpp's "
                  "--n-cpu-moe N (all: --cpu-moe; default 0)")
      ->type_name("N|all");
  sub->add_option("--kv-type", o.kv_type, "KV cache type (default f16; auto = f16)")
      ->type_name("TYPE");
  sub->add_option("--flash-attn", o.flash_attn, "on or off (default on; auto = on)")
      ->type_name("on|off|auto");
  sub->add_option("--ubatch", o.ubatch, "physical batch size (default: the engine's)")
      ->type_name("N");
  sub->add_option("--batch", o.batch, "logical batch size (default: the engine's)")->type_name("N");
  add_op_offload_flag(*sub, o);
  add_speed_flags(*sub, o);
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  add_engine_flags(*sub, o);
  sub->footer(
      "Example: vramplan estimate --engine vllm --vram 24G --model qwen2.5:14b "
      "--max-model-len 16K --quantization gptq-g128\n"
      "Example: vramplan estimate --vram 16G --model llama3.1:8b --ctx 8192");
  return sub;
}

}  // namespace

Command add_fit_command(CLI::App& app) {
  return make_command(app, PlanOptions{.fitted = true}, setup_fit, run_plan);
}

Command add_estimate_command(CLI::App& app) {
  return make_command(app, PlanOptions{.fitted = false}, setup_estimate, run_plan);
}

bool op_offload_on(const PlanOptions& options) {
  return !options.op_offload.has_value() ||
         parse_on_off_auto("--op-offload", *options.op_offload, false).value_or(true);
}

ExitCode run_plan(const PlanOptions& options, Context& context) {
  PlanOptions o = options;
  if (!o.model.models.empty()) o.model.model = o.model.models.front();
  const EngineFront& front = engine_front(o.model.engine);
  // Every flag is validated before any work, so that usage errors come first.
  const Format format = o.fitted ? parse_format(o.output.format, fit_formats)
                                 : parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  require_model(o.model, o.fitted ? "fit" : "estimate");
  if (o.model.models.size() > 1) return run_model_set(o, format, context);
  front.refuse_other_flags(o);
  if (format == Format::env && !op_offload_on(o)) {
    // common/arg.cpp gives --op-offload/--no-op-offload no LLAMA_ARG_ variable.
    throw Error(ErrorKind::usage,
                "--format env cannot turn op offload off (llama-server reads only the flag "
                "--no-op-offload): use --format flags or --format compose");
  }
  const PlannedModel planned = front.plan(o, context);

  const report::EnvOptions env_options{.tool_version = version, .model_ref = planned.model_ref};
  std::string content;
  if (format == Format::json) {
    content = report::render_plan_json(planned.model, planned.plan);
  } else if (format == Format::env) {
    content = report::render_plan_env(planned.model, planned.plan, env_options);
  } else if (format == Format::compose) {
    content = report::render_plan_compose(planned.model, planned.plan, env_options);
  } else if (format == Format::modelfile) {
    content = report::render_plan_modelfile(planned.model, planned.plan, env_options);
  } else if (format == Format::flags) {
    content = report::render_plan_flags(planned.model, planned.plan, env_options);
  } else {
    const bool color = !o.output.output.has_value() && use_color(context);
    content = report::render_plan_table(planned.model, planned.plan,
                                        report::TableOptions{.color = color});
  }
  // `estimate` has a verdict too (every GPU holds its part); neither writes -o when it fails.
  emit_plan(context, o.output, content, planned.plan.fits);
  return planned.plan.fits ? ExitCode::success : ExitCode::no_fit;
}

}  // namespace vramplan::cli
