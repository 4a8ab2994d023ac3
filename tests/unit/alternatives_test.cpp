// The alternatives of a plan that fits only with layers on the CPU or a shortened context (issue
// 11 §4): each is checked against an independent fit() of the changed request, not against the
// code that builds it.
#include <vramplan/planner.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/embedded_catalog.hpp>
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
  r.alternatives = true;
  return r;
}

// A Llama 3.1 70B shape with one weight type everywhere.
Model llama70b(GgmlType type = GgmlType::q4_0, FileType ftype = FileType::mostly_q4_0) {
  ModelSpec s = test::llama31_8b();
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_ff = 28672;
  s.n_head = 64;
  return test::simple_model(s, type, ftype);
}

const Alternative* find(const LlamaPlan& p, FindingKind kind) {
  const auto it = std::find_if(p.alternatives.begin(), p.alternatives.end(),
                               [&](const Alternative& a) { return a.change.kind == kind; });
  return it == p.alternatives.end() ? nullptr : &*it;
}

Bytes gpu_total(const LlamaPlan& p) {
  Bytes sum = 0;
  for (const DeviceUsage& d : p.estimate.devices) {
    if (d.kind == DeviceKind::gpu) sum += d.total();
  }
  return sum;
}

// The alternative is the plan an independent fit() makes of the changed request.
void expect_same_plan(const Alternative& a, const LlamaPlan& independent) {
  ASSERT_TRUE(independent.fits);
  const Recommendation& x = a.recommendation;
  const Recommendation& y = independent.recommendation;
  EXPECT_EQ(x.gpu_layers, y.gpu_layers);
  EXPECT_EQ(x.total_layers, y.total_layers);
  EXPECT_EQ(x.ctx, y.ctx);
  EXPECT_EQ(x.parallel, y.parallel);
  EXPECT_EQ(x.kv_type, y.kv_type);
  EXPECT_EQ(x.flash_attention, y.flash_attention);
  EXPECT_EQ(x.cpu_moe, y.cpu_moe);
  EXPECT_EQ(x.n_ubatch, y.n_ubatch);
  EXPECT_EQ(a.gpu_bytes, gpu_total(independent));
  EXPECT_EQ(a.n_ctx_seq, independent.estimate.shape.n_ctx_seq);
  EXPECT_TRUE(a.fits);
}

TEST(Alternatives, NoneWhenEveryLayerAndTheAskedContextFit) {
  const LlamaPlan p = fit(test::simple_model(test::llama31_8b()), request({80 * gib}), {});
  ASSERT_TRUE(p.fits);
  ASSERT_EQ(p.recommendation.gpu_layers, 33);
  ASSERT_EQ(p.recommendation.ctx, 131072);
  EXPECT_TRUE(p.alternatives.empty());
  EXPECT_EQ(p.plans, 1);  // and they cost nothing
}

TEST(Alternatives, OnlyWhenAskedFor) {
  FitRequest r = request({24 * gib});
  r.ctx = 8192;
  r.alternatives = false;
  const LlamaPlan p = fit(llama70b(), r, {});
  ASSERT_TRUE(p.fits);
  ASSERT_LT(p.recommendation.gpu_layers, 81);  // spills
  EXPECT_TRUE(p.alternatives.empty());
  EXPECT_EQ(p.plans, 1);
}

TEST(Alternatives, NoneForAPlanThatDoesNotFit) {
  FitRequest r = request({4 * gib});
  r.ctx = 8192;
  r.ram = 8 * gib;
  const LlamaPlan p = fit(llama70b(), r, {});
  ASSERT_FALSE(p.fits);
  EXPECT_TRUE(p.alternatives.empty());
  EXPECT_FALSE(p.suggestions.empty());
}

// The q8_0 alternative is `fit --kv-type q8_0`, with the cache type fixed by the user and with
// --kv-type auto (which reuses the q8_0 plan it made and did not take).
TEST(Alternatives, TheQ8CacheIsTheFitWithAQ8Cache) {
  const Model m = llama70b();
  for (const bool kv_auto : {false, true}) {
    FitRequest r = request({24 * gib});
    r.ctx = 32768;
    if (kv_auto) {
      r.kv_auto = true;
    } else {
      r.kv_type = GgmlType::f16;
    }
    const LlamaPlan p = fit(m, r, {});
    ASSERT_TRUE(p.fits);
    ASSERT_EQ(p.recommendation.kv_type, GgmlType::f16);
    ASSERT_LT(p.recommendation.gpu_layers, 81);
    const Alternative* q8 = find(p, FindingKind::alt_kv_q8_0);
    ASSERT_NE(q8, nullptr) << kv_auto;
    EXPECT_EQ(q8->change.changes, (std::vector<Change>{{Setting::kv_type, std::string("q8_0")}}));
    FitRequest q8_request = request({24 * gib});
    q8_request.ctx = 32768;
    q8_request.kv_type = GgmlType::q8_0;
    q8_request.alternatives = false;
    expect_same_plan(*q8, fit(m, q8_request, {}));
    EXPECT_GT(q8->recommendation.gpu_layers, p.recommendation.gpu_layers);
  }
}

