// Real llama.cpp runs with a GPU backend (bench/accuracy/vulkan, bench/accuracy/cuda), read for
// the accuracy tests: what each case asked, every buffer llama.cpp logged per device, and room
// for vramplan's figures. The records are those of scripts/oracle/vulkan/measure.py.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/estimate.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::test {

inline constexpr double kMiB = 1024.0 * 1024.0;

// One device's buffers: weights, KV, compute, output (bytes), and how many logged buffers each
// figure adds up (each has its own rounding).
struct Buffers {
  Bytes weights = 0, kv = 0, compute = 0, output = 0;
  int n_weights = 0, n_kv = 0, n_compute = 0, n_output = 0;
};

struct DeviceRun {
  std::string file;
  std::string model;
  Bytes tensor_bytes = 0;  // the measured file's, when the record has it
  Config config;
  bool mmap = true;
  bool op_offload = true;
  nlohmann::json env;         // extra environment the run had (e.g. GGML_VK_DISABLE_...)
  int offloaded = 0;          // layers llama.cpp assigned to the GPU ("offloaded N/M")
  Buffers gpu, host;          // measured
  DeviceUsage p_gpu, p_host;  // predicted
  Bytes p_mapped = 0;         // predicted CPU_Mapped range (mapped_host_weights)
  // Runs on several GPUs (the grid's "gpus" and "split"): the buffers of the GPUs after the
  // first (Vulkan1, ...), the layers llama.cpp assigned to each GPU, and the layer split's
  // proportions as asked (tensor_split).
  std::vector<Buffers> more_gpus;
  std::vector<int> gpu_layers;
  std::vector<double> split;
  std::vector<DeviceUsage> p_more_gpus;

  [[nodiscard]] std::size_t n_gpus() const { return 1 + more_gpus.size(); }

  [[nodiscard]] std::string name() const {
    std::string kv;
    if (config.type_k != GgmlType::f16 || config.type_v != GgmlType::f16) kv = " kv=quantized";
    std::string gpus;
    if (!split.empty()) gpus = fmt::format(" gpus={} split={}", n_gpus(), fmt::join(split, ":"));
    return fmt::format(
        "{} ngl={} n_ctx={} ub={} seqs={} fa={} mmap={} op_offload={} n_cpu_moe={}{}{}", model,
        config.gpu_layers, config.ctx, config.n_ubatch, config.parallel,
        config.flash_attn ? "on" : "off", mmap ? "on" : "off", op_offload ? "on" : "off",
        config.cpu_moe, kv, gpus);
  }
};

// The index of a GPU buffer named like `gpu` with another number (Vulkan1 for Vulkan0), or -1.
inline int gpu_index(const std::string& name, const std::string& gpu) {
  const std::size_t stem = gpu.find_last_not_of("0123456789") + 1;
  if (name.size() <= stem || name.compare(0, stem, gpu, 0, stem) != 0 ||
      name.find_first_not_of("0123456789", stem) != std::string::npos) {
    return -1;
  }
  return std::stoi(name.substr(stem));
}

// The runs in `dir` (its .jsonl files, not its subfolders; only complete ones); `gpu` names the
// first GPU's buffers (Vulkan0, CUDA0), the same name with another number a further GPU's
// (Vulkan1), every other buffer is the host's.
inline std::vector<DeviceRun> read_device_runs(const std::filesystem::path& dir,
                                               const std::string& gpu,
                                               CpuRepack repack = CpuRepack::avx512) {
  using nlohmann::json;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".jsonl" && name.rfind("footprint", 0) != 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  const auto add = [&gpu](const json& list, Bytes Buffers::*field, int Buffers::*count,
                          DeviceRun& c) {
    for (const json& b : list) {
      const int index = gpu_index(b.at("buffer").get<std::string>(), gpu);
      if (index > 0 && c.more_gpus.size() < static_cast<std::size_t>(index)) {
        c.more_gpus.resize(static_cast<std::size_t>(index));
      }
      Buffers& dest = index < 0    ? c.host
                      : index == 0 ? c.gpu
                                   : c.more_gpus[static_cast<std::size_t>(index) - 1];
      dest.*field += b.at("bytes").get<Bytes>();
      ++(dest.*count);
    }
  };
  std::vector<DeviceRun> runs;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string text;
    while (std::getline(in, text)) {
      if (text.empty()) continue;
      const json j = json::parse(text);
      if (!j.value("complete", false)) continue;
      const json& a = j.at("asked");
      const json& l = j.at("llama");
      const json& p = l.at("params");
      DeviceRun c;
      c.file = path.filename().string();
      c.model = j.at("model").get<std::string>();
      c.tensor_bytes = j.value("tensor_bytes", Bytes{0});
      c.mmap = a.at("mmap").get<bool>();
      c.env = j.value("env", json::object());
      c.op_offload = a.at("op_offload").get<bool>();
      c.config.op_offload = c.op_offload;
      c.offloaded = l.at("offloaded").at(0).get<int>();
      c.config.ctx = p.at("n_ctx").get<std::int64_t>();
      c.config.parallel = p.at("n_seq_max").get<std::int32_t>();
      c.config.gpu_layers = a.at("ngl").get<std::int32_t>();  // as asked (-ngl)
      c.config.flash_attn = p.at("flash_attn").get<std::string>() == "enabled";
      c.config.n_batch = p.at("n_batch").get<std::int64_t>();
      c.config.n_ubatch = p.at("n_ubatch").get<std::int64_t>();
      c.config.kv_unified = p.at("kv_unified").get<bool>();
      c.config.cpu_moe = a.at("n_cpu_moe").get<std::int32_t>();
      c.config.cpu_repack = repack;
      // A model without a cache (an embedding encoder) logs no size line; the type is moot.
      const json& kv_lines = l.at("kv_size_lines");
      const json no_cache = {{"k_type", "f16"}, {"v_type", "f16"}};
      const json& kv_line = kv_lines.empty() ? no_cache : kv_lines.at(0);
      const auto type_k = parse_ggml_type(kv_line.at("k_type").get<std::string>());
      const auto type_v = parse_ggml_type(kv_line.at("v_type").get<std::string>());
      if (!type_k || !type_v) throw std::runtime_error("unknown cache type: " + text);
      c.config.type_k = *type_k;
      c.config.type_v = *type_v;
      add(l.at("model_buffers"), &Buffers::weights, &Buffers::n_weights, c);
      add(l.at("kv_buffers"), &Buffers::kv, &Buffers::n_kv, c);
      // A hybrid's recurrent state (llama_memory_recurrent's RS buffers, one per device as the
      // KV cache's) counts with the KV cache, as vramplan's DeviceUsage::kv_cache holds both.
      if (l.contains("rs_buffers")) add(l.at("rs_buffers"), &Buffers::kv, &Buffers::n_kv, c);
      add(l.at("output_buffers"), &Buffers::output, &Buffers::n_output, c);
      const json& precise = l.at("compute_buffers_precise");
      add(precise.empty() ? l.at("compute_buffers") : precise, &Buffers::compute,
          &Buffers::n_compute, c);
      if (a.contains("split")) c.split = a.at("split").get<std::vector<double>>();
      if (l.contains("layers")) {
        for (const auto& [name, count] : l.at("layers").items()) {
          const int index = gpu_index(name, gpu);
          if (index < 0) continue;
          if (c.gpu_layers.size() <= static_cast<std::size_t>(index)) {
            c.gpu_layers.resize(static_cast<std::size_t>(index) + 1, 0);
          }
          c.gpu_layers[static_cast<std::size_t>(index)] = count.get<int>();
        }
      }
      runs.push_back(std::move(c));
    }
  }
  return runs;
}

