// `vramplan recommend`: the catalog models and quantizations that fit a GPU, ranked by a
// stated quality proxy, with the context each allows and its speed (docs/sizing.md §8).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/recommend.hpp>
#include <vramplan/report/sizing.hpp>

#include "../flags.hpp"
#include "commands.hpp"

namespace vramplan::cli {
namespace {

// The backend a card runs llama.cpp with: Metal on Apple, Vulkan on Intel, else CUDA (ROCm
// runs ggml-cuda's code, docs/sizing.md §8.8).
Backend backend_of(const Gpu* gpu) {
  if (gpu == nullptr) return Backend::cuda;
  switch (gpu->vendor) {
    case GpuVendor::apple:
      return Backend::metal;
    case GpuVendor::intel:
      return Backend::vulkan;
    case GpuVendor::nvidia:
    case GpuVendor::amd:
      break;
  }
  return Backend::cuda;
}

struct RecommendOptions {
  ModelFlags model;  // --vram, --gpu, --engine, --catalog, --gpu-catalog
  OutputFlags output;
  FlagValue ram, task, limit, ram_bandwidth, headroom;
};

CLI::App* setup_recommend(CLI::App& app, RecommendOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "recommend", "which catalog models fit a GPU (on the GPU, then with offload), best first");
  sub->add_option("--vram", o.model.vram,
                  "GPU memory, one size per GPU: 8G, 24G,24G, or auto (this machine's GPUs)")
      ->type_name("SIZE[,SIZE...]|auto");
  sub->add_option("--gpu", o.model.gpu,
                  "GPUs from the catalog instead of --vram (with speed): 4090, 3090x2, or auto")
      ->type_name("NAME[,NAME...]|NAMExN|auto");
  sub->add_option("--ram", o.ram,
                  "system RAM for models that fit with offload (e.g. 64G, or auto); unset: "
                  "only models fully on the GPU")
      ->type_name("SIZE|auto");
  sub->add_option("--task", o.task, "only models for: chat, code, embed or vision (default: all)")
      ->type_name("TASK");
  sub->add_option("--limit", o.limit,
                  "at most N models per list, the best ones (0 = all; default 20)")
      ->type_name("N");
  sub->add_option("--ram-bandwidth", o.ram_bandwidth,
                  "system RAM bandwidth in GB/s, for the speed of offloaded models (e.g. 80)")
      ->type_name("GBPS");
  sub->add_option("--headroom", o.headroom,
                  "memory kept free per GPU: fit, stable, conservative, none, SIZE or N%")
      ->type_name("POLICY")
      ->default_str("fit");
  sub->add_option("--engine", o.model.engine,
                  "whose rules to apply: ollama, llamacpp (llama-server) or llamacpp-lib")
      ->type_name("ENGINE")
      ->default_str("ollama");
  add_catalog_flag(*sub, o.model.catalogs);
  add_gpu_catalog_flag(*sub, o.model.gpu_catalogs);
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  sub->footer("Example: vramplan recommend --gpu rtx-3060 --limit 5");
  return sub;
}

ExitCode run_recommend(const RecommendOptions& o, Context& context) {
  const Format format = parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  if (!o.model.vram && !o.model.gpu) {
    throw Error(ErrorKind::usage,
                "recommend needs --vram SIZE or --gpu NAME (run 'vramplan recommend --help')");
  }
  const Engine& engine = parse_engine(o.model.engine);
  if (engine.id == EngineId::vllm) {
    throw Error(ErrorKind::usage,
                "recommend plans llama.cpp engines (ollama, llamacpp, llamacpp-lib); for vLLM "
                "use 'vramplan size --engine vllm' or 'vramplan fit --engine vllm'");
  }
  RecommendRequest request;
  request.engine = &engine;
  if (o.task) {
    const std::optional<ModelTask> task = parse_model_task(*o.task);
    if (!task) {
      throw Error(
          ErrorKind::usage,
          fmt::format("--task: unknown task '{}' (use chat, code, embed or vision)", *o.task));
    }
    request.task = *task;
  }
  request.limit = static_cast<std::size_t>(o.limit ? parse_integer("--limit", *o.limit, 0, 100000)
                                                   : std::int64_t{20});
  if (o.headroom) request.headroom = parse_headroom(*o.headroom);
  if (o.ram_bandwidth) {
    request.ram_bandwidth_gbps =
        static_cast<double>(parse_integer("--ram-bandwidth", *o.ram_bandwidth, 1, 100000));
  }
  const Devices devices = resolve_devices(o.model, context);
  request.vram = devices.vram;
  request.gpu = devices.same_card();
  request.backend = backend_of(request.gpu);
  if (o.ram) request.ram = parse_ram(*o.ram, "--ram", context);
  if (request.ram_bandwidth_gbps > 0 && request.ram == 0) {
    warn(context, "--ram-bandwidth is used only with --ram (the offload list)");
  }

  const Catalog catalog = load_catalog(o.model.catalogs, context);
  const RecommendResult result = recommend(catalog, request);
  emit(context, o.output,
       format == Format::json ? report::render_recommend_json(result)
                              : report::render_recommend_table(result));
  // Nothing fits, on the GPU or with offload: "no match" (exit 1).
  return result.full_gpu.empty() && result.offload.empty() ? ExitCode::no_fit : ExitCode::success;
}

}  // namespace

Command add_recommend_command(CLI::App& app) {
  return make_command(app, RecommendOptions{}, setup_recommend, run_recommend);
}

}  // namespace vramplan::cli
