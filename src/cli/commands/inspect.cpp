// `vramplan inspect MODEL`: architecture, attention shape, quantization mix and weight bytes
// per layer of a GGUF file (or of a catalog model's generated tensor list).
#include <CLI/CLI.hpp>

#include <vramplan/error.hpp>
#include <vramplan/report/inspect.hpp>

#include "commands.hpp"

namespace vramplan::cli {
namespace {

struct InspectOptions {
  ModelFlags model;  // only model and catalogs are used
  OutputFlags output;
};

CLI::App* setup_inspect(CLI::App& app, InspectOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "inspect", "what a model file holds: architecture, quantization mix, bytes per layer");
  sub->add_option("model", o.model.model, "a GGUF file (split files: any part), or a model name")
      ->type_name("FILE|NAME");
  add_catalog_flag(*sub, o.model.catalogs);
  add_output_flags(*sub, o.output, {Format::table, Format::json}, true);
  sub->footer("Example: vramplan inspect gemma3:27b");
  return sub;
}

ExitCode run_inspect(const InspectOptions& o, Context& context) {
  const Format format = parse_format(o.output.format, {Format::table, Format::json});
  check_output_file(o.output);
  if (o.model.model.empty()) {  // a positional argument here, not --model
    throw Error(ErrorKind::usage,
                "inspect needs a model: a GGUF file or a name (run 'vramplan inspect --help')");
  }
  const Catalog catalog = load_catalog(o.model.catalogs, context);
  const io::LoadedModel loaded = resolve_model(catalog, o.model, context, false);
  warn_notes(context, loaded.notes);
  emit(context, o.output,
       format == Format::json ? report::render_inspect_json(loaded.model)
                              : report::render_inspect_table(loaded.model));
  return ExitCode::success;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  return make_command(app, InspectOptions{}, setup_inspect, run_inspect);
}

}  // namespace vramplan::cli
