// Shared pieces of the subcommands: flag value parsing with the CLI's messages, model
// resolution through the catalog, warnings, and writing the result to stdout or a file.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/catalog.hpp>
#include <vramplan/cli.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/io/model_loader.hpp>
#include <vramplan/model.hpp>

namespace CLI {
class App;
}  // namespace CLI

namespace vramplan::cli {

// A flag's value: nullopt when the flag was not given, so that an empty value ('--vram ""')
// reaches its parser and is refused rather than read as "not given" (docs/reliability.md §9).
using FlagValue = std::optional<std::string>;

// Flags every planning command shares.
struct ModelFlags {
  std::string model;                  // the first --model
  std::vector<std::string> models;    // every --model, in order (fit and estimate take several)
  std::vector<std::string> catalogs;  // --catalog, repeatable
  std::string engine = "ollama";
  FlagValue backend;  // unset: cuda with --vram, else cpu
  FlagValue vram;     // "24G,24G" or "auto"
  FlagValue gpu;      // --gpu: "4090", "a100-80gx8", "t4,t4", "auto" (devices.hpp)
  std::vector<std::string> gpu_catalogs;  // --gpu-catalog, repeatable
  FlagValue mmproj;                       // --mmproj FILE
  std::string cpu_repack = "avx2";        // --cpu-repack
};

// --format, parsed once per command against the values that command takes.
enum class Format { table, json, env, compose, modelfile, flags };
[[nodiscard]] std::string_view to_string(Format format);
// "table|json|env": the allowed values as --help lists them.
[[nodiscard]] std::string format_list(std::initializer_list<Format> allowed);
// Error{usage} naming the allowed values when `text` is not one of them.
[[nodiscard]] Format parse_format(const std::string& text, std::initializer_list<Format> allowed);

struct OutputFlags {
  std::string format = "table";
  FlagValue output;  // -o; unset = stdout
  bool force = false;
};

// Registers --model, --catalog, --engine, --backend, --vram, --gpu, --gpu-catalog on `app`.
void add_model_flags(CLI::App& app, ModelFlags& flags);
// --model is checked here rather than by CLI11, so that an unknown flag is reported first.
void require_model(const ModelFlags& flags, std::string_view command);
// --catalog FILE and --gpu-catalog FILE (repeatable), for commands without add_model_flags.
void add_catalog_flag(CLI::App& app, std::vector<std::string>& files);
void add_gpu_catalog_flag(CLI::App& app, std::vector<std::string>& files);
// Registers --format (with the allowed values for the help text), -o/--output, --force.
void add_output_flags(CLI::App& app, OutputFlags& flags, std::initializer_list<Format> formats,
                      bool with_output);

// Value parsing; every failure is Error{usage} naming the flag and quoting the value.
[[nodiscard]] std::int64_t parse_integer(std::string_view flag, const std::string& text,
                                         std::int64_t min, std::int64_t max);
// A token count such as --ctx: N, or Nk / NK for N x 1024 ("8k" = 8192, "128K" = 131072, as
// context sizes are spoken of), within [min, max].
[[nodiscard]] std::int64_t parse_token_count(std::string_view flag, const std::string& text,
                                             std::int64_t min, std::int64_t max);
// `--model NAME,ctx=N` (several models): a model with its own context — Ollama's num_ctx in its
// Modelfile or the requests, vLLM's --max-model-len — else the name alone (`num_ctx=` is
// accepted for `ctx=`).
struct ModelWithContext {
  std::string name;
  std::optional<std::int64_t> ctx;
};
[[nodiscard]] ModelWithContext parse_model_context(const std::string& text);
[[nodiscard]] std::vector<Bytes> parse_vram(const std::string& text);
[[nodiscard]] const Engine& parse_engine(const std::string& text);
[[nodiscard]] Backend parse_backend_flag(const FlagValue& text, bool have_vram);
[[nodiscard]] GgmlType parse_kv_type(const std::string& text);
[[nodiscard]] CpuRepack parse_cpu_repack_flag(const std::string& text);
// "on" / "off" / "auto" (nullopt); `allow_auto` false rejects "auto".
[[nodiscard]] std::optional<bool> parse_on_off_auto(std::string_view flag, const std::string& text,
                                                    bool allow_auto);
// "all" -> `total_layers`, else a whole number >= 0; more than `total_layers` means all (-ngl 99).
[[nodiscard]] std::int32_t parse_gpu_layers(const std::string& text, std::int32_t total_layers);
// --cpu-moe: N blocks (0..n_layer) or "all" (llama.cpp's --n-cpu-moe N / --cpu-moe).
[[nodiscard]] std::int32_t parse_cpu_moe(const std::string& text, std::int32_t n_layer);
// --batch and --ubatch as the engine takes them (docs/cli.md). Ollama and the library pass one
// value as both (-b N -ub N), so --batch alone sets both and two different values are refused;
// llama-server runs n_ubatch = min(n_batch, n_ubatch) (llama.cpp src/llama-context.cpp), so a
// --batch below the physical batch lowers it (with a warning when --ubatch was given). Unset
// stays unset: the engine's defaults apply later.
struct BatchFlags {
  std::optional<std::int64_t> batch;
  std::optional<std::int64_t> ubatch;
};
[[nodiscard]] BatchFlags parse_batch_flags(const Engine& engine, const FlagValue& batch,
                                           const FlagValue& ubatch, Context& context);
// Settings an engine or the cache cannot take, refused with the flags to change (core refuses
// them too, in its own terms): a quantized KV cache without flash attention; --cpu-moe with an
// engine that cannot keep experts on the CPU (a mixture-of-experts model only: for others
// core's "applies to mixture-of-experts models only" comes first).
void check_kv_flash_attn(GgmlType kv_type, bool flash_attn);
void check_cpu_moe_engine(const Engine& engine, const Model& model, std::int32_t cpu_moe);
// -o '' is a usage error (Error{usage, "--output: empty file name"}).
void check_output_file(const OutputFlags& flags);

// The embedded catalog, then $VRAMPLAN_CATALOG, then --catalog files.
[[nodiscard]] Catalog load_catalog(const std::vector<std::string>& files, Context& context);

// Loads --model: a GGUF file, the local Ollama store, or the catalog (io::load_model), with
// --mmproj. Unknown names throw Error{bad_input} with suggestions.
[[nodiscard]] io::LoadedModel resolve_model(const Catalog& catalog, const ModelFlags& flags,
                                            Context& context, bool with_alternatives);

void warn(Context& context, std::string_view message);
void warn_notes(Context& context, const std::vector<std::string>& notes);
void warn_notes(Context& context, const std::vector<Finding>& notes);

// Writes `content` to stdout and flushes it; a write error (a full disk, a closed stdout)
// throws Error{io, "cannot write to stdout: <reason>"} instead of passing silently.
void write_stdout(Context& context, std::string_view content);

// Writes the rendered output to stdout (write_stdout) or atomically to --output.
void emit(Context& context, const OutputFlags& flags, const std::string& content);

// `fit`: as emit, except that a plan that does not fit is not written to --output (a script
// running `fit ... -o .env && deploy` must never deploy it); a warning says so instead.
void emit_plan(Context& context, const OutputFlags& flags, const std::string& content, bool fits);

// Colour only when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
[[nodiscard]] bool use_color(Context& context);

}  // namespace vramplan::cli
