// vramplan's estimate against real llama.cpp: every case committed under bench/accuracy/data
// (measured with scripts/oracle/, node-llama-cpp's bundled llama.cpp, CPU backend). The model
// comes from the catalog, as in CI the sparse GGUFs are not there. Bars (issue 5,
// docs/accuracy.md): weights and KV exact at the log's precision; compute + output within
// max(3 %, 8 MiB) outside the named gaps (kComputeGaps); median total error <= 1 %; closer than
// node-llama-cpp's own estimator on >= 95 % of the cases. Files whose name contains "heldout" are
// the held-out grid, reported apart. With VRAMPLAN_ACCURACY_OUT set, every case's prediction is
// written there as JSON lines (scripts/oracle/report.py turns them into docs/accuracy.md).
#include <algorithm>
#include <array>
#include <cmath>
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
#include <vramplan/ggml_type.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/reserve_graph.hpp>
#include <vramplan/tensors.hpp>

#include "support/catalog_models.hpp"

#ifndef VRAMPLAN_ACCURACY_DIR
#error "VRAMPLAN_ACCURACY_DIR must name bench/accuracy/data"
#endif

namespace vramplan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kMiB = 1024.0 * 1024.0;

struct Case {
  std::string file;
  std::string model;
  std::string arch;
  bool held_out = false;
  Bytes tensor_bytes = 0;  // the measured file's, when the record has it
  Config config;
  // measured (bytes)
  Bytes mapped = 0;  // CPU_Mapped model buffer
  Bytes repack = 0;  // CPU_REPACK model buffer
  Bytes kv = 0;
  int kv_buffers = 0;
  Bytes compute = 0;
  double compute_tolerance = 0;  // half a unit of the logged figure's last decimal
  Bytes output = 0;
  std::int64_t estimator = -1;      // node-llama-cpp's cpuRam with the cache types (context only)
  std::int64_t estimator_f16 = -1;  // ... with the types left out (it assumes f16)
  // predicted
  Bytes p_weights = 0;
  Bytes p_kv = 0;
  Bytes p_compute = 0;
  Bytes p_output = 0;
  bool graph = false;  // compute predicted by replaying ggml-alloc on the rebuilt graph
  // The catalog entry's architecture, and, when the measured file's differs (Ollama's qwen25vl
  // written as llama.cpp loads it, qwen2vl: vramplan_make_gguf --as-llamacpp), whether planning
  // the entry under the file's architecture gives the same tensors, KV, compute and output.
  std::string p_arch;
  bool same_as_loaded = true;

  [[nodiscard]] std::string name() const {
    return fmt::format("{} n_ctx={} np={} ub={} fa={} k={} v={}", model, config.ctx,
                       config.parallel, config.n_ubatch, config.flash_attn ? "on" : "off",
                       to_string(config.type_k), to_string(config.type_v));
  }
  [[nodiscard]] double measured_context() const {
    return static_cast<double>(kv + compute + output);
  }
  [[nodiscard]] double predicted_context() const {
    return static_cast<double>(p_kv + p_compute + p_output);
  }
  [[nodiscard]] double measured_total() const {
    return static_cast<double>(mapped + repack) + measured_context();
  }
  [[nodiscard]] double predicted_total() const {
    return static_cast<double>(p_weights) + predicted_context();
  }
};

Bytes sum_bytes(const json& buffers, const char* only = nullptr) {
  Bytes total = 0;
  for (const json& b : buffers) {
    if (only == nullptr || b.at("buffer").get<std::string>() == only) {
      total += b.at("bytes").get<Bytes>();
    }
  }
  return total;
}

GgmlType cache_type(const json& line, const char* key) {
  const auto type = parse_ggml_type(line.at(key).get<std::string>());
  if (!type) throw std::runtime_error("unknown cache type in " + line.dump());
  return *type;
}

