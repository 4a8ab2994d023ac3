// The formats that apply a plan: `--format compose` (a docker compose file), `modelfile` (an
// Ollama Modelfile) and `flags` (the server's command line). docs/engines.md lists every
// variable and flag they write, with its upstream source.
//
// Safety: every value read from a file or an argument (the model's name, a path, a Hugging Face
// repo id) is written through yaml_string(), shell_word() or plain_word(), which refuse what
// they cannot write as one value on one line (Error{bad_input}); comments go through
// format_text(), which escapes line breaks; output_line() refuses a line break as a bug.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <vramplan/error.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/report/model_set.hpp>
#include <vramplan/report/plan.hpp>
#include <vramplan/report/table.hpp>
#include <vramplan/text.hpp>

#include "plan_sections.hpp"

namespace vramplan::report {
namespace {

// Pinned images (docs/engines.md "Images"): the releases whose memory rules the plan follows.
constexpr std::string_view ollama_image = "ollama/ollama:0.32.15";
constexpr std::string_view llama_server_cuda_image =
    "ghcr.io/ggml-org/llama.cpp:server-cuda-b10309";
constexpr std::string_view llama_server_cpu_image = "ghcr.io/ggml-org/llama.cpp:server-b10309";
constexpr std::string_view vllm_image = "vllm/vllm-openai:v0.21.0";

void output_line(std::string& out, std::string_view text) { env_line(out, text); }

[[noreturn]] void refuse(std::string_view format, std::string_view what, std::string_view value,
                         std::string_view why) {
  throw Error(ErrorKind::bad_input,
              format_text("cannot write {} to the {}: '{}' {}", what, format, value, why));
}

// A value in a compose file: always a double-quoted YAML scalar, so that no value can become a
// number, a boolean, a key or a second line. `"` and `\` are escaped for YAML, `$` doubled for
// compose's interpolation. Text with a control character, a line or paragraph separator or a
// bidi control (anything escape_text() would change) is refused.
std::string yaml_string(std::string_view what, std::string_view value) {
  if (!is_plain_text(value)) {
    refuse("compose file", what, value, "contains a control character or line break");
  }
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '$') out += '$';
    out += c;
  }
  out += '"';
  return out;
}

// One word of a POSIX shell command line: as is when it has only letters, digits and
// `- . _ / : @ + = , %`, otherwise single-quoted (a `'` inside written as '\''). Text that
// escape_text() would change (controls, line breaks) is refused: the line stays one line.
std::string shell_word(std::string_view what, std::string_view value) {
  if (!is_plain_text(value)) {
    refuse("command line", what, value, "contains a control character or line break");
  }
  bool plain = !value.empty();
  for (const char c : value) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("-._/:@+=,%").find(c) != std::string_view::npos;
    plain = plain && word;
  }
  if (plain) return std::string(value);
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

// The model argument of a server: never read as a flag.
std::string_view not_a_flag(std::string_view format, std::string_view what,
                            std::string_view value) {
  if (value.empty()) refuse(format, what, value, "is empty");
  if (value.front() == '-') {
    refuse(format, what, value, "starts with '-' (the server would read it as a flag)");
  }
  return value;
}

// A Modelfile word (FROM's argument): one plain word by the .env rule (text.hpp).
std::string plain_word(std::string_view what, std::string_view value) {
  const std::optional<WordProblem> problem = plain_word_problem(value);
  if (!problem) return std::string(value);
  if (problem->kind == WordProblem::Kind::empty) refuse("Modelfile", what, value, "is empty");
  if (problem->kind == WordProblem::Kind::leading_dash) {
    refuse("Modelfile", what, value, "starts with '-'");
  }
  refuse("Modelfile", what, value,
         "is not one word of letters, digits and - . _ / : @ + = , % (the Modelfile "
         "would read it differently)");
}

bool from_gguf_file(const Model& model) {
  return model.file.has_value() && model.source.starts_with("GGUF ");
}

// The GGUF file llama-server loads: the file's name when planned from one, otherwise the
// model's name with ':' as '-' ("llama3.1-8b.gguf") for the user to put there.
std::string gguf_file_name(const Model& model) {
  if (from_gguf_file(model)) {
    const std::string& path = model.file->path;
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
  }
  std::string name = model.name;
  for (char& c : name) {
    if (c == ':') c = '-';
  }
  return name + ".gguf";
}

