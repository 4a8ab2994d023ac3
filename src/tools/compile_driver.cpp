#include "compile_driver.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>

#include <fmt/format.h>

#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/file.hpp>

namespace vramplan::tools {

std::string cpp_literal(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f && c != '?') {  // '?': no trigraph surprises
      out += c;
    } else {
      out += fmt::format("\\{:03o}", u);
    }
  }
  return out + "\"";
}

std::string cpp_literals(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + cpp_literal(values[i]);
  return out + "}";
}

namespace {

int run(int argc, char** argv, const CatalogCompiler& compiler) {
  if (compiler.one_input ? argc != 3 : argc < 3) {
    std::fprintf(stderr, "usage: %s OUTPUT.cpp %s\n", compiler.name, compiler.inputs_usage);
    return 2;
  }
  std::vector<CompileInput> inputs;
  for (int i = 2; i < argc; ++i) {
    const std::string path = argv[i];
    inputs.push_back(CompileInput{
        io::read_text_file(path, io::catalog_max_bytes),
        "<embedded>/" + std::filesystem::path(path).filename().string(),
    });
  }
  const std::string out = compiler.generate(inputs);

  const std::string target = argv[1];
  if (std::filesystem::exists(target) && io::read_text_file(target) == out) return 0;
  io::write_file_atomic(target, out, /*force=*/true);
  return 0;
}

}  // namespace

int compile_main(int argc, char** argv, const CatalogCompiler& compiler) {
  try {
    return run(argc, argv, compiler);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", compiler.name, e.what());
    return 1;
  }
}

}  // namespace vramplan::tools
