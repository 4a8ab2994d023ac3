// Build-time tool: parses the catalog YAML files with the same parse_catalog a user's file
// goes through and writes them out as C++ values (compiled_catalog.hpp), so that the shipped
// catalog costs no YAML parsing at run time. A catalog error fails the build, located.
//
//   vramplan_catalog_compile OUTPUT.cpp a.yaml [b.yaml ...]
#include <string>
#include <vector>

#include <fmt/format.h>

#include <vramplan/io/catalog_yaml.hpp>

#include "compile_driver.hpp"

namespace {

using namespace vramplan;

using tools::cpp_literal;
using tools::cpp_literals;

template <typename T>
std::string list(const std::vector<T>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + fmt::format("{}", values[i]);
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
  out += fmt::format("    e.id = {};\n    e.name = {};\n", cpp_literal(e.id), cpp_literal(e.name));
  out += fmt::format("    e.ollama = {};\n    e.ollama_latest = {};\n", cpp_literals(e.ollama),
                     e.ollama_latest);
  out += fmt::format("    e.hf = {};\n    e.aliases = {};\n", cpp_literals(e.hf),
                     cpp_literals(e.aliases));
  out += fmt::format("    e.params_published = {:.17g};\n", e.params_published);
  std::string quants = "{";
  for (std::size_t i = 0; i < e.quants.size(); ++i)
    quants += (i ? ", " : "") + file_type(e.quants[i]);
  out += fmt::format("    e.quants = {}}};\n    e.default_quant = {};\n", quants,
                     file_type(e.default_quant));
  if (e.projector) {
    out += fmt::format("    e.projector = Projector{{{}, {}, std::nullopt}};\n", e.projector->bytes,
                       cpp_literal(e.projector->description));
    if (const auto& c = e.projector->encoder) {
      out += fmt::format(
          "    e.projector->encoder = VisionEncoder{{VisionEncoderKind{{{}}}, {}, {}, {}, {}, {}, "
          "{}, "
          "{}}};\n",
          static_cast<int>(c->kind), c->layers, c->width, c->ffn, c->heads, c->patch, c->image,
          c->merge);
      if (c->window != 0) out += fmt::format("    e.projector->encoder->window = {};\n", c->window);
      if (c->positions != 0) {
        out += fmt::format("    e.projector->encoder->positions = {};\n", c->positions);
      }
      if (!c->deepstack.empty()) {
        out += fmt::format("    e.projector->encoder->deepstack = {};\n", list(c->deepstack));
      }
      if (c->queries != 64) {
        out += fmt::format("    e.projector->encoder->queries = {};\n", c->queries);
      }
      if (c->adapter != 0) {
        out += fmt::format("    e.projector->encoder->adapter = {};\n", c->adapter);
      }
    }
  }
  out += fmt::format("    e.notes = {};\n    e.source = {};\n", cpp_literal(e.notes),
                     cpp_literal(e.source));
  if (!e.checked.empty()) out += fmt::format("    e.checked = {};\n", cpp_literal(e.checked));
  out += fmt::format("    ModelSpec& s = e.spec;\n    s.arch = {};\n", cpp_literal(s.arch));
  out += fmt::format("    s.n_layer = {};\n    s.n_nextn = {};\n    s.n_embd = {};\n", s.n_layer,
                     s.n_nextn, s.n_embd);
  if (s.n_deepstack != 0) out += fmt::format("    s.n_deepstack = {};\n", s.n_deepstack);
  out += fmt::format("    s.n_ff = {};\n    s.n_head = {};\n    s.n_head_kv = {};\n", s.n_ff,
                     s.n_head, s.n_head_kv);
  out += fmt::format("    s.key_length = {};\n    s.value_length = {};\n", s.key_length,
                     s.value_length);
  out += fmt::format("    s.n_vocab = {};\n    s.n_ctx_train = {};\n", s.n_vocab, s.n_ctx_train);
  out +=
      fmt::format("    s.tied_embeddings = {};\n    s.causal = {};\n", s.tied_embeddings, s.causal);
  if (s.stored_output) out += "    s.stored_output = true;\n";
  if (s.rope_freqs) out += "    s.rope_freqs = true;\n";
  if (s.rope_factors != 0) out += fmt::format("    s.rope_factors = {};\n", s.rope_factors);
  if (s.quantizer == Quantizer::ollama) out += "    s.quantizer = Quantizer::ollama;\n";
  if (s.quantizer == Quantizer::ollama_065) out += "    s.quantizer = Quantizer::ollama_065;\n";
  if (s.token_embd_type) {
    out +=
        fmt::format("    s.token_embd_type = static_cast<GgmlType>({});  // {}\n",
                    static_cast<std::int32_t>(*s.token_embd_type), to_string(*s.token_embd_type));
  }
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
  out +=
      fmt::format("    s.recurrent = Recurrent{{{}, {}, {}, {}, {}, {}}};\n",
                  s.recurrent.conv_kernel, s.recurrent.inner_size, s.recurrent.state_size,
                  s.recurrent.group_count, s.recurrent.time_step_rank, bools(s.recurrent.layers));
  if (s.cross.present()) {
    out += fmt::format("    s.cross = CrossAttention{{{}, {}}};\n", list(s.cross.layers),
                       s.cross.tokens);
  }
  out += "    out.push_back(std::move(e));\n  }\n";
}

std::string generate(const std::vector<tools::CompileInput>& inputs) {
  std::vector<CatalogEntry> entries;
  for (const tools::CompileInput& input : inputs) {
    for (CatalogEntry& e : io::parse_catalog(input.text, input.origin)) {
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
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return tools::compile_main(argc, argv,
                             {"vramplan_catalog_compile", "FILE.yaml...", false, generate});
}