// The plan's settings as llama-server's flags (common/arg.cpp), without the model.
std::vector<std::string> llama_server_args(const LlamaPlan& plan) {
  const Recommendation& r = plan.recommendation;
  std::vector<std::string> args{"--ctx-size", format_text("{}", r.ctx), "--parallel",
                                format_text("{}", r.parallel)};
  if (r.kv_unified) args.emplace_back("--kv-unified");
  args.insert(args.end(), {"--n-gpu-layers", format_text("{}", r.gpu_layers)});
  if (r.cpu_moe > 0) args.insert(args.end(), {"--n-cpu-moe", format_text("{}", r.cpu_moe)});
  args.insert(args.end(),
              {"--flash-attn", std::string(on_off(r.flash_attention)), "--cache-type-k",
               std::string(to_string(r.kv_type)), "--cache-type-v",
               std::string(to_string(r.kv_type)), "--ubatch-size", format_text("{}", r.n_ubatch),
               "--batch-size", format_text("{}", r.n_batch)});
  if (gpus_used(plan.estimate) > 1) {
    args.insert(args.end(), {"--tensor-split", tensor_split(plan.estimate)});
  }
  if (!r.op_offload) args.emplace_back("--no-op-offload");
  args.insert(args.end(), {"--fit", "off"});
  return args;
}

}  // namespace

// The plan's settings as `vllm serve` flags (vllm/engine/arg_utils.py), without the model.
std::vector<std::string> vllm_args(const VllmPlan& plan) {
  const VllmEstimate& e = plan.estimate;
  std::vector<std::string> args{"--max-model-len",
                                format_text("{}", e.max_model_len),
                                "--gpu-memory-utilization",
                                format_text("{}", e.util()),
                                "--max-num-seqs",
                                format_text("{}", e.max_num_seqs),
                                "--max-num-batched-tokens",
                                format_text("{}", e.max_num_batched_tokens),
                                "--kv-cache-dtype",
                                std::string(to_string(e.kv_cache_dtype)),
                                "--tensor-parallel-size",
                                format_text("{}", e.tensor_parallel),
                                "--dtype",
                                std::string(vllm_dtype_flag(e.dtype))};
  // An FP8 checkpoint of the FFN only (--dtype fp8-ffn) carries its quantization_config: vLLM
  // refuses a --quantization that differs from it.
  if (e.dtype == VllmDtype::fp8 && !e.fp8_ffn_only) {
    args.insert(args.end(), {"--quantization", "fp8"});
  }
  if (e.enforce_eager) args.emplace_back("--enforce-eager");
  return args;
}

namespace {

const Engine& plan_engine(const Plan& plan) {
  if (plan.engine == nullptr) throw Error(ErrorKind::internal, "a plan without an engine");
  return *plan.engine;
}

[[noreturn]] void no_server(std::string_view format, const Engine& engine) {
  throw Error(ErrorKind::usage,
              format_text("--format {} is not available for engine '{}' (a library has no "
                          "server); use --engine ollama, --engine llamacpp or --engine vllm",
                          format, engine.name));
}

int gpu_count(const Plan& plan) {
  int n = 0;
  for (const PlanDevice& d : plan.devices) n += d.kind == DeviceKind::gpu ? 1 : 0;
  return n;
}

Bytes host_need(const Plan& plan) {
  Bytes need = 0;
  for (const PlanDevice& d : plan.devices) {
    if (d.kind == DeviceKind::host) need = checked_add(need, d.total(), "the host's total");
  }
  return need;
}

// Compose's memory size: whole MiB, rounded up.
std::string mib_text(Bytes bytes) { return format_text("{}M", ceil_div(bytes, mib)); }

// One service of a compose file, in the order it is written.
struct Service {
  std::string name;
  std::string_view image;
  std::string port;       // the port the server listens on
  std::string host_port;  // published as this port on the host; "" = the same
  std::string volume;
  std::string named_volume;  // declared under the top-level `volumes:`, "" for a bind mount
  std::vector<std::pair<std::string, std::string>> environment;
  std::vector<std::string> command;
  bool ipc_host = false;
  std::vector<std::string> comments;  // composed with format_text()
};

void comment_lines(std::string& out, const Model& model, const Plan& plan,
                   const EnvOptions& options) {
  const Engine& engine = plan_engine(plan);
  output_line(out,
              format_text("# Generated by vramplan {} for {}", options.tool_version, model.name));
  output_line(out, format_text("# model:   {} ({})", model.name, model.source));
  output_line(out, format_text("# rules:   {} {}", engine.display, engine.version));
  output_line(out, format_text("# fits:    {}", plan.fits ? "yes" : "NO (closest attempt below)"));
  for (const PlanDevice& d : plan.devices) {
    if (d.capacity > 0) {
      output_line(out, format_text("# {:<8} {} of {}", d.name + ":", format_bytes(d.total()),
                                   format_bytes(d.capacity)));
    } else {
      output_line(out, format_text("# {:<8} {}", d.name + ":", format_bytes(d.total())));
    }
  }
  for (const Finding& reason : plan.reasons) {
    output_line(out, format_text("# does not fit: {}", describe(reason)));
  }
}

// The KEY=VALUE lines of the engine's `--format env` (comments skipped): the same variables,
// written by the same code.
std::vector<std::pair<std::string, std::string>> env_pairs(const std::string& env) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t start = 0; start < env.size();) {
    std::size_t end = env.find('\n', start);
    if (end == std::string::npos) end = env.size();
    const std::string_view line(env.data() + start, end - start);
    const std::size_t eq = line.find('=');
    if (!line.empty() && line.front() != '#' && eq != std::string_view::npos) {
      out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    }
    start = end + 1;
  }
  return out;
}

