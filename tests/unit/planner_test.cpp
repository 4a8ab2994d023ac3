#include <vramplan/planner.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>

#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

FitRequest request(std::vector<Bytes> vram, EngineId id = EngineId::ollama) {
  FitRequest r;
  r.engine = &engine(id);
  r.backend = Backend::cuda;
  r.vram = std::move(vram);
  r.headroom =
      Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
  return r;
}

Model llama70b_q4() {
  ModelSpec s = test::llama31_8b();
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_ff = 28672;
  s.n_head = 64;
  return test::simple_model(s, GgmlType::q4_0, FileType::mostly_q4_0);
}

TEST(Fit, UnsetContextIsTheModelMaximumWhenItFits) {
  const LlamaPlan p = fit(test::simple_model(test::llama31_8b()), request({80 * gib}), {});
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.recommendation.gpu_layers, 33);
  EXPECT_EQ(p.recommendation.total_layers, 33);
  EXPECT_EQ(p.recommendation.ctx, 131072);
  EXPECT_EQ(p.recommendation.parallel, 1);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0], Finding(FindingKind::ctx_model_max, {{"ctx", 131072}}));
}

TEST(Fit, ShortensAnUnsetContextToTheLargestThatFits) {
  const Model m = test::simple_model(test::llama31_8b());
  const LlamaPlan p = fit(m, request({16 * gib}, EngineId::llamacpp), {});
  EXPECT_EQ(p.recommendation.parallel, 4);  // llama-server's -np auto: 4 unified slots
  EXPECT_TRUE(p.recommendation.kv_unified);
  ASSERT_TRUE(p.fits);
  EXPECT_LT(p.recommendation.ctx, 131072);
  EXPECT_GE(p.recommendation.ctx, 4096);
  EXPECT_EQ(p.recommendation.ctx % 256, 0);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0], Finding(FindingKind::ctx_largest_fits,
                                    {{"ctx", p.recommendation.ctx}, {"model_max", 131072}}));
  // One step more would not fit: the search is exact.
  Config c = p.estimate.config;
  c.ctx += 256;
  const Estimate more = estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {16 * gib});
  EXPECT_GT(more.devices[0].total(), 15 * gib);
  EXPECT_LE(p.estimate.devices[0].total(), 15 * gib);
}

// Ollama's rules for a vision projector (llm/llama_server.go, Ollama >= 0.30.11): offloaded
// unless num_gpu is 0 or pins fewer than every layer, or a GPU has less than the projector + 1
// GiB; then llama-server's --fit target is that sum in MiB, rounded up.
TEST(OllamaProjector, FitTargetFollowsOllamasOffloadRules) {
  const Bytes projector = 851'000'123;
  const Bytes need = projector + gib;
  const Bytes target = (need + mib - 1) / mib * mib;
  ASSERT_GT(target, need);
  const std::int32_t layers = 35;
  EXPECT_EQ(ollama_projector_fit_target(projector, {16 * gib}, std::nullopt, layers), target);
  EXPECT_EQ(ollama_projector_fit_target(projector, {need}, std::nullopt, layers), target);
  EXPECT_EQ(ollama_projector_fit_target(projector, {16 * gib}, -1, layers), target);
  EXPECT_EQ(ollama_projector_fit_target(projector, {16 * gib}, layers, layers), target);
  EXPECT_EQ(ollama_projector_fit_target(projector, {16 * gib}, 99, layers), target);
  EXPECT_FALSE(ollama_projector_fit_target(projector, {16 * gib, need - 1}, std::nullopt, layers));
  EXPECT_FALSE(ollama_projector_fit_target(projector, {16 * gib}, 0, layers));
  EXPECT_FALSE(ollama_projector_fit_target(projector, {16 * gib}, layers - 1, layers));
  EXPECT_FALSE(ollama_projector_fit_target(0, {16 * gib}, std::nullopt, layers));
  EXPECT_FALSE(ollama_projector_fit_target(projector, {}, std::nullopt, layers));
}

