// vramplan_make_gguf (test-only): writes a sparse GGUF that real llama.cpp loads, with the
// tensor list generate_tensors() produces for a catalog model (or a spec given by flags), the
// hyperparameter keys llama.cpp's load_hparams reads for the architecture, and a minimal SPM
// tokenizer. The data section is a hole: the file takes a few MiB of disk whatever its size.
// Used by scripts/oracle (shared/reference/oracle.md) and reader tests.
//
//   vramplan_make_gguf --model llama3.1:8b-q8_0 --out /tmp/x.gguf
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
#include <vramplan/model.hpp>
#include <vramplan/tensors.hpp>

#include "support/gguf_writer.hpp"

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
  if (o.head_dim_k) s.head_dim_k = *o.head_dim_k;
  if (o.head_dim_v) s.head_dim_v = *o.head_dim_v;
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

std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(v); }

bool uses_layer_norm_eps(const std::string& arch) {
  return arch == "command-r" || arch == "starcoder2" || arch == "bert" || arch == "nomic-bert";
}

// Per-layer values as a uint32 array when the spec has them, else the scalar.
template <class T>
void scalar_or_array(GgufWriter& w, const std::string& key, std::int64_t scalar,
                     const std::vector<T>& per_layer) {
  if (per_layer.empty()) {
    w.set_u32(key, u32(scalar));
    return;
  }
  std::vector<std::uint32_t> values;
  values.reserve(per_layer.size());
  for (const T v : per_layer) values.push_back(u32(v));
  w.set_array_u32(key, values);
}

// The hyperparameter keys of src/llama-model.cpp (load_hparams) and
// src/models/<arch>.cpp (load_arch_hparams).
void write_hparams(GgufWriter& w, const ModelSpec& s) {
  const std::string a = s.arch;
  const auto key = [&](std::string_view name) { return fmt::format("{}.{}", a, name); };
  const std::int32_t head_k =
      s.head_dim_k > 0 ? s.head_dim_k : static_cast<std::int32_t>(s.n_embd / s.n_head);
  const std::int32_t head_v =
      s.head_dim_v > 0 ? s.head_dim_v : static_cast<std::int32_t>(s.n_embd / s.n_head);

  w.set_u32(key("block_count"), u32(s.n_layer));
  w.set_u32(key("context_length"), u32(s.n_ctx_train));
  w.set_u32(key("embedding_length"), u32(s.n_embd));
  w.set_u32(key("vocab_size"), u32(s.n_vocab));
  if (s.n_ff > 0 || !s.n_ff_per_layer.empty()) {
    scalar_or_array(w, key("feed_forward_length"), s.n_ff, s.n_ff_per_layer);
  }
  w.set_u32(key("attention.head_count"), u32(s.n_head));
  if (s.n_nextn > 0) w.set_u32(key("nextn_predict_layers"), u32(s.n_nextn));

  if (s.mla.present()) {
    // The converter's MLA form (llamacpp.md §A1.4): one latent "head" of K = kv_lora_rank +
    // rope dims and V = kv_lora_rank; the decompressed head sizes in the *_mla keys.
    const Mla& m = s.mla;
    w.set_u32(key("attention.head_count_kv"), 1);
    w.set_u32(key("attention.key_length"), u32(m.kv_lora_rank + m.qk_rope_head_dim));
    w.set_u32(key("attention.value_length"), u32(m.kv_lora_rank));
    w.set_u32(key("attention.key_length_mla"), u32(m.qk_nope_head_dim + m.qk_rope_head_dim));
    w.set_u32(key("attention.value_length_mla"), u32(m.v_head_dim));
    w.set_u32(key("attention.kv_lora_rank"), u32(m.kv_lora_rank));
    if (m.q_lora_rank > 0) w.set_u32(key("attention.q_lora_rank"), u32(m.q_lora_rank));
    w.set_u32(key("rope.dimension_count"), u32(m.qk_rope_head_dim));
  } else {
    scalar_or_array(w, key("attention.head_count_kv"), s.n_head_kv, s.n_head_kv_per_layer);
    w.set_u32(key("attention.key_length"), u32(head_k));
    w.set_u32(key("attention.value_length"), u32(head_v));
    w.set_u32(key("rope.dimension_count"), u32(head_k));
  }
  w.set_f32(key("rope.freq_base"), 10000.0F);
  w.set_f32(key(uses_layer_norm_eps(a) ? "attention.layer_norm_epsilon"
                                       : "attention.layer_norm_rms_epsilon"),
            1e-5F);
  if (!s.causal) {
    w.set_bool(key("attention.causal"), false);
    w.set_u32(key("pooling_type"), 1);  // mean
  }

  // Sliding window: the window, and the pattern when it is not the architecture's default
  // (a per-layer bool array wins).
  if (s.swa.window > 0) {
    w.set_u32(key("attention.sliding_window"), u32(s.swa.window));
    if (!s.swa.layers.empty()) {
      w.set_array_bool(key("attention.sliding_window_pattern"), s.swa.layers);
    } else if (s.swa.period > 0) {
      w.set_u32(key("attention.sliding_window_pattern"), u32(s.swa.period));
    }
  }

  if (s.moe.present()) {
    const Moe& m = s.moe;
    w.set_u32(key("expert_count"), u32(m.n_expert));
    w.set_u32(key("expert_used_count"), u32(m.n_expert_used));
    if (m.n_ff_exp > 0) w.set_u32(key("expert_feed_forward_length"), u32(m.n_ff_exp));
    if (m.n_leading_dense > 0) w.set_u32(key("leading_dense_block_count"), u32(m.n_leading_dense));
    if (m.n_expert_shared > 0 || a == "deepseek2") {
      w.set_u32(key("expert_shared_count"), u32(m.n_expert_shared));
    }
    if (m.n_ff_shexp > 0) w.set_u32(key("expert_shared_feed_forward_length"), u32(m.n_ff_shexp));
    if (a == "llama4") w.set_u32(key("interleave_moe_layer_step"), u32(std::max(m.every_n, 1)));
    if (a == "deepseek2") {
      w.set_f32(key("expert_weights_scale"), 1.0F);
      w.set_bool(key("expert_weights_norm"), m.n_expert >= 256);
      w.set_u32(key("expert_gating_func"), m.n_expert >= 256 ? 2 : 1);  // sigmoid : softmax
    }
  }

  if (a == "granite") w.set_f32(key("logit_scale"), 1.0F);
  if (a == "command-r") w.set_f32(key("logit_scale"), 1.0F);
}

