// vramplan's per-device estimate against real llama.cpp on a second backend: every case under
// bench/accuracy/vulkan (llama.cpp's Vulkan backend on Mesa's lavapipe, measured with
// scripts/oracle/vulkan/). The models come from the catalog plus bench/accuracy/vulkan/shapes.yaml
// (no GGUF needed). Asserted, per device, exactly at the log's precision: the weights on
// Vulkan0, the host weights (without mmap the host tensors, with mmap the mapped file range), the
// KV cache on each device and the output buffer.
// The compute buffers come from the scheduler replay (sched.hpp), with the Vulkan backend's
// reordering of each Vulkan split's nodes (ggml_vk_graph_optimize, src/core/vk_reorder.cpp):
// both are asserted exactly on every case, with op offload on and off; on the
// same grid run with that reordering switched off (bench/accuracy/vulkan/no-graph-optimize,
// replayed without it) too. With
// VRAMPLAN_VULKAN_ACCURACY_OUT set every case's figures are written there as JSON lines
// (scripts/oracle/report.py turns them into docs/accuracy.md's Vulkan section).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/catalog.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/tensors.hpp>

#include "device_runs.hpp"
#include "support/catalog_models.hpp"

#ifndef VRAMPLAN_VULKAN_ACCURACY_DIR
#error "VRAMPLAN_VULKAN_ACCURACY_DIR must name bench/accuracy/vulkan"
#endif

namespace vramplan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::Buffers;
using test::expect_exact;
using test::kMiB;
using test::tolerance;
using VkCase = test::DeviceRun;

constexpr const char* kGpu = "Vulkan0";

// The Vulkan backend's node reordering (ggml_vk_graph_optimize) was on: not switched off by the
// run's environment.
bool graph_optimize(const VkCase& c) { return !c.env.contains("GGML_VK_DISABLE_GRAPH_OPTIMIZE"); }

// The measured runs in `dir`. Q8_0 weights only: no CPU_REPACK copies on the measuring machine
// (oracle README).
std::vector<VkCase> read_cases(const fs::path& dir) { return test::read_device_runs(dir, kGpu); }

// vramplan's figures for every case of `dir`.
std::vector<VkCase> predicted_cases(const fs::path& dir) {
  std::vector<VkCase> out = read_cases(dir);
  test::CatalogModels models(
      io::load_catalog({fs::path(VRAMPLAN_VULKAN_ACCURACY_DIR) / "shapes.yaml"}, ""));
  // The runs with GGML_VK_DISABLE_GRAPH_OPTIMIZE=1 are replayed without the reordering.
  sched::GpuRules plain = sched::vulkan_lavapipe();
  plain.reorders_nodes = false;
  for (VkCase& c : out) {
    const Model& model = models.get(c.model);
    // One Vulkan device of lavapipe's 2 GiB heap (not enforced by lavapipe).
    const Estimate est =
        estimate(model, engine(EngineId::llamacpp_lib), Backend::vulkan, c.config, {2048 * mib},
                 nullptr, graph_optimize(c) ? &sched::vulkan_lavapipe() : &plain);
    c.p_gpu = est.devices.front();
    c.p_host = est.host();
    c.p_mapped = mapped_host_weights(model, c.config);
  }
  return out;
}

// The same grid measured with the Vulkan backend's node reordering switched off
// (GGML_VK_DISABLE_GRAPH_OPTIMIZE=1, scripts/oracle/vulkan/README.md).
const std::vector<VkCase>& cases_without_reordering() {
  static const std::vector<VkCase> all =
      predicted_cases(fs::path(VRAMPLAN_VULKAN_ACCURACY_DIR) / "no-graph-optimize");
  return all;
}

