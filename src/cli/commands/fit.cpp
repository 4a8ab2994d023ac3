// `vramplan fit`: the settings that make a model fit the given GPUs and RAM.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/planner.hpp>
#include <vramplan/report/env.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/table.hpp>
#include <vramplan/version.hpp>

#include "../flags.hpp"
#include "commands.hpp"

namespace vramplan::cli {

CLI::App* setup_fit(CLI::App& app, FitOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "fit", "find the settings (GPU layers, context, slots, KV type) that make a model fit");
  add_model_flags(*sub, o.model);
  sub->add_option("--ram", o.ram, "system RAM to fit the CPU part into (e.g. 64G)")
      ->type_name("SIZE");
  sub->add_option("--ctx", o.ctx, "fixed context length (default: chosen by the planner)")
      ->type_name("N");
  sub->add_option("--parallel", o.parallel, "fixed number of parallel slots")->type_name("N");
  sub->add_option("--kv-type", o.kv_type, "fixed KV cache type: f16, q8_0, q4_0, ...")
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
  sub->add_option("--headroom", o.headroom,
                  "memory kept free per GPU: fit, stable, conservative, none, SIZE or N%")
      ->type_name("POLICY")
      ->default_str("fit");
  sub->add_option("--min-ctx", o.min_ctx, "shortest context the planner may pick (default 4096)")
      ->type_name("N");
  add_output_flags(*sub, o.output, {Format::table, Format::json, Format::env}, true);
  add_vllm_flags(*sub, o.vllm, true);
  sub->footer("Example: vramplan fit --vram 24G --ram 64G --model llama3.1:70b --format env");
  return sub;
}

ExitCode run_fit(const FitOptions& o, Context& context) {
  if (const Engine* e = find_engine(o.model.engine); e != nullptr && e->id == EngineId::vllm) {
    return run_fit_vllm(o, context);  // vLLM has its own memory model: vllm.cpp
  }
  reject_vllm_flags(o.vllm);
  // Validate every flag before any work, so usage errors come first.
  const Format format = parse_format(o.output.format, {Format::table, Format::json, Format::env});
  check_output_file(o.output);
  require_model(o.model, "fit");
  const Engine& engine = parse_engine(o.model.engine);
  FitRequest request;
  request.engine = &engine;
  if (o.model.vram.has_value()) request.vram = parse_vram(*o.model.vram);
  request.backend = parse_backend_flag(o.model.backend, !request.vram.empty());
  if (o.ram.has_value()) request.ram = parse_size(*o.ram, "--ram");
  request.headroom = parse_headroom(o.headroom);
  request.cpu_repack = parse_cpu_repack_flag(o.model.cpu_repack);
  if (o.ctx.has_value()) request.ctx = parse_integer("--ctx", *o.ctx, 1, max_ctx_setting);
  if (o.parallel.has_value()) {
    request.parallel = static_cast<std::int32_t>(parse_integer("--parallel", *o.parallel, 1, 256));
  }
  if (o.kv_type.has_value()) request.kv_type = parse_kv_type(*o.kv_type);
  if (o.flash_attn.has_value()) {
    request.flash_attn = parse_on_off_auto("--flash-attn", *o.flash_attn, true);
  }
  const BatchFlags batch = parse_batch_flags(engine, o.batch, o.ubatch, context);
  request.batch = batch.batch;
  request.ubatch = batch.ubatch;
  if (o.min_ctx.has_value()) {
    request.min_ctx = parse_integer("--min-ctx", *o.min_ctx, 1, max_ctx_setting);
  }
  if (request.backend != Backend::cpu && request.vram.empty()) {
    throw Error(ErrorKind::usage, fmt::format("--backend {} needs --vram (the size of each GPU)",
                                              to_string(request.backend)));
  }

  const Catalog catalog = load_catalog(o.model.catalogs, context);
  const io::LoadedModel resolved = resolve_model(catalog, o.model, context, true);
  warn_notes(context, resolved.notes);
  const Model& model = resolved.model;
  if (o.gpu_layers.has_value()) {
    request.gpu_layers = parse_gpu_layers(*o.gpu_layers, model.spec.n_layer + 1);
  }
  if (o.cpu_moe.has_value()) request.cpu_moe = parse_cpu_moe(*o.cpu_moe, model.spec.n_layer);
  // The model's own defaults (an Ollama .params layer) act as settings the user made: Ollama
  // applies them to every request that does not override them.
  std::vector<Finding> source_decisions;
  const io::ModelDefaults& defaults = resolved.defaults;
  if (!request.ctx && defaults.num_ctx) {
    request.ctx = *defaults.num_ctx;
    source_decisions.push_back(Finding(FindingKind::ctx_from_model,
                                       {{"ctx", *defaults.num_ctx}, {"origin", defaults.origin}}));
  }
  if (!request.ubatch && defaults.num_batch) {
    request.ubatch = *defaults.num_batch;
    source_decisions.push_back(
        Finding(FindingKind::batch_from_model,
                {{"batch", *defaults.num_batch}, {"origin", defaults.origin}}));
  }
  if (!request.gpu_layers && defaults.num_gpu) {
    request.gpu_layers = std::min(*defaults.num_gpu, model.spec.n_layer + 1);
    source_decisions.push_back(
        Finding(FindingKind::gpu_layers_from_model,
                {{"gpu_layers", *request.gpu_layers}, {"origin", defaults.origin}}));
  }
  if (request.backend == Backend::cpu) {
    if (!request.vram.empty()) warn(context, "--vram is ignored with --backend cpu");
    if (request.gpu_layers.value_or(0) > 0) {
      warn(context, "--gpu-layers is ignored with --backend cpu");
      request.gpu_layers = 0;
    }
  }
  if (request.vram.empty() && request.ram == 0) {
    warn(context, "neither --vram nor --ram given: nothing to fit into, only the sizes are shown");
  }

  check_kv_flash_attn(request.kv_type.value_or(GgmlType::f16), request.flash_attn.value_or(true));
  check_cpu_moe_engine(engine, model, request.cpu_moe.value_or(0));
  Plan plan = fit(model, request, resolved.alternatives);
  plan.decisions.insert(plan.decisions.begin(), source_decisions.begin(), source_decisions.end());
  warn_notes(context, plan.estimate.notes);

  std::string content;
  if (format == Format::json) {
    content = report::render_fit_json(model, plan);
  } else if (format == Format::env) {
    content = report::render_env(model, plan, report::EnvOptions{.tool_version = version});
  } else {
    const bool color = !o.output.output.has_value() && use_color(context);
    content = report::render_fit_table(model, plan, report::TableOptions{.color = color});
  }
  emit_plan(context, o.output, content, plan.fits);
  return plan.fits ? ExitCode::success : ExitCode::no_fit;
}

}  // namespace vramplan::cli
