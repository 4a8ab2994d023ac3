// `vramplan gpus`: the GPU catalog (docs/sizing.md), optionally searched.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/report/gpus.hpp>

#include "commands.hpp"

namespace vramplan::cli {
namespace {

struct GpusOptions {
  std::string query;
  std::vector<std::string> gpu_catalogs;  // --gpu-catalog, repeatable
  std::string format = "table";
};

CLI::App* setup_gpus(CLI::App& app, GpusOptions& o) {
  CLI::App* sub = app.add_subcommand(
      "gpus", "list the GPUs in the catalog: memory, bandwidth, what each can run");
  sub->add_option("search", o.query,
                  "only GPUs whose id, name, aliases, vendor or architecture contain SEARCH");
  add_gpu_catalog_flag(*sub, o.gpu_catalogs);
  sub->add_option("--format", o.format,
                  "output format: " + format_list({Format::table, Format::json}))
      ->type_name("FORMAT")
      ->default_str("table");
  sub->footer("Example: vramplan gpus 4090");
  return sub;
}

ExitCode run_gpus(const GpusOptions& o, Context& context) {
  const Format format = parse_format(o.format, {Format::table, Format::json});
  // No card name is this long (names and aliases are at most 128 bytes, docs/sizing.md §3).
  constexpr std::size_t max_search = 256;
  if (o.query.size() > max_search) {
    throw Error(ErrorKind::usage, fmt::format("gpus: SEARCH is {} bytes, more than the limit of {}",
                                              o.query.size(), max_search));
  }
  const GpuCatalog catalog = io::load_gpu_catalog(o.gpu_catalogs);
  const std::vector<const Gpu*> cards = catalog.search(o.query);
  write_stdout(context, format == Format::json ? report::render_gpus_json(cards)
                                               : report::render_gpus_table(cards));
  // A search that finds nothing is "no match" (exit 1), as docs/cli.md says for every lookup.
  return cards.empty() ? ExitCode::no_fit : ExitCode::success;
}

}  // namespace

Command add_gpus_command(CLI::App& app) {
  return make_command(app, GpusOptions{}, setup_gpus, run_gpus);
}

}  // namespace vramplan::cli
