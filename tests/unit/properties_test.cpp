// Properties of the calculator and the planner over catalog models and ranges of budgets and
// contexts (docs/reliability.md "Properties"). Deterministic: fixed models, fixed grids.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/catalog.hpp>
#include <vramplan/error.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/embedded_catalog.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan {
namespace {

// Catalog models covering the shapes the planner treats differently: dense, GQA, sliding
// window, MoE (with and without --n-cpu-moe), MLA, tied embeddings, an encoder.
const std::vector<Model>& models() {
  static const std::vector<Model> all = [] {
    Catalog catalog;
    for (const io::EmbeddedFile& file : io::embedded_catalog_files()) {
      for (CatalogEntry& entry : io::parse_catalog(file.text, std::string(file.name))) {
        catalog.add(std::move(entry));
      }
    }
    std::vector<Model> out;
    for (const char* id :
         {"llama3.1-8b", "llama3.2-3b", "qwen2.5-7b", "gemma3-27b", "qwen3-30b-a3b", "gpt-oss-20b",
          "deepseek-v2-lite-16b", "phi4-14b", "nomic-embed-text"}) {
      const auto it = std::find_if(catalog.entries().begin(), catalog.entries().end(),
                                   [&](const CatalogEntry& e) { return e.id == id; });
      if (it == catalog.entries().end()) continue;
      out.push_back(make_model(it->id, "catalog", it->spec, it->default_quant,
                               generate_tensors(it->spec, it->default_quant)));
    }
    return out;
  }();
  return all;
}

FitRequest request(EngineId id, std::vector<Bytes> vram, Bytes ram = 0) {
  FitRequest r;
  r.engine = &engine(id);
  r.backend = Backend::cuda;
  r.vram = std::move(vram);
  r.ram = ram;
  r.headroom =
      Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
  return r;
}

constexpr EngineId engines_tested[] = {EngineId::ollama, EngineId::llamacpp};

TEST(Properties, CatalogModelsAreThere) { EXPECT_GE(models().size(), 7u); }

// Blocks whose experts are on a GPU: offloaded blocks (the last gpu_layers - 1) from
// --n-cpu-moe on. (--n-cpu-moe itself is not monotone: 0 when no block is offloaded.)
std::int32_t expert_blocks_on_gpu(const Model& m, const Recommendation& r) {
  if (!m.spec.moe.present()) return 0;
  const std::int32_t first_gpu_block = m.spec.n_layer + 1 - r.gpu_layers;
  return std::max(0, m.spec.n_layer - std::max(first_gpu_block, r.cpu_moe));
}

// More VRAM never yields fewer GPU layers or a shorter context (context unset: the planner
// shortens it first, then moves layers), nor fewer blocks with their experts on the GPU.
TEST(Properties, MoreVramNeverMeansFewerLayersOrShorterContext) {
  for (const Model& m : models()) {
    for (EngineId id : engines_tested) {
      LlamaPlan previous;
      bool first = true;
      for (Bytes vram = 2 * gib; vram <= 96 * gib; vram += vram / 2) {
        const LlamaPlan p = fit(m, request(id, {vram}), {});
        const std::string where =
            fmt::format("{} {} {}", m.name, engine(id).name, format_bytes(vram));
        if (!first) {
          const Recommendation& a = previous.recommendation;
          const Recommendation& b = p.recommendation;
          EXPECT_GE(b.gpu_layers, a.gpu_layers) << where;
          EXPECT_GE(b.ctx, a.ctx) << where;
          EXPECT_GE(expert_blocks_on_gpu(m, b), expert_blocks_on_gpu(m, a)) << where;
          EXPECT_TRUE(p.fits || !previous.fits) << where;
        }
        previous = p;
        first = false;
      }
    }
  }
}

// More context never uses less memory, on any device, in any component but the output buffer
// (which does not depend on the context).
TEST(Properties, MoreContextNeverUsesLessMemory) {
  for (const Model& m : models()) {
    for (EngineId id : engines_tested) {
      for (std::int32_t gpu_layers : {0, m.spec.n_layer / 2, m.spec.n_layer + 1}) {
        Estimate previous;
        for (std::int64_t ctx = 256; ctx <= m.spec.n_ctx_train; ctx *= 4) {
          Config c;
          c.ctx = ctx;
          c.gpu_layers = gpu_layers;
          const Estimate e = estimate(m, engine(id), Backend::cuda, c, {24 * gib});
          const std::string where =
              fmt::format("{} {} ctx {} layers {}", m.name, engine(id).name, ctx, gpu_layers);
          if (!previous.devices.empty()) {
            for (std::size_t i = 0; i < e.devices.size(); ++i) {
              EXPECT_GE(e.devices[i].total(), previous.devices[i].total()) << where << " " << i;
              EXPECT_GE(e.devices[i].kv_cache, previous.devices[i].kv_cache) << where;
            }
            EXPECT_GE(e.total(), previous.total()) << where;
          }
          previous = e;
        }
      }
    }
  }
}

// Every plan `fit` says fits passes an independent estimate of its configuration under the
// same budget: each GPU within capacity minus headroom, the host within RAM minus the reserve.
TEST(Properties, EveryFittingPlanPassesEstimateUnderTheSameBudget) {
  int checked = 0;
  for (const Model& m : models()) {
    for (EngineId id : engines_tested) {
      for (const std::vector<Bytes>& vram :
           {std::vector<Bytes>{4 * gib}, std::vector<Bytes>{8 * gib}, std::vector<Bytes>{16 * gib},
            std::vector<Bytes>{24 * gib}, std::vector<Bytes>{12 * gib, 12 * gib}}) {
        for (Bytes ram : {Bytes{0}, 32 * gib}) {
          const FitRequest r = request(id, vram, ram);
          const LlamaPlan p = fit(m, r, {});
          if (!p.fits) continue;
          ++checked;
          const Estimate e = estimate(m, engine(id), Backend::cuda, p.estimate.config, vram);
          const std::string where =
              fmt::format("{} {} {} GPUs, first {}, ram {}", m.name, engine(id).name, vram.size(),
                          format_bytes(vram[0]), format_bytes(ram));
          ASSERT_EQ(e.devices.size(), vram.size() + 1) << where;
          for (std::size_t i = 0; i < vram.size(); ++i) {
            EXPECT_LE(e.devices[i].total(), vram[i] - r.headroom.for_device(vram[i])) << where;
            EXPECT_EQ(e.devices[i].total(), p.estimate.devices[i].total()) << where;
          }
          if (ram > 0) {
            EXPECT_LE(e.host().total(), ram - 1 * gib) << where;
          }
          // The recommendation is the configuration that was estimated.
          EXPECT_EQ(p.recommendation.ctx, e.config.ctx) << where;
          EXPECT_EQ(p.recommendation.gpu_layers, e.config.gpu_layers) << where;
          EXPECT_EQ(p.recommendation.cpu_moe, e.config.cpu_moe) << where;
        }
      }
    }
  }
  EXPECT_GT(checked, 20);
}

// The components of every device and of the whole estimate add up to its total: checked
// against sums of the fields written out here, not against DeviceUsage::total() (issue 10).
TEST(Properties, ComponentsAddUpToTheTotal) {
  for (const Model& m : models()) {
    for (EngineId id : engines_tested) {
      for (std::int32_t gpu_layers : {0, m.spec.n_layer / 3, m.spec.n_layer + 1}) {
        Config c;
        c.ctx = 8192;
        c.gpu_layers = gpu_layers;
        const Estimate e = estimate(m, engine(id), Backend::cuda, c, {8 * gib, 16 * gib});
        const std::string where = fmt::format("{} {} {}", m.name, engine(id).name, gpu_layers);
        Bytes weights = 0, kv = 0, compute = 0, output = 0, overhead = 0;
        std::int32_t layers = 0;
        for (const DeviceUsage& d : e.devices) {
          EXPECT_EQ(d.total(), d.weights + d.kv_cache + d.compute + d.output + d.overhead) << where;
          weights += d.weights;
          kv += d.kv_cache;
          compute += d.compute;
          output += d.output;
          overhead += d.overhead;
          layers += d.layers;
        }
        EXPECT_EQ(e.total(), weights + kv + compute + output + overhead) << where;
        EXPECT_EQ(e.weights(), weights) << where;
        EXPECT_EQ(e.compute(), compute) << where;
        // Independent sources for the parts: the cache the estimate computed, and every
        // offloadable layer on exactly one device.
        EXPECT_EQ(kv, e.kv.total()) << where;
        EXPECT_EQ(layers, m.spec.n_layer + 1) << where;
        EXPECT_EQ(overhead, 2 * gpu_runtime_overhead(Backend::cuda)) << where;
      }
    }
  }
}

// Scaling every input size (widths, vocabulary, layers, context) never makes an estimate
// negative or smaller, component by component.
TEST(Properties, ScalingInputsNeverShrinksAnEstimate) {
  for (const Model& base : models()) {
    for (EngineId id : engines_tested) {
      Estimate previous;
      for (std::int64_t scale = 1; scale <= 4; scale *= 2) {
        ModelSpec s = base.spec;
        s.n_embd *= scale;
        s.n_ff *= scale;
        for (std::int64_t& f : s.n_ff_per_layer) f *= scale;
        if (s.key_length > 0) s.key_length *= static_cast<std::int32_t>(scale);
        if (s.value_length > 0) s.value_length *= static_cast<std::int32_t>(scale);
        s.moe.n_ff_exp *= scale;
        s.moe.n_ff_shexp *= scale;
        s.n_vocab *= scale;
        s.n_ctx_train *= scale;
        const Model m =
            make_model(base.name, "scaled", s, base.file_type, generate_tensors(s, base.file_type));
        Config c;
        c.ctx = 4096 * scale;
        c.gpu_layers = s.n_layer + 1;
        const Estimate e = estimate(m, engine(id), Backend::cuda, c, {24 * gib});
        const std::string where = fmt::format("{} {} x{}", m.name, engine(id).name, scale);
        for (const DeviceUsage& d : e.devices) {
          for (Bytes part : {d.weights, d.kv_cache, d.compute, d.output, d.overhead}) {
            EXPECT_GE(part, 0) << where << " " << d.name;
          }
        }
        if (!previous.devices.empty()) {
          EXPECT_GE(e.weights(), previous.weights()) << where;
          EXPECT_GE(e.kv_cache(), previous.kv_cache()) << where;
          EXPECT_GE(e.compute(), previous.compute()) << where;
          EXPECT_GE(e.output(), previous.output()) << where;
          EXPECT_GE(e.total(), previous.total()) << where;
        }
        previous = e;
      }
    }
  }
}

// parse_size reads back what format_bytes writes, to the two decimals shown; exact sizes in
// every unit spelling round-trip exactly (--headroom's sizes and percentages:
// tests/golden/cli_flags_test.cpp).
TEST(Properties, SizeParsersRoundTrip) {
  for (Bytes b : {Bytes{1}, Bytes{512}, Bytes{1023}, 1 * kib, 1536 * kib, 544 * mib, 7 * gib + 1,
                  8 * gib - 1, 24 * gib, 80 * gib, 1000 * gib, 3 * 1024 * gib}) {
    const std::string text = format_bytes(b);
    const Bytes back = parse_size(text, "--vram");
    const Bytes unit = b >= gib ? gib : b >= mib ? mib : b >= kib ? kib : 1;
    EXPECT_LE(std::abs(back - b), unit / 200 + 1) << text;
    EXPECT_EQ(format_bytes(back), text);
  }
  for (std::int64_t n : {1, 3, 16, 24, 80, 512}) {
    for (const auto& [suffix, factor] : {std::pair<const char*, Bytes>{"K", kib},
                                         {"KiB", kib},
                                         {"KB", 1000},
                                         {"M", mib},
                                         {"MiB", mib},
                                         {"mb", 1000 * 1000},
                                         {"G", gib},
                                         {"GiB", gib},
                                         {"Gi", gib},
                                         {"GB", Bytes{1000} * 1000 * 1000},
                                         {"T", 1024 * gib}}) {
      const std::string text = fmt::format("{}{}", n, suffix);
      EXPECT_EQ(parse_size(text, "--ram"), n * factor) << text;
    }
  }
}

}  // namespace
}  // namespace vramplan
