// The GPU catalog a command uses: the embedded cards (compiled in at build time) and the
// user's files.
#include <string>
#include <utility>
#include <vector>

#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>

namespace vramplan::io {

GpuCatalog load_gpu_catalog(const std::vector<std::string>& extra_files) {
  GpuCatalog catalog;
  for (Gpu& gpu : compiled_gpu_catalog().gpus) catalog.add(std::move(gpu));
  for (const std::string& path : extra_files) {
    for (Gpu& gpu : parse_gpu_catalog(read_text_file(path, catalog_max_bytes), path).gpus) {
      catalog.add(std::move(gpu));
    }
  }
  return catalog;
}

}  // namespace vramplan::io
