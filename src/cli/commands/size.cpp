// `vramplan size`: the memory a model needs and, from the GPU catalog, which cards run it and
// how many of each (docs/sizing.md §7).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/limits.hpp>
#include <vramplan/report/sizing.hpp>
#include <vramplan/sizing.hpp>
#include <vramplan/vllm.hpp>

#include "../flags.hpp"
#include "commands.hpp"

namespace vramplan::cli {
namespace {

struct SizeOptions {
  ModelFlags model;  // --model, --catalog, --engine, --gpu-catalog
  OutputFlags output;
  FlagValue ctx, parallel, headroom, dtype, limit;
};

CLI::App* setup_size(CLI::App& app, SizeOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "size", "which GPUs run a model, how many of each, and in which layout (TP x PP, nodes)");
  sub->add_option("-m,--model", o.model.model,
                  "model: a GGUF file, an Ollama tag, a catalog id or a Hugging Face repo "
                  "(required)")
      ->type_name("NAME|FILE");
  sub->add_option("--engine", o.model.engine,
                  "whose rules to apply: ollama, llamacpp (llama-server), llamacpp-lib "
                  "(layer split, RPC over nodes), vllm (tensor x pipeline parallel)")
      ->type_name("ENGINE")
      ->default_str("ollama");
  sub->add_option("--ctx", o.ctx,
                  "context length to size for (default 4096, or the model's maximum if smaller)")
      ->type_name("N");
  sub->add_option("--parallel", o.parallel,
                  "parallel slots (vLLM: --max-num-seqs; default: the engine's)")
      ->type_name("N");
  sub->add_option("--headroom", o.headroom,
                  "memory kept free per GPU (llama.cpp engines): fit, stable, conservative, none, "
                  "SIZE or N%")
      ->type_name("POLICY")
      ->default_str("fit");
  sub->add_option("--dtype", o.dtype,
                  "vLLM: how the checkpoint holds its weights: bf16, fp16 or fp8 (default bf16)")
      ->type_name("DTYPE");
  sub->add_option("--limit", o.limit, "at most N cards in the table, smallest sets first (0 = all)")
      ->type_name("N")
      ->default_str("0");
  add_catalog_flag(*sub, o.model.catalogs);
  add_gpu_catalog_flag(*sub, o.model.gpu_catalogs);
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  sub->footer("Example: vramplan size --model llama3.1:70b-q4_k_m");
  return sub;
}

ExitCode run_size(const SizeOptions& o, Context& context) {
  const Format format = parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  require_model(o.model, "size");
  const Engine& engine = parse_engine(o.model.engine);
  SizeRequest request;
  request.family = engine.id == EngineId::vllm ? SizeEngine::vllm : SizeEngine::llama_cpp;
  request.engine = request.family == SizeEngine::vllm ? nullptr : &engine;
  if (o.ctx) request.ctx = parse_integer("--ctx", *o.ctx, 1, max_ctx_setting);
  if (o.parallel) {
    request.parallel = static_cast<std::int32_t>(parse_integer("--parallel", *o.parallel, 1, 256));
  }
  if (o.headroom) {
    if (request.family == SizeEngine::vllm) {
      throw Error(ErrorKind::usage,
                  "--headroom does not apply to --engine vllm (its budget is "
                  "--gpu-memory-utilization, 0.92 by default)");
    }
    request.headroom = parse_headroom(*o.headroom);
  }
  if (o.dtype) {
    if (request.family != SizeEngine::vllm) {
      throw Error(ErrorKind::usage,
                  "--dtype applies to --engine vllm only (a GGUF file keeps "
                  "its quantization)");
    }
    const std::optional<VllmDtype> dtype = parse_vllm_dtype(*o.dtype);
    if (!dtype || *dtype == VllmDtype::checkpoint) {
      throw Error(ErrorKind::usage,
                  fmt::format("--dtype: unknown dtype '{}' (use bf16, fp16 or fp8)", *o.dtype));
    }
    request.vllm_dtype = *dtype;
  }

  const std::int64_t limit = o.limit ? parse_integer("--limit", *o.limit, 0, 100000) : 0;

  const GpuCatalog gpus = io::load_gpu_catalog(o.model.gpu_catalogs);
  const Catalog catalog = load_catalog(o.model.catalogs, context);
  const io::LoadedModel resolved = resolve_model(catalog, o.model, context, false);
  warn_notes(context, resolved.notes);
  const SizeResult result = size_model(resolved.model, gpus, request);
  emit(context, o.output,
       format == Format::json ? report::render_size_json(result)
                              : report::render_size_table(result, static_cast<std::size_t>(limit)));
  // No card of the catalog runs it within the node limits: "does not fit" (exit 1).
  return result.options.empty() ? ExitCode::no_fit : ExitCode::success;
}

}  // namespace

Command add_size_command(CLI::App& app) {
  return make_command(app, SizeOptions{}, setup_size, run_size);
}

}  // namespace vramplan::cli