Service make_service(const Model& model, const Plan& plan, const EnvOptions& options) {
  const Engine& engine = plan_engine(plan);
  Service s;
  switch (engine.id) {
    case EngineId::ollama:
      s.name = "ollama";
      s.image = ollama_image;
      s.port = "11434";
      s.volume = "ollama:/root/.ollama";
      s.named_volume = "ollama";
      s.environment = env_pairs(render_plan_env(model, plan, options));
      if (const auto& r = std::get<LlamaPlan>(plan.detail).recommendation;
          r.gpu_layers < r.total_layers) {
        s.comments.push_back(format_text(
            "# partial offload: {} of {} layers on the GPU. Ollama has no variable for it: give",
            r.gpu_layers, r.total_layers));
        s.comments.emplace_back(
            "# the model PARAMETER num_gpu in its Modelfile (--format modelfile)");
      }
      break;
    case EngineId::llamacpp: {
      const auto& p = std::get<LlamaPlan>(plan.detail);
      s.name = "llama-server";
      s.image = gpu_count(plan) > 0 ? llama_server_cuda_image : llama_server_cpu_image;
      s.port = "8080";
      s.volume = "./models:/models:ro";
      // The image sets LLAMA_ARG_HOST=0.0.0.0 and llama-server listens on 8080 by default; a
      // flag for either would only make llama-server warn that it overrides the variable.
      s.command = {"--model", "/models/" + gguf_file_name(model)};
      const std::vector<std::string> args = llama_server_args(p);
      s.command.insert(s.command.end(), args.begin(), args.end());
      break;
    }
    case EngineId::vllm: {
      const auto& p = std::get<VllmPlan>(plan.detail);
      s.name = "vllm";
      s.image = vllm_image;
      s.port = "8000";
      s.volume = "huggingface:/root/.cache/huggingface";
      s.named_volume = "huggingface";
      s.ipc_host = true;
      s.command = {std::string(not_a_flag("compose file", "the model", options.model_ref))};
      const std::vector<std::string> args = vllm_args(p);
      s.command.insert(s.command.end(), args.begin(), args.end());
      // What vLLM itself reads from the environment; its --format env's other names are only
      // for substitution into a command, which this file writes out.
      for (auto& [key, value] : env_pairs(render_plan_env(model, plan, options))) {
        if (key.starts_with("VLLM_")) s.environment.emplace_back(key, value);
      }
      break;
    }
    case EngineId::llamacpp_lib:
      no_server("compose", engine);
  }
  return s;
}

// A service of a compose file with its resources: `need` the host RAM its plan needs (0: none
// known), `gpus` the GPUs it reserves by count, or `device_ids` the GPUs it shares with the
// file's other services.
struct ComposeEntry {
  Service service;
  Bytes need = 0;
  int gpus = 0;
  std::vector<std::string> device_ids;
};

