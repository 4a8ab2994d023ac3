// `vramplan models`: the catalog, optionally filtered.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/report/json.hpp>
#include <vramplan/report/table.hpp>

#include "commands.hpp"

namespace vramplan::cli {
namespace {

struct ModelsOptions {
  std::string query;
  std::vector<std::string> catalogs;
  std::string format = "table";
};

CLI::App* setup_models(CLI::App& app, ModelsOptions& o) {
  CLI::App* sub = app.add_subcommand("models", "list the models in the catalog");
  sub->add_option("query", o.query, "only models whose id, names or family contain QUERY");
  add_catalog_flag(*sub, o.catalogs);
  sub->add_option("--format", o.format,
                  "output format: " + format_list({Format::table, Format::json}))
      ->type_name("FORMAT")
      ->default_str("table");
  sub->footer("Example: vramplan models llama3.1");
  return sub;
}

ExitCode run_models(const ModelsOptions& o, Context& context) {
  const Format format = parse_format(o.format, {Format::table, Format::json});
  const Catalog catalog = load_catalog(o.catalogs, context);
  const std::vector<const CatalogEntry*> entries = catalog.search(o.query);
  write_stdout(context, format == Format::json ? report::render_models_json(entries)
                                               : report::render_models_table(entries));
  if (entries.empty()) {
    // A search that finds nothing is an answer a script must be able to test: exit 1.
    warn(context, fmt::format("no model in the catalog matches '{}' (vramplan models lists "
                              "them all)",
                              o.query));
    return ExitCode::no_fit;
  }
  return ExitCode::success;
}

}  // namespace

Command add_models_command(CLI::App& app) {
  return make_command(app, ModelsOptions{}, setup_models, run_models);
}

}  // namespace vramplan::cli
