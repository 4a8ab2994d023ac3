// `vramplan gpus`: the GPU catalog as a table and as JSON (docs/sizing.md, docs/cli.md).
#pragma once

#include <string>
#include <vector>

#include <vramplan/gpu_catalog.hpp>

namespace vramplan::report {

// One row per card: id, name, the memory a program gets, bandwidth, dense FP16 tensor
// throughput, architecture / compute capability and the capabilities engines use; "-" where
// the catalog has no value. Ends with a count and what the columns mean.
[[nodiscard]] std::string render_gpus_table(const std::vector<const Gpu*>& gpus);

// {"schema_version": 1, "gpus": [...]}: every field of each card, null where unknown, byte
// counts as integers.
[[nodiscard]] std::string render_gpus_json(const std::vector<const Gpu*>& gpus);

}  // namespace vramplan::report
