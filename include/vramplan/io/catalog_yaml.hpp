// Catalog YAML (docs/catalog.md) -> CatalogEntry values. The only code that knows YAML.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <vramplan/catalog.hpp>

namespace vramplan::io {

// Parses one catalog document. `origin` names it in errors and becomes entry.source.
// Malformed YAML, unknown keys, missing or nonsensical fields throw
// Error{bad_input, "<origin>:<line>:<col>: <what>"} (1-based positions).
[[nodiscard]] std::vector<CatalogEntry> parse_catalog(std::string_view text,
                                                      const std::string& origin);

// The embedded catalog plus user files, in this order (later ids override earlier):
// every file in $VRAMPLAN_CATALOG (a ':'-separated list of files), then `extra_files`
// (--catalog). `env_catalog` is the variable's value ("" when unset). Reading a file
// that does not exist throws Error{io}.
[[nodiscard]] Catalog load_catalog(const std::vector<std::string>& extra_files,
                                   const std::string& env_catalog);

}  // namespace vramplan::io
