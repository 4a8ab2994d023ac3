// `size` and `recommend` renderers (report/sizing.hpp). Catalog text is escaped by TextTable /
// format_text and json_text.
#include <optional>

#include <nlohmann/json.hpp>

#include <vramplan/bytes.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/sizing.hpp>
#include <vramplan/report/text_table.hpp>

#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

[[nodiscard]] std::string_view family_name(SizeEngine family) {
  return family == SizeEngine::vllm ? "vllm" : "llama.cpp";
}

[[nodiscard]] std::string layout_cell(const SizeOption& o) {
  switch (o.layout) {
    case SizeLayout::single:
      return "alone";
    case SizeLayout::layer_split:
      return format_text("layer split over {}", o.gpus);
    case SizeLayout::rpc:
      return format_text("RPC, layer split over {}", o.gpus);
    case SizeLayout::tensor:
      return format_text("TP {}", o.tensor_parallel);
    case SizeLayout::tensor_pipeline:
      return format_text("TP {} x PP {}", o.tensor_parallel, o.pipeline_parallel);
  }
  return "?";
}

[[nodiscard]] Json option_json(const SizeOption& o) {
  Json j;
  j["gpu"] = o.gpu->id;
  j["gpu_name"] = o.gpu->name;
  j["gpu_memory_bytes"] = o.gpu_memory;
  j["gpus"] = o.gpus;
  j["tensor_parallel"] = o.tensor_parallel;
  j["pipeline_parallel"] = o.pipeline_parallel;
  j["nodes"] = o.nodes;
  j["layout"] = std::string(to_string(o.layout));
  j["per_gpu_bytes"] = o.per_gpu_bytes;
  j["per_gpu_headroom_bytes"] = o.per_gpu_headroom;
  j["per_gpu_weights_bytes"] = o.per_gpu_weights;
  j["kv_tokens"] = o.kv_tokens;
  return j;
}

[[nodiscard]] std::string tokens_per_s(const std::optional<SpeedEstimate>& speed) {
  if (!speed) return "-";
  return format_text("{:.0f}", speed->decode_tokens_per_s);
}

[[nodiscard]] std::string ctx_cell(std::int64_t ctx) {
  if (ctx >= 1024 && ctx % 1024 == 0) return format_text("{}k", ctx / 1024);
  return format_text("{}", ctx);
}

void add_items(TextTable& table, const std::vector<RecommendItem>& items) {
  table.add_row(
      {"model", "quant", "params", "quality", "ctx", "kv", "layers", "gpu", "ram", "tok/s"});
  for (const RecommendItem& i : items) {
    table.add_row(
        {i.name, std::string(to_string(i.quant)), format_text("{:.1f}B", i.params / 1e9),
         format_text("{:.2f}", i.quality), ctx_cell(i.ctx), std::string(to_string(i.kv_type)),
         i.cpu_moe > 0 ? format_text("{}/{} ({} moe cpu)", i.gpu_layers, i.total_layers, i.cpu_moe)
                       : format_text("{}/{}", i.gpu_layers, i.total_layers),
         format_bytes(i.gpu_bytes), format_bytes(i.ram_bytes), tokens_per_s(i.speed)});
  }
}

[[nodiscard]] Json item_json(const RecommendItem& i) {
  Json j;
  j["model"] = i.name;
  j["entry"] = i.entry->id;
  j["quant"] = std::string(to_string(i.quant));
  j["params"] = i.params;
  j["quality"] = i.quality;
  j["full_gpu"] = i.full_gpu;
  j["gpu_layers"] = i.gpu_layers;
  j["total_layers"] = i.total_layers;
  j["cpu_moe"] = i.cpu_moe;
  j["ctx"] = i.ctx;
  j["max_ctx"] = i.max_ctx;
  j["kv_type"] = std::string(to_string(i.kv_type));
  j["weights_bytes"] = i.weights;
  j["gpu_bytes"] = i.gpu_bytes;
  j["ram_bytes"] = i.ram_bytes;
  if (i.speed) {
    j["speed"] = {{"decode_tokens_per_s", i.speed->decode_tokens_per_s},
                  {"decode_at_ctx_tokens_per_s", i.speed->decode_at_ctx_tokens_per_s},
                  {"prefill_tokens_per_s", i.speed->prefill_tokens_per_s}};
  } else {
    j["speed"] = nullptr;
  }
  return j;
}

}  // namespace