const std::vector<VkCase>& cases() {
  static const std::vector<VkCase> all = [] {
    const char* env_dir = std::getenv("VRAMPLAN_VULKAN_ACCURACY_DIR");
    std::vector<VkCase> out = predicted_cases(
        env_dir != nullptr ? fs::path(env_dir) : fs::path(VRAMPLAN_VULKAN_ACCURACY_DIR));
    if (const char* path = std::getenv("VRAMPLAN_VULKAN_ACCURACY_OUT"); path != nullptr) {
      std::ofstream o(path);
      // The default runs, then the runs without the Vulkan reordering ("graph_optimize": false).
      std::vector<VkCase> written = out;
      const std::vector<VkCase>& plain = cases_without_reordering();
      written.insert(written.end(), plain.begin(), plain.end());
      for (const VkCase& c : written) {
        json j = test::run_json(c);
        j["graph_optimize"] = graph_optimize(c);
        o << j.dump() << "\n";
      }
    }
    return out;
  }();
  return all;
}

TEST(VulkanAccuracy, DataCoversTheGrid) {
  const std::vector<VkCase>& all = cases();
  ASSERT_GE(all.size(), 40U);
  std::vector<const VkCase*> runs;
  for (const VkCase& c : all) runs.push_back(&c);
  test::expect_covers_the_grid(runs);
}

// llama.cpp's layer placement (the last ngl layers, the output layer counting as one) is what
// vramplan assumes: given the same -ngl, the GPU holds as many layers as llama.cpp says it
// offloaded ("offloaded N/M layers to GPU").
TEST(VulkanAccuracy, LayerPlacementMatches) {
  for (const VkCase& c : cases()) {
    SCOPED_TRACE(c.name());
    EXPECT_EQ(c.p_gpu.layers, c.offloaded);
  }
}

TEST(VulkanAccuracy, WeightsKvOutputExactPerDevice) {
  int host_weights_checked = 0;
  for (const VkCase& c : cases()) {
    SCOPED_TRACE(c.name());
    expect_exact(c.p_gpu.weights, c.gpu.weights, c.gpu.n_weights, "Vulkan0 weights");
    expect_exact(c.p_gpu.kv_cache, c.gpu.kv, c.gpu.n_kv, "Vulkan0 KV");
    expect_exact(c.p_host.kv_cache, c.host.kv, c.host.n_kv, "host KV");
    // The output buffer (logits) is host memory: Vulkan_Host with a GPU layer, CPU without.
    EXPECT_EQ(c.gpu.n_output, 0);
    expect_exact(c.p_gpu.output, c.gpu.output, c.gpu.n_output, "Vulkan0 output");
    expect_exact(c.p_host.output, c.host.output, c.host.n_output, "host output");
    if (!c.mmap) {
      // Without mmap the host weights are Vulkan_Host (and CPU, for --n-cpu-moe overrides)
      // buffers holding exactly the host tensors.
      expect_exact(c.p_host.weights, c.host.weights, c.host.n_weights, "host weights");
      ++host_weights_checked;
    }
  }
  EXPECT_GT(host_weights_checked, 0);
}

// With mmap, CPU_Mapped is the file range from the first to the last host tensor
// (llama_model_loader::get_mapping_range), so GPU tensors lying between them are counted too:
// mapped_host_weights() replays that rule over the tensors in file order.
TEST(VulkanAccuracy, MappedHostWeightsAreTheFileRange) {
  int n = 0, above_sum = 0;
  for (const VkCase& c : cases()) {
    if (!c.mmap) continue;
    SCOPED_TRACE(c.name());
    ++n;
    expect_exact(c.p_mapped, c.host.weights, c.host.n_weights, "mapped host weights");
    // Never less than the host tensors themselves.
    EXPECT_GE(c.p_mapped, c.p_host.weights);
    above_sum += c.p_mapped > c.p_host.weights ? 1 : 0;
  }
  std::printf(
      "[vulkan-accuracy] host weights with mmap: %d/%d cases map more than the host tensors' "
      "sum (GPU tensors inside the range)\n",
      above_sum, n);
  EXPECT_GT(n, 0);
  EXPECT_GT(above_sum, 0);
}

