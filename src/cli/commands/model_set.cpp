// `fit` and `estimate` with --model repeated: the models of one Ollama server sharing its GPUs
// (core model_set.hpp, docs/cli.md "Several models").
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/limits.hpp>
#include <vramplan/model_set.hpp>
#include <vramplan/report/model_set.hpp>
#include <vramplan/version.hpp>

#include "../devices.hpp"
#include "../engine_front.hpp"
#include "commands.hpp"

namespace vramplan::cli {
namespace {

constexpr std::size_t max_models = 16;  // as `check`: each model costs a few plans

// The flags that set one model's placement or batches: with several models Ollama takes them
// per model (Modelfile PARAMETERs), which this plan does not write.
void refuse_single_model_flags(const PlanOptions& o) {
  const std::pair<bool, std::string_view> given[] = {
      {o.gpu_layers.has_value(), "--gpu-layers"}, {o.cpu_moe.has_value(), "--cpu-moe"},
      {o.ubatch.has_value(), "--ubatch"},         {o.batch.has_value(), "--batch"},
      {o.min_ctx.has_value(), "--min-ctx"},       {o.model.mmproj.has_value(), "--mmproj"},
      {o.headroom != "fit", "--headroom"},        {o.ram_bandwidth.has_value(), "--ram-bandwidth"},
      {o.op_offload.has_value(), "--op-offload"}};
  for (const auto& [is_given, flag] : given) {
    if (is_given) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} applies to one model: give --model once, or leave it out", flag));
    }
  }
}

// `--model ENGINE=MODEL`: a model served by that engine in its own container ("vllm",
// "vllm@0.11"), or by the Ollama server ("ollama"); a prefix that names no engine is part of
// the model's name (a path may hold '=').
struct SetMember {
  std::string engine;  // "" = the Ollama server
  std::string model;
  std::optional<std::int64_t> ctx;  // `,ctx=N`: its own context
};

SetMember parse_member(const std::string& text) {
  SetMember m{.engine = "", .model = text, .ctx = std::nullopt};
  const std::size_t eq = text.find('=');
  if (eq != std::string::npos) {
    const std::string prefix = text.substr(0, eq);
    if (prefix == "ollama" || prefix == "vllm" || prefix.starts_with("vllm@")) {
      m.engine = prefix == "ollama" ? "" : prefix;
      m.model = text.substr(eq + 1);
    }
  }
  ModelWithContext named = parse_model_context(m.model);
  m.model = std::move(named.name);
  m.ctx = named.ctx;
  return m;
}

}  // namespace

ExitCode run_model_set(const PlanOptions& o, Format format, Context& context) {
  const std::string_view command = o.fitted ? "fit" : "estimate";
  if (o.model.models.size() > max_models) {
    throw Error(ErrorKind::usage, fmt::format("--model: at most {} models", max_models));
  }
  std::vector<SetMember> members;
  bool containers = false;
  for (const std::string& text : o.model.models) {
    members.push_back(parse_member(text));
    if (members.back().model.empty()) {
      throw Error(ErrorKind::usage, fmt::format("--model '{}': no model after '='", text));
    }
    containers = containers || !members.back().engine.empty();
  }
  if (containers && format == Format::env) {
    throw Error(ErrorKind::usage,
                "--format env writes one server's environment; for an Ollama server and vLLM "
                "containers use --format compose, json or table");
  }
  if (format != Format::table && format != Format::json && format != Format::env &&
      format != Format::compose) {
    throw Error(ErrorKind::usage,
                fmt::format("--format {} writes one model's settings; for several models use "
                            "table, json, env or compose",
                            to_string(format)));
  }
  if (parse_engine(o.model.engine).id != EngineId::ollama) {
    throw Error(ErrorKind::usage,
                fmt::format("several --model on one server are Ollama's (--engine ollama); "
                            "llama-server and vLLM serve one model each: plan each server with "
                            "its own 'vramplan {}', or give vLLM containers sharing the GPU as "
                            "--model vllm=MODEL",
                            command));
  }
  if (o.model.backend && *o.model.backend != "cuda") {
    throw Error(ErrorKind::usage, "several models are planned on GPUs: --backend cuda only");
  }
  refuse_single_model_flags(o);
  // vLLM's flags apply to the vLLM containers; without one, they are refused as for one model.
  if (!containers) llamacpp_front.refuse_other_flags(o);
  SetRequest request;
  request.fitted = o.fitted;
  request.gpus = resolve_devices(o.model, context).vram;
  if (request.gpus.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("several models share GPUs: give --vram or --gpu (run 'vramplan {} "
                            "--help')",
                            command));
  }
  if (containers && request.gpus.size() != 1) {
    throw Error(ErrorKind::usage,
                "vLLM containers sharing a GPU (--model vllm=MODEL) are planned on one GPU: give "
                "one --vram size or one --gpu card");
  }
  if (o.ram) request.ram = parse_ram(*o.ram, "--ram", context);
  if (o.ctx) request.ctx = parse_token_count("--ctx", *o.ctx, 1, max_ctx_setting);
  if (o.parallel) {
    request.parallel = static_cast<std::int32_t>(parse_integer("--parallel", *o.parallel, 1, 256));
  }
  // --kv-type auto (fit's default): f16, or q8_0 when that is what makes the set fit.
  if (o.kv_type && *o.kv_type != "auto") request.kv_type = parse_kv_type(*o.kv_type);
  if (!o.fitted && !request.kv_type) request.kv_type = GgmlType::f16;
  if (o.flash_attn) request.flash_attn = parse_on_off_auto("--flash-attn", *o.flash_attn, true);

  const Catalog catalog = load_catalog(o.model.catalogs, context);
  for (const SetMember& member : members) {
    if (!member.engine.empty()) {
      request.vllm.push_back(vllm_set_service(o, member.model, member.engine, context));
      if (member.ctx) request.vllm.back().request.max_model_len = member.ctx;
      continue;
    }
    ModelFlags flags = o.model;
    flags.model = member.model;
    io::LoadedModel loaded = resolve_model(catalog, flags, context, o.fitted);
    warn_notes(context, loaded.notes);
    request.models.push_back(CheckModel{.model = std::move(loaded.model),
                                        .alternatives = std::move(loaded.alternatives),
                                        .from_catalog = loaded.kind == io::SourceKind::catalog,
                                        .ctx = member.ctx});
  }

  const SetPlan plan = plan_model_set(request);
  const report::SetReport rep{.plan = &plan, .fitted = o.fitted, .tool_version = version};
  std::string content;
  switch (format) {
    case Format::json:
      content = report::render_set_json(rep);
      break;
    case Format::env:
      content = report::render_set_env(rep);
      break;
    case Format::compose:
      content = report::render_set_compose(rep);
      break;
    default:
      content = report::render_set_table(rep);
  }
  emit_plan(context, o.output, content, plan.fits);
  return plan.fits ? ExitCode::success : ExitCode::no_fit;
}

}  // namespace vramplan::cli