// The log prints MiB with 2 decimals (4 for the destructor's compute lines) and the record
// rounds that figure to whole bytes: within half a unit of the last decimal per buffer, plus
// half a byte, is exact.
inline double tolerance(int buffers) { return (0.005 * kMiB + 0.5) * std::max(buffers, 1); }

inline bool exact(Bytes predicted, Bytes measured, int buffers) {
  return std::abs(static_cast<double>(predicted) - static_cast<double>(measured)) <=
         tolerance(buffers);
}

inline void expect_exact(Bytes predicted, Bytes measured, int buffers, const char* what) {
  EXPECT_TRUE(exact(predicted, measured, buffers))
      << what << ": vramplan " << static_cast<double>(predicted) / kMiB << " MiB, llama.cpp "
      << static_cast<double>(measured) / kMiB << " MiB";
}

// One run and vramplan's figures as a JSON object (the accuracy tests' *_ACCURACY_OUT lines,
// read by scripts/oracle/report.py).
inline nlohmann::json run_json(const DeviceRun& c) {
  using nlohmann::json;
  const auto measured = [](const Buffers& b) {
    return json{{"weights", b.weights}, {"kv", b.kv}, {"compute", b.compute}, {"output", b.output}};
  };
  const auto predicted = [](const DeviceUsage& d) {
    return json{
        {"weights", d.weights}, {"kv", d.kv_cache}, {"compute", d.compute}, {"output", d.output}};
  };
  return json{
      {"file", c.file},
      {"model", c.model},
      {"ngl", c.config.gpu_layers},
      {"n_ctx", c.config.ctx},
      {"n_ubatch", c.config.n_ubatch},
      {"n_seq", c.config.parallel},
      {"flash_attn", c.config.flash_attn},
      {"mmap", c.mmap},
      {"op_offload", c.op_offload},
      {"n_cpu_moe", c.config.cpu_moe},
      {"quantized_kv", c.config.type_k != GgmlType::f16},
      {"measured", {{"gpu", measured(c.gpu)}, {"host", measured(c.host)}}},
      {"vramplan",
       {{"gpu", predicted(c.p_gpu)}, {"host", predicted(c.p_host)}, {"host_mapped", c.p_mapped}}}};
}

// The runs cover every kind of case the grids are made of: all / some / no layers on the GPU,
// flash attention off, mmap off, op offload off, --n-cpu-moe.
inline void expect_covers_the_grid(const std::vector<const DeviceRun*>& runs) {
  int full = 0, partial = 0, none = 0, no_fa = 0, no_mmap = 0, no_op_offload = 0, cpu_moe = 0;
  for (const DeviceRun* c : runs) {
    const int total = c->p_gpu.layers + c->p_host.layers;
    (c->config.gpu_layers == total ? full : c->config.gpu_layers == 0 ? none : partial) += 1;
    no_fa += c->config.flash_attn ? 0 : 1;
    no_mmap += c->mmap ? 0 : 1;
    no_op_offload += c->op_offload ? 0 : 1;
    cpu_moe += c->config.cpu_moe > 0 ? 1 : 0;
  }
  EXPECT_GT(full, 0);
  EXPECT_GT(partial, 0);
  EXPECT_GT(none, 0);
  EXPECT_GT(no_fa, 0);
  EXPECT_GT(no_mmap, 0);
  EXPECT_GT(no_op_offload, 0);
  EXPECT_GT(cpu_moe, 0);
}

}  // namespace vramplan::test