// fit on Ollama keeps that target free in place of 1 GiB with the default headroom profile,
// and says so; llama-server (which counts the projector's use on the GPU itself) keeps 1 GiB.
TEST(Fit, OllamaKeepsItsProjectorTargetFree) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const Bytes target = 900 * mib + gib;
  const LlamaPlan ollama = fit(m, request({12 * gib}), {});
  ASSERT_TRUE(ollama.fits);
  ASSERT_EQ(ollama.headroom_bytes.size(), 1u);
  EXPECT_EQ(ollama.headroom_bytes[0], target);
  ASSERT_FALSE(ollama.decisions.empty());
  EXPECT_EQ(ollama.decisions[0],
            Finding(FindingKind::ollama_projector_headroom,
                    {{"headroom_bytes", target}, {"projector_bytes", 900 * mib}}));
  EXPECT_LE(ollama.estimate.devices[0].total() + target, 12 * gib);
  const LlamaPlan server = fit(m, request({12 * gib}, EngineId::llamacpp), {});
  EXPECT_EQ(server.headroom_bytes.at(0), gib);
  // Another profile is the person's own margin: kept as given.
  FitRequest none = request({12 * gib});
  none.headroom = Headroom{.profile = "none"};
  EXPECT_EQ(fit(m, none, {}).headroom_bytes.at(0), 0);
}

TEST(Fit, UserContextIsAConstraintSoLayersMoveInstead) {
  FitRequest r = request({24 * gib});
  r.ctx = 8192;
  r.ram = 128 * gib;
  const LlamaPlan p = fit(llama70b_q4(), r, {});
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.recommendation.ctx, 8192);
  EXPECT_GT(p.recommendation.gpu_layers, 0);
  EXPECT_LT(p.recommendation.gpu_layers, 81);
  EXPECT_LE(p.estimate.devices[0].total(), 23 * gib);
}

TEST(Fit, MoreVramNeverMeansFewerGpuLayers) {
  const Model m = llama70b_q4();
  std::int32_t previous = -1;
  for (Bytes vram = 8 * gib; vram <= 64 * gib; vram += 4 * gib) {
    FitRequest r = request({vram});
    r.ctx = 4096;
    const LlamaPlan p = fit(m, r, {});
    EXPECT_GE(p.recommendation.gpu_layers, previous) << format_bytes(vram);
    previous = p.recommendation.gpu_layers;
  }
  EXPECT_EQ(previous, 81);
}

TEST(Fit, PartialOffloadChecksRam) {
  FitRequest r = request({8 * gib});
  r.ctx = 4096;
  r.ram = 16 * gib;
  const LlamaPlan p = fit(llama70b_q4(), r, {});
  EXPECT_FALSE(p.fits);
  ASSERT_FALSE(p.reasons.empty());
  const Finding& ram = p.reasons.back();
  EXPECT_EQ(ram.kind, FindingKind::ram_over);
  EXPECT_EQ(ram.number("used_bytes"), p.estimate.host().total());
  EXPECT_EQ(ram.number("over_bytes"), ram.number("used_bytes") - ram.number("budget_bytes"));
  EXPECT_EQ(ram.number("budget_bytes"), 15 * gib);  // 16 GiB less 1 GiB for the OS
}

TEST(Fit, NothingFitsGivesReasonsAndSuggestions) {
  FitRequest r = request({4 * gib});
  r.ctx = 32768;
  r.gpu_layers = 33;
  const Model m = test::simple_model(test::llama31_8b());
  const Model q4 = test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0);
  const LlamaPlan p = fit(m, r, {q4});
  EXPECT_FALSE(p.fits);
  ASSERT_EQ(p.reasons.size(), 1u);
  EXPECT_EQ(p.reasons[0].kind, FindingKind::gpu_over);
  EXPECT_EQ(p.reasons[0].word("device"), "CUDA0");
  EXPECT_GT(p.reasons[0].number("over_bytes"), 0);
  bool q8_cache = false;
  bool smaller_quant = false;
  for (const Suggestion& s : p.suggestions) {
    if (s.change.kind == FindingKind::kv_q8_0) {
      q8_cache = true;
      EXPECT_EQ(s.change.changes.front(), (Change{Setting::kv_type, std::string("q8_0")}));
    }
    smaller_quant = smaller_quant || (s.change.kind == FindingKind::smaller_quant &&
                                      s.change.word("file_type") == "Q4_0");
  }
  EXPECT_TRUE(q8_cache);
  EXPECT_TRUE(smaller_quant);
}

