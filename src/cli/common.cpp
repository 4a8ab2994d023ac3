#include "common.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/limits.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::cli {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

}  // namespace

void add_model_flags(CLI::App& app, ModelFlags& flags) {
  app.add_option(
         "-m,--model", flags.models,
         "model: a GGUF file, an Ollama tag (llama3.1:8b-q8_0; the local store first, "
         "then the catalog), a short form (llama3.1:8b-q4), a catalog id or a Hugging "
         "Face repo (required; repeat it for several models on one Ollama server; vllm=MODEL for a "
         "vLLM container sharing the GPU)")
      ->type_name("NAME|FILE")
      ->allow_extra_args(false);
  app.add_option("--vram", flags.vram,
                 "GPU memory, one size per GPU: 16G, 24G,24G (G/GiB = 2^30, GB = 10^9), or auto "
                 "(this machine's GPUs, from nvidia-smi, rocm-smi or sysctl)")
      ->type_name("SIZE[,SIZE...]|auto");
  app.add_option("--gpu", flags.gpu,
                 "GPUs from the catalog instead of --vram: 4090, a100-80gx8, t4,t4, or auto "
                 "(this machine's; 'vramplan gpus' lists the names)")
      ->type_name("NAME[,NAME...]|NAMExN|auto");
  add_gpu_catalog_flag(app, flags.gpu_catalogs);
  app.add_option("--engine", flags.engine,
                 "whose rules to apply: ollama, llamacpp (llama-server), llamacpp-lib, vllm")
      ->type_name("ENGINE")
      ->default_str("ollama");
  app.add_option("--backend", flags.backend,
                 "cuda, cpu, metal, vulkan (default: cuda with --vram, else cpu)")
      ->type_name("BACKEND");
  app.add_option("--mmproj", flags.mmproj,
                 "vision projector GGUF whose weights count too (llava-style models)")
      ->type_name("FILE");
  app.add_option("--cpu-repack", flags.cpu_repack,
                 "CPU_REPACK copies llama.cpp makes of host weights in a CPU-only plan (none "
                 "beside a CUDA or Vulkan GPU): avx2, avx512, arm, off (--no-repack)")
      ->type_name("ISA")
      ->default_str("avx2");
  add_catalog_flag(app, flags.catalogs);
}

void add_catalog_flag(CLI::App& app, std::vector<std::string>& files) {
  app.add_option("--catalog", files, "extra catalog YAML file (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
}

void add_gpu_catalog_flag(CLI::App& app, std::vector<std::string>& files) {
  app.add_option("--gpu-catalog", files, "extra GPU catalog YAML file (repeatable)")
      ->type_name("FILE")
      ->allow_extra_args(false);
}

void add_output_flags(CLI::App& app, OutputFlags& flags, std::initializer_list<Format> formats,
                      bool with_output) {
  app.add_option("--format", flags.format, "output format: " + format_list(formats))
      ->type_name("FORMAT")
      ->default_str("table");
  if (with_output) {
    app.add_option("-o,--output", flags.output, "write the output to FILE (atomically)")
        ->type_name("FILE");
    app.add_flag("--force", flags.force, "overwrite an existing --output file");
  }
}

std::int64_t parse_integer(std::string_view flag, const std::string& text, std::int64_t min,
                           std::int64_t max) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec == std::errc::invalid_argument || end != last) {
    throw Error(ErrorKind::usage, fmt::format("{} must be a whole number, got '{}'", flag, text));
  }
  // Out of int64's range, from_chars leaves `value` 0: the sign says which end was passed.
  const bool too_large = ec == std::errc::result_out_of_range ? text[0] != '-' : value > max;
  const bool too_small = ec == std::errc::result_out_of_range ? text[0] == '-' : value < min;
  if (too_small) {
    throw Error(ErrorKind::usage, fmt::format("{} must be at least {}, got '{}'", flag, min, text));
  }
  if (too_large) {
    throw Error(ErrorKind::usage, fmt::format("{} must be at most {}, got '{}'", flag, max, text));
  }
  return value;
}

ModelWithContext parse_model_context(const std::string& text) {
  const std::size_t comma = text.rfind(',');
  if (comma == std::string::npos) return {text, std::nullopt};
  const std::string option = text.substr(comma + 1);
  for (const std::string_view key : {"ctx=", "num_ctx="}) {
    if (option.starts_with(key)) {
      const std::string flag = fmt::format("--model {}", text.substr(0, comma));
      return {text.substr(0, comma),
              parse_token_count(flag + " ctx", option.substr(key.size()), 1, max_ctx_setting)};
    }
  }
  return {text, std::nullopt};  // a ',' that is part of a file's name
}

