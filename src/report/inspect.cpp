#include <vramplan/report/inspect.hpp>

#include <map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/reserve_graph.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/table.hpp>
#include <vramplan/report/text_table.hpp>

#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

struct TypeShare {
  int tensors = 0;
  Bytes bytes = 0;
};

// Bytes per ggml type, most bytes first (ties by name for a stable order).
std::vector<std::pair<GgmlType, TypeShare>> quantization_mix(const Model& model) {
  std::map<GgmlType, TypeShare> by_type;
  for (const TensorInfo& t : model.tensors) {
    TypeShare& s = by_type[t.type];
    ++s.tensors;
    s.bytes += t.bytes();
  }
  std::vector<std::pair<GgmlType, TypeShare>> out(by_type.begin(), by_type.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  return out;
}

struct AttentionSummary {
  int kv_layers = 0;
  int swa_layers = 0;
  int recurrent_layers = 0;
  Bytes full_kv_per_token_f16 = 0;  // K + V bytes per token over full-attention layers
  Bytes swa_kv_per_token_f16 = 0;
};

AttentionSummary summarize(const ModelSpec& spec) {
  AttentionSummary s;
  for (std::int32_t il = 0; il < spec.n_layer; ++il) {
    const LayerAttention a = layer_attention(spec, il);
    if (a.recurrent) ++s.recurrent_layers;
    if (!a.has_kv) continue;
    ++s.kv_layers;
    const Bytes per_token = 2 * (a.k_width + a.v_width);
    if (a.swa) {
      ++s.swa_layers;
      s.swa_kv_per_token_f16 += per_token;
    } else {
      s.full_kv_per_token_f16 += per_token;
    }
  }
  return s;
}

std::string attention_line(const ModelSpec& spec, const AttentionSummary& a) {
  std::string text;
  if (!spec.causal) return "encoder (no KV cache)";
  if (spec.mla.present()) {
    text = format_text("MLA, latent {} + rope {} per token and layer", spec.mla.kv_lora_rank,
                       spec.mla.qk_rope_head_dim);
  } else if (a.swa_layers > 0) {
    text = format_text("sliding window {} on {} of {} layers", spec.swa.window, a.swa_layers,
                       a.kv_layers);
  } else {
    text = format_text("full attention on {} layers", a.kv_layers);
  }
  if (a.recurrent_layers > 0) text += format_text("; recurrent state on {}", a.recurrent_layers);
  return text;
}

// Runs of consecutive blocks with equal bytes: "0-2", "3".
struct BlockRun {
  int first = 0;
  int last = 0;
  Bytes bytes = 0;
};

std::vector<BlockRun> block_runs(const WeightLayout& w) {
  std::vector<BlockRun> runs;
  for (std::size_t i = 0; i < w.blocks.size(); ++i) {
    const int il = static_cast<int>(i);
    if (!runs.empty() && runs.back().bytes == w.blocks[i].host && runs.back().last == il - 1) {
      runs.back().last = il;
    } else {
      runs.push_back({il, il, w.blocks[i].host});
    }
  }
  return runs;
}

Json spec_json(const ModelSpec& s) {
  Json j;
  j["arch"] = s.arch;
  j["layers"] = s.n_layer;
  j["nextn_layers"] = s.n_nextn;
  j["embd"] = s.n_embd;
  j["ffn"] = s.n_ff;
  j["heads"] = s.n_head;
  j["kv_heads"] = s.n_head_kv;
  if (!s.n_head_kv_per_layer.empty()) j["kv_heads_per_layer"] = s.n_head_kv_per_layer;
  j["head_dim_k"] = s.head_dim_k();
  j["head_dim_v"] = s.head_dim_v();
  j["vocab"] = s.n_vocab;
  j["context"] = s.n_ctx_train;
  j["tied_embeddings"] = s.tied_embeddings;
  j["causal"] = s.causal;
  if (s.swa.window > 0) {
    j["sliding_window"] = {
        {"window", s.swa.window}, {"period", s.swa.period}, {"dense_first", s.swa.dense_first}};
  }
  if (s.mla.present()) {
    j["mla"] = {{"q_lora_rank", s.mla.q_lora_rank},
                {"kv_lora_rank", s.mla.kv_lora_rank},
                {"qk_nope_head_dim", s.mla.qk_nope_head_dim},
                {"qk_rope_head_dim", s.mla.qk_rope_head_dim},
                {"v_head_dim", s.mla.v_head_dim}};
  }
  if (s.moe.present()) {
    j["moe"] = {{"experts", s.moe.n_expert},     {"experts_used", s.moe.n_expert_used},
                {"ffn_exp", s.moe.n_ff_exp},     {"shared_experts", s.moe.n_expert_shared},
                {"ffn_shexp", s.moe.n_ff_shexp}, {"leading_dense", s.moe.n_leading_dense}};
  }
  return j;
}

}  // namespace

