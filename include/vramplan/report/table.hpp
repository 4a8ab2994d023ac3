// Human-readable reports (the default `--format table`): aligned, binary units, a usage
// bar per device. Renderers only lay out what core computed; they decide nothing.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/catalog.hpp>

namespace vramplan::report {

struct TableOptions {
  bool color = false;          // ANSI colours (only when stdout is a terminal and no NO_COLOR)
  std::size_t bar_width = 40;  // characters between the brackets of a usage bar
};

// "[##########----------]  50 %": `used` of `capacity` as a bar of `width` characters
// ('#' used, '-' free; a full bar and the real percentage when over). Capacity 0: "".
[[nodiscard]] std::string usage_bar(Bytes used, Bytes capacity, std::size_t width,
                                    bool color = false);

// `vramplan models`: one row per catalog entry.
[[nodiscard]] std::string render_models_table(const std::vector<const CatalogEntry*>& entries);

// Short forms shared by all renderers: "on"/"off", "1.2 B"-style parameter counts.
[[nodiscard]] std::string on_off(bool value);
[[nodiscard]] std::string format_params(double params);

}  // namespace vramplan::report
