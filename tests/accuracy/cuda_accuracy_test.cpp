// vramplan's per-device estimate against real llama.cpp on a real NVIDIA GPU: every case under
// bench/accuracy/cuda (llama.cpp's CUDA backend on an H200, measured with scripts/oracle/cuda/).
// The models come from the catalog plus bench/accuracy/vulkan/shapes.yaml (no GGUF needed).
// Asserted exactly at the log's precision, per device: the weights on CUDA0 (CUDA's row padding
// and 128-byte alignment), the host weights (without mmap the host tensors in CUDA_Host, with
// mmap the mapped file range; never CPU_REPACK beside a GPU), the KV cache on each device and
// the output buffer. The compute buffers: the scheduler replay with CUDA's rules
// (sched::cuda()) against llama.cpp's, and the closed form vramplan plans CUDA with, reported
// per case; what is asserted is said at each test. With VRAMPLAN_CUDA_ACCURACY_OUT set every
// case's figures are written there as JSON lines (scripts/oracle/report.py).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/catalog.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/sched.hpp>

#include "device_runs.hpp"
#include "support/catalog_models.hpp"

#ifndef VRAMPLAN_CUDA_ACCURACY_DIR
#error "VRAMPLAN_CUDA_ACCURACY_DIR must name bench/accuracy/cuda"
#endif
#ifndef VRAMPLAN_VULKAN_ACCURACY_DIR
#error "VRAMPLAN_VULKAN_ACCURACY_DIR must name bench/accuracy/vulkan (its shapes.yaml)"
#endif

namespace vramplan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::DeviceRun;
using test::exact;
using test::expect_exact;
using test::kMiB;

// A run with vramplan's compute buffers both ways: the replay with CUDA's rules (p_gpu/p_host)
// and the closed form the planner uses today.
struct CudaRun {
  DeviceRun run;
  Bytes formula_gpu = 0, formula_host = 0;
};

const std::vector<CudaRun>& runs() {
  static const std::vector<CudaRun> all = [] {
    test::CatalogModels models(
        io::load_catalog({fs::path(VRAMPLAN_VULKAN_ACCURACY_DIR) / "shapes.yaml"}, ""));
    // The measuring host has AVX-512: were anything repacked, it would be at that ISA.
    std::vector<CudaRun> out;
    for (DeviceRun& r : test::read_device_runs(VRAMPLAN_CUDA_ACCURACY_DIR, "CUDA0")) {
      const Model& model = models.get(r.model, r.tensor_bytes);
      const std::vector<Bytes> h200 = {143155 * mib};
      const Estimate replayed = estimate(model, engine(EngineId::llamacpp_lib), Backend::cuda,
                                         r.config, h200, nullptr, &sched::cuda());
      const Estimate planned =
          estimate(model, engine(EngineId::llamacpp_lib), Backend::cuda, r.config, h200);
      r.p_gpu = replayed.devices.front();
      r.p_host = replayed.host();
      r.p_mapped = mapped_host_weights(model, r.config);
      out.push_back(CudaRun{.run = r,
                            .formula_gpu = planned.devices.front().compute,
                            .formula_host = planned.host().compute});
    }
    if (const char* path = std::getenv("VRAMPLAN_CUDA_ACCURACY_OUT"); path != nullptr) {
      std::ofstream o(path);
      for (const CudaRun& cr : out) {
        json j = test::run_json(cr.run);
        j["vramplan"]["formula_gpu_compute"] = cr.formula_gpu;
        j["vramplan"]["formula_host_compute"] = cr.formula_host;
        o << j.dump() << "\n";
      }
    }
    return out;
  }();
  return all;
}

TEST(CudaAccuracy, DataCoversTheGrid) {
  ASSERT_GE(runs().size(), 150U);
  std::vector<const DeviceRun*> all;
  for (const CudaRun& cr : runs()) all.push_back(&cr.run);
  test::expect_covers_the_grid(all);
}

// The last ngl layers on the GPU, the output layer counting as one: as llama.cpp offloads.
TEST(CudaAccuracy, LayerPlacementMatches) {
  for (const CudaRun& cr : runs()) {
    SCOPED_TRACE(cr.run.name());
    EXPECT_EQ(cr.run.p_gpu.layers, cr.run.offloaded);
  }
}

