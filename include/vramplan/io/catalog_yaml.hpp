// Catalog YAML (docs/catalog.md) -> CatalogEntry values. The only code that knows YAML.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/catalog.hpp>

namespace vramplan::io {

// Limits (docs/reliability.md §6; the whole embedded catalog is about 60 KiB and 10k nodes).
// A document is counted by yaml-cpp's event parser before its node tree is built: more bytes,
// nodes (an alias counts the nodes it repeats), nesting or a longer scalar is an error. Kept
// strings have per-key limits too: id 64 bytes, name 128, notes 4096, others 256 or 1024.
inline constexpr std::size_t catalog_max_bytes = 4u << 20;
inline constexpr std::size_t catalog_max_nodes = 65536;
inline constexpr std::size_t catalog_max_depth = 16;
inline constexpr std::size_t catalog_max_scalar = 65536;

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