std::int64_t parse_token_count(std::string_view flag, const std::string& text, std::int64_t min,
                               std::int64_t max) {
  if (text.size() > 1 && (text.back() == 'k' || text.back() == 'K')) {
    constexpr std::int64_t k = 1024;
    const std::string digits = text.substr(0, text.size() - 1);
    const std::int64_t n = parse_integer(flag, digits, (min + k - 1) / k, max / k);
    return n * k;
  }
  return parse_integer(flag, text, min, max);
}

std::vector<Bytes> parse_vram(const std::string& text) {
  std::vector<Bytes> gpus;
  for (const std::string& part : split(text, ',')) gpus.push_back(parse_size(part, "--vram"));
  if (gpus.size() > 16) throw Error(ErrorKind::usage, "--vram: at most 16 GPUs are supported");
  return gpus;
}

const Engine& parse_engine(const std::string& text) {
  const Engine* engine = find_engine(text);
  if (engine == nullptr) {
    throw Error(ErrorKind::usage, fmt::format("--engine: unknown engine '{}' (use ollama, "
                                              "llamacpp, llamacpp-lib or vllm)",
                                              text));
  }
  return *engine;
}

Backend parse_backend_flag(const FlagValue& text, bool have_vram) {
  if (!text) return have_vram ? Backend::cuda : Backend::cpu;
  const std::optional<Backend> backend = parse_backend(*text);
  if (!backend) {
    throw Error(ErrorKind::usage, fmt::format("--backend: unknown backend '{}' (use cuda, cpu, "
                                              "metal or vulkan)",
                                              *text));
  }
  return *backend;
}

CpuRepack parse_cpu_repack_flag(const std::string& text) {
  const std::optional<CpuRepack> repack = parse_cpu_repack(text);
  if (!repack) {
    throw Error(ErrorKind::usage, fmt::format("--cpu-repack: unknown value '{}' (use avx2, "
                                              "avx512, arm or off)",
                                              text));
  }
  return *repack;
}

GgmlType parse_kv_type(const std::string& text) {
  const std::optional<GgmlType> type = parse_ggml_type(text);
  if (!type || !is_kv_cache_type(*type)) {
    throw Error(ErrorKind::usage, fmt::format("--kv-type: '{}' is not a KV cache type (use f16, "
                                              "q8_0, q4_0, f32, bf16, q4_1, q5_0, q5_1 or "
                                              "iq4_nl)",
                                              text));
  }
  return *type;
}

std::optional<bool> parse_on_off_auto(std::string_view flag, const std::string& text,
                                      bool allow_auto) {
  if (text == "on") return true;
  if (text == "off") return false;
  if (text == "auto" && allow_auto) return std::nullopt;
  throw Error(ErrorKind::usage, fmt::format("{} must be on{}, got '{}'", flag,
                                            allow_auto ? ", off or auto" : " or off", text));
}

std::int32_t parse_gpu_layers(const std::string& text, std::int32_t total_layers) {
  if (text == "all") return total_layers;
  // More than the model has means all of them, as llama.cpp's -ngl 99 and Ollama's num_gpu 99.
  const std::int64_t n = parse_integer("--gpu-layers", text, 0, 100000);
  return static_cast<std::int32_t>(std::min<std::int64_t>(n, total_layers));
}

std::int32_t parse_cpu_moe(const std::string& text, std::int32_t n_layer) {
  if (text == "all") return n_layer;
  const std::int64_t n = parse_integer("--cpu-moe", text, 0, 100000);
  if (n > n_layer) {
    throw Error(ErrorKind::usage,
                fmt::format("--cpu-moe: this model has {} blocks, got '{}'", n_layer, text));
  }
  return static_cast<std::int32_t>(n);
}

BatchFlags parse_batch_flags(const Engine& engine, const FlagValue& batch, const FlagValue& ubatch,
                             Context& context) {
  BatchFlags flags;
  if (ubatch) flags.ubatch = parse_integer("--ubatch", *ubatch, 1, max_batch_setting);
  if (batch) flags.batch = parse_integer("--batch", *batch, 1, max_batch_setting);
  if (!flags.batch) return flags;
  if (engine.batch_equals_ubatch) {
    if (flags.ubatch && *flags.ubatch != *flags.batch) {
      throw Error(ErrorKind::usage,
                  fmt::format("--batch {} and --ubatch {}: {} uses one batch size for both; "
                              "give one of them",
                              *flags.batch, *flags.ubatch, engine.display));
    }
    flags.ubatch = flags.batch;
  } else if (flags.ubatch.value_or(engine.default_ubatch) > *flags.batch) {
    if (flags.ubatch) {
      warn(context, fmt::format("--ubatch {} is larger than --batch {}: {} uses {} (n_ubatch = "
                                "min(n_batch, n_ubatch))",
                                *flags.ubatch, *flags.batch, engine.display, *flags.batch));
    }
    flags.ubatch = flags.batch;
  }
  return flags;
}

