// vramplan_make_gguf (test-only): writes a sparse GGUF that real llama.cpp loads, with the
// tensor list generate_tensors() produces for a catalog model (or a spec given by flags), the
// hyperparameter keys llama.cpp's load_hparams reads for the architecture, and a minimal SPM
// tokenizer. The data section is a hole: the file takes a few MiB of disk whatever its size.
// Used by scripts/oracle and reader tests.
//
//   vramplan_make_gguf --model llama3.1:8b-q8_0 --out /tmp/x.gguf
//   vramplan_make_gguf --model qwen2.5vl:3b-fp16 --as-llamacpp --out /tmp/z.gguf  (as qwen2vl)
//   vramplan_make_gguf --arch llama --layers 2 --embd 256 --heads 4 --vocab 512 ... --out y.gguf
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/catalog.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>
#include <vramplan/tensors.hpp>

#include "support/gguf_writer.hpp"
#include "support/model_gguf.hpp"

namespace vramplan::test {
namespace {

// Flags that override (or, without --model, define) the spec.
struct Overrides {
  std::optional<std::string> arch;
  std::optional<std::int32_t> layers;
  std::optional<std::int64_t> embd;
  std::optional<std::int64_t> ffn;
  std::optional<std::int32_t> heads;
  std::optional<std::int32_t> kv_heads;
  std::optional<std::int32_t> head_dim_k;
  std::optional<std::int32_t> head_dim_v;
  std::optional<std::int64_t> vocab;
  std::optional<std::int64_t> context;
  std::optional<bool> tied;
  std::optional<std::int64_t> swa_window;
  std::optional<std::int32_t> swa_period;
  std::optional<std::int32_t> experts;
  std::optional<std::int32_t> experts_used;
  std::optional<std::int64_t> ffn_exp;
};

void apply(const Overrides& o, ModelSpec& s) {
  if (o.arch) s.arch = *o.arch;
  if (o.layers) s.n_layer = *o.layers;
  if (o.embd) s.n_embd = *o.embd;
  if (o.ffn) s.n_ff = *o.ffn;
  if (o.heads) s.n_head = *o.heads;
  if (o.kv_heads) s.n_head_kv = *o.kv_heads;
  if (o.head_dim_k) s.key_length = *o.head_dim_k;
  if (o.head_dim_v) s.value_length = *o.head_dim_v;
  if (o.vocab) s.n_vocab = *o.vocab;
  if (o.context) s.n_ctx_train = *o.context;
  if (o.tied) s.tied_embeddings = *o.tied;
  if (o.swa_window) s.swa.window = *o.swa_window;
  if (o.swa_period) s.swa.period = *o.swa_period;
  if (o.experts) s.moe.n_expert = *o.experts;
  if (o.experts_used) s.moe.n_expert_used = *o.experts_used;
  if (o.ffn_exp) s.moe.n_ff_exp = *o.ffn_exp;
  if (s.n_head_kv == 0) s.n_head_kv = s.n_head;
}

int run(int argc, char** argv) {
  CLI::App app{"Writes a sparse GGUF (hole for tensor data) that llama.cpp loads (test-only)"};
  std::string model_name;
  std::string out;
  std::string quant;
  std::vector<std::string> catalogs;
  bool quiet = false;
  Overrides o;
  app.add_option("--model", model_name, "catalog model name (llama3.1:8b-q8_0, ...)");
  app.add_option("--catalog", catalogs, "extra catalog YAML file (repeatable)");
  app.add_option("--quant", quant, "file type (Q8_0, Q4_K_M, ...); default: the name's or Q8_0");
  app.add_option("--out", out, "output file")->required();
  app.add_option("--arch", o.arch, "general.architecture");
  app.add_option("--layers", o.layers, "block_count");
  app.add_option("--embd", o.embd, "embedding_length");
  app.add_option("--ffn", o.ffn, "feed_forward_length");
  app.add_option("--heads", o.heads, "attention.head_count");
  app.add_option("--kv-heads", o.kv_heads, "attention.head_count_kv");
  app.add_option("--head-dim-k", o.head_dim_k, "attention.key_length");
  app.add_option("--head-dim-v", o.head_dim_v, "attention.value_length");
  app.add_option("--vocab", o.vocab, "vocabulary size");
  app.add_option("--context", o.context, "context_length");
  app.add_option("--tied", o.tied, "tied embeddings (no output.weight)");
  app.add_option("--swa-window", o.swa_window, "attention.sliding_window");
  app.add_option("--swa-period", o.swa_period, "attention.sliding_window_pattern (period)");
  app.add_option("--experts", o.experts, "expert_count");
  app.add_option("--experts-used", o.experts_used, "expert_used_count");
  app.add_option("--ffn-exp", o.ffn_exp, "expert_feed_forward_length");
  bool as_llamacpp = false;
  app.add_flag("--as-llamacpp", as_llamacpp,
               "write the file as Ollama's compat layer presents it to llama.cpp (qwen25vl -> "
               "qwen2vl); no change for other architectures");
  app.add_flag("--quiet", quiet, "do not print the JSON summary");
  CLI11_PARSE(app, argc, argv);

  ModelSpec spec;
  FileType ftype = FileType::mostly_q8_0;
  std::string name = "vramplan-test";
  if (!model_name.empty()) {
    const Catalog catalog = io::load_catalog(catalogs, "");
    const std::optional<ModelRef> ref = catalog.resolve(model_name);
    if (!ref) {
      std::fprintf(stderr, "vramplan_make_gguf: unknown model '%s'\n", model_name.c_str());
      return 2;
    }
    spec = ref->entry->spec;
    ftype = ref->quant;
    name = ref->matched;
  }
  apply(o, spec);
  // Ollama's qwen25vl file is refused by stock llama.cpp; Ollama 0.30+'s llama-server loads it
  // as qwen2vl (llama/compat/llama-ollama-compat.cpp, handle_qwen25vl: architecture and key
  // prefix renamed, rope.mrope_section padded to rope.dimension_sections, the v.* and mm.*
  // tensors skipped, which this file does not hold anyway). The text tensors are the same.
  if (as_llamacpp && spec.arch == "qwen25vl") spec.arch = "qwen2vl";
  if (!quant.empty()) {
    const std::optional<FileType> parsed = parse_file_type(quant);
    if (!parsed) {
      std::fprintf(stderr, "vramplan_make_gguf: unknown file type '%s'\n", quant.c_str());
      return 2;
    }
    ftype = *parsed;
  }

  const std::vector<TensorInfo> tensors = generate_tensors(spec, ftype);

  GgufWriter w = model_gguf(spec, ftype, tensors,
                            fmt::format("vramplan_make_gguf: {} (tensor data is a hole)", name));
  std::uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : tensors) tensor_bytes += static_cast<std::uint64_t>(t.bytes());
  w.write_sparse(out);

  if (!quiet) {
    const nlohmann::json summary = {
        {"model", name},
        {"arch", spec.arch},
        {"file_type", std::string(to_string(ftype))},
        {"path", out},
        {"n_tensors", tensors.size()},
        {"tensor_bytes", tensor_bytes},
        {"header_bytes", w.header().size()},
        {"file_bytes", w.file_size()},
    };
    std::printf("%s\n", summary.dump().c_str());
  }
  return 0;
}

}  // namespace
}  // namespace vramplan::test

int main(int argc, char** argv) {
  try {
    return vramplan::test::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vramplan_make_gguf: %s\n", e.what());
    return 1;
  }
}
