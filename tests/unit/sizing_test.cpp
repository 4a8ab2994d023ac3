// `size` (src/core/sizing.cpp, docs/sizing.md §7): the examples, the divisibility and
// monotonicity properties, and the time over the whole GPU catalog.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/report/sizing.hpp>
#include <vramplan/sizing.hpp>
#include <vramplan/tensor_info.hpp>
#include <vramplan/vllm.hpp>

#include "core/sizing_engines.hpp"
#include "support/catalog_models.hpp"
#include "support/time_budget.hpp"

namespace vramplan {
namespace {

test::CatalogModels& models() {
  static test::CatalogModels m(io::load_catalog({}, ""));
  return m;
}

const GpuCatalog& gpus() {
  static const GpuCatalog c = io::load_gpu_catalog();
  return c;
}

const Gpu& card(const std::string& id) {
  const Gpu* g = gpus().find_id(id);
  if (g == nullptr) throw std::runtime_error("no card " + id);
  return *g;
}

const SizeOption* option_for(const SizeResult& r, const std::string& id) {
  for (const SizeOption& o : r.options) {
    if (o.gpu->id == id) return &o;
  }
  return nullptr;
}

SizeRequest vllm_request() {
  SizeRequest r;
  r.family = SizeEngine::vllm;
  return r;
}

TEST(Size, SmallModelRunsAloneOnA24GCard) {
  const SizeResult r = size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), {});
  const SizeOption* o = option_for(r, "rtx-4090");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->gpus, 1);
  EXPECT_EQ(o->layout, SizeLayout::single);
  EXPECT_LE(o->per_gpu_bytes + o->per_gpu_headroom, o->gpu_memory);
  // Listed among the single-GPU cards, and the smallest set is one card.
  EXPECT_FALSE(r.single_gpu.empty());
  EXPECT_EQ(r.options.front().gpus, 1);
  // The whole model: more than its weights on the GPU, the input embeddings in RAM.
  const Model& m = models().get("llama3.1:8b-q4_k_m");
  EXPECT_GT(r.vram_needed, m.weights.file_tensor_bytes - m.weights.input.host);
  EXPECT_GT(r.ram_needed, 0);
  EXPECT_GT(r.ram_cpu_only, m.weights.file_tensor_bytes);
}

TEST(Size, SeventyBillionNeedsSeveralSmallCardsInALayerSplit) {
  const SizeResult r = size_model(models().get("llama3.1:70b-q4_k_m"), gpus(), {});
  const SizeOption* o = option_for(r, "rtx-4090");
  ASSERT_NE(o, nullptr);
  // ~40 GiB of weights: two 24 GB cards at least, in one machine.
  EXPECT_GE(o->gpus, 2);
  EXPECT_LE(o->gpus, 8);
  EXPECT_EQ(o->layout, SizeLayout::layer_split);
  EXPECT_EQ(o->nodes, 1);
  EXPECT_LE(o->per_gpu_bytes + o->per_gpu_headroom, o->gpu_memory);
  // One fewer card would not hold it (the smallest count).
  const std::vector<Bytes> fewer(static_cast<std::size_t>(o->gpus - 1), o->gpu_memory);
  FitRequest fr;
  fr.engine = &engine(EngineId::llamacpp);
  fr.vram = fewer;
  fr.gpu_layers = r.options.empty() ? 0 : models().get("llama3.1:70b-q4_k_m").spec.n_layer + 1;
  fr.ctx = r.ctx;
  EXPECT_FALSE(fit(models().get("llama3.1:70b-q4_k_m"), fr, {}).fits);
}

TEST(Size, Llama405bBf16NeedsSeveralNodes) {
  // llama.cpp: F16 weights of 405B are ~756 GiB; no 8-GPU node of 80 GB holds them.
  const SizeResult llama = size_model(models().get("llama3.1:405b-fp16"), gpus(), {});
  const SizeOption* h100 = option_for(llama, "h100-sxm");
  ASSERT_NE(h100, nullptr);
  EXPECT_GT(h100->gpus, 8);
  EXPECT_EQ(h100->layout, SizeLayout::rpc);
  EXPECT_GE(h100->nodes, 2);
  // vLLM: bf16 checkpoint, TP 8 within a node, PP over nodes.
  const SizeResult vllm = size_model(models().get("llama3.1:405b"), gpus(), vllm_request());
  const SizeOption* v = option_for(vllm, "h100-sxm");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->tensor_parallel, 8);
  EXPECT_GE(v->pipeline_parallel, 2);
  EXPECT_EQ(v->nodes, v->pipeline_parallel);
  EXPECT_EQ(v->layout, SizeLayout::tensor_pipeline);
  EXPECT_LE(v->per_gpu_bytes, v->gpu_memory);
  // No single-card option anywhere.
  EXPECT_TRUE(vllm.single_gpu.empty());
  EXPECT_TRUE(llama.single_gpu.empty());
}