// The compute buffers from the scheduler replay (sched.hpp). Vulkan0's, with the Vulkan
// backend's reordering of each of its splits replayed (vk_reorder.cpp), is asserted exactly on
// every case. The host's (the CPU backend's Vulkan_Host buffer: graph inputs, the embeddings
// get_rows, activations copied to the CPU for host-cache writes, the generation graph's CPU
// layers, and with op offload off the CPU's share of the prompt graph, strided copies
// included) is asserted exactly on every case too.
TEST(VulkanAccuracy, ComputeBuffers) {
  int n = 0, n_off = 0, gpu_exact = 0, gpu_within = 0;
  double gpu_worst = 0;
  for (const VkCase& c : cases()) {
    SCOPED_TRACE(c.name());
    ++n;
    expect_exact(c.p_host.compute, c.host.compute, c.host.n_compute, "host compute");
    n_off += c.op_offload ? 0 : 1;
    expect_exact(c.p_gpu.compute, c.gpu.compute, c.gpu.n_compute, "Vulkan0 compute");
    const double dg = static_cast<double>(c.p_gpu.compute) - static_cast<double>(c.gpu.compute);
    gpu_exact += std::abs(dg) <= tolerance(c.gpu.n_compute) ? 1 : 0;
    gpu_within +=
        std::abs(dg) <= std::max(0.03 * static_cast<double>(c.gpu.compute), 8.0 * kMiB) ? 1 : 0;
    gpu_worst = std::max(gpu_worst, std::abs(dg));
    std::printf(
        "[vulkan-accuracy] compute %s: Vulkan0 %.2f vs %.2f MiB (%+.2f), host %.2f vs %.2f "
        "MiB\n",
        c.name().c_str(), static_cast<double>(c.p_gpu.compute) / kMiB,
        static_cast<double>(c.gpu.compute) / kMiB, dg / kMiB,
        static_cast<double>(c.p_host.compute) / kMiB, static_cast<double>(c.host.compute) / kMiB);
  }
  std::printf(
      "[vulkan-accuracy] host compute asserted exact on all %d cases (%d with op offload "
      "off); Vulkan0 compute exact on %d/%d, within max(3 %%, 8 MiB) on %d/%d, worst error "
      "%.2f MiB (asserted exact)\n",
      n, n_off, gpu_exact, n, gpu_within, n, gpu_worst / kMiB);
  EXPECT_GT(n - n_off, 0);
  EXPECT_GT(n_off, 0);
}

// The grid again with the Vulkan backend's node reordering switched off (llama.cpp's
// GGML_VK_DISABLE_GRAPH_OPTIMIZE=1; bench/accuracy/vulkan/no-graph-optimize), replayed without
// it (GpuRules::reorders_nodes off): both compute buffers are asserted exactly on every case.
// The reordering is what changes Vulkan0's buffer between
// the two grids (on 38 of the 72 cases).
TEST(VulkanAccuracy, ComputeExactWithoutTheVulkanReordering) {
  const std::vector<VkCase>& all = cases_without_reordering();
  ASSERT_GE(all.size(), 40U);
  int n = 0;
  for (const VkCase& c : all) {
    SCOPED_TRACE(c.name() + " (no graph optimize)");
    EXPECT_FALSE(graph_optimize(c));
    ++n;
    expect_exact(c.p_gpu.compute, c.gpu.compute, c.gpu.n_compute, "Vulkan0 compute");
    expect_exact(c.p_host.compute, c.host.compute, c.host.n_compute, "host compute");
    // The reordering changes nothing else: weights and KV as in the default runs.
    expect_exact(c.p_gpu.weights, c.gpu.weights, c.gpu.n_weights, "Vulkan0 weights");
    expect_exact(c.p_gpu.kv_cache, c.gpu.kv, c.gpu.n_kv, "Vulkan0 KV");
  }
  std::printf(
      "[vulkan-accuracy] without the Vulkan reordering: Vulkan0 compute exact on %d cases "
      "(asserted)\n",
      n);
  for (const VkCase& c : cases()) EXPECT_TRUE(graph_optimize(c)) << c.name();
}

}  // namespace
}  // namespace vramplan
