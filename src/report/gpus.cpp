// `vramplan gpus`: the catalog's cards as a table or JSON. Catalog text (names, aliases,
// notes, a user's file) is escaped by TextTable / format_text and json_text.
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include <vramplan/bytes.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/gpus.hpp>
#include <vramplan/report/text_table.hpp>

#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

// 300 -> "300", 716.8 -> "716.8", 756.5 -> "756.5": one decimal when the value has one.
[[nodiscard]] std::string number(double value) {
  if (value == std::floor(value) && value < 1e15) {
    return format_text("{}", static_cast<std::int64_t>(value));
  }
  return format_text("{:.1f}", value);
}

[[nodiscard]] std::string yes_no(std::optional<bool> value) {
  if (!value) return "-";
  return *value ? "yes" : "no";
}

[[nodiscard]] std::string memory_cell(const Gpu& gpu) {
  if (gpu.memory_bytes) return format_bytes(*gpu.memory_bytes);
  return gpu.unified_memory ? "unified" : "-";
}

template <typename T>
[[nodiscard]] Json optional_json(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

}  // namespace

std::string render_gpus_table(const std::vector<const Gpu*>& gpus) {
  TextTable table({Align::left, Align::left, Align::right, Align::right, Align::right, Align::left,
                   Align::left, Align::left, Align::left, Align::left, Align::left});
  table.add_row({"id", "name", "memory", "GB/s", "fp16 TFLOPS", "arch", "cc", "bf16", "fp8",
                 "flash attn", "vllm"});
  for (const Gpu* g : gpus) {
    table.add_row({g->id, g->name, memory_cell(*g),
                   g->bandwidth_gbps ? number(*g->bandwidth_gbps) : "-",
                   g->fp16_tensor_tflops ? number(*g->fp16_tensor_tflops) : "-", g->arch,
                   g->compute_capability ? to_string(*g->compute_capability) : "-", yes_no(g->bf16),
                   yes_no(g->fp8), yes_no(g->flash_attention), yes_no(g->vllm)});
  }
  std::string out = table.render();
  out += format_text(
      "\n{} GPU{}. memory: what a program gets (nvidia-smi's memory.total; unified: a share of "
      "the RAM, see --vram auto); fp16 TFLOPS: dense tensor throughput; flash attn: llama.cpp's; "
      "- : not known\n",
      gpus.size(), gpus.size() == 1 ? "" : "s");
  return out;
}

std::string render_gpus_json(const std::vector<const Gpu*>& gpus) {
  Json list = Json::array();
  for (const Gpu* g : gpus) {
    Json j;
    j["id"] = g->id;
    j["name"] = g->name;
    j["vendor"] = std::string(to_string(g->vendor));
    j["aliases"] = g->aliases;
    j["memory_bytes"] = optional_json(g->memory_bytes);
    j["memory_gb"] = optional_json(g->memory_gb);
    j["memory_source"] = std::string(to_string(g->memory_source));
    j["cuda_total_bytes"] = optional_json(g->cuda_total_bytes);
    j["memory_type"] = optional_json(g->memory_type);
    j["unified_memory"] = g->unified_memory;
    j["devices_per_board"] = g->devices_per_board;
    j["bandwidth_gbps"] = optional_json(g->bandwidth_gbps);
    j["fp16_tensor_tflops"] = optional_json(g->fp16_tensor_tflops);
    j["arch"] = g->arch;
    j["compute_capability"] =
        g->compute_capability ? Json(to_string(*g->compute_capability)) : Json(nullptr);
    j["bf16"] = optional_json(g->bf16);
    j["fp8"] = optional_json(g->fp8);
    j["flash_attention"] = {{"llama_cpp", optional_json(g->flash_attention)},
                            {"flash_attn2", optional_json(g->flash_attn2)}};
    j["vllm"] = optional_json(g->vllm);
    j["gpu_cores"] = g->gpu_cores;
    j["memory_configs_gb_seen"] = g->memory_configs_gb_seen;
    j["sources"] = g->sources;
    j["notes"] = g->notes;
    j["origin"] = g->origin;
    list.push_back(std::move(j));
  }
  Json root;
  root["schema_version"] = 1;
  root["gpus"] = std::move(list);
  return json_text(root);
}

}  // namespace vramplan::report