TEST(Size, DeepSeekR1NeedsMoreThanOneNodeOfH100) {
  // Its published checkpoint is FP8: 671 GB of weights, over one node of 8 x 80 GB.
  SizeRequest fp8 = vllm_request();
  fp8.vllm_dtype = VllmDtype::fp8;
  const SizeResult r = size_model(models().get("deepseek-r1:671b"), gpus(), fp8);
  const SizeOption* v = option_for(r, "h100-sxm");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->nodes, 2);
  EXPECT_EQ(v->gpus, 16);
  EXPECT_EQ(v->tensor_parallel, 8);
  EXPECT_EQ(v->pipeline_parallel, 2);
  // One node of H200 (141 GB) holds it.
  const SizeOption* h200 = option_for(r, "h200");
  ASSERT_NE(h200, nullptr);
  EXPECT_EQ(h200->nodes, 1);
  EXPECT_LE(h200->gpus, 8);
  EXPECT_LE(h200->per_gpu_bytes, h200->gpu_memory);
  // In bf16 it takes more cards, never fewer.
  const SizeResult bf16 = size_model(models().get("deepseek-r1:671b"), gpus(), vllm_request());
  EXPECT_GT(option_for(bf16, "h100-sxm")->gpus, v->gpus);
}

TEST(Size, VllmTensorParallelAlwaysSplitsTheHeads) {
  for (const char* name :
       {"qwen2.5:7b", "llama3.1:70b", "qwen2.5:72b", "gemma2:27b", "mistral:7b", "phi3:14b"}) {
    const Model& m = models().get(name);
    const SizeResult r = size_model(m, gpus(), vllm_request());
    ASSERT_FALSE(r.options.empty()) << name;
    for (const SizeOption& o : r.options) {
      EXPECT_EQ(m.spec.n_head % o.tensor_parallel, 0) << name << " on " << o.gpu->id;
      const std::int32_t kv = m.spec.n_head_kv;
      EXPECT_TRUE(kv % o.tensor_parallel == 0 || o.tensor_parallel % kv == 0)
          << name << " on " << o.gpu->id;
      EXPECT_NO_THROW(vllm_check_tensor_parallel(m.spec, o.tensor_parallel));
      EXPECT_EQ(o.gpus, o.tensor_parallel * o.pipeline_parallel);
      EXPECT_LE(o.tensor_parallel, 8);
    }
  }
}

TEST(Size, QwenSevenBillionNeverGetsTensorParallelEight) {
  // 28 attention heads: vLLM refuses TP 8, so 8 small cards are TP 4 x PP 2 (or fewer).
  const Model& m = models().get("qwen2.5:7b");
  ASSERT_EQ(m.spec.n_head % 8, 4);
  const SizeResult r = size_model(m, gpus(), vllm_request());
  for (const SizeOption& o : r.options) EXPECT_NE(o.tensor_parallel, 8) << o.gpu->id;
}

// A bigger card never needs more of them (same engine, same vendor so the same backend).
void expect_monotonic(const Model& m, const SizeRequest& request) {
  std::vector<std::pair<Bytes, std::int32_t>> counts;
  for (const Gpu& g : gpus().gpus()) {
    if (!g.memory_bytes || g.vendor != GpuVendor::nvidia || g.devices_per_board != 1) continue;
    if (request.family == SizeEngine::vllm && g.vllm && !*g.vllm) continue;
    const Bytes mem = request.family == SizeEngine::vllm && g.cuda_total_bytes ? *g.cuda_total_bytes
                                                                               : *g.memory_bytes;
    const std::optional<SizeOption> o = size_on_card(m, g, mem, request);
    counts.emplace_back(mem, o ? o->gpus : 1 << 20);
  }
  std::sort(counts.begin(), counts.end());
  ASSERT_GT(counts.size(), 20U);
  for (std::size_t i = 1; i < counts.size(); ++i) {
    EXPECT_LE(counts[i].second, counts[i - 1].second)
        << m.name << ": " << counts[i].first << " B needs " << counts[i].second << ", "
        << counts[i - 1].first << " B needs " << counts[i - 1].second;
  }
}

TEST(Size, ABiggerCardNeverNeedsMoreOfThem) {
  expect_monotonic(models().get("llama3.1:70b-q4_k_m"), {});
  expect_monotonic(models().get("qwen2.5:32b-q8_0"), {});
  expect_monotonic(models().get("llama3.1:70b"), vllm_request());
}