// A model whose heads a q8_0 block does not divide (phi2: 80 wide) gets no q8_0 cache from
// --kv-type auto and no q8_0 alternative: llama.cpp would refuse the context.
TEST(Alternatives, NoQ8CacheWhereItsBlockDoesNotDivideTheHeads) {
  ModelSpec s = test::llama31_8b();
  s.n_layer = 80;
  s.n_embd = 8000;
  s.n_ff = 28672;
  s.n_head = s.n_head_kv = 100;  // 80-wide heads
  const Model m = test::simple_model(s, GgmlType::q4_0, FileType::mostly_q4_0);
  FitRequest r = request({24 * gib});
  r.ctx = 32768;
  r.kv_auto = true;
  const LlamaPlan p = fit(m, r, {});
  ASSERT_TRUE(p.fits);
  EXPECT_EQ(p.recommendation.kv_type, GgmlType::f16);
  ASSERT_LT(p.recommendation.gpu_layers, 81);  // where a q8_0 cache would have been tried
  EXPECT_EQ(find(p, FindingKind::alt_kv_q8_0), nullptr);
  // The same shape with 128-wide heads gets both.
  s.n_head = 64;
  s.n_head_kv = 8;
  s.n_embd = 8192;
  const LlamaPlan wide = fit(test::simple_model(s, GgmlType::q4_0, FileType::mostly_q4_0), r, {});
  EXPECT_NE(find(wide, FindingKind::alt_kv_q8_0), nullptr);
}

TEST(Alternatives, FlashAttentionOffIsTurnedOnForTheQ8Cache) {
  FitRequest r = request({24 * gib});
  r.ctx = 32768;
  r.flash_attn = false;
  const LlamaPlan p = fit(llama70b(), r, {});
  ASSERT_TRUE(p.fits);
  const Alternative* q8 = find(p, FindingKind::alt_kv_q8_0);
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->change.changes, (std::vector<Change>{{Setting::kv_type, std::string("q8_0")},
                                                     {Setting::flash_attn, std::string("on")}}));
  EXPECT_TRUE(q8->recommendation.flash_attention);
}

// Ollama gives each slot its context: one slot of two halves the cache.
TEST(Alternatives, OneSlotIsTheFitWithOneSlot) {
  const Model m = llama70b();
  FitRequest r = request({24 * gib});
  r.ctx = 16384;
  r.parallel = 2;
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(m, r, {});
  ASSERT_TRUE(p.fits);
  const Alternative* one = find(p, FindingKind::alt_fewer_slots);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->change.changes, (std::vector<Change>{{Setting::parallel, 1}}));
  FitRequest one_request = r;
  one_request.parallel = 1;
  one_request.alternatives = false;
  expect_same_plan(*one, fit(m, one_request, {}));
  EXPECT_EQ(one->recommendation.parallel, 1);
}

// The longest context (a multiple of 256, not below --min-ctx) with every layer on the GPU:
// the fit of that context keeps every layer, 256 more tokens do not.
TEST(Alternatives, TheContextAlternativeKeepsEveryLayer) {
  const Model m = test::simple_model(test::llama31_8b());  // Q8_0, 8.5 GB
  FitRequest r = request({16 * gib});
  r.ctx = 131072;
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(m, r, {});
  ASSERT_TRUE(p.fits);
  ASSERT_LT(p.recommendation.gpu_layers, 33);
  const Alternative* shorter = find(p, FindingKind::alt_ctx_all_layers);
  ASSERT_NE(shorter, nullptr);
  const std::int64_t ctx = shorter->recommendation.ctx;
  EXPECT_EQ(shorter->recommendation.gpu_layers, 33);
  EXPECT_LT(ctx, 131072);
  EXPECT_GE(ctx, r.min_ctx);
  EXPECT_EQ(ctx % 256, 0);
  EXPECT_EQ(shorter->change.changes, (std::vector<Change>{{Setting::ctx, ctx}}));
  EXPECT_EQ(shorter->change.number("asked_ctx"), 131072);

  FitRequest at = r;
  at.alternatives = false;
  at.ctx = ctx;
  expect_same_plan(*shorter, fit(m, at, {}));
  at.ctx = ctx + 256;
  EXPECT_LT(fit(m, at, {}).recommendation.gpu_layers, 33);
}

