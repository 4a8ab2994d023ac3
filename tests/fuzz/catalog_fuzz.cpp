// libFuzzer target: arbitrary bytes as a catalog YAML document into parse_catalog
// (src/io/catalog_yaml.cpp). Every entry it accepts must pass validate() and keep its strings
// within the per-key limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <vramplan/io/catalog_yaml.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const vramplan::CatalogEntry& e : vramplan::io::parse_catalog(text, "fuzz.yaml")) {
      if (e.id.empty() || e.id.size() > 64 || e.name.size() > 128 || e.quants.empty()) {
        std::abort();
      }
    }
  } catch (const vramplan::Error& e) {
    vramplan::fuzz::check_message(e);
  }
  return 0;
}