TEST(Fit, QuantizedCacheWithFlashAttentionOffIsRefused) {
  FitRequest r = request({16 * gib});
  r.kv_type = GgmlType::q8_0;
  r.flash_attn = false;
  try {
    (void)fit(test::simple_model(test::llama31_8b()), r, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
  }
}

TEST(EngineDefaults, SlotsAndBatchesLeftUnset) {
  const Engine& server = engine(EngineId::llamacpp);
  EXPECT_EQ(engine_slots(server, std::nullopt).parallel, server.default_parallel);
  EXPECT_TRUE(engine_slots(server, std::nullopt).kv_unified);  // -np auto
  EXPECT_FALSE(engine_slots(server, 2).kv_unified);
  EXPECT_EQ(engine_slots(server, 2).parallel, 2);

  const Model m = test::simple_model(test::llama31_8b());
  // llama-server: -b and -ub apart; a physical batch above the logical one raises it.
  Batches b = engine_batches(m, server, Backend::cuda, 8192, 1, true, {24 * gib}, std::nullopt,
                             std::int64_t{4096});
  EXPECT_EQ(b.n_ubatch, 4096);
  EXPECT_EQ(b.n_batch, 4096);
  b = engine_batches(m, server, Backend::cuda, 8192, 1, true, {24 * gib}, std::nullopt,
                     std::nullopt);
  EXPECT_EQ(b.n_batch, server.default_batch);
  EXPECT_EQ(b.n_ubatch, server.default_ubatch);
  // The library passes one value as both.
  const Engine& library = engine(EngineId::llamacpp_lib);
  b = engine_batches(m, library, Backend::cpu, 8192, 1, true, {}, std::nullopt, std::int64_t{256});
  EXPECT_EQ(b.n_batch, 256);
  EXPECT_EQ(b.n_ubatch, 256);
}

TEST(Headroom, TheLargerOfTheFixedAmountAndTheShare) {
  const Headroom stable{.profile = "stable", .fixed = 1536 * mib, .fraction = 0.10};
  EXPECT_EQ(stable.for_device(24 * gib),
            static_cast<Bytes>(0.1 * 24 * static_cast<double>(gib) + 0.5));
  EXPECT_EQ(stable.for_device(8 * gib), 1536 * mib);
  EXPECT_EQ(Headroom{}.for_device(24 * gib), 0);
}

Model gpt_oss_20b() {
  const ModelSpec s = test::gpt_oss_20b();
  return make_model("gpt-oss", "unit test", s, FileType::mostly_mxfp4_moe,
                    generate_tensors(s, FileType::mostly_mxfp4_moe));
}

TEST(Fit, KeepsTheExpertsOfTheFewestBlocksInRamForAMoeModel) {
  const Model m = gpt_oss_20b();
  FitRequest r = request({8 * gib}, EngineId::llamacpp);
  const LlamaPlan p = fit(m, r, {});
  ASSERT_TRUE(p.fits);
  EXPECT_EQ(p.recommendation.gpu_layers, p.recommendation.total_layers);
  const std::int32_t n = p.recommendation.cpu_moe;
  ASSERT_GT(n, 0);
  EXPECT_LT(n, m.spec.n_layer);
  // The smallest that fits: one block fewer does not, with every layer on the GPU.
  r.cpu_moe = n - 1;
  r.ctx = p.recommendation.ctx;
  r.gpu_layers = p.recommendation.total_layers;
  EXPECT_FALSE(fit(m, r, {}).fits);
  EXPECT_EQ(p.decisions.back().kind, FindingKind::experts_in_ram);
  EXPECT_EQ(p.decisions.back().number("cpu_moe"), n);
}

TEST(Fit, OllamaCannotKeepExpertsInRamAndOffloadsLayersInstead) {
  const LlamaPlan p = fit(gpt_oss_20b(), request({8 * gib}), {});
  EXPECT_EQ(p.recommendation.cpu_moe, 0);
  EXPECT_LT(p.recommendation.gpu_layers, p.recommendation.total_layers);
  EXPECT_EQ(p.decisions.back(),
            Finding(FindingKind::no_expert_offload, {{"engine", std::string("Ollama")}}));
}

TEST(Fit, AFixedCpuMoeIsKept) {
  FitRequest r = request({24 * gib}, EngineId::llamacpp);
  r.cpu_moe = 3;
  const LlamaPlan p = fit(gpt_oss_20b(), r, {});
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.recommendation.cpu_moe, 3);
  EXPECT_EQ(p.estimate.config.cpu_moe, 3);
}