std::vector<Case> read_cases() {
  std::vector<Case> cases;
  std::vector<fs::path> files;
  // VRAMPLAN_ACCURACY_DIR in the environment replaces the committed data (the live CI check,
  // scripts/oracle/ci.sh, points it at a fresh measurement).
  const char* env_dir = std::getenv("VRAMPLAN_ACCURACY_DIR");
  const fs::path dir = env_dir != nullptr ? fs::path(env_dir) : fs::path(VRAMPLAN_ACCURACY_DIR);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    std::ifstream in(path);
    std::string text;
    while (std::getline(in, text)) {
      if (text.empty()) continue;
      const json j = json::parse(text);
      if (j.contains("load_error") || !j.value("complete", false)) continue;
      const json& l = j.at("llama");
      const json& p = l.at("params");
      Case c;
      c.file = path.filename().string();
      c.model = j.at("model").get<std::string>();
      c.arch = j.value("arch", "");
      c.tensor_bytes = j.value("tensor_bytes", Bytes{0});
      c.held_out = c.file.find("heldout") != std::string::npos;
      c.config.ctx = p.at("n_ctx").get<std::int64_t>();
      c.config.parallel = p.at("n_seq_max").get<std::int32_t>();
      c.config.gpu_layers = 0;
      // The measuring machine has AVX-512 (bench/accuracy/README.md): its CPU_REPACK rule.
      c.config.cpu_repack = CpuRepack::avx512;
      c.config.flash_attn = p.at("flash_attn").get<std::string>() == "enabled";
      c.config.n_batch = p.at("n_batch").get<std::int64_t>();
      c.config.n_ubatch = p.at("n_ubatch").get<std::int64_t>();
      c.config.kv_unified = p.at("kv_unified").get<bool>();
      // A model without a cache (an embedding encoder) logs no size line; the type is moot.
      const json& sizes = l.at("kv_size_lines");
      const json no_cache = {{"k_type", "f16"}};
      const json& size_line = sizes.empty() ? no_cache : sizes.at(0);
      c.config.type_k = cache_type(size_line, "k_type");
      c.config.type_v =
          size_line.contains("v_type") ? cache_type(size_line, "v_type") : c.config.type_k;
      c.mapped = sum_bytes(l.at("model_buffers"), "CPU_Mapped");
      c.repack = sum_bytes(l.at("model_buffers"), "CPU_REPACK");
      c.kv = l.at("kv_bytes").get<Bytes>() + l.value("rs_bytes", Bytes{0});
      c.kv_buffers = static_cast<int>(l.at("kv_buffers").size() + l.at("rs_buffers").size());
      const json& precise = l.at("compute_buffers_precise");
      if (!precise.empty()) {
        c.compute = sum_bytes(precise);
        c.compute_tolerance = 0.00005 * kMiB * static_cast<double>(precise.size());
      } else {
        c.compute = l.at("compute_bytes").get<Bytes>();
        c.compute_tolerance = 0.005 * kMiB * static_cast<double>(l.at("compute_buffers").size());
      }
      c.output = l.at("output_bytes").get<Bytes>();
      const json& e = j.at("estimator");
      if (e.contains("cpuRam")) {
        c.estimator = e.at("cpuRam").get<std::int64_t>() + e.at("gpuVram").get<std::int64_t>();
        c.estimator_f16 = e.at("cpuRam_types_omitted").get<std::int64_t>() +
                          e.at("gpuVram_types_omitted").get<std::int64_t>();
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

// Whether two specs rebuild the same graph (every input and node: op, type, shape) at one
// small shape; the compute buffer alone can hide a difference (M-RoPE's wider positions input
// does not move qwen2vl's peak).
bool same_graph(const ModelSpec& a, const ModelSpec& b) {
  auto build = [](const ModelSpec& m) {
    const ContextParams cp{.n_ctx = 4096, .n_batch = 512, .n_ubatch = 512, .flash_attn = true};
    return reserve_graph(
        m, ComputeParams{.shape = context_shape(m, cp), .n_outputs = 512, .flash_attn = true},
        true);
  };
  const graph::Graph ga = build(a);
  const graph::Graph gb = build(b);
  auto same = [&](const std::vector<graph::TensorId>& x, const std::vector<graph::TensorId>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [&](graph::TensorId i, graph::TensorId j) {
                        return ga.at(i).op == gb.at(j).op && ga.at(i).elem == gb.at(j).elem &&
                               ga.at(i).ne == gb.at(j).ne;
                      });
  };
  return same(ga.inputs(), gb.inputs()) && same(ga.nodes(), gb.nodes());
}

// Every case, predicted once (catalog models are built once per name).
const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> out = read_cases();
    test::CatalogModels models(io::load_catalog({}, ""));
    for (Case& c : out) {
      const Model& model = models.get(c.model, c.tensor_bytes);
      const Estimate est =
          estimate(model, engine(EngineId::llamacpp_lib), Backend::cpu, c.config, {});
      c.p_weights = est.weights();
      c.p_kv = est.kv_cache();
      c.p_compute = est.compute();
      c.p_output = est.output();
      c.graph = graph_modelled(model.spec);
      c.p_arch = model.spec.arch;
      if (!c.arch.empty() && c.arch != model.spec.arch) {
        ModelSpec loaded = model.spec;
        loaded.arch = c.arch;
        const Model as_loaded = make_model(c.model, "catalog", loaded, model.file_type,
                                           generate_tensors(loaded, model.file_type));
        const Estimate e =
            estimate(as_loaded, engine(EngineId::llamacpp_lib), Backend::cpu, c.config, {});
        c.same_as_loaded = as_loaded.weights.file_tensor_bytes == model.weights.file_tensor_bytes &&
                           e.kv_cache() == c.p_kv && e.compute() == c.p_compute &&
                           e.output() == c.p_output && graph_modelled(loaded) == c.graph &&
                           same_graph(loaded, model.spec);
      }
    }
    if (const char* path = std::getenv("VRAMPLAN_ACCURACY_OUT"); path != nullptr) {
      std::ofstream o(path);
      for (const Case& c : out) {
        o << json{{"file", c.file},
                  {"model", c.model},
                  {"arch", c.arch},
                  {"held_out", c.held_out},
                  {"n_ctx", c.config.ctx},
                  {"n_seq", c.config.parallel},
                  {"n_ubatch", c.config.n_ubatch},
                  {"flash_attn", c.config.flash_attn},
                  {"type_k", std::string(to_string(c.config.type_k))},
                  {"type_v", std::string(to_string(c.config.type_v))},
                  {"measured",
                   {{"cpu_mapped", c.mapped},
                    {"cpu_repack", c.repack},
                    {"kv", c.kv},
                    {"compute", c.compute},
                    {"output", c.output}}},
                  {"vramplan",
                   {{"weights", c.p_weights},
                    {"kv", c.p_kv},
                    {"compute", c.p_compute},
                    {"output", c.p_output}}},
                  {"node_llama_cpp", {{"typed", c.estimator}, {"f16", c.estimator_f16}}}}
                 .dump()
          << "\n";
      }
    }
    return out;
  }();
  return all;
}