TEST(Alternatives, NoContextAlternativeBelowTheFloor) {
  FitRequest r = request({24 * gib});
  r.ctx = 8192;
  r.min_ctx = 8192;
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(llama70b(), r, {});
  ASSERT_TRUE(p.fits);
  EXPECT_EQ(find(p, FindingKind::alt_ctx_all_layers), nullptr);
  r.min_ctx = 4096;  // a 70B does not fit 24 GiB whole at any context
  EXPECT_EQ(find(fit(llama70b(), r, {}), FindingKind::alt_ctx_all_layers), nullptr);
}

// The largest smaller quantization that keeps every layer: Q8_0 when it fits whole, Q4_0 when
// only that does; never one that still spills.
TEST(Alternatives, TheLargestSmallerQuantizationThatKeepsEveryLayer) {
  const Model f16 = test::simple_model(test::llama31_8b(), GgmlType::f16, FileType::mostly_f16);
  const std::vector<Model> quants{
      test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0),
      test::simple_model(test::llama31_8b(), GgmlType::q8_0, FileType::mostly_q8_0)};
  for (const auto& [vram, expected] : {std::pair{16 * gib, std::size_t{1}},    // Q8_0 fits whole
                                       std::pair{8 * gib, std::size_t{0}}}) {  // only Q4_0
    FitRequest r = request({vram});
    r.ctx = 8192;
    r.kv_type = GgmlType::f16;
    const LlamaPlan p = fit(f16, r, quants);
    ASSERT_TRUE(p.fits);
    ASSERT_LT(p.recommendation.gpu_layers, 33);
    const Alternative* q = find(p, FindingKind::alt_smaller_quant);
    ASSERT_NE(q, nullptr) << format_bytes(vram);
    ASSERT_EQ(q->quant, expected);
    EXPECT_EQ(q->change.word("file_type"), to_string(quants[expected].file_type));
    FitRequest same = r;
    same.alternatives = false;
    expect_same_plan(*q, fit(quants[expected], same, {}));
    EXPECT_EQ(q->recommendation.gpu_layers, 33);
  }
  // The Q8_0 file, the only smaller one, does not fit 8 GiB whole: no quantization alternative.
  FitRequest r = request({8 * gib});
  r.ctx = 8192;
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(f16, r, {quants[1]});
  ASSERT_TRUE(p.fits);
  EXPECT_EQ(find(p, FindingKind::alt_smaller_quant), nullptr);
}

TEST(Alternatives, OneMoreGpuOfTheSameSize) {
  const Model m = llama70b();
  FitRequest r = request({24 * gib});
  r.ctx = 8192;
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(m, r, {});
  const Alternative* two = find(p, FindingKind::alt_more_gpus);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->change.number("gpus"), 2);
  EXPECT_EQ(two->change.changes, (std::vector<Change>{{Setting::vram, std::string("24G,24G")}}));
  EXPECT_EQ(parse_size("24G", "test"), 24 * gib);
  EXPECT_EQ(two->gpus, 2);
  EXPECT_EQ(two->gpu_capacity, 48 * gib);
  FitRequest wider = r;
  wider.vram = {24 * gib, 24 * gib};
  wider.alternatives = false;
  expect_same_plan(*two, fit(m, wider, {}));

  // GPUs of different sizes: which one to add is not obvious, so none is.
  r.vram = {16 * gib, 12 * gib};
  const LlamaPlan mixed = fit(m, r, {});
  ASSERT_TRUE(mixed.fits);
  EXPECT_EQ(find(mixed, FindingKind::alt_more_gpus), nullptr);
}

