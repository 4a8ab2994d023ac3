// The catalog a command sees: the embedded one, compiled from models/*.yaml at build time
// (compiled_catalog.hpp), then the user's files, parsed at run time.
#include <vramplan/io/catalog_yaml.hpp>

#include <string>
#include <vector>

#include <vramplan/io/compiled_catalog.hpp>
#include <vramplan/io/file.hpp>

namespace vramplan::io {
namespace {

std::vector<std::string> split_paths(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(':', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

Catalog load_catalog(const std::vector<std::string>& extra_files, const std::string& env_catalog) {
  Catalog catalog;
  for (CatalogEntry& entry : compiled_catalog()) catalog.add(std::move(entry));
  std::vector<std::string> paths = split_paths(env_catalog);
  paths.insert(paths.end(), extra_files.begin(), extra_files.end());
  for (const std::string& path : paths) {
    for (CatalogEntry& entry : parse_catalog(read_text_file(path, catalog_max_bytes), path)) {
      catalog.add(std::move(entry));
    }
  }
  return catalog;
}

}  // namespace vramplan::io
