// Build-time tool: parses the catalog YAML files with the same parse_catalog a user's file
// goes through and writes them out as C++ values (compiled_catalog.hpp), so that the shipped
// catalog costs no YAML parsing at run time. A catalog error fails the build, located.
//
//   vramplan_catalog_compile OUTPUT.cpp a.yaml [b.yaml ...]
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/file.hpp>

namespace {

using namespace vramplan;

// A C++ string literal for any bytes: printable ASCII as is, the rest as 3-digit octal
// escapes (which, unlike \x, cannot swallow a following character).
std::string literal(const std::string& text) {
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

template <typename T>
std::string list(const std::vector<T>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + fmt::format("{}", values[i]);
  return out + "}";
}

std::string strings(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + literal(values[i]);
  return out + "}";
}

std::string bools(const std::vector<bool>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + std::string(values[i] ? "true" : "false");
  return out + "}";
}

std::string file_type(FileType t) { return fmt::format("FileType{{{}}}", static_cast<int>(t)); }

void write_entry(std::string& out, const CatalogEntry& e) {
  const ModelSpec& s = e.spec;
  out += "  {\n    CatalogEntry e;\n";
  out += fmt::format("    e.id = {};\n    e.name = {};\n", literal(e.id), literal(e.name));
  out += fmt::format("    e.ollama = {};\n    e.ollama_latest = {};\n", strings(e.ollama),
                     e.ollama_latest);
  out += fmt::format("    e.hf = {};\n    e.aliases = {};\n", strings(e.hf), strings(e.aliases));
  out += fmt::format("    e.params_published = {:.17g};\n", e.params_published);
  std::string quants = "{";
  for (std::size_t i = 0; i < e.quants.size(); ++i)
    quants += (i ? ", " : "") + file_type(e.quants[i]);
  out += fmt::format("    e.quants = {}}};\n    e.default_quant = {};\n", quants,
                     file_type(e.default_quant));
  if (e.projector) {
    out += fmt::format("    e.projector = Projector{{{}, {}}};\n", e.projector->bytes,
                       literal(e.projector->description));
  }
  out +=
      fmt::format("    e.notes = {};\n    e.source = {};\n", literal(e.notes), literal(e.source));
  if (!e.checked.empty()) out += fmt::format("    e.checked = {};\n", literal(e.checked));
  out += fmt::format("    ModelSpec& s = e.spec;\n    s.arch = {};\n", literal(s.arch));
  out += fmt::format("    s.n_layer = {};\n    s.n_nextn = {};\n    s.n_embd = {};\n", s.n_layer,
                     s.n_nextn, s.n_embd);
  out += fmt::format("    s.n_ff = {};\n    s.n_head = {};\n    s.n_head_kv = {};\n", s.n_ff,
                     s.n_head, s.n_head_kv);
  out += fmt::format("    s.key_length = {};\n    s.value_length = {};\n", s.key_length,
                     s.value_length);
  out += fmt::format("    s.n_vocab = {};\n    s.n_ctx_train = {};\n", s.n_vocab, s.n_ctx_train);
  out +=
      fmt::format("    s.tied_embeddings = {};\n    s.causal = {};\n", s.tied_embeddings, s.causal);
  out += fmt::format("    s.n_head_kv_per_layer = {};\n    s.n_ff_per_layer = {};\n",
                     list(s.n_head_kv_per_layer), list(s.n_ff_per_layer));
  out += fmt::format("    s.swa = SlidingWindow{{{}, {}, {}, {}}};\n", s.swa.window, s.swa.period,
                     s.swa.dense_first, bools(s.swa.layers));
  out +=
      fmt::format("    s.mla = Mla{{{}, {}, {}, {}, {}}};\n", s.mla.q_lora_rank, s.mla.kv_lora_rank,
                  s.mla.qk_nope_head_dim, s.mla.qk_rope_head_dim, s.mla.v_head_dim);
  out += fmt::format("    s.moe = Moe{{{}, {}, {}, {}, {}, {}, {}}};\n", s.moe.n_expert,
                     s.moe.n_expert_used, s.moe.n_ff_exp, s.moe.n_expert_shared, s.moe.n_ff_shexp,
                     s.moe.n_leading_dense, s.moe.every_n);
  out += fmt::format("    s.recurrent = Recurrent{{{}, {}, {}, {}, {}}};\n",
                     s.recurrent.conv_kernel, s.recurrent.inner_size, s.recurrent.state_size,
                     s.recurrent.group_count, bools(s.recurrent.layers));
  out += "    out.push_back(std::move(e));\n  }\n";
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: vramplan_catalog_compile OUTPUT.cpp FILE.yaml...\n");
    return 2;
  }
  std::vector<CatalogEntry> entries;
  for (int i = 2; i < argc; ++i) {
    const std::string path = argv[i];
    const std::string origin = "<embedded>/" + std::filesystem::path(path).filename().string();
    for (CatalogEntry& e : io::parse_catalog(io::read_text_file(path), origin)) {
      entries.push_back(std::move(e));
    }
  }
  std::string out =
      "// Generated by src/tools/catalog_compile.cpp from models/*.yaml. Do not edit.\n"
      "#include <vramplan/io/compiled_catalog.hpp>\n\n"
      "namespace vramplan::io {\n\n"
      "std::vector<CatalogEntry> compiled_catalog() {\n"
      "  std::vector<CatalogEntry> out;\n";
  out += fmt::format("  out.reserve({});\n", entries.size());
  for (const CatalogEntry& e : entries) write_entry(out, e);
  out += "  return out;\n}\n\n}  // namespace vramplan::io\n";

  // Replace the output only when it changed (no needless rebuild), atomically.
  const std::string target = argv[1];
  if (std::filesystem::exists(target) && io::read_text_file(target) == out) return 0;
  io::write_file_atomic(target, out, /*force=*/true);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vramplan_catalog_compile: %s\n", e.what());
    return 1;
  }
}
