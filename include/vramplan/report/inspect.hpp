// `vramplan inspect`: what a user checks about a model before planning — architecture,
// attention shape, quantization mix, weight bytes per layer, and file facts.
#pragma once

#include <string>

#include <vramplan/model.hpp>

namespace vramplan::report {

[[nodiscard]] std::string render_inspect_table(const Model& model);
[[nodiscard]] std::string render_inspect_json(const Model& model);

}  // namespace vramplan::report
