// `vramplan estimate`: the memory breakdown of one explicit configuration.
#include <algorithm>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/planner.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/table.hpp>

#include "commands.hpp"

namespace vramplan::cli {

CLI::App* setup_estimate(CLI::App& app, EstimateOptions& o) {
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
  sub->add_option("--kv-type", o.kv_type, "KV cache type (default f16)")->type_name("TYPE");
  sub->add_option("--flash-attn", o.flash_attn, "on or off (default on; auto = on)")
      ->type_name("on|off|auto");
  sub->add_option("--ubatch", o.ubatch, "physical batch size (default: the engine's)")
      ->type_name("N");
  sub->add_option("--batch", o.batch, "logical batch size (default: the engine's)")->type_name("N");
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  add_vllm_flags(*sub, o.vllm, false);
  sub->footer("Example: vramplan estimate --vram 16G --model llama3.1:8b --ctx 8192");
  return sub;
}

ExitCode run_estimate(const EstimateOptions& o, Context& context) {
  if (const Engine* e = find_engine(o.model.engine); e != nullptr && e->id == EngineId::vllm) {
    return run_estimate_vllm(o, context);  // vLLM has its own memory model: vllm.cpp
  }
  reject_vllm_flags(o.vllm);
  const Format format = parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  require_model(o.model, "estimate");
  const Engine& engine = parse_engine(o.model.engine);
  std::vector<Bytes> gpus;
  if (o.model.vram.has_value()) gpus = parse_vram(*o.model.vram);
  const Backend backend = parse_backend_flag(o.model.backend, !gpus.empty());

  Config config;
  std::optional<std::int32_t> parallel;
  if (o.parallel) {
    parallel = static_cast<std::int32_t>(parse_integer("--parallel", *o.parallel, 1, 256));
  }
  const Slots slots = engine_slots(engine, parallel);
  config.parallel = slots.parallel;
  config.kv_unified = slots.kv_unified;
  // 0: not given. (A std::optional here trips g++ 12's -Wmaybe-uninitialized at -O3.)
  const std::int64_t ctx = o.ctx ? parse_integer("--ctx", *o.ctx, 1, max_ctx_setting) : 0;
  const BatchFlags batch = parse_batch_flags(engine, o.batch, o.ubatch, context);
  if (o.kv_type.has_value()) config.type_k = config.type_v = parse_kv_type(*o.kv_type);
  config.cpu_repack = parse_cpu_repack_flag(o.model.cpu_repack);
  if (o.flash_attn.has_value()) {
    config.flash_attn = parse_on_off_auto("--flash-attn", *o.flash_attn, true).value_or(true);
  }
  check_kv_flash_attn(config.type_v, config.flash_attn);

  const Catalog catalog = load_catalog(o.model.catalogs, context);
  const io::LoadedModel resolved = resolve_model(catalog, o.model, context, false);
  warn_notes(context, resolved.notes);
  const Model& model = resolved.model;
  const std::int32_t total_layers = model.spec.n_layer + 1;

  // The model's own defaults (an Ollama .params layer) stand in for flags not given.
  const io::ModelDefaults& defaults = resolved.defaults;
  if (ctx == 0 && defaults.num_ctx) {
    warn(context, fmt::format("context {} from {}", *defaults.num_ctx, defaults.origin));
  }
  config.ctx = ctx > 0 ? ctx : defaults.num_ctx.value_or(engine_default_ctx(model, engine, gpus));
  const Batches batches =
      engine_batches(model, engine, backend, config.ctx, config.parallel, config.flash_attn, gpus,
                     batch.batch, batch.ubatch ? batch.ubatch : defaults.num_batch);
  config.n_batch = batches.n_batch;
  config.n_ubatch = batches.n_ubatch;
  config.gpu_layers = !o.gpu_layers.has_value() ? (backend == Backend::cpu ? 0 : total_layers)
                                                : parse_gpu_layers(*o.gpu_layers, total_layers);
  if (o.cpu_moe.has_value()) config.cpu_moe = parse_cpu_moe(*o.cpu_moe, model.spec.n_layer);
  if (backend == Backend::cpu && config.gpu_layers > 0) {
    warn(context, "--gpu-layers is ignored with --backend cpu");
  }
  if (backend == Backend::cpu && !gpus.empty()) {
    warn(context, "--vram is ignored with --backend cpu");
  }

  check_cpu_moe_engine(engine, model, config.cpu_moe);
  const Estimate result = estimate(model, engine, backend, config, gpus);
  warn_notes(context, result.notes);
  const std::string content =
      format == Format::json
          ? report::render_estimate_json(model, result)
          : report::render_estimate_table(
                model, result,
                report::TableOptions{.color = !o.output.output.has_value() && use_color(context)});
  emit(context, o.output, content);
  return ExitCode::success;
}

}  // namespace vramplan::cli