TEST(Size, MoreMemoryNeverNeedsMoreCards) {
  // The same card with more memory: the count never grows.
  const Model& m = models().get("llama3.1:70b-q8_0");
  const Gpu& g = card("rtx-4090");
  std::int32_t last = 1 << 20;
  for (Bytes mem = 8 * gib; mem <= 160 * gib; mem += 4 * gib) {
    const std::optional<SizeOption> o = size_on_card(m, g, mem, {});
    const std::int32_t n = o ? o->gpus : 1 << 20;
    EXPECT_LE(n, last) << mem;
    last = n;
  }
  EXPECT_EQ(last, 1);
}

TEST(Size, LongerContextNeverNeedsFewerCards) {
  const Model& m = models().get("llama3.1:8b-q8_0");
  const Gpu& g = card("rtx-3060");
  std::int32_t last = 0;
  for (std::int64_t ctx = 4096; ctx <= 131072; ctx *= 2) {
    SizeRequest r;
    r.ctx = ctx;
    const std::optional<SizeOption> o = size_on_card(m, g, *g.memory_bytes, r);
    ASSERT_TRUE(o.has_value()) << ctx;
    EXPECT_GE(o->gpus, last) << ctx;
    last = o->gpus;
  }
  EXPECT_GT(last, 1);
}

TEST(Size, OptionsAreSmallestSetFirst) {
  const SizeResult r = size_model(models().get("llama3.1:70b-q4_k_m"), gpus(), {});
  for (std::size_t i = 1; i < r.options.size(); ++i) {
    const SizeOption& a = r.options[i - 1];
    const SizeOption& b = r.options[i];
    EXPECT_TRUE(a.gpus < b.gpus ||
                (a.gpus == b.gpus && a.gpus * a.gpu_memory <= b.gpus * b.gpu_memory));
  }
  for (std::size_t i : r.single_gpu) EXPECT_EQ(r.options[i].gpus, 1);
}

TEST(Size, UnifiedMemoryCardsAreSkippedWithAReason) {
  const SizeResult r = size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), {});
  const auto it = std::find_if(r.skipped.begin(), r.skipped.end(),
                               [](const SizeSkip& s) { return s.gpu->unified_memory; });
  ASSERT_NE(it, r.skipped.end());
  EXPECT_NE(it->reason.find("unified memory"), std::string::npos);
  EXPECT_EQ(r.options.size() + r.skipped.size(), gpus().gpus().size());
}

TEST(Size, RejectsImpossibleRequests) {
  SizeRequest r;
  r.gpus_per_node = 0;
  EXPECT_THROW((void)size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), r), Error);
  SizeRequest v;
  v.engine = &engine(EngineId::vllm);
  EXPECT_THROW((void)size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), v), Error);
  SizeRequest p;
  p.parallel = 0;
  EXPECT_THROW((void)size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), p), Error);
}

TEST(SizeReport, JsonCarriesTheLayoutOfEveryOption) {
  const SizeResult r = size_model(models().get("llama3.1:405b"), gpus(), vllm_request());
  const nlohmann::json j = nlohmann::json::parse(report::render_size_json(r));
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["engine"], "vllm");
  ASSERT_EQ(j["options"].size(), r.options.size());
  for (std::size_t i = 0; i < r.options.size(); ++i) {
    const nlohmann::json& o = j["options"][i];
    EXPECT_EQ(o["gpu"], r.options[i].gpu->id);
    EXPECT_EQ(o["tensor_parallel"], r.options[i].tensor_parallel);
    EXPECT_EQ(o["pipeline_parallel"], r.options[i].pipeline_parallel);
    EXPECT_EQ(o["nodes"], r.options[i].nodes);
    EXPECT_EQ(o["gpus"], r.options[i].gpus);
    EXPECT_EQ(o["per_gpu_bytes"], r.options[i].per_gpu_bytes);
  }
  EXPECT_EQ(j["smallest"]["gpu"], r.options.front().gpu->id);
  EXPECT_TRUE(j["single_gpu"].empty());
  EXPECT_EQ(j["skipped"].size(), r.skipped.size());
  const std::string table = report::render_size_table(r);
  EXPECT_NE(table.find("TP 8 x PP 2"), std::string::npos) << table;
}

TEST(SizeReport, TableSaysWhichCardsRunItAlone) {
  const SizeResult r = size_model(models().get("llama3.1:8b-q4_k_m"), gpus(), {});
  const std::string table = report::render_size_table(r, 5);
  EXPECT_NE(table.find("alone"), std::string::npos) << table;
  EXPECT_NE(table.find(fmt::format("runs alone on {} cards", r.single_gpu.size())),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("more cards"), std::string::npos) << table;
}