void check_kv_flash_attn(GgmlType kv_type, bool flash_attn) {
  if (is_quantized(kv_type) && !flash_attn) {
    throw Error(ErrorKind::usage, fmt::format("--kv-type {} needs flash attention; drop "
                                              "--flash-attn off",
                                              to_string(kv_type)));
  }
}

void check_cpu_moe_engine(const Engine& engine, const Model& model, std::int32_t cpu_moe) {
  if (cpu_moe > 0 && model.spec.moe.present() && !engine.expert_offload) {
    throw Error(ErrorKind::usage, fmt::format("--cpu-moe: {} cannot keep experts on the CPU "
                                              "(llama-server's --n-cpu-moe); use --engine "
                                              "llamacpp",
                                              engine.display));
  }
}

void check_output_file(const OutputFlags& flags) {
  if (flags.output && flags.output->empty()) {
    throw Error(ErrorKind::usage, "--output: empty file name");
  }
}

std::string_view to_string(Format format) {
  switch (format) {
    case Format::table:
      return "table";
    case Format::json:
      return "json";
    case Format::env:
      return "env";
    case Format::compose:
      return "compose";
    case Format::modelfile:
      return "modelfile";
    case Format::flags:
      return "flags";
  }
  return "";
}

std::string format_list(std::initializer_list<Format> allowed) {
  std::string list;
  for (const Format format : allowed) {
    if (!list.empty()) list += '|';
    list += to_string(format);
  }
  return list;
}

Format parse_format(const std::string& text, std::initializer_list<Format> allowed) {
  std::string list;  // "table, json or env"
  std::size_t i = 0;
  for (const Format format : allowed) {
    if (text == to_string(format)) return format;
    list += i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ";
    list += to_string(format);
    ++i;
  }
  throw Error(ErrorKind::usage, fmt::format("--format: unknown format '{}' (use {})", text, list));
}

void require_model(const ModelFlags& flags, std::string_view command) {
  if (flags.model.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("--model is required (run 'vramplan {} --help')", command));
  }
}

Catalog load_catalog(const std::vector<std::string>& files, Context& context) {
  return io::load_catalog(files, context.getenv("VRAMPLAN_CATALOG").value_or(""));
}

io::LoadedModel resolve_model(const Catalog& catalog, const ModelFlags& flags, Context& context,
                              bool with_alternatives) {
  io::LoadOptions options;
  options.getenv = context.getenv;
  if (flags.mmproj && flags.mmproj->empty()) {
    throw Error(ErrorKind::usage, "--mmproj: empty file name");
  }
  options.mmproj = flags.mmproj.value_or("");
  options.with_alternatives = with_alternatives;
  return io::load_model(flags.model, catalog, options);
}

void warn(Context& context, std::string_view message) {
  // Escaped: notes quote names and values read from files (report/escape.hpp).
  context.err << "vramplan: warning: " << report::escape_text(message) << '\n';
}

void warn_notes(Context& context, const std::vector<std::string>& notes) {
  for (const std::string& note : notes) warn(context, note);
}

void warn_notes(Context& context, const std::vector<Finding>& notes) {
  for (const Finding& note : notes) warn(context, report::describe(note));
}

void write_stdout(Context& context, std::string_view content) {
  errno = 0;
  context.out << content;
  context.out.flush();
  if (!context.out) {
    const int error = errno;
    throw Error(ErrorKind::io, fmt::format("cannot write to stdout: {}",
                                           error != 0 ? std::strerror(error) : "write error"));
  }
}

void emit(Context& context, const OutputFlags& flags, const std::string& content) {
  if (!flags.output.has_value()) {
    write_stdout(context, content);
    return;
  }
  io::write_file_atomic(*flags.output, content, flags.force);
}

void emit_plan(Context& context, const OutputFlags& flags, const std::string& content, bool fits) {
  if (!fits && flags.output.has_value()) {
    warn(context, fmt::format("the plan does not fit: '{}' not written (run without -o for the "
                              "reasons)",
                              *flags.output));
    return;
  }
  emit(context, flags, content);
}

bool use_color(Context& context) {
  const std::optional<std::string> no_color = context.getenv("NO_COLOR");
  return context.stdout_is_terminal && (!no_color || no_color->empty());
}

}  // namespace vramplan::cli
