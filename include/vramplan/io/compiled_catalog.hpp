// The embedded catalog as C++ values: models/*.yaml parsed at build time by
// src/tools/catalog_compile.cpp (the same parse_catalog a user's file goes through), so a
// command does not parse YAML for the catalog it ships with. The YAML text itself stays
// embedded too (embedded_catalog.hpp).
#pragma once

#include <vector>

#include <vramplan/catalog.hpp>

namespace vramplan::io {

// Every embedded entry, in file order, with source "<embedded>/<file>".
[[nodiscard]] std::vector<CatalogEntry> compiled_catalog();

}  // namespace vramplan::io