// Every candidate applies (an f16 cache, two slots, a context, smaller quantizations, equal
// GPUs): at most max_alternative_plans extra plans, at most four kept, in the candidates' order,
// each one more on the GPU or the asked context.
TEST(Alternatives, BoundedAndEachImproves) {
  const Model f16 = llama70b(GgmlType::f16, FileType::mostly_f16);
  std::vector<Model> quants;
  for (const auto& [type, ftype] : {std::pair{GgmlType::q8_0, FileType::mostly_q8_0},
                                    std::pair{GgmlType::q4_0, FileType::mostly_q4_0},
                                    std::pair{GgmlType::q4_1, FileType::mostly_q4_1},
                                    std::pair{GgmlType::q5_0, FileType::mostly_q5_0}}) {
    quants.push_back(llama70b(type, ftype));
  }
  for (const Bytes vram : {24 * gib, 48 * gib, 96 * gib, 160 * gib}) {
    FitRequest r = request({vram, vram});
    r.ctx = 32768;
    r.parallel = 2;
    r.kv_type = GgmlType::f16;
    const LlamaPlan p = fit(f16, r, quants);
    r.alternatives = false;
    const LlamaPlan alone = fit(f16, r, quants);
    EXPECT_LE(p.plans - alone.plans, max_alternative_plans) << format_bytes(vram);
    EXPECT_LE(p.alternatives.size(), max_alternatives_kept);
    if (!p.fits) {
      EXPECT_TRUE(p.alternatives.empty());
      continue;
    }
    const Recommendation& base = p.recommendation;
    int last = -1;
    for (const Alternative& a : p.alternatives) {
      EXPECT_TRUE(a.fits);
      const bool more_layers = a.recommendation.gpu_layers > base.gpu_layers;
      const bool asked_ctx = a.recommendation.gpu_layers == base.gpu_layers && base.ctx < 32768 &&
                             a.recommendation.ctx == 32768;
      EXPECT_TRUE(more_layers || asked_ctx) << to_string(a.change.kind);
      EXPECT_GT(static_cast<int>(a.change.kind), last);  // the candidates' order
      last = static_cast<int>(a.change.kind);
    }
  }
}

// A plan with every layer but a context shorter than the model's maximum (none was asked):
// alternatives reach the maximum with every layer, or are not offered.
TEST(Alternatives, AShortenedContextIsImprovedOnlyByTheWholeContext) {
  const Model m = test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0);
  FitRequest r = request({16 * gib}, EngineId::llamacpp);
  r.kv_type = GgmlType::f16;
  const LlamaPlan p = fit(m, r, {});
  ASSERT_TRUE(p.fits);
  ASSERT_EQ(p.recommendation.gpu_layers, 33);
  ASSERT_LT(p.recommendation.ctx, 131072);
  ASSERT_FALSE(p.alternatives.empty());
  for (const Alternative& a : p.alternatives) {
    EXPECT_EQ(a.recommendation.gpu_layers, 33) << to_string(a.change.kind);
    EXPECT_EQ(a.recommendation.ctx, 131072) << to_string(a.change.kind);
  }
  EXPECT_NE(find(p, FindingKind::alt_kv_q8_0), nullptr);
}

// A user's GPU layers are kept: with them fixed and the asked context met, nothing is offered.
TEST(Alternatives, NoneWhenTheUserFixedTheLayers) {
  FitRequest r = request({24 * gib});
  r.ctx = 8192;
  r.gpu_layers = 20;
  const LlamaPlan p = fit(llama70b(), r, {});
  ASSERT_TRUE(p.fits);
  EXPECT_TRUE(p.alternatives.empty());
  EXPECT_EQ(p.plans, 1);
}

// The smaller quantization's `model` change is a name the catalog resolves to that
// quantization of the same entry (docs/catalog.md: "<id>-<quant>").
TEST(Alternatives, TheQuantizationNameResolvesInTheCatalog) {
  Catalog catalog;
  for (const io::EmbeddedFile& file : io::embedded_catalog_files()) {
    for (CatalogEntry& entry : io::parse_catalog(file.text, std::string(file.name))) {
      catalog.add(std::move(entry));
    }
  }
  const std::optional<ModelRef> ref = catalog.resolve("qwen2.5:14b-q8_0");
  ASSERT_TRUE(ref && ref->entry != nullptr);
  const CatalogEntry& entry = *ref->entry;
  Model model = make_model(ref->matched, "catalog", entry.spec, ref->quant,
                           generate_tensors(entry.spec, ref->quant));
  model.entry_id = entry.id;
  std::vector<Model> quants;
  for (const FileType q : entry.quants) {
    if (q != ref->quant) {
      quants.push_back(
          make_model(entry.id, "catalog", entry.spec, q, generate_tensors(entry.spec, q)));
    }
  }
  FitRequest r = request({16 * gib});
  r.ctx = 16384;
  const LlamaPlan p = fit(model, r, quants);
  ASSERT_TRUE(p.fits);
  const Alternative* q = find(p, FindingKind::alt_smaller_quant);
  ASSERT_NE(q, nullptr);
  const std::optional<ModelRef> named = catalog.resolve(q->change.word("model"));
  ASSERT_TRUE(named && named->entry != nullptr) << q->change.word("model");
  EXPECT_EQ(named->entry->id, entry.id);
  EXPECT_EQ(named->quant, quants.at(*q->quant).file_type);
}

}  // namespace
}  // namespace vramplan
