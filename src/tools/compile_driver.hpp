// The driver shared by the build-time catalog compilers (catalog_compile.cpp,
// gpu_catalog_compile.cpp): arguments, reading the YAML inputs, writing the generated C++
// only when it changed, and errors. Each compiler supplies only what it generates.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace vramplan::tools {

// One input file: its text and the origin its errors name ("<embedded>/gpus.yaml"), the same
// for every build directory.
struct CompileInput {
  std::string text;
  std::string origin;
};

struct CatalogCompiler {
  const char* name;          // in the usage line and before each error
  const char* inputs_usage;  // "FILE.yaml..."
  bool one_input;            // exactly one input file, else one or more
  std::function<std::string(const std::vector<CompileInput>&)> generate;  // the C++ source
};

// `NAME OUTPUT.cpp INPUT...`: reads the inputs (each at most catalog_max_bytes), generates, and
// replaces OUTPUT atomically when its content changes (no needless rebuild). Returns the exit
// code: 0, 1 on an error (printed as "NAME: message"), 2 on bad arguments.
int compile_main(int argc, char** argv, const CatalogCompiler& compiler);

// A C++ string literal for any bytes: printable ASCII as is, the rest as 3-digit octal escapes
// (which, unlike \x, cannot swallow a following character).
[[nodiscard]] std::string cpp_literal(const std::string& text);
// A braced list of string literals: {"a", "b"}.
[[nodiscard]] std::string cpp_literals(const std::vector<std::string>& values);

}  // namespace vramplan::tools
