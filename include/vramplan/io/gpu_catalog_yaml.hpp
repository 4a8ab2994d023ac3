// GPU catalog YAML (models/hardware/gpus.yaml; format in docs/sizing-data.md §1 and
// docs/sizing.md) -> Gpu values, with the limits and one-line located errors of the model
// catalog's reader (catalog_yaml.hpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <vramplan/gpu_catalog.hpp>

namespace vramplan::io {

// One `apple_gpu_working_set.observed` point: Metal's recommendedMaxWorkingSetSize seen on a
// Mac with this much unified memory (the data behind apple_gpu_memory()).
struct AppleWorkingSetPoint {
  double unified_gb = 0;
  double recommended_mib = 0;
  std::string source;

  bool operator==(const AppleWorkingSetPoint&) const = default;
};

struct GpuCatalogFile {
  std::vector<Gpu> gpus;
  std::string checked;  // "YYYY-MM-DD", when the values were last checked; "" if not given
  std::vector<AppleWorkingSetPoint> apple_working_set;
};

// Parses one GPU catalog document: a map with `gpus` (a list of cards) and optionally
// `schema_version` (1), `checked` and `apple_gpu_working_set`. Each card needs `id`, `name`
// and `vendor`; every other key may be missing or null (= not known). Unknown keys, wrong
// types, values out of range and duplicate ids throw Error{bad_input,
// "<origin>:<line>:<col>: <what>"}; limits as the model catalog (catalog_max_bytes, nodes,
// depth, scalar length; kept strings per key). `origin` becomes Gpu::origin.
[[nodiscard]] GpuCatalogFile parse_gpu_catalog(std::string_view text, const std::string& origin);

// The embedded catalog (models/hardware/gpus.yaml, compiled in at build time by
// src/tools/gpu_catalog_compile.cpp with parse_gpu_catalog), origin "<embedded>/gpus.yaml".
[[nodiscard]] GpuCatalogFile compiled_gpu_catalog();

// The embedded cards, then each user file in order (a card with an existing id replaces it).
// A file that cannot be read throws Error{io}; a malformed one Error{bad_input}.
[[nodiscard]] GpuCatalog load_gpu_catalog(const std::vector<std::string>& extra_files = {});

}  // namespace vramplan::io