TEST(CudaAccuracy, WeightsKvOutputExactPerDevice) {
  int host_weights_checked = 0;
  for (const CudaRun& cr : runs()) {
    const DeviceRun& c = cr.run;
    SCOPED_TRACE(c.name());
    expect_exact(c.p_gpu.weights, c.gpu.weights, c.gpu.n_weights, "CUDA0 weights");
    expect_exact(c.p_gpu.kv_cache, c.gpu.kv, c.gpu.n_kv, "CUDA0 KV");
    expect_exact(c.p_host.kv_cache, c.host.kv, c.host.n_kv, "host KV");
    // The output buffer (logits) is host memory: CUDA_Host with a GPU layer, CPU without.
    EXPECT_EQ(c.gpu.n_output, 0);
    expect_exact(c.p_host.output, c.host.output, c.host.n_output, "host output");
    if (!c.mmap) {
      // Without mmap: CUDA_Host buffers holding exactly the host tensors, nothing repacked.
      expect_exact(c.p_host.weights, c.host.weights, c.host.n_weights, "host weights");
      ++host_weights_checked;
    } else {
      expect_exact(c.p_mapped, c.host.weights, c.host.n_weights, "mapped host weights");
    }
  }
  EXPECT_GT(host_weights_checked, 0);
}

// What the replay does not model yet, each with the runs it explains. A run outside every gap
// must be exact on both devices; each gap must still miss somewhere (when a fix makes all its
// runs exact, the gap is removed here).
struct Gap {
  const char* what;
  bool gpu;  // the CUDA0 compute buffer (else the host's)
  bool (*applies)(const DeviceRun&);
};

const Gap kGaps[] = {
    // Flash attention with a quantized cache: the f16 copies of K and V CUDA allocates after
    // the result are replayed (ggml_cuda_flash_attn_ext_get_alloc_size), yet the tiny gemma2
    // (head 256, sliding window) with half its layers offloaded comes out 2 MiB low.
    {"gemma2's flash attention with a quantized cache", true,
     [](const DeviceRun& c) {
       return c.model == "vkgemma2:tiny-q8_0" && c.config.flash_attn &&
              c.config.type_k != GgmlType::f16;
     }},
};

bool in_gap(const DeviceRun& c, bool gpu) {
  for (const Gap& g : kGaps) {
    if (g.gpu == gpu && g.applies(c)) return true;
  }
  return false;
}

// The compute buffers from the scheduler replay with CUDA's rules, asserted exact outside the
// gaps above; both the replay and the closed form the planner uses today are counted and
// printed per case.
TEST(CudaAccuracy, ComputeBuffers) {
  int n = 0, gpu_replay = 0, host_replay = 0, gpu_formula = 0, host_formula = 0, asserted = 0;
  int gpu_replay_within = 0, gpu_formula_within = 0;
  double gpu_replay_worst = 0, gpu_formula_worst = 0;
  const auto within = [](Bytes p, Bytes m) {
    return std::abs(static_cast<double>(p) - static_cast<double>(m)) <=
           std::max(0.03 * static_cast<double>(m), 16.0 * kMiB);
  };
  std::vector<int> gap_misses(std::size(kGaps), 0);
  for (const CudaRun& cr : runs()) {
    const DeviceRun& c = cr.run;
    SCOPED_TRACE(c.name());
    ++n;
    const bool gpu_exact = exact(c.p_gpu.compute, c.gpu.compute, c.gpu.n_compute);
    const bool host_exact = exact(c.p_host.compute, c.host.compute, c.host.n_compute);
    gpu_replay += gpu_exact ? 1 : 0;
    host_replay += host_exact ? 1 : 0;
    gpu_formula += exact(cr.formula_gpu, c.gpu.compute, c.gpu.n_compute) ? 1 : 0;
    host_formula += exact(cr.formula_host, c.host.compute, c.host.n_compute) ? 1 : 0;
    gpu_replay_within += within(c.p_gpu.compute, c.gpu.compute) ? 1 : 0;
    gpu_formula_within += within(cr.formula_gpu, c.gpu.compute) ? 1 : 0;
    for (std::size_t g = 0; g < std::size(kGaps); ++g) {
      if (kGaps[g].applies(c) && !(kGaps[g].gpu ? gpu_exact : host_exact)) ++gap_misses[g];
    }
    if (!in_gap(c, true)) {
      expect_exact(c.p_gpu.compute, c.gpu.compute, c.gpu.n_compute, "CUDA0 compute");
      ++asserted;
    }
    if (!in_gap(c, false)) {
      expect_exact(c.p_host.compute, c.host.compute, c.host.n_compute, "host compute");
    }
    const double dr = static_cast<double>(c.p_gpu.compute) - static_cast<double>(c.gpu.compute);
    const double df = static_cast<double>(cr.formula_gpu) - static_cast<double>(c.gpu.compute);
    gpu_replay_worst = std::max(gpu_replay_worst, std::abs(dr));
    gpu_formula_worst = std::max(gpu_formula_worst, std::abs(df));
    std::printf(
        "[cuda-accuracy] compute %s: CUDA0 %.2f MiB, replay %+.2f, formula %+.2f; host %.2f "
        "MiB, replay %+.2f, formula %+.2f\n",
        c.name().c_str(), static_cast<double>(c.gpu.compute) / kMiB, dr / kMiB, df / kMiB,
        static_cast<double>(c.host.compute) / kMiB,
        (static_cast<double>(c.p_host.compute) - static_cast<double>(c.host.compute)) / kMiB,
        (static_cast<double>(cr.formula_host) - static_cast<double>(c.host.compute)) / kMiB);
  }
  for (std::size_t g = 0; g < std::size(kGaps); ++g) {
    EXPECT_GT(gap_misses[g], 0) << "no run misses any more through: " << kGaps[g].what;
  }
  std::printf(
      "[cuda-accuracy] %d runs. CUDA0 compute: replay exact %d (asserted on the %d outside the "
      "known gaps), within max(3 %%, 16 MiB) %d, worst %.2f MiB; planner's closed form exact "
      "%d, within %d, worst %.2f MiB. Host compute: replay exact %d, closed form exact %d\n",
      n, gpu_replay, asserted, gpu_replay_within, gpu_replay_worst / kMiB, gpu_formula,
      gpu_formula_within, gpu_formula_worst / kMiB, host_replay, host_formula);
  EXPECT_GT(asserted, 100);
}