void service_lines(std::string& out, const ComposeEntry& e) {
  const Service& s = e.service;
  output_line(out, format_text("  {}:", s.name));
  output_line(out, "    image: " + yaml_string("the image", s.image));
  output_line(out, "    restart: unless-stopped");
  if (s.ipc_host) output_line(out, "    ipc: host");
  output_line(out, "    ports:");
  const std::string_view host = s.host_port.empty() ? s.port : s.host_port;
  output_line(out, "      - " + yaml_string("the port", format_text("{}:{}", host, s.port)));
  output_line(out, "    volumes:");
  output_line(out, "      - " + yaml_string("the volume", s.volume));
  if (!s.environment.empty()) {
    output_line(out, "    environment:");
    for (const auto& [key, value] : s.environment) {
      output_line(
          out, "      " + yaml_string("a variable's name", key) + ": " + yaml_string(key, value));
    }
  }
  if (!s.command.empty()) {
    output_line(out, "    command:");
    for (const std::string& arg : s.command) {
      output_line(out, "      - " + yaml_string("an argument", arg));
    }
  }
  const bool devices = e.gpus > 0 || !e.device_ids.empty();
  if (e.need > 0 || devices) {
    output_line(out, "    deploy:");
    output_line(out, "      resources:");
    if (e.need > 0) {
      const Bytes limit = checked_add(e.need, std::max<Bytes>(gib, e.need / 4), "the memory limit");
      output_line(out, "        limits:");
      output_line(out, "          memory: " + yaml_string("the memory limit", mib_text(limit)));
    }
    output_line(out, "        reservations:");
    if (e.need > 0) {
      output_line(out, "          memory: " + yaml_string("the memory", mib_text(e.need)));
    }
    if (devices) {
      output_line(out, "          devices:");
      output_line(out, "            - driver: \"nvidia\"");
      if (e.device_ids.empty()) {
        output_line(out, format_text("              count: {}", e.gpus));
      } else {
        std::string ids;
        for (const std::string& id : e.device_ids) {
          ids += (ids.empty() ? "" : ", ") + yaml_string("a device id", id);
        }
        output_line(out, format_text("              device_ids: [{}]", ids));
      }
      output_line(out, "              capabilities: [\"gpu\"]");
    }
  }
}

// The compose file of `entries` after the comment lines already in `out`.
void compose_file(std::string& out, const std::vector<ComposeEntry>& entries) {
  for (const ComposeEntry& e : entries) {
    const std::string who = entries.size() > 1 ? format_text(" ({})", e.service.name) : "";
    if (e.need > 0) {
      output_line(out, format_text("# memory{}: reserved = the plan's host RAM, limit = that + "
                                   "max(1 GiB, 25%)",
                                   who));
    } else {
      output_line(out, format_text("# memory{}: the plan has no host RAM figure for this "
                                   "engine: no limit set",
                                   who));
    }
    for (const std::string& line : e.service.comments) output_line(out, line);
  }
  output_line(out, "services:");
  for (const ComposeEntry& e : entries) service_lines(out, e);
  std::vector<std::string> volumes;
  for (const ComposeEntry& e : entries) {
    const std::string& v = e.service.named_volume;
    if (!v.empty() && std::find(volumes.begin(), volumes.end(), v) == volumes.end()) {
      volumes.push_back(v);
    }
  }
  if (!volumes.empty()) {
    output_line(out, "volumes:");
    for (const std::string& v : volumes) output_line(out, format_text("  {}: {{}}", v));
  }
}

}  // namespace

std::string render_plan_compose(const Model& model, const Plan& plan, const EnvOptions& options) {
  const Service s = make_service(model, plan, options);
  std::string out;
  comment_lines(out, model, plan, options);
  compose_file(out, {ComposeEntry{.service = s, .need = host_need(plan), .gpus = gpu_count(plan)}});
  return out;
}

