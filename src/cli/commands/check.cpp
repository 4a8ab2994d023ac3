// `vramplan check`: an existing deployment (.env, compose service, Modelfile) evaluated under
// full load on the given GPUs, with the smallest change that makes it fit and, with -o, the
// file rewritten with it (docs/cli.md "check", docs/engines.md §5).
#include <set>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/check.hpp>
#include <vramplan/deployment.hpp>
#include <vramplan/io/deploy_files.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/model_set.hpp>
#include <vramplan/report/check.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/model_set.hpp>
#include <vramplan/version.hpp>

#include "commands.hpp"

namespace vramplan::cli {
namespace {

// `check`: an existing deployment's files.
struct CheckOptions {
  FlagValue env, compose, service, modelfile;
  std::vector<std::string> models;  // --model, repeatable
  FlagValue vram, ram, engine;
  std::vector<std::string> catalogs;
  OutputFlags output;
};

constexpr std::size_t max_models = 16;

// The files given, as read.
struct Inputs {
  std::optional<io::ComposeFile> compose;
  std::string service;  // the service checked
  DeploymentInput input;
};

// `compose`: the --compose file, already read.
Inputs read_inputs(const CheckOptions& o, std::optional<io::ComposeFile> compose) {
  Inputs in;
  std::optional<DeployEngine> image_engine;
  if (compose) {
    in.compose = std::move(compose);
    const io::ComposeService& s = io::select_service(*in.compose, o.service);
    in.service = s.name;
    in.input = io::deployment_input(s);
    image_engine = s.engine;
  }
  if (o.env) {
    const std::string text = io::read_text_file(*o.env, io::deploy_max_bytes);
    for (EnvEntry& e : io::parse_env_file(text, *o.env, io::EnvDialect::systemd)) {
      in.input.environment.push_back(std::move(e));
    }
  }
  if (o.modelfile) {
    const std::string text = io::read_text_file(*o.modelfile, io::deploy_max_bytes);
    io::Modelfile m = io::parse_modelfile(text, *o.modelfile);
    in.input.parameters = std::move(m.parameters);
    in.input.from = std::move(m.from);
  }
  if (o.engine) {
    if (*o.engine == "ollama") {
      in.input.engine = DeployEngine::ollama;
    } else if (*o.engine == "llamacpp" || *o.engine == "llama-server") {
      in.input.engine = DeployEngine::llama_server;
    } else if (*o.engine == "vllm") {
      in.input.engine = DeployEngine::vllm;
    } else {
      throw Error(ErrorKind::usage, fmt::format("--engine: unknown engine '{}' (use ollama, "
                                                "llamacpp or vllm)",
                                                *o.engine));
    }
  } else if (image_engine) {
    in.input.engine = *image_engine;
  }
  return in;
}

std::string_view engine_display(DeployEngine e) {
  switch (e) {
    case DeployEngine::ollama:
      return "Ollama";
    case DeployEngine::llama_server:
      return "llama-server";
    case DeployEngine::vllm:
      return "vLLM";
  }
  return "";
}

bool is_flag(std::string_view name) { return !name.empty() && name[0] == '-'; }
bool is_parameter(std::string_view name) {
  return !name.empty() && name[0] >= 'a' && name[0] <= 'z';
}

std::vector<report::SpelledChange> spell(const std::vector<SettingChange>& changes,
                                         const Deployment& d, const CheckOptions& o) {
  std::vector<report::SpelledChange> out;
  for (const SettingChange& c : changes) {
    report::SpelledChange s{.setting = c.setting,
                            .value = setting_value_text(d.engine, c.setting, c.value)};
    const SettingValue* now = d.find(c.setting);
    if (c.setting == EngineSetting::model) {
      s.name = "model";
    } else if (now != nullptr && now->origin.line > 0) {
      // The name that sets it now, in its file: a weaker one would be overridden.
      s.name = now->name;
      s.file = now->origin.file;
    } else {
      const bool modelfile_only = o.modelfile && !o.env && !o.compose;
      s.name = std::string(setting_default_name(d.engine, c.setting, modelfile_only));
      if (is_parameter(s.name)) {
        if (o.modelfile) s.file = *o.modelfile;
      } else if (is_flag(s.name)) {
        if (o.compose) s.file = *o.compose;
      } else if (o.env) {
        s.file = *o.env;
      } else if (o.compose) {
        s.file = *o.compose;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The text of `file` with the changes applied, with the rewriter of its kind.
std::string rewrite(const std::string& file, const std::vector<report::SpelledChange>& spelled,
                    const CheckOptions& o, const Inputs& in) {
  std::vector<io::Change> env;
  std::vector<io::Change> flags;
  for (const report::SpelledChange& s : spelled) {
    (is_flag(s.name) ? flags : env).push_back(io::Change{s.name, s.value});
  }
  const std::string text = io::read_text_file(file, io::deploy_max_bytes);
  if (o.modelfile && file == *o.modelfile) return io::rewrite_modelfile(text, env, file);
  if (o.compose && file == *o.compose) {
    std::string result = text;
    if (!env.empty()) result = io::rewrite_compose_environment(result, in.service, env, file);
    if (!flags.empty()) result = io::rewrite_compose_command(result, in.service, flags, file);
    return result;
  }
  const io::EnvDialect dialect =
      o.env && file == *o.env ? io::EnvDialect::systemd : io::EnvDialect::compose;
  return io::rewrite_env(text, env, file, dialect);
}

// -o: the fixed file, or a warning why none is written (the exit code says it did not fit).
void write_fixed(Context& context, const CheckOptions& o, const Inputs& in,
                 const CheckResult& result, const std::vector<report::SpelledChange>& spelled) {
  const std::string& out = *o.output.output;
  if (result.fits()) {
    warn(context, fmt::format("it fits as it is: '{}' not written", out));
    return;
  }
  if (!result.fix) {
    warn(context, fmt::format("no single change makes it fit: '{}' not written", out));
    return;
  }
  std::set<std::string> files;
  for (const report::SpelledChange& s : spelled) {
    if (s.file.empty()) {
      warn(context, fmt::format("the fix changes the {}, which no file given holds: '{}' not "
                                "written",
                                setting_name(s.setting), out));
      return;
    }
    files.insert(s.file);
  }
  if (files.size() != 1) {
    warn(context, fmt::format("the fix changes {} files; -o writes one: '{}' not written",
                              files.size(), out));
    return;
  }
  io::write_file_atomic(out, rewrite(*files.begin(), spelled, o, in), o.output.force);
  if (!result.fix->fits) {
    warn(context, fmt::format("'{}' holds the closest configuration: it still does not fit "
                              "every layer on the GPU",
                              out));
  }
}

// One --model of `check` ("NAME", or "NAME,ctx=N" parsed into `named`), from the catalog or a
// file.
CheckModel check_model(const Catalog& catalog, const ModelWithContext& named, const CheckOptions& o,
                       Context& context) {
  ModelFlags flags;
  flags.model = named.name;
  flags.catalogs = o.catalogs;
  io::LoadedModel loaded = resolve_model(catalog, flags, context, true);
  warn_notes(context, loaded.notes);
  return CheckModel{.model = std::move(loaded.model),
                    .alternatives = std::move(loaded.alternatives),
                    .from_catalog = loaded.kind == io::SourceKind::catalog,
                    .ctx = named.ctx};
}

// The services of `file` that run an engine's server.
std::vector<const io::ComposeService*> server_services(const io::ComposeFile& file) {
  std::vector<const io::ComposeService*> out;
  for (const io::ComposeService& s : file.services) {
    if (s.server) out.push_back(&s);
  }
  return out;
}

// A compose file whose services run several servers on one GPU (an Ollama and vLLMs), none
// named by --service: evaluated together as `fit` plans such a set (model_set.hpp), each
// server with its settings as the file gives them; --model names the Ollama server's models,
// a vLLM service's comes from its command.
ExitCode run_check_services(const CheckOptions& o, const io::ComposeFile& compose,
                            const std::vector<const io::ComposeService*>& servers, Format format,
                            Context& context) {
  const auto refuse = [](bool given, std::string_view what) {
    if (given) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} with a compose file of several servers: name one with "
                              "--service to check it alone",
                              what));
    }
  };
  refuse(o.output.output.has_value(), "-o writes one service's fix;");
  refuse(o.env.has_value() || o.modelfile.has_value(),
         "--env and --modelfile belong to one server;");
  refuse(o.engine.has_value(), "--engine names one server's engine;");
  if (servers.size() > max_models) {
    throw Error(ErrorKind::usage, fmt::format("{}: at most {} servers are checked together",
                                              report::escape_text(compose.path), max_models));
  }
  SetRequest request;
  request.fitted = false;
  request.gpus = parse_vram(*o.vram);
  if (request.gpus.size() != 1) {
    throw Error(ErrorKind::usage,
                "several servers sharing a GPU are checked on one GPU: give one --vram size, or "
                "check one server with --service");
  }
  if (o.ram) request.ram = parse_size(*o.ram, "--ram");
  const Catalog catalog = load_catalog(o.catalogs, context);
  for (const io::ComposeService* s : servers) {
    const Deployment d = interpret_deployment(io::deployment_input(*s));
    const std::string engine(engine_display(d.engine));
    for (const Diagnostic& diag : d.diagnostics) {
      if (diag.fatal) throw Error(ErrorKind::bad_input, report::describe_diagnostic(diag, engine));
    }
    switch (d.engine) {
      case DeployEngine::ollama: {
        if (request.ollama) {
          throw Error(ErrorKind::usage,
                      fmt::format("{}: two Ollama services; check each with --service",
                                  report::escape_text(compose.path)));
        }
        request.ollama = d;
        break;
      }
      case DeployEngine::vllm: {
        if (!d.model) {
          throw Error(ErrorKind::bad_input,
                      fmt::format("{}:{}: service '{}' names no model in its command",
                                  report::escape_text(s->origin.file), s->origin.line,
                                  report::escape_text(s->name)));
        }
        VllmService service;
        service.model_ref = d.model->text;
        service.request = vllm_request_of(d);
        // The image's release picks its rules; another tag ("latest") gets the newest.
        if (const std::optional<std::int32_t> release = vllm_image_release(s->image)) {
          service.request.release = *release;
        }
        CheckModel loaded = check_model(catalog, {d.model->text, std::nullopt}, o, context);
        service.model = loaded.from_catalog
                            ? vllm_checkpoint_model(loaded.model, service.request.dtype)
                            : std::move(loaded.model);
        request.vllm.push_back(std::move(service));
        break;
      }
      case DeployEngine::llama_server:
        throw Error(ErrorKind::usage,
                    fmt::format("service '{}' runs llama-server: servers sharing a GPU are "
                                "checked for Ollama and vLLM; check it alone with --service {}",
                                report::escape_text(s->name), report::escape_text(s->name)));
    }
  }
  if (request.ollama) {
    if (o.models.empty()) {
      throw Error(ErrorKind::usage,
                  "--model is required: it names the models the Ollama service serves (run "
                  "'vramplan check --help')");
    }
    for (const std::string& text : o.models) {
      request.models.push_back(check_model(catalog, parse_model_context(text), o, context));
    }
  } else if (!o.models.empty()) {
    throw Error(ErrorKind::usage,
                "--model names the Ollama service's models; the compose file has none (a vLLM "
                "service's model is in its command)");
  }
  const SetPlan plan = plan_model_set(request);
  const report::SetReport rep{
      .plan = &plan, .fitted = false, .command = "check", .tool_version = version};
  write_stdout(context, format == Format::json ? report::render_set_json(rep)
                                               : report::render_set_table(rep));
  return plan.fits ? ExitCode::success : ExitCode::no_fit;
}

CLI::App* setup_check(CLI::App& app, CheckOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "check",
      "check an existing deployment's settings under full load, and the change that "
      "makes it fit");
  sub->add_option("--env", o.env, "the server's environment file (systemd EnvironmentFile=)")
      ->type_name("FILE");
  sub->add_option("--compose", o.compose, "a docker compose file (its .env beside it is read)")
      ->type_name("FILE");
  sub->add_option("--service", o.service,
                  "the compose service to check (default: the one that runs an engine's "
                  "server, or all of them sharing one GPU)")
      ->type_name("NAME");
  sub->add_option("--modelfile", o.modelfile, "an Ollama Modelfile (PARAMETER lines)")
      ->type_name("FILE");
  sub->add_option("-m,--model", o.models,
                  "a model the deployment serves (repeatable; default: the files' model)")
      ->type_name("NAME")
      ->allow_extra_args(false);
  sub->add_option("--vram", o.vram, "GPU memory, one size per GPU: 16G, 24G,24G (required)")
      ->type_name("SIZE[,SIZE...]");
  sub->add_option("--ram", o.ram, "system RAM (checked when given)")->type_name("SIZE");
  sub->add_option("--engine", o.engine,
                  "ollama, llamacpp or vllm (default: from the compose image, else ollama)")
      ->type_name("ENGINE");
  add_catalog_flag(*sub, o.catalogs);
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  sub->footer("Example: vramplan check --model mistral:7b --vram 4G");
  return sub;
}

ExitCode run_check(const CheckOptions& o, Context& context) {
  const Format format = parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  if (!o.vram) throw Error(ErrorKind::usage, "--vram is required (run 'vramplan check --help')");
  if (o.service && !o.compose) throw Error(ErrorKind::usage, "--service needs --compose");
  if (o.models.size() > max_models) {
    throw Error(ErrorKind::usage, fmt::format("--model: at most {} models", max_models));
  }
  CheckRequest request;
  request.gpus = parse_vram(*o.vram);
  if (o.ram) request.ram = parse_size(*o.ram, "--ram");
  if (o.output.output && !o.env && !o.compose && !o.modelfile) {
    throw Error(ErrorKind::usage,
                "-o writes the fixed file: give --env, --compose or "
                "--modelfile");
  }

  std::optional<io::ComposeFile> compose;
  if (o.compose) {
    compose = io::read_compose(*o.compose, {});
    const std::vector<const io::ComposeService*> servers = server_services(*compose);
    if (!o.service && servers.size() > 1) {
      return run_check_services(o, *compose, servers, format, context);
    }
  }
  const Inputs in = read_inputs(o, std::move(compose));
  const Deployment deployment = interpret_deployment(in.input);
  const std::string engine(engine_display(deployment.engine));
  // A file the engine refuses is malformed for it: one line, where it is.
  for (const Diagnostic& d : deployment.diagnostics) {
    if (d.fatal) throw Error(ErrorKind::bad_input, report::describe_diagnostic(d, engine));
  }

  std::vector<std::string> names = o.models;
  if (names.empty() && deployment.model) names.push_back(deployment.model->text);
  if (names.empty()) {
    throw Error(ErrorKind::usage,
                "--model is required: the files name no model (run "
                "'vramplan check --help')");
  }
  const Catalog catalog = load_catalog(o.catalogs, context);
  for (const std::string& text : names) {
    const ModelWithContext named = parse_model_context(text);
    if (named.ctx && deployment.engine != DeployEngine::ollama) {
      throw Error(ErrorKind::usage,
                  fmt::format("--model {},ctx=N: a model's own context is Ollama's (num_ctx); "
                              "{} takes the server's",
                              named.name, engine));
    }
    request.models.push_back(check_model(catalog, named, o, context));
  }

  const CheckResult result = check_deployment(deployment, request);
  report::CheckReport rep{.result = &result, .deployment = &deployment, .engine = engine};
  if (result.fix) rep.fix = spell(result.fix->changes, deployment, o);
  for (const CheckFix& alt : result.alternatives) {
    rep.alternatives.push_back(spell(alt.changes, deployment, o));
  }
  const std::string content =
      format == Format::json ? report::render_check_json(rep) : report::render_check_table(rep);
  if (o.output.output) write_fixed(context, o, in, result, rep.fix);
  write_stdout(context, content);
  return result.fits() ? ExitCode::success : ExitCode::no_fit;
}

}  // namespace

Command add_check_command(CLI::App& app) {
  return make_command(app, CheckOptions{}, setup_check, run_check);
}

}  // namespace vramplan::cli