std::string render_inspect_table(const Model& model) {
  const ModelSpec& s = model.spec;
  const AttentionSummary a = summarize(s);
  std::string out =
      format_text("{}  {}, {}, {} params\n", model.name, s.arch, to_string(model.file_type),
                  format_params(static_cast<double>(model.n_params)));
  TextTable facts;
  facts.add_row({"source", model.source});
  if (model.file) {
    const ModelFileFacts& f = *model.file;
    if (!f.general_name.empty()) facts.add_row({"name", f.general_name});
    facts.add_row(
        {"file", format_text("{}, {} in {} part{}; {} metadata keys, {} tensors", f.format,
                             format_bytes(static_cast<Bytes>(f.file_size)), f.parts,
                             f.parts == 1 ? "" : "s", f.metadata_keys, model.tensors.size())});
    facts.add_row({"header", format_text("{}; {} read to plan it",
                                         format_bytes(static_cast<Bytes>(f.header_bytes)),
                                         format_bytes(static_cast<Bytes>(f.bytes_read)))});
    if (f.tokenizer_tokens > 0) {
      facts.add_row(
          {"tokenizer", format_text("{}, {} tokens", f.tokenizer_model, f.tokenizer_tokens)});
    }
  }
  facts.add_row({"context", format_text("{}", s.n_ctx_train)});
  facts.add_row({"layers", format_text("{} blocks{} + the output layer", s.n_layer,
                                       s.n_nextn > 0 ? format_text(" ({} NextN)", s.n_nextn)
                                                     : std::string())});
  const std::int64_t hk = s.head_dim_k();
  const std::int64_t hv = s.head_dim_v();
  facts.add_row({"shape", format_text("embd {}, ffn {}, heads {}, kv heads {}{}, head dim {}/{}, "
                                      "vocab {}",
                                      s.n_embd, s.n_ff, s.n_head, s.n_head_kv,
                                      s.n_head_kv_per_layer.empty() ? "" : " (per layer)", hk, hv,
                                      s.n_vocab)});
  facts.add_row({"attention", attention_line(s, a)});
  if (s.moe.present()) {
    facts.add_row({"experts",
                   format_text("{} experts, {} used per token, {} shared, width {}", s.moe.n_expert,
                               s.moe.n_expert_used, s.moe.n_expert_shared, s.moe.n_ff_exp)});
  }
  if (a.kv_layers > 0) {
    facts.add_row(
        {"kv/token",
         format_text("{} (f16, full-attention layers){}", format_bytes(a.full_kv_per_token_f16),
                     a.swa_layers > 0 ? format_text(" + {} on SWA layers (window only)",
                                                    format_bytes(a.swa_kv_per_token_f16))
                                      : std::string())});
  }
  facts.add_row({"compute", graph_modelled(s)
                                ? "graph replay: llama.cpp's worst-case graph rebuilt, its "
                                  "allocator replayed (exact on the CPU)"
                                : "closed form: this architecture's graph is not rebuilt"});
  facts.add_row({"embeddings", format_text("{} (token_embd, always on the CPU){}",
                                           format_bytes(model.weights.input.host),
                                           model.weights.output_tied ? "; tied output" : "")});
  facts.add_row({"output", format_bytes(model.weights.output.host)});
  out += facts.render();

  out += "\nquantization mix\n";
  TextTable mix({Align::left, Align::right, Align::right, Align::right});
  mix.add_row({"type", "tensors", "bytes", "share"});
  const Bytes total = model.weights.file_tensor_bytes;
  for (const auto& [type, share] : quantization_mix(model)) {
    mix.add_row({std::string(to_string(type)), format_text("{}", share.tensors),
                 format_bytes(share.bytes),
                 format_text("{:.1f} %", total > 0 ? 100.0 * static_cast<double>(share.bytes) /
                                                         static_cast<double>(total)
                                                   : 0.0)});
  }
  mix.add_row({"total", format_text("{}", model.tensors.size()), format_bytes(total), ""});
  out += mix.render();

  out += "\nweights per block\n";
  TextTable blocks({Align::left, Align::right, Align::left});
  for (const BlockRun& r : block_runs(model.weights)) {
    const bool single = r.first == r.last;
    blocks.add_row(
        {single ? format_text("blk.{}", r.first) : format_text("blk.{}-{}", r.first, r.last),
         format_bytes(r.bytes), single ? "" : "each"});
  }
  out += blocks.render();
  return out;
}