// A `llama` (SPM) vocabulary of n_vocab tokens: <unk>, <s>, </s>, the 256 byte tokens,
// then filler. llama.cpp reads it whatever the architecture.
void write_tokenizer(GgufWriter& w, std::int64_t n_vocab) {
  const auto n = static_cast<std::size_t>(n_vocab);
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<std::int32_t> types;
  tokens.reserve(n);
  scores.reserve(n);
  types.reserve(n);
  const auto push = [&](std::string text, std::int32_t type) {
    scores.push_back(-static_cast<float>(tokens.size()));
    tokens.push_back(std::move(text));
    types.push_back(type);
  };
  push("<unk>", 2);  // LLAMA_TOKEN_TYPE_UNKNOWN
  push("<s>", 3);    // CONTROL
  push("</s>", 3);
  for (int b = 0; b < 256 && tokens.size() < n; ++b) push(fmt::format("<0x{:02X}>", b), 6);
  while (tokens.size() < n) push(fmt::format("tok{}", tokens.size()), 1);
  tokens.resize(n);
  scores.resize(n);
  types.resize(n);

  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
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
  if (!quant.empty()) {
    const std::optional<FileType> parsed = parse_file_type(quant);
    if (!parsed) {
      std::fprintf(stderr, "vramplan_make_gguf: unknown file type '%s'\n", quant.c_str());
      return 2;
    }
    ftype = *parsed;
  }

  const std::vector<TensorInfo> tensors = generate_tensors(spec, ftype);

  GgufWriter w;
  w.set_string("general.architecture", spec.arch);
  // A neutral general.name: llama.cpp's vocab loader keys token quirks off it ("phi3" wants an
  // <|endoftext|> token). The catalog name goes in the description.
  w.set_string("general.name", "vramplan synthetic model");
  w.set_string("general.description",
               fmt::format("vramplan_make_gguf: {} (tensor data is a hole)", name));
  w.set_u32("general.file_type", static_cast<std::uint32_t>(ftype));
  w.set_u32("general.quantization_version", 2);
  write_hparams(w, spec);
  write_tokenizer(w, spec.n_vocab);
  std::uint64_t tensor_bytes = 0;
  for (const TensorInfo& t : tensors) {
    w.add_tensor(t);
    tensor_bytes += static_cast<std::uint64_t>(t.bytes());
  }
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