// The examples in docs/sizing.md §7.4: build/bin/vramplan_tests
// --gtest_also_run_disabled_tests --gtest_filter='SizeReport.DISABLED_PrintDocExamples'
TEST(SizeReport, DISABLED_PrintDocExamples) {
  std::cout << report::render_size_table(
                   size_model(models().get("llama3.1:70b-q4_k_m"), gpus(), {}), 12)
            << "\n";
  std::cout << report::render_size_table(
                   size_model(models().get("llama3.1:405b"), gpus(), vllm_request()), 12)
            << "\n";
  SizeRequest fp8 = vllm_request();
  fp8.vllm_dtype = VllmDtype::fp8;
  std::cout << report::render_size_table(size_model(models().get("deepseek-r1:671b"), gpus(), fp8),
                                         8)
            << "\n";
  std::cout << report::render_size_table(size_model(models().get("llama3.1:405b-fp16"), gpus(), {}),
                                         8)
            << "\n";
}

// The smallest GPU count of a card, searched from a bound the test works out alone (the GPUs
// together hold at least the blocks' weights): size_on_card starts at its own bounds (docs/
// sizing.md §7.1), which must never skip a count that fits. 405B in F16 has 126 blocks of
// 6.4 GB, so a 16 GiB card holds two at most: its pigeonhole bound, 63 GPUs, is well above the
// total-size one, about 50.
TEST(Size, BoundsSkipNoCountThatFits) {
  const Model& m = models().get("llama3.1:405b-fp16");
  Bytes blocks = 0;
  for (const TensorInfo& t : m.tensors) {
    if (tensor_block(t.name) >= 0) blocks += t.bytes();
  }
  const SizeRequest request;
  const Headroom headroom = request.headroom;
  struct Card {
    const char* id;
    Backend backend;
  };
  for (const Card c : {Card{"arc-a770", Backend::vulkan}, Card{"rtx-4060-ti-16gb", Backend::cuda},
                       Card{"rtx-3090", Backend::cuda}}) {
    const Gpu& gpu = card(c.id);
    const Bytes memory = *gpu.memory_bytes;
    const std::optional<SizeOption> o = size_on_card(m, gpu, memory, request);
    const std::int32_t answer = o ? o->gpus : request.gpus_per_node * request.max_nodes + 1;
    const Bytes usable = memory - headroom.for_device(memory);
    const std::int64_t ctx = std::min(size_default_ctx, m.spec.n_ctx_train);
    for (std::int32_t n = std::max<std::int32_t>(1, static_cast<std::int32_t>(blocks / usable));
         n < answer; ++n) {
      const sizing_engines::FullOffload f = sizing_engines::llama_full_offload(
          m, engine(EngineId::llamacpp), c.backend, ctx, std::nullopt,
          std::vector<Bytes>(static_cast<std::size_t>(n), memory), headroom, nullptr);
      EXPECT_FALSE(f.fits) << c.id << ": " << n << " GPUs fit, size_on_card says " << answer;
    }
    if (o) {
      const sizing_engines::FullOffload f = sizing_engines::llama_full_offload(
          m, engine(EngineId::llamacpp), c.backend, ctx, std::nullopt,
          std::vector<Bytes>(static_cast<std::size_t>(answer), memory), headroom, nullptr);
      EXPECT_TRUE(f.fits) << c.id;
    }
  }
}

TEST(Size, WholeGpuCatalogIsFast) {
  // Issue 12: `size` over the whole GPU catalog in 50 ms. The bound here is 4x that (the CI
  // machine has 2 shared cores); docs/sizing.md §7.5 has the medians.
  for (const char* name : {"llama3.1:8b-q4_k_m", "llama3.1:70b-q4_k_m", "llama3.1:405b-fp16"}) {
    const Model& m = models().get(name);
    std::int64_t estimates = 0;
    const double llama = test::median_cpu_ms(
        [&] { estimates = size_model(m, gpus(), {}).estimates; }, test::timed_runs(5));
    const double vllm = test::median_cpu_ms([&] { (void)size_model(m, gpus(), vllm_request()); },
                                            test::timed_runs(5));
    std::printf("size %s: llama.cpp %.1f ms (%lld estimates), vLLM %.1f ms\n", name, llama,
                static_cast<long long>(estimates), vllm);
    EXPECT_LT(llama, 1000 * test::time_budget(0.2)) << name;
    EXPECT_LT(vllm, 1000 * test::time_budget(0.2)) << name;
  }
}

}  // namespace
}  // namespace vramplan