std::string render_size_table(const SizeResult& r, std::size_t max_rows) {
  std::string out =
      r.family == SizeEngine::vllm && r.parallel == 0
          ? format_text("{}  (vllm, max-model-len {}, default max-num-seqs)\n", r.model, r.ctx)
          : format_text("{}  ({}, ctx {}, {} slot{})\n", r.model, family_name(r.family), r.ctx,
                        r.parallel, r.parallel == 1 ? "" : "s");
  out += format_text("  one GPU without limit: {} of GPU memory", format_bytes(r.vram_needed));
  if (r.family == SizeEngine::llama_cpp) {
    out += format_text(", {} of RAM; CPU only: {} of RAM", format_bytes(r.ram_needed),
                       format_bytes(r.ram_cpu_only));
  }
  out += "\n";
  if (r.options.empty()) {
    out += format_text("  no card of the catalog runs it within the node limits\n");
  } else {
    const SizeOption& s = r.options.front();
    out += format_text("  smallest set: {} x {} ({})\n", s.gpus, s.gpu->id, layout_cell(s));
  }
  out += format_text("  runs alone on {} card{}\n\n", r.single_gpu.size(),
                     r.single_gpu.size() == 1 ? "" : "s");
  TextTable table({Align::left, Align::right, Align::right, Align::left, Align::right, Align::right,
                   Align::right});
  table.add_row({"gpu", "memory", "gpus", "layout", "nodes", "per gpu", "weights/gpu"});
  std::size_t shown = 0;
  for (const SizeOption& o : r.options) {
    if (max_rows > 0 && shown == max_rows) break;
    ++shown;
    table.add_row({o.gpu->id, format_bytes(o.gpu_memory), format_text("{}", o.gpus), layout_cell(o),
                   format_text("{}", o.nodes), format_bytes(o.per_gpu_bytes),
                   format_bytes(o.per_gpu_weights)});
  }
  out += table.render();
  if (shown < r.options.size()) {
    out += format_text("... {} more cards\n", r.options.size() - shown);
  }
  if (!r.skipped.empty()) out += format_text("{} cards skipped\n", r.skipped.size());
  for (const std::string& n : r.notes) out += format_text("note: {}\n", n);
  return out;
}

std::string render_size_json(const SizeResult& r) {
  Json root;
  root["schema_version"] = 1;
  root["model"] = r.model;
  root["engine"] = std::string(family_name(r.family));
  root["ctx"] = r.ctx;
  root["parallel"] = r.parallel;
  root["vram_needed_bytes"] = r.vram_needed;
  root["ram_needed_bytes"] = r.ram_needed;
  root["ram_cpu_only_bytes"] = r.ram_cpu_only;
  Json single = Json::array();
  for (std::size_t i : r.single_gpu) single.push_back(r.options[i].gpu->id);
  root["single_gpu"] = std::move(single);
  root["smallest"] = r.options.empty() ? Json(nullptr) : option_json(r.options.front());
  Json options = Json::array();
  for (const SizeOption& o : r.options) options.push_back(option_json(o));
  root["options"] = std::move(options);
  Json skipped = Json::array();
  for (const SizeSkip& s : r.skipped) {
    skipped.push_back({{"gpu", s.gpu->id}, {"reason", s.reason}});
  }
  root["skipped"] = std::move(skipped);
  root["notes"] = r.notes;
  return json_text(root);
}

std::string render_recommend_table(const RecommendResult& r) {
  std::string out = format_text("fully on the GPU ({}):\n", r.full_gpu.size());
  const std::vector<Align> align{Align::left,  Align::left, Align::right, Align::right,
                                 Align::right, Align::left, Align::right, Align::right,
                                 Align::right, Align::right};
  if (!r.full_gpu.empty()) {
    TextTable table(align);
    add_items(table, r.full_gpu);
    out += table.render();
  }
  if (!r.offload.empty()) {
    out += format_text("\nwith offload to RAM ({}):\n", r.offload.size());
    TextTable table(align);
    add_items(table, r.offload);
    out += table.render();
  }
  out += format_text(
      "\nquality: parameters (billions) x 1 / (1 + perplexity increase of the quantization, "
      "llama.cpp's quantize table); docs/sizing.md\n");
  for (const std::string& n : r.notes) out += format_text("note: {}\n", n);
  return out;
}

std::string render_recommend_json(const RecommendResult& r) {
  Json root;
  root["schema_version"] = 1;
  root["quality_rule"] =
      "params / 1e9 / (1 + ppl_delta), ppl_delta from llama.cpp tools/quantize/quantize.cpp";
  Json full = Json::array();
  for (const RecommendItem& i : r.full_gpu) full.push_back(item_json(i));
  root["full_gpu"] = std::move(full);
  Json offload = Json::array();
  for (const RecommendItem& i : r.offload) offload.push_back(item_json(i));
  root["offload"] = std::move(offload);
  root["notes"] = r.notes;
  root["work"] = {{"candidates", r.candidates},
                  {"prefiltered", r.prefiltered},
                  {"fits", r.fits},
                  {"estimates", r.estimates},
                  {"stopped_early", r.stopped_early}};
  return json_text(root);
}

}  // namespace vramplan::report