TEST(Fit, WhenEvenDenseLayersDoNotAllFitExpertsStayInRamForTheGpuLayers) {
  const Model m = gpt_oss_20b();
  FitRequest r = request({3 * gib}, EngineId::llamacpp);
  const LlamaPlan with = fit(m, r, {});
  r.cpu_moe = 0;  // whole layers only
  const LlamaPlan without = fit(m, r, {});
  ASSERT_TRUE(with.fits);
  EXPECT_LT(with.recommendation.gpu_layers, with.recommendation.total_layers);
  EXPECT_GT(with.recommendation.gpu_layers, without.recommendation.gpu_layers);
  // Only the GPU blocks' experts matter: N reaches into them.
  const std::int32_t gpu_blocks = with.recommendation.gpu_layers - 1;
  EXPECT_GT(with.recommendation.cpu_moe, m.spec.n_layer - gpu_blocks);
  EXPECT_LE(with.recommendation.cpu_moe, m.spec.n_layer);
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

// --kv-type auto (issue 11): a Q4_0 llama3.1:8b shape at 131072 on 16 GiB puts layers on the CPU
// with an f16 cache; with q8_0 every layer stays on the GPU, so auto takes q8_0 and says so.
TEST(FitKvAuto, TakesQ8WhenItKeepsEveryLayerOnTheGpu) {
  const Model m = test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0);
  FitRequest r = request({16 * gib});
  r.ctx = 131072;
  const LlamaPlan f16 = fit(m, r, {});
  ASSERT_LT(f16.recommendation.gpu_layers, 33);  // the premise: f16 spills
  EXPECT_EQ(f16.recommendation.kv_type, GgmlType::f16);

  r.kv_auto = true;
  const LlamaPlan autod = fit(m, r, {});
  EXPECT_TRUE(autod.fits);
  EXPECT_EQ(autod.recommendation.kv_type, GgmlType::q8_0);
  EXPECT_EQ(autod.recommendation.gpu_layers, 33);
  EXPECT_EQ(autod.recommendation.ctx, 131072);
  EXPECT_TRUE(autod.recommendation.flash_attention);
  ASSERT_FALSE(autod.decisions.empty());
  EXPECT_EQ(autod.decisions.front().kind, FindingKind::kv_auto_q8_0);
  EXPECT_EQ(autod.decisions.front().number("f16_gpu_layers"), f16.recommendation.gpu_layers);
}

TEST(FitKvAuto, KeepsF16WhenItAlreadyFitsWhole) {
  FitRequest r = request({80 * gib});
  r.kv_auto = true;
  const LlamaPlan p = fit(test::simple_model(test::llama31_8b()), r, {});
  EXPECT_EQ(p.recommendation.kv_type, GgmlType::f16);
  EXPECT_EQ(p.recommendation.ctx, 131072);
}

TEST(FitKvAuto, NeverWithFlashAttentionOffOrAFixedType) {
  const Model m = test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0);
  FitRequest r = request({16 * gib});
  r.ctx = 131072;
  r.kv_auto = true;
  r.flash_attn = false;
  EXPECT_EQ(fit(m, r, {}).recommendation.kv_type, GgmlType::f16);
  r.flash_attn = std::nullopt;
  r.kv_type = GgmlType::f16;
  EXPECT_EQ(fit(m, r, {}).recommendation.kv_type, GgmlType::f16);
}

}  // namespace
}  // namespace vramplan