// The planner's public path (fit() and estimate_plan(), as the fit and plan commands call them)
// with every setting of a run fixed: the compute buffers it reports for one CUDA GPU are the
// replay's, so they equal llama.cpp's outside the same gaps. A run whose configuration a
// FitRequest cannot express (op offload off, a unified cache with slots set) is skipped and
// counted. Without FitRequest::exact_compute the same path gives the closed forms, which miss
// on some runs: the check tells the two apart.
TEST(CudaAccuracy, PlannerReportsTheReplay) {
  test::CatalogModels models(
      io::load_catalog({fs::path(VRAMPLAN_VULKAN_ACCURACY_DIR) / "shapes.yaml"}, ""));
  int planned = 0, skipped = 0, closed_form_misses = 0;
  for (const CudaRun& cr : runs()) {
    const DeviceRun& c = cr.run;
    SCOPED_TRACE(c.name());
    const Model& model = models.get(c.model, c.tensor_bytes);
    FitRequest request;
    request.engine = &engine(EngineId::llamacpp_lib);
    request.backend = Backend::cuda;
    request.vram = {143155 * mib};
    request.ctx = c.config.ctx;
    request.parallel = c.config.parallel;
    request.kv_type = c.config.type_k;
    request.flash_attn = c.config.flash_attn;
    request.gpu_layers = c.config.gpu_layers;
    request.cpu_moe = c.config.cpu_moe;
    request.batch = c.config.n_batch;
    request.ubatch = c.config.n_ubatch;
    request.exact_compute = true;
    Config expressed = default_config(model, request);
    expressed.cpu_repack = c.config.cpu_repack;  // beside a CUDA GPU nothing is repacked
    if (c.config.type_v != c.config.type_k || !(expressed == c.config)) {
      ++skipped;
      continue;
    }
    const LlamaPlan fitted = fit(model, request, {});
    const LlamaPlan single = estimate_plan(model, request);
    ASSERT_TRUE(fitted.fits);
    Config got = fitted.estimate.config;
    got.cpu_repack = c.config.cpu_repack;
    ASSERT_EQ(got, c.config);
    for (const LlamaPlan* plan : {&fitted, &single}) {
      const DeviceUsage& gpu = plan->estimate.devices.front();
      const DeviceUsage& host = plan->estimate.host();
      EXPECT_EQ(gpu.compute, c.p_gpu.compute);
      EXPECT_EQ(host.compute, c.p_host.compute);
      if (!in_gap(c, true)) {
        expect_exact(gpu.compute, c.gpu.compute, c.gpu.n_compute, "planned CUDA0 compute");
      }
      if (!in_gap(c, false)) {
        expect_exact(host.compute, c.host.compute, c.host.n_compute, "planned host compute");
      }
    }
    request.exact_compute = false;
    const LlamaPlan closed = fit(model, request, {});
    if (!exact(closed.estimate.devices.front().compute, c.gpu.compute, c.gpu.n_compute) ||
        !exact(closed.estimate.host().compute, c.host.compute, c.host.n_compute)) {
      ++closed_form_misses;
    }
    ++planned;
  }
  std::printf(
      "[cuda-accuracy] planner: %d runs planned through fit() and estimate_plan(), %d "
      "not expressible as a FitRequest; the closed forms miss on %d of the planned\n",
      planned, skipped, closed_form_misses);
  EXPECT_GT(planned, 100);
  EXPECT_GT(closed_form_misses, 0);
}

}  // namespace
}  // namespace vramplan
