// `recommend` (src/core/recommend.cpp, docs/sizing.md §8): the 4 GB example, the
// ranking rule, tasks, offload, monotonicity and the time over the whole model catalog.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/engine.hpp>
#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/recommend.hpp>
#include <vramplan/report/sizing.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/weights.hpp>

#include "core/quant_mix.hpp"
#include "core/sizing_engines.hpp"
#include "support/time_budget.hpp"

namespace vramplan {
namespace {

const Catalog& catalog() {
  static const Catalog c = io::load_catalog({}, "");
  return c;
}

const GpuCatalog& gpus() {
  static const GpuCatalog c = io::load_gpu_catalog();
  return c;
}

RecommendRequest on(Bytes vram, Bytes ram = 0) {
  RecommendRequest r;
  r.vram = {vram};
  r.ram = ram;
  return r;
}

std::set<std::string> ids(const std::vector<RecommendItem>& items) {
  std::set<std::string> out;
  for (const RecommendItem& i : items) out.insert(i.entry->id);
  return out;
}

bool has_id(const std::vector<RecommendItem>& items, const std::string& id) {
  return ids(items).count(id) > 0;
}

TEST(Recommend, AFourGigabyteCardListsThreeBillionModelsAndNoSeventy) {
  const RecommendResult r = recommend(catalog(), on(4 * gib));
  ASSERT_FALSE(r.full_gpu.empty());
  for (const char* id : {"qwen2.5-3b", "llama3.2-3b"}) EXPECT_TRUE(has_id(r.full_gpu, id)) << id;
  for (const RecommendItem& i : r.full_gpu) {
    EXPECT_LT(i.params, 10e9) << i.name;
    EXPECT_EQ(i.entry->id.find("70b"), std::string::npos) << i.name;
    EXPECT_TRUE(i.full_gpu);
    EXPECT_EQ(i.gpu_layers, i.total_layers) << i.name;
    EXPECT_GE(i.ctx, std::min<std::int64_t>(4096, i.max_ctx)) << i.name;
    EXPECT_LE(i.ctx, i.max_ctx) << i.name;
    EXPECT_LE(i.gpu_bytes + gib, 4 * gib) << i.name;  // the 1 GiB headroom kept
  }
  // No offload list without RAM.
  EXPECT_TRUE(r.offload.empty());
  // Phi-3.5 mini has no grouped-query attention (32 KV heads): 4096 tokens of cache take
  // 0.8 GiB even in q8_0, and its smallest catalog file (Q4_0) with that and the CUDA
  // overhead is about 3.3 GiB, over the 3 GiB a 1 GiB headroom leaves (docs/sizing.md §8.6). With
  // half a GiB of headroom it is on the GPU, with a q8_0 cache; with RAM, offloaded.
  EXPECT_FALSE(has_id(r.full_gpu, "phi3.5-mini"));
  RecommendRequest tight = on(4 * gib);
  tight.headroom = Headroom{.profile = "custom", .fixed = 512 * mib};
  const RecommendResult t = recommend(catalog(), tight);
  const auto phi = std::find_if(t.full_gpu.begin(), t.full_gpu.end(), [](const RecommendItem& i) {
    return i.entry->id == "phi3.5-mini";
  });
  ASSERT_NE(phi, t.full_gpu.end());
  EXPECT_EQ(phi->kv_type, GgmlType::q8_0);
  EXPECT_TRUE(has_id(t.full_gpu, "qwen2.5-3b"));
  EXPECT_TRUE(has_id(recommend(catalog(), on(4 * gib, 16 * gib)).offload, "phi3.5-mini"));
}

TEST(Recommend, WithRamLargerModelsFitWithOffload) {
  const RecommendResult r = recommend(catalog(), on(8 * gib, 32 * gib));
  ASSERT_FALSE(r.offload.empty());
  for (const RecommendItem& i : r.offload) {
    EXPECT_FALSE(i.full_gpu) << i.name;
    EXPECT_TRUE(i.gpu_layers < i.total_layers || i.cpu_moe > 0) << i.name;
    EXPECT_LE(i.ram_bytes, 31 * gib) << i.name;  // 1 GiB for the OS
  }
  // The same combination is never in both lists.
  std::set<std::string> full;
  for (const RecommendItem& i : r.full_gpu) full.insert(i.name);
  for (const RecommendItem& i : r.offload) EXPECT_EQ(full.count(i.name), 0U) << i.name;
  // A 14B model does not fit 8 GB entirely but does with 32 GB of RAM.
  for (const RecommendItem& i : r.full_gpu) {
    EXPECT_FALSE(i.entry->id == "qwen2.5-14b" && i.quant == FileType::mostly_q4_k_m);
  }
  EXPECT_TRUE(has_id(r.offload, "qwen2.5-14b"));
}

TEST(Recommend, RankedByTheQualityProxy) {
  const RecommendResult r = recommend(catalog(), on(24 * gib, 64 * gib));
  for (const auto* list : {&r.full_gpu, &r.offload}) {
    for (std::size_t i = 1; i < list->size(); ++i) {
      EXPECT_GE((*list)[i - 1].quality, (*list)[i].quality);
      EXPECT_TRUE(ranks_before((*list)[i - 1], (*list)[i]));
    }
  }
  // The proxy itself: params (billions) x the factor.
  for (const RecommendItem& i : r.full_gpu) {
    EXPECT_DOUBLE_EQ(i.quality, i.params / 1e9 / (1.0 + [&] {
                                  for (const QuantQuality& q : quant_quality_table()) {
                                    if (q.type == i.quant) return q.ppl_delta;
                                  }
                                  return 3.5199;
                                }()));
  }
}

TEST(Recommend, RankingIsStable) {
  const RecommendResult a = recommend(catalog(), on(12 * gib, 32 * gib));
  const RecommendResult b = recommend(catalog(), on(12 * gib, 32 * gib));
  ASSERT_EQ(a.full_gpu.size(), b.full_gpu.size());
  for (std::size_t i = 0; i < a.full_gpu.size(); ++i) {
    EXPECT_EQ(a.full_gpu[i].name, b.full_gpu[i].name);
    EXPECT_EQ(a.full_gpu[i].ctx, b.full_gpu[i].ctx);
  }
  // Ties (same quality and size) keep the catalog's order.
  for (std::size_t i = 1; i < a.full_gpu.size(); ++i) {
    const RecommendItem& x = a.full_gpu[i - 1];
    const RecommendItem& y = a.full_gpu[i];
    if (x.quality == y.quality && x.weights == y.weights) {
      EXPECT_LT(x.order, y.order);
    }
  }
}

TEST(Recommend, QualityFactorsFollowThePerplexityDeltas) {
  // More bits in one family never rank lower; float types are 1.
  EXPECT_DOUBLE_EQ(quant_quality(FileType::mostly_f16), 1.0);
  const FileType order[] = {FileType::mostly_q2_k,   FileType::mostly_q3_k_m, FileType::mostly_q4_0,
                            FileType::mostly_q4_k_m, FileType::mostly_q5_k_m, FileType::mostly_q6_k,
                            FileType::mostly_q8_0,   FileType::mostly_f16};
  for (std::size_t i = 1; i < std::size(order); ++i) {
    EXPECT_LT(quant_quality(order[i - 1]), quant_quality(order[i])) << to_string(order[i]);
  }
  // Every type the catalog offers has a row of its own.
  for (const CatalogEntry& e : catalog().entries()) {
    for (FileType q : e.quants) {
      const auto table = quant_quality_table();
      EXPECT_TRUE(std::any_of(table.begin(), table.end(),
                              [&](const QuantQuality& row) { return row.type == q; }))
          << e.id << " " << to_string(q);
    }
  }
}

TEST(Recommend, TheWeightsBoundIsBelowEveryCatalogFile) {
  // The prefilter may only drop what cannot fit: its bound stays under the bytes of the
  // generated tensor list of every catalog file (and under the GPU part of a full offload).
  for (const CatalogEntry& e : catalog().entries()) {
    for (FileType q : e.quants) {
      const Model m = make_model(e.id, "catalog", e.spec, q, generate_tensors(e.spec, q), 0);
      Bytes gpu = m.weights.output.cuda;
      for (const WeightGroup& b : m.weights.blocks) gpu += b.cuda;
      EXPECT_LE(weights_lower_bound(e, q, false), m.weights.file_tensor_bytes)
          << e.id << " " << to_string(q);
      EXPECT_LE(weights_lower_bound(e, q, true), gpu) << e.id << " " << to_string(q);
      // And it is not vacuous: within a factor of two for files of a published size.
      if (e.params_published > 0 && e.spec.arch != "gpt-oss") {
        EXPECT_GT(2 * weights_lower_bound(e, q, false), m.weights.file_tensor_bytes)
            << e.id << " " << to_string(q);
      }
    }
  }
}

TEST(Recommend, MoreVramNeverListsFewerModelsOnTheGpu) {
  std::size_t last = 0;
  std::set<std::string> before;
  for (const Bytes v : {2 * gib, 3 * gib, 4 * gib, 6 * gib, 8 * gib, 12 * gib, 16 * gib, 20 * gib,
                        24 * gib, 32 * gib, 48 * gib}) {
    const RecommendResult r = recommend(catalog(), on(v));
    EXPECT_GE(r.full_gpu.size(), last) << v;
    std::set<std::string> now;
    for (const RecommendItem& i : r.full_gpu) now.insert(i.name);
    for (const std::string& n : before) EXPECT_EQ(now.count(n), 1U) << n << " lost at " << v;
    before = now;
    last = r.full_gpu.size();
  }
}

TEST(Recommend, TasksFilterTheCatalog) {
  const RecommendResult embed = [] {
    RecommendRequest r = on(8 * gib);
    r.task = ModelTask::embed;
    return recommend(catalog(), r);
  }();
  ASSERT_FALSE(embed.full_gpu.empty());
  for (const RecommendItem& i : embed.full_gpu) EXPECT_FALSE(i.entry->spec.causal) << i.name;

  RecommendRequest v = on(24 * gib);
  v.task = ModelTask::vision;
  const RecommendResult vision = recommend(catalog(), v);
  ASSERT_FALSE(vision.full_gpu.empty());
  for (const RecommendItem& i : vision.full_gpu) EXPECT_TRUE(i.entry->projector) << i.name;

  RecommendRequest c = on(24 * gib);
  c.task = ModelTask::code;
  const RecommendResult code = recommend(catalog(), c);
  ASSERT_FALSE(code.full_gpu.empty());
  for (const RecommendItem& i : code.full_gpu) {
    EXPECT_TRUE(serves(*i.entry, ModelTask::code));
    EXPECT_FALSE(serves(*i.entry, ModelTask::chat)) << i.name;
  }
  EXPECT_TRUE(has_id(code.full_gpu, "qwen2.5-coder-7b"));

  RecommendRequest h = on(24 * gib);
  h.task = ModelTask::chat;
  const RecommendResult chat = recommend(catalog(), h);
  EXPECT_FALSE(has_id(chat.full_gpu, "qwen2.5-coder-7b"));
  EXPECT_FALSE(has_id(chat.full_gpu, "nomic-embed-text"));
  EXPECT_TRUE(has_id(chat.full_gpu, "llama3.1-8b"));

  EXPECT_EQ(parse_model_task("Embedding"), ModelTask::embed);
  EXPECT_FALSE(parse_model_task("poetry").has_value());
}

TEST(Recommend, SpeedWhenTheGpuIsKnown) {
  const Gpu* g = gpus().find_id("rtx-4090");
  ASSERT_NE(g, nullptr);
  RecommendRequest r = on(*g->memory_bytes, 64 * gib);
  r.gpu = g;
  r.ram_bandwidth_gbps = 80;
  const RecommendResult res = recommend(catalog(), r);
  for (const RecommendItem& i : res.full_gpu) {
    ASSERT_TRUE(i.speed.has_value()) << i.name;
    EXPECT_GT(i.speed->decode_tokens_per_s, 0) << i.name;
  }
  // On the GPU a model decodes faster than with part of it in RAM.
  const auto find = [](const std::vector<RecommendItem>& items, const std::string& name) {
    return std::find_if(items.begin(), items.end(),
                        [&](const RecommendItem& i) { return i.name == name; });
  };
  const auto small = find(res.full_gpu, "llama3.1:8b-q4_k_m");
  ASSERT_NE(small, res.full_gpu.end());
  for (const RecommendItem& i : res.offload) {
    if (i.speed) {
      EXPECT_LT(i.speed->decode_tokens_per_s, small->speed->decode_tokens_per_s) << i.name;
    }
  }
  // Without the card there is no speed, and a note says why.
  const RecommendResult plain = recommend(catalog(), on(*g->memory_bytes));
  for (const RecommendItem& i : plain.full_gpu) EXPECT_FALSE(i.speed.has_value());
  EXPECT_FALSE(plain.notes.empty());
}

TEST(Recommend, TheWorkIsBounded) {
  // The prefilter keeps fits to the combinations whose weights could fit; each survivor gets
  // one fit, and a second (q8_0 cache) only when the first leaves layers on the CPU.
  const RecommendResult r = recommend(catalog(), on(4 * gib));
  EXPECT_GT(r.prefiltered, r.candidates / 2);
  EXPECT_LE(r.fits, 2 * (r.candidates - r.prefiltered));
  EXPECT_GE(r.fits, r.candidates - r.prefiltered);
  EXPECT_LT(r.estimates, 40 * r.fits + 1);
  EXPECT_FALSE(r.stopped_early);
}

TEST(Recommend, ALimitKeepsTheBestOfTheFullList) {
  const RecommendResult all = recommend(catalog(), on(24 * gib, 64 * gib));
  RecommendRequest top = on(24 * gib, 64 * gib);
  top.limit = 10;
  const RecommendResult some = recommend(catalog(), top);
  ASSERT_EQ(some.full_gpu.size(), 10U);
  ASSERT_EQ(some.offload.size(), 10U);
  EXPECT_TRUE(some.stopped_early);
  EXPECT_LT(some.fits, all.fits);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(some.full_gpu[i].name, all.full_gpu[i].name) << i;
    EXPECT_EQ(some.full_gpu[i].ctx, all.full_gpu[i].ctx) << i;
    EXPECT_EQ(some.offload[i].name, all.offload[i].name) << i;
  }
}

// Every combination (--limit 0) as `fit` plans it: each listed row, rebuilt and planned by
// fit() on its own (with the q8_0 cache when f16 leaves layers on the CPU and q8_0 does not),
// has the same context, layers, cache and bytes. The sweep shares compute graphs between the
// quantizations of an entry and skips fit() when the whole model fits at its full context
// (docs/performance.md); this checks that neither changes a result. Every 3rd row.
// recommend keeps one Model per entry and re-types it for each quantization it plans
// (sizing_engines::retype_catalog_model): over the whole catalog, every entry's Model re-typed
// through all its quantizations, twice in two orders, is the Model catalog_model builds afresh.
TEST(Recommend, AModelRetypedIsTheCatalogModelOfItsQuantization) {
  std::size_t compared = 0;
  for (const CatalogEntry& entry : catalog().entries()) {
    if (entry.quants.empty() || !has_tensor_layout(entry.spec.arch)) continue;
    const TensorLayout layout(entry.spec);
    std::vector<FileType> order = entry.quants;
    order.insert(order.end(), entry.quants.rbegin(), entry.quants.rend());
    Model model = sizing_engines::catalog_model(entry, order.back(), layout);
    for (const FileType quant : order) {
      SCOPED_TRACE(testing::Message() << entry.id << " " << to_string(quant));
      sizing_engines::retype_catalog_model(model, entry, quant, layout);
      const Model fresh = sizing_engines::catalog_model(entry, quant);
      EXPECT_EQ(model.name, fresh.name);
      EXPECT_EQ(model.source, fresh.source);
      EXPECT_EQ(model.entry_id, fresh.entry_id);
      EXPECT_EQ(model.spec, fresh.spec);
      EXPECT_EQ(model.file_type, fresh.file_type);
      EXPECT_EQ(model.tensors, fresh.tensors);
      EXPECT_EQ(model.weights, fresh.weights);
      EXPECT_EQ(model.projector, fresh.projector);
      EXPECT_EQ(model.n_params, fresh.n_params);
      EXPECT_EQ(model.file.has_value(), fresh.file.has_value());
      ++compared;
    }
  }
  EXPECT_GT(compared, 500U);
}

// A TensorLayout works out each tensor's role in the type choice and its weight slot (what
// layout_weights reads of a name) once per distinct name past "blk.N." (not once per block),
// and a catalog Model's weight layout is summed from those slots (not from the names again,
// once per quantization; docs/performance.md). Over the whole catalog, every entry in every one
// of its quantizations: each role and slot is what the tensor's own name says, and the layout
// summed from the slots is the one summed tensor by tensor from the names with
// WeightGroup::add (the grouping rules of weights.hpp restated here), which is also
// layout_weights without slots.
TEST(Recommend, TheLayoutsRolesAndSlotsAreWhatEachNameSays) {
  std::size_t compared = 0;
  std::size_t experts = 0;
  std::size_t tied = 0;
  std::size_t rope_freqs = 0;
  for (const CatalogEntry& entry : catalog().entries()) {
    if (entry.quants.empty() || !has_tensor_layout(entry.spec.arch)) continue;
    const TensorLayout layout(entry.spec);
    const std::vector<WeightSlot>& slots = layout.weight_slots();
    const std::int32_t n_layer = entry.spec.n_layer;
    for (const FileType quant : entry.quants) {
      SCOPED_TRACE(testing::Message() << entry.id << " " << to_string(quant));
      const std::vector<TensorInfo> tensors = layout.typed(quant);
      ASSERT_EQ(slots.size(), tensors.size());
      ASSERT_EQ(layout.roles().size(), tensors.size());
      WeightLayout by_name;
      by_name.blocks.resize(static_cast<std::size_t>(n_layer));
      by_name.experts.resize(static_cast<std::size_t>(n_layer));
      const TensorInfo* token_embd = nullptr;
      bool has_output = false;
      bool has_output_norm = false;
      for (std::size_t i = 0; i < tensors.size(); ++i) {
        const TensorInfo& t = tensors[i];
        const WeightSlot& slot = slots[i];
        // The embeddings' norm and gemma3n's per-layer input projection and its norm are block
        // 0's (llama.cpp creates them with block 0's number).
        const bool block0 = t.name.starts_with("token_embd_norm.") ||
                            t.name.starts_with("per_layer_model_proj.") ||
                            t.name.starts_with("per_layer_proj_norm.");
        const std::int32_t block = block0 ? 0 : tensor_block(t.name);
        EXPECT_EQ(slot.block, block) << t.name;
        EXPECT_EQ(slot.expert, is_expert_tensor(t.name)) << t.name;
        EXPECT_EQ(slot.output_weight, t.name == "output.weight") << t.name;
        EXPECT_EQ(slot.output_norm, t.name.starts_with("output_norm.")) << t.name;
        EXPECT_EQ(slot.token_embd, t.name == "token_embd.weight") << t.name;
        // The rope factors are loaded with every block (LLM_TENSOR_LAYER_REPEATING).
        const bool per_device = t.name == "rope_freqs.weight" ||
                                t.name == "rope_factors_long.weight" ||
                                t.name == "rope_factors_short.weight";
        EXPECT_EQ(slot.per_device, per_device) << t.name;
        EXPECT_EQ(slot, weight_slot(t.name)) << t.name;
        EXPECT_EQ(layout.roles()[i], detail::tensor_role(t)) << t.name;
        EXPECT_EQ(layout.roles()[i].block, tensor_block(t.name)) << t.name;
        by_name.file_tensor_bytes += t.bytes();
        if (block >= 0) {
          by_name.blocks[static_cast<std::size_t>(block)].add(t);
          if (is_expert_tensor(t.name)) {
            by_name.experts[static_cast<std::size_t>(block)].add(t);
            ++experts;
          }
        } else if (per_device) {
          by_name.per_device.add(t);
          ++rope_freqs;
        } else if (t.name.starts_with("output.") || t.name.starts_with("output_norm.") ||
                   t.name.starts_with("dense_2.") || t.name.starts_with("dense_3.") ||
                   t.name.starts_with("altup_proj.") || t.name.starts_with("altup_unembd_proj.")) {
          by_name.output.add(t);
          has_output = has_output || t.name == "output.weight";
          has_output_norm = has_output_norm || t.name.starts_with("output_norm.");
        } else {
          by_name.input.add(t);
          if (t.name == "token_embd.weight") token_embd = &t;
        }
      }
      if (!has_output && has_output_norm && token_embd != nullptr) {
        by_name.output.add(*token_embd);
        by_name.output_tied = true;
        by_name.tied_copy = token_embd->bytes();
        ++tied;
      }
      const WeightLayout from_slots = layout_weights(tensors, slots, n_layer);
      EXPECT_EQ(from_slots, by_name);
      EXPECT_EQ(from_slots, layout_weights(tensors, n_layer));
      EXPECT_EQ(sizing_engines::catalog_model(entry, quant, layout).weights, by_name);
      ++compared;
    }
  }
  EXPECT_GT(compared, 500U);
  EXPECT_GT(experts, 0U);     // MoE entries are among them
  EXPECT_GT(tied, 0U);        // and entries with tied embeddings
  EXPECT_GT(rope_freqs, 0U);  // and entries with rope factors (Llama 3.x, Phi-3 128k)
  const TensorLayout layout(catalog().entries().front().spec);
  std::vector<WeightSlot> short_slots = layout.weight_slots();
  short_slots.pop_back();
  EXPECT_THROW((void)layout_weights(layout.typed(FileType::mostly_q4_k_m), short_slots,
                                    catalog().entries().front().spec.n_layer),
               std::invalid_argument);
}

TEST(Recommend, EveryCombinationIsWhatFitPlans) {
  const Gpu* g = gpus().find_id("rtx-4090");
  ASSERT_NE(g, nullptr);
  RecommendRequest with_gpu = on(*g->memory_bytes, 64 * gib);
  with_gpu.gpu = g;
  with_gpu.ram_bandwidth_gbps = 80;
  for (const RecommendRequest& request : {on(4 * gib), with_gpu}) {
    const RecommendResult r = recommend(catalog(), request);
    std::vector<const RecommendItem*> rows;
    for (const auto* list : {&r.full_gpu, &r.offload}) {
      for (std::size_t i = 0; i < list->size(); i += 3) rows.push_back(&(*list)[i]);
    }
    ASSERT_GT(rows.size(), 50U);
    for (const RecommendItem* item : rows) {
      const CatalogEntry& entry = *item->entry;
      Model model = make_model(item->name, "catalog", entry.spec, item->quant,
                               generate_tensors(entry.spec, item->quant),
                               entry.projector ? entry.projector->bytes : 0);
      if (entry.projector) model.projector_encoder = entry.projector->encoder;
      FitRequest fr;
      fr.engine = &engine(EngineId::llamacpp);
      fr.vram = request.vram;
      fr.ram = request.ram;
      fr.headroom = request.headroom;
      fr.min_ctx = request.min_ctx;
      fr.kv_type = GgmlType::f16;
      LlamaPlan plan = fit(model, fr, {});
      const auto whole = [](const LlamaPlan& p) {
        return p.fits && p.recommendation.gpu_layers == p.recommendation.total_layers &&
               p.recommendation.cpu_moe == 0;
      };
      if (!whole(plan)) {
        fr.kv_type = GgmlType::q8_0;
        LlamaPlan q8 = fit(model, fr, {});
        if (whole(q8)) plan = std::move(q8);
      }
      Bytes gpu = 0;
      for (const DeviceUsage& d : plan.estimate.devices) {
        if (d.kind == DeviceKind::gpu) gpu += d.total();
      }
      SCOPED_TRACE(item->name);
      EXPECT_TRUE(plan.fits);
      EXPECT_EQ(item->full_gpu, whole(plan));
      EXPECT_EQ(item->ctx, plan.recommendation.ctx);
      EXPECT_EQ(item->gpu_layers, plan.recommendation.gpu_layers);
      EXPECT_EQ(item->cpu_moe, plan.recommendation.cpu_moe);
      EXPECT_EQ(item->kv_type, plan.recommendation.kv_type);
      EXPECT_EQ(item->gpu_bytes, gpu);
      EXPECT_EQ(item->ram_bytes, plan.estimate.host().total());
    }
  }
}

TEST(Recommend, RejectsNoGpu) {
  EXPECT_THROW((void)recommend(catalog(), RecommendRequest{}), Error);
  EXPECT_THROW((void)recommend(catalog(), on(0)), Error);
  RecommendRequest v = on(24 * gib);
  v.engine = &engine(EngineId::vllm);
  EXPECT_THROW((void)recommend(catalog(), v), Error);
}

TEST(RecommendReport, JsonHasEveryItemInOrder) {
  const Gpu* g = gpus().find_id("rtx-4060");
  ASSERT_NE(g, nullptr);
  RecommendRequest req = on(*g->memory_bytes, 32 * gib);
  req.gpu = g;
  req.limit = 15;
  const RecommendResult r = recommend(catalog(), req);
  const nlohmann::json j = nlohmann::json::parse(report::render_recommend_json(r));
  ASSERT_EQ(j["full_gpu"].size(), r.full_gpu.size());
  ASSERT_EQ(j["offload"].size(), r.offload.size());
  for (std::size_t i = 0; i < r.full_gpu.size(); ++i) {
    EXPECT_EQ(j["full_gpu"][i]["model"], r.full_gpu[i].name);
    EXPECT_EQ(j["full_gpu"][i]["ctx"], r.full_gpu[i].ctx);
    EXPECT_TRUE(j["full_gpu"][i]["full_gpu"].get<bool>());
    EXPECT_FALSE(j["full_gpu"][i]["speed"].is_null());
  }
  for (std::size_t i = 0; i < r.offload.size(); ++i) {
    EXPECT_EQ(j["offload"][i]["model"], r.offload[i].name);
    EXPECT_TRUE(j["offload"][i]["speed"].is_null());  // no RAM bandwidth given
  }
  const std::string table = report::render_recommend_table(r);
  EXPECT_NE(table.find("fully on the GPU (15)"), std::string::npos) << table;
  EXPECT_NE(table.find(r.full_gpu.front().name), std::string::npos);
}

// The examples in docs/sizing.md §8.6: build/bin/vramplan_tests
// --gtest_also_run_disabled_tests --gtest_filter='RecommendReport.DISABLED_PrintDocExamples'
TEST(RecommendReport, DISABLED_PrintDocExamples) {
  RecommendRequest small = on(4 * gib);
  small.limit = 12;
  std::cout << "4 GiB, limit 12\n"
            << report::render_recommend_table(recommend(catalog(), small)) << "\n";
  const Gpu* g = gpus().find_id("rtx-4090");
  RecommendRequest big = on(*g->memory_bytes, 64 * gib);
  big.gpu = g;
  big.ram_bandwidth_gbps = 80;
  big.limit = 10;
  std::cout << "rtx-4090 + 64 GiB RAM (80 GB/s), limit 10\n"
            << report::render_recommend_table(recommend(catalog(), big)) << "\n";
  RecommendRequest code = on(*g->memory_bytes);
  code.gpu = g;
  code.task = ModelTask::code;
  code.limit = 8;
  std::cout << "rtx-4090, code, limit 8\n"
            << report::render_recommend_table(recommend(catalog(), code)) << "\n";
}

TEST(Recommend, WholeCatalogIsFast) {
  // Issue 12: `recommend` over the whole catalog in 100 ms. The bound here is 4x that (the CI
  // machine has 2 shared cores); docs/sizing.md §8.5 has the medians.
  const Gpu* g = gpus().find_id("rtx-4090");
  ASSERT_NE(g, nullptr);
  struct Case {
    const char* what;
    RecommendRequest request;
  };
  RecommendRequest with_gpu = on(*g->memory_bytes, 64 * gib);
  with_gpu.gpu = g;
  with_gpu.ram_bandwidth_gbps = 80;
  const Case cases[] = {{"4G", on(4 * gib)},
                        {"24G", on(24 * gib)},
                        {"4090 + 64G RAM", with_gpu},
                        {"80G", on(80 * gib)}};
  for (const Case& c : cases) {
    for (const std::size_t limit : {std::size_t{20}, std::size_t{0}}) {
      RecommendRequest request = c.request;
      request.limit = limit;
      RecommendResult res;
      const double ms =
          test::median_cpu_ms([&] { res = recommend(catalog(), request); }, test::timed_runs(5));
      std::printf(
          "recommend %s, limit %zu: %.1f ms (%lld candidates, %lld fits, %lld "
          "estimates)\n",
          c.what, limit, ms, static_cast<long long>(res.candidates),
          static_cast<long long>(res.fits), static_cast<long long>(res.estimates));
      // The best 20 per list (what the command shows): the 100 ms, 4x for CI. Every
      // combination: bounded too, more loosely (each fitting one is generated and planned).
      EXPECT_LT(ms, 1000 * test::time_budget(limit > 0 ? 0.4 : 3.0)) << c.what << " " << limit;
    }
  }
}

}  // namespace
}  // namespace vramplan
