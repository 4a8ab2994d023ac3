// Renderers on hand-built estimates and plans: exact strings, key sets, invariants.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/plan.hpp>

namespace vramplan::report {
namespace {

Model test_model() {
  Model m;
  m.name = "llama3.1:8b-q8_0";
  m.source = "catalog: <embedded>/llama.yaml";
  m.entry_id = "llama3.1-8b";
  m.spec.arch = "llama";
  m.spec.n_layer = 32;
  m.file_type = FileType::mostly_q8_0;
  m.n_params = 8030261248;
  return m;
}

Estimate test_estimate(const Engine& engine, std::int32_t gpu_layers) {
  Estimate e;
  e.engine = &engine;
  e.backend = Backend::cuda;
  e.config =
      Config{.ctx = 8192, .parallel = 1, .gpu_layers = gpu_layers, .n_batch = 512, .n_ubatch = 512};
  e.shape = ContextShape{
      .n_ctx = 8192, .n_ctx_seq = 8192, .n_stream = 1, .n_batch = 512, .n_ubatch = 512};
  e.n_outputs = 1;
  e.total_layers = 33;
  DeviceUsage gpu{.name = "CUDA0",
                  .kind = DeviceKind::gpu,
                  .capacity = 16 * gib,
                  .layers = gpu_layers,
                  .weights = 7 * gib + 500 * mib,
                  .kv_cache = gib,
                  .compute = 258 * mib,
                  .output = 0,
                  .overhead = 457 * mib};
  DeviceUsage cpu{.name = "CPU",
                  .kind = DeviceKind::host,
                  .capacity = 0,
                  .layers = 33 - gpu_layers,
                  .weights = 532 * mib,
                  .kv_cache = 0,
                  .compute = 24 * mib,
                  .output = 513024,
                  .overhead = 0};
  e.devices = {gpu, cpu};
  return e;
}

LlamaPlan test_plan(const Engine& engine, std::int32_t gpu_layers, bool fits) {
  LlamaPlan p;
  p.fits = fits;
  p.estimate = test_estimate(engine, gpu_layers);
  p.recommendation = Recommendation{.gpu_layers = gpu_layers,
                                    .total_layers = 33,
                                    .ctx = 8192,
                                    .parallel = 1,
                                    .kv_type = GgmlType::f16,
                                    .flash_attention = true,
                                    .n_batch = 512,
                                    .n_ubatch = 512};
  p.headroom =
      Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
  p.headroom_bytes = {gib};
  p.decisions = {Finding(FindingKind::ctx_largest_fits, {{"ctx", 8192}, {"model_max", 32768}})};
  if (!fits) {
    p.reasons = {Finding(FindingKind::gpu_over, {{"device", "CUDA0"},
                                                 {"used_bytes", 17 * gib},
                                                 {"budget_bytes", 15 * gib},
                                                 {"headroom_bytes", 1 * gib},
                                                 {"over_bytes", 2 * gib}})};
    p.suggestions = {
        Suggestion{Finding(FindingKind::smaller_quant,
                           {{"file_type", "Q4_K_M"}, {"weights_bytes", 4 * gib + 590 * mib}}),
                   6 * gib, true}};
  }
  return p;
}

// `estimate`'s envelope of a hand-built estimate.
Plan estimate_of(const Estimate& e) {
  LlamaPlan p;
  p.estimate = e;
  p.recommendation = Recommendation{.gpu_layers = e.config.gpu_layers,
                                    .total_layers = e.total_layers,
                                    .ctx = e.config.ctx,
                                    .parallel = e.config.parallel,
                                    .kv_type = e.config.type_k,
                                    .flash_attention = e.config.flash_attn,
                                    .n_batch = e.config.n_batch,
                                    .n_ubatch = e.config.n_ubatch};
  return to_plan(p, false);
}

std::string render_env(const Model& model, const LlamaPlan& plan, const EnvOptions& options) {
  return render_plan_env(model, to_plan(plan, true), options);
}

std::string render_fit_table(const Model& model, const LlamaPlan& plan,
                             const TableOptions& options = {}) {
  return render_plan_table(model, to_plan(plan, true), options);
}

std::set<std::string> keys(const nlohmann::json& object) {
  std::set<std::string> out;
  for (const auto& item : object.items()) out.insert(item.key());
  return out;
}

TEST(JsonReport, EstimateHasTheDocumentedKeys) {
  const Model m = test_model();
  const auto j = nlohmann::json::parse(
      render_plan_json(m, estimate_of(test_estimate(engine(EngineId::ollama), 33))));
  EXPECT_EQ(keys(j),
            (std::set<std::string>{"schema_version", "command", "fits", "model", "engine",
                                   "recommendation", "estimate", "decisions", "reasons",
                                   "suggestions", "alternatives", "notes", "speed", "details"}));
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["command"], "estimate");
  EXPECT_EQ(j["fits"], true);  // 9.19 GiB on a 16 GiB GPU
  EXPECT_EQ(keys(j["model"]),
            (std::set<std::string>{"name", "arch", "layers", "source", "file_type", "params"}));
  EXPECT_EQ(j["model"]["file_type"], "Q8_0");
  EXPECT_EQ(keys(j["engine"]), (std::set<std::string>{"name", "version"}));
  EXPECT_EQ(j["engine"]["name"], "ollama");
  EXPECT_EQ(keys(j["recommendation"]),
            (std::set<std::string>{"ctx", "parallel", "gpu_layers", "total_layers", "kv_type",
                                   "flash_attention", "n_batch", "n_ubatch", "kv_unified",
                                   "cpu_moe", "op_offload"}));
  EXPECT_EQ(j["recommendation"]["flash_attention"], "on");
  EXPECT_EQ(keys(j["details"]), (std::set<std::string>{"backend", "kv_type", "n_ctx", "n_ctx_seq",
                                                       "n_stream", "n_outputs"}));
  EXPECT_EQ(j["details"]["kv_type"]["k"], "f16");
  EXPECT_EQ(j["details"]["backend"], "cuda");
  const auto& e = j["estimate"];
  EXPECT_EQ(keys(e), (std::set<std::string>{"devices", "components", "total_bytes"}));
  EXPECT_EQ(keys(e["components"]),
            (std::set<std::string>{"weights_bytes", "kv_cache_bytes", "compute_bytes",
                                   "output_bytes", "overhead_bytes"}));
  ASSERT_EQ(e["devices"].size(), 2u);
  EXPECT_EQ(keys(e["devices"][0]), (std::set<std::string>{"name", "kind", "bytes", "capacity_bytes",
                                                          "layers", "components"}));
  EXPECT_EQ(e["devices"][0]["kind"], "gpu");
  EXPECT_EQ(e["devices"][1]["kind"], "host");
  EXPECT_EQ(e["devices"][0]["layers"], 33);
  EXPECT_EQ(e["devices"][0]["components"]["kv_cache_bytes"], gib);
}

TEST(JsonReport, AnEstimateOverCapacityDoesNotFit) {
  Estimate over = test_estimate(engine(EngineId::ollama), 33);
  over.devices[0].capacity = 8 * gib;  // 9.19 GiB on it
  const auto j = nlohmann::json::parse(render_plan_json(test_model(), estimate_of(over)));
  EXPECT_EQ(j["fits"], false);
}

TEST(JsonReport, ComponentsAddUpToTotalBytes) {
  const auto j = nlohmann::json::parse(
      render_plan_json(test_model(), estimate_of(test_estimate(engine(EngineId::ollama), 33))));
  const auto& e = j["estimate"];
  std::int64_t components = 0;
  for (const auto& item : e["components"].items()) components += item.value().get<std::int64_t>();
  EXPECT_EQ(components, e["total_bytes"].get<std::int64_t>());
  std::int64_t devices = 0;
  for (const auto& d : e["devices"]) {
    devices += d["bytes"].get<std::int64_t>();
    std::int64_t parts = 0;
    for (const auto& item : d["components"].items()) parts += item.value().get<std::int64_t>();
    EXPECT_EQ(d["bytes"].get<std::int64_t>(), parts);
  }
  EXPECT_EQ(devices, e["total_bytes"].get<std::int64_t>());
  // And the total is what test_estimate() put on its two devices, summed here by hand.
  const std::int64_t gpu = (7 * gib + 500 * mib) + gib + 258 * mib + 0 + 457 * mib;
  const std::int64_t cpu = 532 * mib + 0 + 24 * mib + 513024 + 0;
  EXPECT_EQ(e["total_bytes"].get<std::int64_t>(), gpu + cpu);
}

TEST(JsonReport, IsIndentedWithTwoSpacesAndEndsWithNewline) {
  const std::string text =
      render_plan_json(test_model(), estimate_of(test_estimate(engine(EngineId::ollama), 33)));
  EXPECT_EQ(text.substr(0, 24), "{\n  \"schema_version\": 2,");
  EXPECT_EQ(text.back(), '\n');
}

TEST(JsonReport, FitHasTheDocumentedKeysInOrder) {
  const std::string text =
      render_plan_json(test_model(), to_plan(test_plan(engine(EngineId::ollama), 20, false), true));
  const auto j = nlohmann::ordered_json::parse(text);
  std::vector<std::string> order;
  for (const auto& item : j.items()) order.push_back(item.key());
  EXPECT_EQ(order,
            (std::vector<std::string>{"schema_version", "command", "fits", "model", "engine",
                                      "recommendation", "estimate", "decisions", "reasons",
                                      "suggestions", "alternatives", "notes", "speed", "details"}));
  EXPECT_EQ(j["command"], "fit");
  EXPECT_EQ(j["fits"], false);
  EXPECT_EQ(j["recommendation"]["gpu_layers"], 20);
  EXPECT_EQ(j["recommendation"]["total_layers"], 33);
  EXPECT_EQ(j["recommendation"]["kv_type"], "f16");
  EXPECT_EQ(j["details"]["headroom"]["profile"], "fit");
  EXPECT_EQ(j["details"]["headroom"]["bytes"][0], gib);
  // Findings carry their kind, their words and the numbers behind them.
  EXPECT_EQ(j["decisions"][0], nlohmann::ordered_json::parse(
                                   R"json({"kind": "ctx_largest_fits",
                    "text": "context: 8192 is the largest that fits (the model's maximum is 32768)",
                    "values": {"ctx": 8192, "model_max": 32768}, "changes": {}})json"));
  EXPECT_EQ(j["reasons"][0]["kind"], "gpu_over");
  EXPECT_EQ(j["reasons"][0]["values"]["over_bytes"], 2 * gib);
  EXPECT_EQ(j["reasons"][0]["text"],
            "CUDA0 needs 17.00 GiB but has 15.00 GiB after 1.00 GiB headroom (2.00 GiB over)");
  EXPECT_EQ(j["suggestions"][0]["kind"], "smaller_quant");
  EXPECT_EQ(j["suggestions"][0]["text"], "use Q4_K_M (4.58 GiB of weights)");
  EXPECT_EQ(j["suggestions"][0]["values"]["file_type"], "Q4_K_M");
  EXPECT_EQ(j["suggestions"][0]["gpu_bytes"], 6 * gib);
  EXPECT_EQ(j["suggestions"][0]["fits"], true);
  EXPECT_EQ(j["estimate"]["total_bytes"], test_estimate(engine(EngineId::ollama), 20).total());
}

TEST(JsonReport, ModelsList) {
  CatalogEntry e;
  e.id = "llama3.1-8b";
  e.name = "Llama 3.1 8B";
  e.ollama = {"llama3.1:8b"};
  e.hf = {"meta-llama/Llama-3.1-8B-Instruct"};
  e.params_published = 8.03e9;
  e.quants = {FileType::mostly_q4_k_m, FileType::mostly_q8_0};
  e.spec.arch = "llama";
  e.spec.n_layer = 32;
  e.spec.n_ctx_train = 131072;
  const auto j = nlohmann::json::parse(render_models_json({&e}));
  EXPECT_EQ(j["schema_version"], 2);
  ASSERT_EQ(j["models"].size(), 1u);
  const auto& m = j["models"][0];
  for (const char* key :
       {"id", "name", "ollama", "hf", "arch", "params", "layers", "context", "quants"}) {
    EXPECT_TRUE(m.contains(key)) << key;
  }
  EXPECT_EQ(m["params"], 8030000000);
  EXPECT_EQ(m["quants"], (nlohmann::json{"Q4_K_M", "Q8_0"}));
}

TEST(EnvReport, OllamaFullOffload) {
  const std::string env = render_env(test_model(), test_plan(engine(EngineId::ollama), 33, true),
                                     EnvOptions{.tool_version = "9.9.9"});
  EXPECT_NE(env.find("# Generated by vramplan 9.9.9 for llama3.1:8b-q8_0\n"), std::string::npos);
  EXPECT_NE(env.find("\nOLLAMA_CONTEXT_LENGTH=8192\n"
                     "OLLAMA_NUM_PARALLEL=1\n"
                     "OLLAMA_FLASH_ATTENTION=1\n"
                     "OLLAMA_KV_CACHE_TYPE=f16\n"),
            std::string::npos);
  EXPECT_NE(env.find("\nOLLAMA_MAX_LOADED_MODELS=1\nOLLAMA_KEEP_ALIVE=5m\n"), std::string::npos);
  EXPECT_EQ(env.find("num_gpu"), std::string::npos);
  EXPECT_EQ(env.find("OLLAMA_NUM_GPU"), std::string::npos);
  EXPECT_EQ(env.find("OLLAMA_GPU_LAYERS"), std::string::npos);
}

TEST(EnvReport, OllamaPartialOffloadIsACommentNeverAVariable) {
  const std::string env = render_env(test_model(), test_plan(engine(EngineId::ollama), 20, true),
                                     EnvOptions{.tool_version = "9.9.9"});
  EXPECT_NE(env.find("\n# PARAMETER num_gpu 20\n"), std::string::npos);
  EXPECT_NE(env.find("\n# \"options\": {\"num_gpu\": 20}\n"), std::string::npos);
  EXPECT_EQ(env.find("OLLAMA_NUM_GPU"), std::string::npos);
  EXPECT_EQ(env.find("OLLAMA_GPU_LAYERS"), std::string::npos);
  // Every line is a comment or KEY=VALUE.
  std::size_t start = 0;
  while (start < env.size()) {
    const std::size_t end = env.find('\n', start);
    const std::string line = env.substr(start, end - start);
    EXPECT_TRUE(line.rfind('#', 0) == 0 || line.find('=') != std::string::npos) << line;
    start = end + 1;
  }
}

TEST(EnvReport, LlamaServerVariables) {
  LlamaPlan plan = test_plan(engine(EngineId::llamacpp), 33, true);
  plan.recommendation.parallel = 4;
  plan.recommendation.kv_unified = true;
  plan.recommendation.n_batch = 2048;
  const std::string env = render_env(test_model(), plan, EnvOptions{.tool_version = "9.9.9"});
  EXPECT_NE(env.find("\nLLAMA_ARG_CTX_SIZE=8192\n"
                     "LLAMA_ARG_N_PARALLEL=4\n"
                     "LLAMA_ARG_KV_UNIFIED=1\n"
                     "LLAMA_ARG_N_GPU_LAYERS=33\n"
                     "LLAMA_ARG_FLASH_ATTN=on\n"
                     "LLAMA_ARG_CACHE_TYPE_K=f16\n"
                     "LLAMA_ARG_CACHE_TYPE_V=f16\n"
                     "LLAMA_ARG_UBATCH=512\n"
                     "LLAMA_ARG_BATCH=2048\n"),
            std::string::npos);
  EXPECT_TRUE(env.ends_with("LLAMA_ARG_FIT=off\n"));
  EXPECT_EQ(env.find("OLLAMA_"), std::string::npos);
}

TEST(EnvReport, LibraryEngineHasNoEnvironment) {
  EXPECT_THROW(
      static_cast<void>(render_env(
          test_model(), test_plan(engine(EngineId::llamacpp_lib), 33, true), EnvOptions{})),
      Error);
}

TEST(TableReport, FitShowsVerdictBreakdownAndBars) {
  const std::string text =
      render_fit_table(test_model(), test_plan(engine(EngineId::ollama), 33, true));
  EXPECT_TRUE(
      text.starts_with("llama3.1:8b-q8_0  llama, Q8_0, 8.03 B params, 32 layers\n"
                       "source:  catalog: <embedded>/llama.yaml\n"
                       "engine:  Ollama 0.30-0.33 (llama-server b10488)   backend: cuda\n"
                       "fits:    yes - all 33/33 layers on the GPU\n"))
      << text;
  EXPECT_NE(text.find("device  layers     weights  kv cache     compute      output    overhead"
                      "       total   capacity      free\n"
                      "CUDA0       33    7.49 GiB  1.00 GiB  258.00 MiB         0 B  457.00 MiB"
                      "    9.19 GiB  16.00 GiB  6.81 GiB\n"
                      "CPU          0  532.00 MiB       0 B   24.00 MiB  501.00 KiB         0 B"
                      "  556.49 MiB          -         -\n"
                      "total       33    8.01 GiB  1.00 GiB  282.00 MiB  501.00 KiB  457.00 MiB"
                      "    9.73 GiB\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  CUDA0  [#######################-----------------]  57 %  9.19 GiB of "
                      "16.00 GiB, 1.00 GiB headroom kept\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  CPU    556.49 MiB used, capacity not checked (no --ram)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndecisions\n  - context: 8192 is the largest that fits (the model's "
                      "maximum is 32768)\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("suggestions"), std::string::npos);
  EXPECT_EQ(text.find('\033'), std::string::npos);
}

TEST(TableReport, FitThatDoesNotFitListsReasonsAndSuggestions) {
  const std::string text =
      render_fit_table(test_model(), test_plan(engine(EngineId::ollama), 20, false));
  EXPECT_NE(text.find("fits:    no - closest attempt: 20/33 layers on the GPU, 13 on the CPU"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndoes not fit\n  - CUDA0 needs 17.00 GiB"), std::string::npos) << text;
  EXPECT_NE(text.find("\nsuggestions\n"), std::string::npos);
  EXPECT_NE(text.find("use Q4_K_M (4.58 GiB of weights)  6.00 GiB  yes\n"), std::string::npos)
      << text;
}

TEST(TableReport, ColourOnlyWhenAsked) {
  const std::string text = render_fit_table(
      test_model(), test_plan(engine(EngineId::ollama), 33, true), TableOptions{.color = true});
  EXPECT_NE(text.find('\033'), std::string::npos);
}

TEST(TableReport, ParamsAndOnOff) {
  EXPECT_EQ(format_params(8.03e9), "8.03 B");
  EXPECT_EQ(format_params(567.2e6), "567.2 M");
  EXPECT_EQ(on_off(true), "on");
  EXPECT_EQ(on_off(false), "off");
}

}  // namespace
}  // namespace vramplan::report