std::string render_set_compose(const SetReport& report) {
  const SetPlan& p = *report.plan;
  const CheckResult& r = p.result;
  const bool ollama = p.ollama_models() > 0;
  std::vector<ComposeEntry> entries;
  // One GPU shared by separate containers: each names it; one server reserves its GPUs by count.
  const int gpus = static_cast<int>(r.devices.size()) - 1;
  const std::vector<std::string> shared =
      p.vllm.empty() ? std::vector<std::string>{} : std::vector<std::string>{"0"};
  if (ollama) {
    Service s;
    s.name = "ollama";
    s.image = ollama_image;
    s.port = "11434";
    s.volume = "ollama:/root/.ollama";
    s.named_volume = "ollama";
    for (const auto& [key, value] : env_pairs(render_set_env(report))) {
      s.environment.emplace_back(key, value);
    }
    entries.push_back(ComposeEntry{.service = std::move(s),
                                   .need = r.devices.back().used,
                                   .gpus = shared.empty() ? gpus : 0,
                                   .device_ids = shared});
  }
  for (std::size_t i = 0; i < p.vllm.size(); ++i) {
    const VllmServicePlan& v = p.vllm[i];
    Service s;
    s.name = p.vllm.size() > 1 ? format_text("vllm-{}", i + 1) : "vllm";
    s.image = vllm_image;
    s.port = "8000";
    s.host_port = format_text("{}", 8000 + i);
    s.volume = "huggingface:/root/.cache/huggingface";
    s.named_volume = "huggingface";
    s.ipc_host = true;
    s.command = {std::string(not_a_flag("compose file", "the model", v.model_ref))};
    const std::vector<std::string> args = vllm_args(v.plan);
    s.command.insert(s.command.end(), args.begin(), args.end());
    entries.push_back(ComposeEntry{.service = std::move(s), .device_ids = shared});
  }
  std::string names;
  for (const CheckedModel& m : r.models) names += (names.empty() ? "" : ", ") + m.name;
  std::string out;
  output_line(out, format_text("# Generated by vramplan {} for {}", report.tool_version, names));
  output_line(out, p.vllm.empty()
                       ? std::string("# rules:   Ollama's scheduler, every model under full load")
                       : format_text("# rules:   Ollama's scheduler, every model under full load; "
                                     "vLLM {}, budgets held in full",
                                     vllm_release_name(p.vllm.front().plan.estimate.release)));
  output_line(out, format_text("# fits:    {}", p.fits ? "yes" : "NO"));
  for (const CheckedDevice& d : r.devices) {
    if (d.capacity > 0) {
      output_line(out, format_text("# {:<8} {} of {}", d.name + ":", format_bytes(d.used),
                                   format_bytes(d.capacity)));
    } else {
      output_line(out, format_text("# {:<8} {}", d.name + ":", format_bytes(d.used)));
    }
  }
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::set_own_ctx) output_line(out, format_text("# {}", describe(f)));
  }
  compose_file(out, entries);
  return out;
}

std::string render_plan_modelfile(const Model& model, const Plan& plan, const EnvOptions& options) {
  const Engine& engine = plan_engine(plan);
  if (engine.id != EngineId::ollama) {
    throw Error(ErrorKind::usage,
                format_text("--format modelfile is for Ollama only, not engine '{}'; use "
                            "--format flags or --format env for its settings",
                            engine.name));
  }
  const auto& p = std::get<LlamaPlan>(plan.detail);
  const Recommendation& r = p.recommendation;
  const std::string from = from_gguf_file(model) ? model.file->path : model.name;
  std::string out;
  comment_lines(out, model, plan, options);
  output_line(out, "# the server-wide settings (parallel slots, KV cache type, flash attention)");
  output_line(out, "# are not Modelfile parameters: set them with --format env. This plan needs:");
  output_line(
      out,
      format_text("#   OLLAMA_NUM_PARALLEL={} OLLAMA_KV_CACHE_TYPE={} OLLAMA_FLASH_ATTENTION={}",
                  r.parallel, to_string(r.kv_type), r.flash_attention ? 1 : 0));
  output_line(out, "FROM " + plain_word("the model", from));
  output_line(out, format_text("PARAMETER num_ctx {}", r.ctx));
  output_line(out, format_text("PARAMETER num_gpu {}", r.gpu_layers));
  output_line(out, format_text("PARAMETER num_batch {}", r.n_batch));
  return out;
}

std::string render_plan_flags(const Model& model, const Plan& plan, const EnvOptions& options) {
  const Engine& engine = plan_engine(plan);
  std::vector<std::string> words;
  switch (engine.id) {
    case EngineId::ollama:
      throw Error(ErrorKind::usage,
                  "--format flags: Ollama takes no flags for these settings; use --format env "
                  "(the server's environment) or --format modelfile (the model's parameters)");
    case EngineId::llamacpp_lib:
      no_server("flags", engine);
    case EngineId::llamacpp: {
      const std::string path = from_gguf_file(model) ? model.file->path : gguf_file_name(model);
      words = {"llama-server", "--model",
               shell_word("the model", not_a_flag("command line", "the model", path))};
      for (const std::string& arg : llama_server_args(std::get<LlamaPlan>(plan.detail))) {
        words.push_back(shell_word("an argument", arg));
      }
      break;
    }
    case EngineId::vllm:
      words = {"vllm", "serve",
               shell_word("the model", not_a_flag("command line", "the model", options.model_ref))};
      for (const std::string& arg : vllm_args(std::get<VllmPlan>(plan.detail))) {
        words.push_back(shell_word("an argument", arg));
      }
      break;
  }
  std::string line;
  for (const std::string& w : words) line += (line.empty() ? "" : " ") + w;
  std::string out;
  output_line(out, line);
  return out;
}

}  // namespace vramplan::report