double rel_error(double predicted, double measured) {
  return std::abs(predicted - measured) / measured;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<const Case*> select(bool held_out) {
  std::vector<const Case*> out;
  for (const Case& c : cases()) {
    if (c.held_out == held_out) out.push_back(&c);
  }
  return out;
}

// The log prints MiB with 2 decimals and the record rounds that figure to whole bytes: a
// difference within half a unit of the last decimal, plus half a byte, is exact (per buffer;
// a size of exactly x.xx5 MiB prints rounded to even). Weights are CPU_Mapped (every tensor of
// the file) plus the CPU_REPACK copies llama.cpp makes of Q4_0, Q4_K, MXFP4, ... weights on
// this AVX-512 CPU.
void expect_exact(const std::vector<const Case*>& set) {
  ASSERT_FALSE(set.empty());
  const double per_buffer = 0.005 * kMiB + 0.5;
  for (const Case* c : set) {
    SCOPED_TRACE(c->name());
    EXPECT_LE(std::abs(static_cast<double>(c->p_weights - c->mapped - c->repack)),
              per_buffer * (c->repack > 0 ? 2 : 1))
        << "weights " << c->p_weights << " vs CPU_Mapped " << c->mapped << " + CPU_REPACK "
        << c->repack;
    EXPECT_LE(std::abs(static_cast<double>(c->p_kv - c->kv)), per_buffer * c->kv_buffers)
        << "KV " << c->p_kv << " vs " << c->kv;
  }
}

// Architectures whose compute buffer is a closed form known to miss the bar on some cases,
// each with why and the widest miss allowed (a relative bar). Their cases are checked against
// that wider bar instead, and each gap must still miss the regular bar somewhere: when a fix
// brings all its cases within it, the gap is removed here.
struct ComputeGap {
  const char* arch;
  const char* what;
  double bar;  // |predicted - measured| <= bar * measured
};
// gemma3n, qwen3next and llama4 were gaps until their graphs were rebuilt; so were phi2, bert
// and nomic-bert, first measured by scripts/oracle/grid-more-archs.json
// (bench/accuracy/data/llamacpp-cpu-more-archs.jsonl). None is left: a family measured before
// its graph is rebuilt goes here with its figures.
constexpr std::array<ComputeGap, 0> kComputeGaps{{}};

const ComputeGap* compute_gap(const Case& c) {
  for (const ComputeGap& g : kComputeGaps) {
    if (c.arch == g.arch) return &g;
  }
  return nullptr;
}

void expect_compute_within_bar(const std::vector<const Case*>& set) {
  ASSERT_FALSE(set.empty());
  double worst = 0;
  std::string worst_name;
  int misses = 0;
  std::vector<int> gap_misses(std::size(kComputeGaps), 0);
  for (const Case* c : set) {
    SCOPED_TRACE(c->name());
    if (const ComputeGap* g = compute_gap(*c)) {
      const double measured = static_cast<double>(c->compute + c->output);
      const double error = std::abs(static_cast<double>(c->p_compute + c->p_output) - measured);
      EXPECT_LE(error, g->bar * measured + c->compute_tolerance) << g->what;
      if (error > std::max(0.03 * measured, 8.0 * kMiB) + c->compute_tolerance) {
        ++gap_misses[static_cast<std::size_t>(g - kComputeGaps.data())];
      }
      continue;
    }
    const double measured = static_cast<double>(c->compute + c->output);
    const double predicted = static_cast<double>(c->p_compute + c->p_output);
    const double bar = std::max(0.03 * measured, 8.0 * kMiB) + c->compute_tolerance;
    EXPECT_LE(std::abs(predicted - measured), bar)
        << "compute+output " << predicted / kMiB << " MiB vs measured " << measured / kMiB;
    if (std::abs(predicted - measured) > bar) {
      ++misses;
      std::printf("[accuracy] outside max(3 %%, 8 MiB): %s: %+.2f MiB of %.2f MiB\n",
                  c->name().c_str(), (predicted - measured) / kMiB, measured / kMiB);
    }
    if (std::abs(predicted - measured) > worst) {
      worst = std::abs(predicted - measured);
      worst_name = c->name();
    }
  }
  std::printf(
      "[accuracy] %zu cases: %d outside max(3 %%, 8 MiB); worst compute+output error "
      "%.2f MiB (%s)\n",
      set.size(), misses, worst / kMiB, worst_name.c_str());
  for (std::size_t g = 0; g < std::size(kComputeGaps); ++g) {
    const bool present = std::any_of(
        set.begin(), set.end(), [&](const Case* c) { return c->arch == kComputeGaps[g].arch; });
    if (!present) continue;
    std::printf("[accuracy] named gap %s: %d cases outside max(3 %%, 8 MiB)\n",
                kComputeGaps[g].arch, gap_misses[g]);
    EXPECT_GT(gap_misses[g], 0) << "no case misses any more through: " << kComputeGaps[g].what;
  }
}

void expect_totals(const std::vector<const Case*>& set, const char* label) {
  ASSERT_FALSE(set.empty());
  std::vector<double> total, context;
  int closer = 0, compared = 0;
  for (const Case* c : set) {
    total.push_back(rel_error(c->predicted_total(), c->measured_total()));
    context.push_back(rel_error(c->predicted_context(), c->measured_context()));
    if (c->estimator >= 0) {
      ++compared;
      // Like with like: node-llama-cpp's cpuRam with gpuLayers 0 is the context's memory
      // (KV + compute + output), without weights.
      const double ours = std::abs(c->predicted_context() - c->measured_context());
      const double theirs = std::abs(static_cast<double>(c->estimator) - c->measured_context());
      if (ours < theirs) ++closer;
    }
  }
  const double closer_share = compared > 0 ? static_cast<double>(closer) / compared : 1.0;
  std::printf(
      "[accuracy] %s: %zu cases; median error total %.3f %%, context (KV+compute+output) "
      "%.3f %%; closer than node-llama-cpp's estimator on %d/%d (%.1f %%)\n",
      label, set.size(), 100 * median(total), 100 * median(context), closer, compared,
      100 * closer_share);
  EXPECT_LE(median(total), 0.01);
  EXPECT_GE(closer_share, 0.95);
}

// Where vramplan rebuilds llama.cpp's graph (reserve_graph.hpp), the compute buffer is the
// allocator's own figure: equal to the logged size up to its rounding.
void expect_graph_exact(const std::vector<const Case*>& set) {
  int n = 0;
  for (const Case* c : set) {
    if (!c->graph) continue;
    ++n;
    SCOPED_TRACE(c->name());
    EXPECT_LE(std::abs(static_cast<double>(c->p_compute) - static_cast<double>(c->compute)),
              c->compute_tolerance)
        << "compute " << static_cast<double>(c->p_compute) / kMiB << " MiB vs measured "
        << static_cast<double>(c->compute) / kMiB;
  }
  std::printf(
      "[accuracy] %d cases with a rebuilt graph: compute buffer exact up to the log's "
      "rounding\n",
      n);
  EXPECT_GT(n, 0);
}

TEST(Accuracy, DataIsThere) {
  EXPECT_GE(select(false).size(), 100U);
  EXPECT_GE(select(true).size(), 20U);
}

// Each run measured the catalog entry's own architecture, or (Ollama's qwen25vl, which stock
// llama.cpp refuses) the one llama.cpp loads it as, planned to the same figures.
TEST(Accuracy, PlansTheArchitectureMeasured) {
  int aliased = 0;
  for (const Case& c : cases()) {
    if (c.arch.empty() || c.arch == c.p_arch) continue;
    ++aliased;
    EXPECT_TRUE(c.p_arch == "qwen25vl" && c.arch == "qwen2vl") << c.name() << ": " << c.p_arch;
    EXPECT_TRUE(c.same_as_loaded) << c.name();
  }
  EXPECT_GE(aliased, 1);
}

TEST(Accuracy, WeightsAndKvExact) { expect_exact(select(false)); }
TEST(Accuracy, ComputeAndOutputWithinThreePercentOrEightMiB) {
  expect_compute_within_bar(select(false));
}
TEST(Accuracy, MedianTotalErrorAndEstimatorComparison) { expect_totals(select(false), "tuning"); }
TEST(Accuracy, RebuiltGraphsExact) { expect_graph_exact(select(false)); }

TEST(AccuracyHeldOut, WeightsAndKvExact) { expect_exact(select(true)); }
TEST(AccuracyHeldOut, ComputeAndOutputWithinThreePercentOrEightMiB) {
  expect_compute_within_bar(select(true));
}
TEST(AccuracyHeldOut, MedianTotalErrorAndEstimatorComparison) {
  expect_totals(select(true), "held-out");
}
TEST(AccuracyHeldOut, RebuiltGraphsExact) { expect_graph_exact(select(true)); }

}  // namespace
}  // namespace vramplan