std::string render_inspect_json(const Model& model) {
  const AttentionSummary a = summarize(model.spec);
  Json j;
  j["schema_version"] = 1;
  j["model"] = {{"name", model.name},
                {"source", model.source},
                {"file_type", std::string(to_string(model.file_type))},
                {"params", model.n_params}};
  if (model.file) {
    const ModelFileFacts& f = *model.file;
    j["file"] = {{"path", f.path},
                 {"format", f.format},
                 {"size_bytes", f.file_size},
                 {"parts", f.parts},
                 {"header_bytes", f.header_bytes},
                 {"bytes_read", f.bytes_read},
                 {"metadata_keys", f.metadata_keys},
                 {"general_name", f.general_name},
                 {"tokenizer_model", f.tokenizer_model},
                 {"tokenizer_tokens", f.tokenizer_tokens}};
  } else {
    j["file"] = nullptr;
  }
  j["architecture"] = spec_json(model.spec);
  j["compute_model"] = graph_modelled(model.spec) ? "graph_replay" : "closed_form";
  j["attention"] = {{"kv_layers", a.kv_layers},
                    {"swa_layers", a.swa_layers},
                    {"recurrent_layers", a.recurrent_layers},
                    {"kv_bytes_per_token_f16_full", a.full_kv_per_token_f16},
                    {"kv_bytes_per_token_f16_swa", a.swa_kv_per_token_f16}};
  Json mix = Json::array();
  for (const auto& [type, share] : quantization_mix(model)) {
    mix.push_back({{"type", std::string(to_string(type))},
                   {"tensors", share.tensors},
                   {"bytes", share.bytes}});
  }
  j["quantization"] = mix;
  Json blocks = Json::array();
  for (const WeightGroup& b : model.weights.blocks) blocks.push_back(b.host);
  j["weights"] = {{"input_bytes", model.weights.input.host},
                  {"output_bytes", model.weights.output.host},
                  {"output_tied", model.weights.output_tied},
                  {"blocks_bytes", blocks},
                  {"total_bytes", model.weights.file_tensor_bytes}};
  Json tensors = Json::array();
  for (const TensorInfo& t : model.tensors) {
    // As many dimensions as the tensor has (trailing 1s are padding, not dimensions).
    std::size_t dims = t.ne.size();
    while (dims > 1 && t.ne[dims - 1] == 1) --dims;
    Json shape = Json::array();
    for (std::size_t d = 0; d < dims; ++d) shape.push_back(t.ne[d]);
    tensors.push_back({{"name", t.name},
                       {"type", std::string(to_string(t.type))},
                       {"shape", shape},
                       {"bytes", t.bytes()}});
  }
  j["tensors"] = tensors;
  return json_text(j);
}

}  // namespace vramplan::report
