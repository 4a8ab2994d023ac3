// libFuzzer target: arbitrary bytes as a GPU catalog document into parse_gpu_catalog
// (src/io/gpu_catalog_yaml.cpp), then every accepted card's names through GpuCatalog::resolve.
// Accepted cards keep their strings within the per-key limits; sizes are positive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include <vramplan/io/gpu_catalog_yaml.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    vramplan::GpuCatalog catalog;
    for (vramplan::Gpu& g : vramplan::io::parse_gpu_catalog(text, "fuzz.yaml").gpus) {
      if (g.id.empty() || g.id.size() > 64 || g.name.size() > 128 ||
          (g.memory_bytes && *g.memory_bytes <= 0)) {
        std::abort();
      }
      catalog.add(std::move(g));
    }
    // Every alias resolves; "did you mean" for the first few names only: each one is an edit
    // distance against the whole catalog, so over every name the harness itself would be
    // quadratic in the catalog's size (the whole embedded catalog, a seed, took about a second
    // under the sanitizers, libFuzzer's time limit per input).
    std::size_t suggested = 0;
    for (const vramplan::Gpu& g : catalog.gpus()) {
      for (const std::string& alias : g.aliases) static_cast<void>(catalog.resolve(alias));
      if (suggested++ < 8) static_cast<void>(catalog.unknown_message(g.name + "x"));
    }
  } catch (const vramplan::Error& e) {
    vramplan::fuzz::check_message(e);
  }
  return 0;
}
