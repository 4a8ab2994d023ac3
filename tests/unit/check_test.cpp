// check_deployment (include/vramplan/check.hpp): the verdicts, the per-device sums, the fixes
// and their order, checked against independent estimate() calls and re-checks of the fixed
// settings rather than against numbers the function itself produced.
#include <vramplan/check.hpp>

#include <algorithm>
#include <stdexcept>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/error.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/embedded_catalog.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/sched.hpp>
#include <vramplan/planner.hpp>

#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

SettingValue integer(EngineSetting s, std::int64_t v) {
  return SettingValue{
      .setting = s, .type = ValueType::integer, .integer = v, .text = std::to_string(v)};
}

SettingValue text(EngineSetting s, std::string v) {
  return SettingValue{.setting = s, .type = ValueType::text, .text = std::move(v)};
}

Deployment ollama(std::vector<SettingValue> settings) {
  Deployment d;
  d.engine = DeployEngine::ollama;
  d.settings = std::move(settings);
  return d;
}

CheckRequest request(std::vector<Bytes> gpus, std::size_t models = 1) {
  CheckRequest r;
  r.gpus = std::move(gpus);
  for (std::size_t i = 0; i < models; ++i) {
    r.models.push_back(CheckModel{.model = test::simple_model(test::llama31_8b())});
  }
  return r;
}

// The deployment with a fix's changes applied, as a person would edit the file.
Deployment apply(Deployment d, const std::vector<SettingChange>& changes) {
  for (const SettingChange& c : changes) {
    std::erase_if(d.settings, [&](const SettingValue& v) { return v.setting == c.setting; });
    SettingValue v = text(c.setting, c.value);
    if (!c.value.empty() && c.value.find_first_not_of("0123456789") == std::string::npos) {
      v = integer(c.setting, std::stoll(c.value));
    }
    d.settings.push_back(v);
  }
  return d;
}

TEST(Check, FitsAndMatchesAnEstimateOfTheSameSettings) {
  const Deployment d =
      ollama({integer(EngineSetting::context, 8192), integer(EngineSetting::parallel, 2)});
  const CheckRequest r = request({80 * gib});
  const CheckResult c = check_deployment(d, r);
  ASSERT_EQ(c.verdict, CheckVerdict::fits);
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].ctx, 8192);
  EXPECT_EQ(c.models[0].parallel, 2);
  EXPECT_FALSE(c.fix.has_value());

  // The same configuration through estimate(): every layer on the GPU.
  const Engine& e = engine(EngineId::ollama);
  Config config;
  config.ctx = 8192;
  config.parallel = 2;
  config.gpu_layers = r.models[0].model.spec.n_layer + 1;
  const Batches b = engine_batches(r.models[0].model, e, Backend::cuda, 8192, 2, true, r.gpus,
                                   std::nullopt, std::nullopt);
  config.n_batch = b.n_batch;
  config.n_ubatch = b.n_ubatch;
  // check estimates one GPU with the scheduler replay (CUDA's rules), as fit and plan print.
  const Estimate est =
      estimate(r.models[0].model, e, Backend::cuda, config, r.gpus, nullptr, &sched::cuda());
  EXPECT_EQ(c.models[0].gpu_bytes.at(0), est.devices[0].total());
  EXPECT_EQ(c.devices.at(0).used, est.devices[0].total());
  EXPECT_EQ(c.devices.at(0).capacity, 80 * gib);
}

SettingValue boolean(EngineSetting s, bool v) {
  return SettingValue{.setting = s, .type = ValueType::boolean, .boolean = v};
}

// A catalog MoE model: its tensors say which bytes are experts (simple_model has no tensors).
Model catalog_moe() {
  Catalog catalog;
  for (const io::EmbeddedFile& file : io::embedded_catalog_files()) {
    for (CatalogEntry& entry : io::parse_catalog(file.text, std::string(file.name))) {
      catalog.add(std::move(entry));
    }
  }
  const std::optional<ModelRef> ref = catalog.resolve("gpt-oss:20b");
  if (!ref || ref->entry == nullptr) throw std::runtime_error("gpt-oss:20b not in the catalog");
  return make_model(ref->entry->id, "catalog", ref->entry->spec, ref->quant,
                    generate_tensors(ref->entry->spec, ref->quant));
}

// `x` (its placement: cpu_moe, kv_offload, op_offload) with every layer on the GPU, as
// llama-server runs it at context `ctx` with `parallel` slots (nullopt: its default), through
// estimate() with CUDA's scheduler replay, as check estimates one GPU.
Estimate llama_server_estimate(const Model& model, Config x, std::int64_t ctx,
                               std::optional<std::int32_t> parallel,
                               const std::vector<Bytes>& gpus) {
  const Engine& e = engine(EngineId::llamacpp);
  const Slots slots = engine_slots(e, parallel);
  x.parallel = slots.parallel;
  x.kv_unified = slots.kv_unified;
  x.ctx = ctx;
  x.gpu_layers = model.spec.n_layer + 1;
  const Batches b = engine_batches(model, e, Backend::cuda, ctx, x.parallel, true, gpus,
                                   std::nullopt, std::nullopt);
  x.n_batch = b.n_batch;
  x.n_ubatch = b.n_ubatch;
  return estimate(model, e, Backend::cuda, x, gpus, nullptr, &sched::cuda());
}

// llama-server's placement flags (--n-cpu-moe, --cpu-moe, -nkvo, --no-op-offload) move memory
// between the GPU and the host; check plans them as estimate() does the same Config.
TEST(Check, LlamaServerPlacementFlagsAreApplied) {
  const Model moe = catalog_moe();
  CheckRequest r;
  r.gpus = {80 * gib};
  r.models.push_back(CheckModel{.model = moe});
  const auto gpu_and_host = [&](std::vector<SettingValue> flags, const Config& config) {
    Deployment d;
    d.engine = DeployEngine::llama_server;
    d.settings = {integer(EngineSetting::context, 8192), integer(EngineSetting::parallel, 1),
                  integer(EngineSetting::gpu_layers, -2)};
    d.settings.insert(d.settings.end(), flags.begin(), flags.end());
    const CheckResult c = check_deployment(d, r);
    const Estimate est = llama_server_estimate(moe, config, 8192, 1, r.gpus);
    EXPECT_EQ(c.models.at(0).gpu_bytes.at(0), est.devices[0].total());
    EXPECT_EQ(c.models.at(0).ram_bytes, est.host().total());
    return std::pair{c.models.at(0).gpu_bytes.at(0), c.models.at(0).ram_bytes};
  };
  const auto [gpu_plain, host_plain] = gpu_and_host({}, Config{});
  Config experts;
  experts.cpu_moe = 6;
  const auto [gpu_moe, host_moe] = gpu_and_host({integer(EngineSetting::n_cpu_moe, 6)}, experts);
  EXPECT_LT(gpu_moe, gpu_plain);
  EXPECT_GT(host_moe, host_plain);
  // --cpu-moe: every block's experts, as --n-cpu-moe with the block count.
  Config all_experts;
  all_experts.cpu_moe = moe.spec.n_layer;
  const auto [gpu_all, host_all] =
      gpu_and_host({boolean(EngineSetting::cpu_moe, true)}, all_experts);
  EXPECT_LT(gpu_all, gpu_moe);
  EXPECT_GT(host_all, host_moe);
  Config no_kvo;
  no_kvo.kv_offload = false;
  const auto [gpu_nkvo, host_nkvo] =
      gpu_and_host({boolean(EngineSetting::kv_offload, false)}, no_kvo);
  EXPECT_LT(gpu_nkvo, gpu_plain);
  EXPECT_GT(host_nkvo, host_plain);
  // Op offload changes nothing with every weight on the GPU; with experts on the host it
  // takes their copies out of the GPU's compute buffer.
  Config no_op = experts;
  no_op.op_offload = false;
  const auto [gpu_no_op, host_no_op] = gpu_and_host(
      {integer(EngineSetting::n_cpu_moe, 6), boolean(EngineSetting::op_offload, false)}, no_op);
  EXPECT_LT(gpu_no_op, gpu_moe);
  (void)host_no_op;
}

// With nothing pinned, llama-server's --fit keeps a mixture of experts' routed experts in RAM
// before layers leave the GPU: every layer stays, with the fewest blocks' experts in RAM that
// leave the fit margin free (checked against estimate() one block either side).
TEST(Check, LlamaServerFitKeepsExpertsInRamBeforeLayers) {
  const Model moe = catalog_moe();
  const std::int32_t total = moe.spec.n_layer + 1;
  CheckRequest r;
  r.gpus = {10 * gib};
  r.models.push_back(CheckModel{.model = moe});
  Deployment d;
  d.engine = DeployEngine::llama_server;
  d.settings = {integer(EngineSetting::context, 16384)};
  const CheckResult c = check_deployment(d, r);
  ASSERT_EQ(c.models.size(), 1u);
  const CheckedModel& m = c.models[0];
  EXPECT_EQ(c.verdict, CheckVerdict::spills);
  EXPECT_EQ(m.gpu_layers, total);
  ASSERT_GT(m.cpu_moe, 0);
  ASSERT_LT(m.cpu_moe, moe.spec.n_layer);
  const Engine& e = engine(EngineId::llamacpp);
  const auto gpu_use = [&](std::int32_t cpu_moe) {
    Config x;
    x.cpu_moe = cpu_moe;
    return llama_server_estimate(moe, x, 16384, std::nullopt, r.gpus).devices[0].total();
  };
  EXPECT_EQ(m.gpu_bytes.at(0), gpu_use(m.cpu_moe));
  EXPECT_LE(gpu_use(m.cpu_moe) + e.fit_margin, r.gpus[0]);
  EXPECT_GT(gpu_use(m.cpu_moe - 1) + e.fit_margin, r.gpus[0]);
}

// llama-server with no -c: --fit (llama.cpp common/fit.cpp, step 2) shortens the context
// before any layer moves, by interpolating the GPU's use between the model's maximum and the
// floor (-fitc, 4096) to the free memory less the margin, rounded down to 256. The expected
// context is worked out here from two estimate() calls; the check must land on it and keep
// every layer on the GPU, pinned or not.
TEST(Check, LlamaServerFitShortensAnUnsetContextBeforeLayers) {
  const Model model = test::simple_model(test::llama31_8b());
  const std::int32_t total = model.spec.n_layer + 1;
  const std::int64_t max_ctx = model.spec.n_ctx_train;
  ASSERT_GT(max_ctx, 16384);
  CheckRequest r;
  r.gpus = {16 * gib};
  r.models.push_back(CheckModel{.model = model});
  const auto gpu_use = [&](std::int64_t ctx) {
    return llama_server_estimate(model, Config{}, ctx, std::nullopt, r.gpus).devices[0].total();
  };
  const auto expected_ctx = [&](Bytes margin, std::int64_t floor) {
    const Bytes target = r.gpus[0] - margin;
    const Bytes at_max = gpu_use(max_ctx);
    const Bytes at_floor = gpu_use(floor);
    const std::int64_t ctx = floor + (max_ctx - floor) * (target - at_floor) / (at_max - at_floor);
    return std::max(ctx - ctx % 256, floor);
  };
  const Bytes margin = engine(EngineId::llamacpp).fit_margin;
  ASSERT_GT(gpu_use(max_ctx) + margin, r.gpus[0]) << "the test needs a context that does not fit";
  ASSERT_LT(gpu_use(4096) + margin, r.gpus[0]);

  const auto run = [&](std::vector<SettingValue> settings) {
    Deployment d;
    d.engine = DeployEngine::llama_server;
    d.settings = std::move(settings);
    return check_deployment(d, r);
  };
  const auto said_shorter = [](const CheckResult& c) {
    for (const Finding& f : c.findings) {
      if (f.kind == FindingKind::check_fit_ctx) return f.number("model_max");
    }
    return std::int64_t{0};
  };
  const CheckResult open = run({});
  ASSERT_EQ(open.models.size(), 1u);
  const std::int64_t ctx = expected_ctx(margin, 4096);
  EXPECT_EQ(open.models[0].ctx, ctx);
  EXPECT_LT(ctx, max_ctx);
  EXPECT_EQ(open.models[0].gpu_layers, total);
  EXPECT_EQ(open.models[0].gpu_bytes.at(0), gpu_use(ctx));
  EXPECT_EQ(open.verdict, CheckVerdict::fits);
  EXPECT_EQ(said_shorter(open), max_ctx);

  // -ngl pins the layers, not the context: the same context.
  const CheckResult pinned = run({integer(EngineSetting::gpu_layers, 99)});
  EXPECT_EQ(pinned.models[0].ctx, ctx);
  EXPECT_EQ(pinned.verdict, CheckVerdict::fits);

  // A larger -fitt margin, a shorter context; a floor above it, the floor, and layers move.
  const CheckResult wide = run({text(EngineSetting::fit_target, "3072")});
  EXPECT_EQ(wide.models[0].ctx, expected_ctx(3 * gib, 4096));
  EXPECT_LT(wide.models[0].ctx, ctx);
  const std::int64_t high_floor = std::min<std::int64_t>(max_ctx / 2, ctx + 32768);
  const CheckResult floored = run({integer(EngineSetting::fit_ctx, high_floor)});
  EXPECT_EQ(floored.models[0].ctx, high_floor);
  EXPECT_EQ(floored.verdict, CheckVerdict::spills);
  EXPECT_LT(floored.models[0].gpu_layers, total);

  // -c 0 asks for the whole context: nothing is shortened, layers leave the GPU instead.
  const CheckResult full = run({integer(EngineSetting::context, 0)});
  EXPECT_EQ(full.models[0].ctx, max_ctx);
  EXPECT_EQ(full.verdict, CheckVerdict::spills);
  EXPECT_EQ(said_shorter(full), 0);
  // An explicit context is never shortened.
  const CheckResult set = run({integer(EngineSetting::context, max_ctx)});
  EXPECT_EQ(set.models[0].ctx, max_ctx);
  EXPECT_EQ(said_shorter(set), 0);

  // --fit off: nothing is fitted; -ngl auto is every layer, which does not fit.
  const CheckResult off = run({text(EngineSetting::fit, "off")});
  EXPECT_EQ(off.models[0].ctx, max_ctx);
  EXPECT_EQ(off.models[0].gpu_layers, total);
  EXPECT_EQ(off.verdict, CheckVerdict::out_of_memory);
  EXPECT_EQ(off.models[0].gpu_bytes.at(0), gpu_use(max_ctx));
}

// On several GPUs llama.cpp's --fit aims lower (a share of a layer per GPU, for the whole layers
// each takes: (GPUs + 1) x weights per block / 2 for a dense model) and then places the layers
// at the context it chose.
TEST(Check, LlamaServerFitShortensAnUnsetContextOnSeveralGpus) {
  const Model model = test::simple_model(test::llama31_8b());
  const std::int64_t max_ctx = model.spec.n_ctx_train;
  CheckRequest r;
  r.gpus = {8 * gib, 8 * gib};
  r.models.push_back(CheckModel{.model = model});
  const auto used = [&](std::int64_t ctx, Bytes* weights) {
    const Estimate e = llama_server_estimate(model, Config{}, ctx, std::nullopt, r.gpus);
    if (weights != nullptr) *weights = e.devices[0].weights + e.devices[1].weights;
    return e.devices[0].total() + e.devices[1].total();
  };
  Bytes weights = 0;
  const Bytes at_max = used(max_ctx, &weights);
  const Bytes at_floor = used(4096, nullptr);
  const Bytes margin = engine(EngineId::llamacpp).fit_margin;
  const Bytes target = 16 * gib - 2 * margin - 3 * (weights / model.spec.n_layer) / 2;
  ASSERT_GT(at_max, target);
  ASSERT_LT(at_floor, target);
  std::int64_t ctx = 4096 + (max_ctx - 4096) * (target - at_floor) / (at_max - at_floor);
  ctx -= ctx % 256;

  Deployment d;
  d.engine = DeployEngine::llama_server;
  const CheckResult c = check_deployment(d, r);
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].ctx, ctx);
  // The layers are placed at that context: every one if both GPUs keep their margins.
  Config all;
  const Estimate e = llama_server_estimate(model, all, ctx, std::nullopt, r.gpus);
  const bool all_fit =
      e.devices[0].total() + margin <= r.gpus[0] && e.devices[1].total() + margin <= r.gpus[1];
  EXPECT_EQ(c.models[0].gpu_layers == model.spec.n_layer + 1, all_fit);
}

// Ollama offloads a vision projector with --fit's target raised to the projector + 1 GiB
// (llm/llama_server.go), unless LLAMA_ARG_FIT_TARGET is set: on a GPU where every layer leaves
// 1 GiB free but not that, the layers spill; with the person's own target they do not.
TEST(Check, OllamaKeepsTheProjectorsFitTargetFree) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const auto run = [&](Bytes gpu, std::vector<SettingValue> extra) {
    CheckRequest r;
    r.gpus = {gpu};
    r.models.push_back(CheckModel{.model = m});
    std::vector<SettingValue> settings = {integer(EngineSetting::context, 8192),
                                          integer(EngineSetting::batch, 512)};
    settings.insert(settings.end(), extra.begin(), extra.end());
    return check_deployment(ollama(settings), r);
  };
  const CheckResult big = run(80 * gib, {});
  ASSERT_EQ(big.models.at(0).gpu_layers, big.models[0].total_layers);
  const Bytes all_layers = big.models[0].gpu_bytes.at(0);
  const Bytes gpu = all_layers + gib + 300 * mib;
  const CheckResult padded = run(gpu, {});
  EXPECT_EQ(padded.verdict, CheckVerdict::spills);
  EXPECT_LT(padded.models.at(0).gpu_layers, padded.models[0].total_layers);
  EXPECT_LE(padded.models[0].gpu_bytes.at(0) + 900 * mib + gib, gpu);
  const CheckResult own = run(gpu, {text(EngineSetting::fit_target, "1024")});
  EXPECT_EQ(own.verdict, CheckVerdict::fits);
  EXPECT_EQ(own.models.at(0).gpu_layers, own.models[0].total_layers);
}

// llama-server offloads the projector to the first GPU whatever -ngl says, unless
// --no-mmproj-offload (tools/server/server-context.cpp: mparams.use_gpu = mmproj_use_gpu).
TEST(Check, LlamaServerOffloadsTheProjectorUnlessToldNot) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const auto run = [&](std::vector<SettingValue> settings) {
    Deployment d;
    d.engine = DeployEngine::llama_server;
    d.settings = std::move(settings);
    d.settings.push_back(integer(EngineSetting::context, 8192));
    CheckRequest r;
    r.gpus = {24 * gib};
    r.models.push_back(CheckModel{.model = m});
    return check_deployment(d, r);
  };
  const SettingValue no_offload{.setting = EngineSetting::mmproj_offload,
                                .name = "--no-mmproj-offload",
                                .type = ValueType::boolean,
                                .boolean = false};
  for (const std::int64_t ngl : {0, 10, 99}) {
    const CheckResult on = run({integer(EngineSetting::gpu_layers, ngl)});
    const CheckResult off = run({integer(EngineSetting::gpu_layers, ngl), no_offload});
    ASSERT_EQ(on.models.at(0).gpu_layers, off.models.at(0).gpu_layers) << ngl;
    EXPECT_EQ(on.models[0].gpu_bytes.at(0), off.models[0].gpu_bytes.at(0) + m.projector) << ngl;
    EXPECT_EQ(on.models[0].ram_bytes + m.projector, off.models[0].ram_bytes) << ngl;
    for (const Finding& f : off.findings) EXPECT_NE(f.kind, FindingKind::check_not_modelled);
  }
}

// With num_gpu unset Ollama offloads the projector even where --fit then offloads only some
// layers; pinned to a partial offload it keeps it in RAM (llm/llama_server.go).
TEST(Check, OllamaOffloadsTheProjectorWhereItsFitPlacesTheLayers) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const auto run = [&](std::vector<SettingValue> extra) {
    CheckRequest r;
    r.gpus = {6 * gib};
    r.models.push_back(CheckModel{.model = m});
    std::vector<SettingValue> settings = {integer(EngineSetting::context, 8192)};
    settings.insert(settings.end(), extra.begin(), extra.end());
    return check_deployment(ollama(settings), r);
  };
  const CheckResult chosen = run({});
  ASSERT_EQ(chosen.verdict, CheckVerdict::spills);
  const std::int32_t layers = chosen.models.at(0).gpu_layers;
  ASSERT_GT(layers, 0);
  ASSERT_LT(layers, chosen.models[0].total_layers);
  const CheckResult pinned = run({integer(EngineSetting::gpu_layers, layers)});
  ASSERT_EQ(pinned.models.at(0).gpu_layers, layers);
  EXPECT_EQ(chosen.models[0].gpu_bytes.at(0), pinned.models[0].gpu_bytes.at(0) + m.projector);
  EXPECT_EQ(chosen.models[0].ram_bytes + m.projector, pinned.models[0].ram_bytes);
  // llama-server counts the projector in the fit on top of Ollama's target: the layers chosen
  // leave both free.
  EXPECT_LE(chosen.models[0].gpu_bytes[0] + pad_to(m.projector + gib, mib), 6 * gib);
}

// A start with the projector offloaded that runs out of memory is retried once by Ollama with
// the projector in RAM (llm/llama_server.go retryWithMMProjCPUOffload).
TEST(Check, OllamaRetriesWithTheProjectorInRam) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const auto run = [&](Bytes gpu) {
    CheckRequest r;
    r.gpus = {gpu};
    r.models.push_back(CheckModel{.model = m});
    return check_deployment(
        ollama({integer(EngineSetting::context, 8192), integer(EngineSetting::ubatch, 512),
                integer(EngineSetting::gpu_layers, 99)}),
        r);
  };
  const auto retried = [](const CheckResult& c) {
    return std::ranges::any_of(
        c.findings, [](const Finding& f) { return f.kind == FindingKind::check_projector_retry; });
  };
  const CheckResult roomy = run(40 * gib);
  ASSERT_EQ(roomy.verdict, CheckVerdict::fits);
  EXPECT_FALSE(retried(roomy));
  const Bytes text_only = roomy.models.at(0).gpu_bytes.at(0) - m.projector;
  const CheckResult tight = run(text_only + 500 * mib);
  EXPECT_EQ(tight.verdict, CheckVerdict::fits);
  EXPECT_TRUE(retried(tight));
  EXPECT_EQ(tight.models.at(0).gpu_bytes.at(0), text_only);
  EXPECT_EQ(tight.models[0].ram_bytes, roomy.models[0].ram_bytes + m.projector);
  const CheckResult short_of_text = run(text_only - mib);
  EXPECT_EQ(short_of_text.verdict, CheckVerdict::out_of_memory);
}

TEST(Check, UnpinnedLayersSpillAndPinnedLayersRunOutOfMemory) {
  const CheckRequest r = request({4 * gib});
  const CheckResult spill = check_deployment(ollama({integer(EngineSetting::context, 8192)}), r);
  EXPECT_EQ(spill.verdict, CheckVerdict::spills);
  EXPECT_LT(spill.models[0].gpu_layers, spill.models[0].total_layers);
  EXPECT_GT(spill.models[0].ram_bytes, 0);

  const Deployment pinned =
      ollama({integer(EngineSetting::context, 8192), integer(EngineSetting::gpu_layers, -2)});
  const CheckResult oom = check_deployment(pinned, r);
  EXPECT_EQ(oom.verdict, CheckVerdict::out_of_memory);
  EXPECT_GT(oom.devices[0].over(), 0);
  bool said = false;
  for (const Finding& f : oom.findings) said = said || f.kind == FindingKind::check_gpu_over;
  EXPECT_TRUE(said);
}

TEST(Check, TheFixFitsWhenAppliedAndComesInThePersonsOrder) {
  // 8 slots x 8192 on 12 GiB with every layer pinned: the cache is what does not fit.
  const Deployment d =
      ollama({integer(EngineSetting::context, 8192), integer(EngineSetting::parallel, 8),
              integer(EngineSetting::gpu_layers, -2)});
  const CheckRequest r = request({12 * gib});
  const CheckResult c = check_deployment(d, r);
  ASSERT_EQ(c.verdict, CheckVerdict::out_of_memory);
  ASSERT_TRUE(c.fix.has_value());
  EXPECT_TRUE(c.fix->fits);
  const CheckResult fixed = check_deployment(apply(d, c.fix->changes), r);
  EXPECT_EQ(fixed.verdict, CheckVerdict::fits);
  // A change that comes earlier in the order does not fit: the q8_0 cache is first.
  if (c.fix->what.kind != FindingKind::check_fix_kv_q8_0) {
    const CheckResult q8 = check_deployment(
        apply(d, {{EngineSetting::kv_cache_type, "q8_0"}, {EngineSetting::flash_attention, "on"}}),
        r);
    EXPECT_NE(q8.verdict, CheckVerdict::fits);
  }
  for (const CheckFix& alt : c.alternatives) {
    EXPECT_EQ(check_deployment(apply(d, alt.changes), r).verdict, CheckVerdict::fits)
        << to_string(alt.what.kind);
  }
  EXPECT_LE(c.evaluations, 4096);
}

TEST(Check, SeveralModelsAddUpAndTakeTurns) {
  const Deployment d = ollama({integer(EngineSetting::context, 8192)});
  const CheckResult one = check_deployment(d, request({12 * gib}, 1));
  const CheckResult two = check_deployment(d, request({12 * gib}, 2));
  ASSERT_EQ(two.models.size(), 2u);
  EXPECT_EQ(two.devices[0].used, one.devices[0].used * 2);
  EXPECT_EQ(two.verdict, CheckVerdict::take_turns);
  EXPECT_FALSE(two.resident_together);
  EXPECT_EQ(two.max_loaded, 3);  // OLLAMA_MAX_LOADED_MODELS 0: 3 per GPU
  ASSERT_TRUE(two.fix.has_value());

  // Allowed one at a time, two models take turns whatever the memory.
  const Deployment one_at_a_time =
      ollama({integer(EngineSetting::context, 4096), integer(EngineSetting::max_loaded_models, 1)});
  const CheckResult turns = check_deployment(one_at_a_time, request({80 * gib}, 2));
  EXPECT_EQ(turns.verdict, CheckVerdict::take_turns);
  bool said = false;
  for (const Finding& f : turns.findings) said = said || f.kind == FindingKind::check_max_loaded;
  EXPECT_TRUE(said);
}

// Ollama without OLLAMA_SCHED_SPREAD: a model whose own prediction fits 80 % of one GPU's free
// memory runs on that GPU alone, the one with the most free; with it, or when none has room, the
// model is split over every GPU.
TEST(Check, OllamaPutsAModelOnOneGpuUnlessSpread) {
  const Deployment d = ollama({integer(EngineSetting::context, 8192)});
  const CheckResult apart = check_deployment(d, request({16 * gib, 16 * gib}, 2));
  ASSERT_EQ(apart.models.size(), 2u);
  // The first on GPU0 (a tie: the first), the second on GPU1, which then has the most free.
  EXPECT_GT(apart.models[0].gpu_bytes.at(0), 0);
  EXPECT_EQ(apart.models[0].gpu_bytes.at(1), 0);
  EXPECT_EQ(apart.models[1].gpu_bytes.at(0), 0);
  EXPECT_GT(apart.models[1].gpu_bytes.at(1), 0);
  // Each as it runs alone on one 16 GiB GPU.
  const CheckResult alone = check_deployment(d, request({16 * gib}, 1));
  EXPECT_EQ(apart.devices[0].used, alone.devices[0].used);
  EXPECT_EQ(apart.devices[1].used, alone.devices[0].used);
  EXPECT_EQ(apart.devices[2].used, 2 * alone.devices[1].used);  // RAM

  Deployment spread = d;
  spread.settings.push_back(SettingValue{
      .setting = EngineSetting::sched_spread, .type = ValueType::boolean, .boolean = true});
  const CheckResult split = check_deployment(spread, request({16 * gib, 16 * gib}, 2));
  for (const CheckedModel& m : split.models) {
    EXPECT_GT(m.gpu_bytes.at(0), 0);
    EXPECT_GT(m.gpu_bytes.at(1), 0);
  }

  // Two 4 GiB GPUs: the 8B's prediction (its file and an f16 cache of 8192 tokens) is above
  // 80 % of either, so Ollama gives it both.
  const CheckResult small = check_deployment(d, request({4 * gib, 4 * gib}, 1));
  EXPECT_GT(small.models[0].gpu_bytes.at(0), 0);
  EXPECT_GT(small.models[0].gpu_bytes.at(1), 0);
}

TEST(Check, MoreMemoryNeverMakesItWorse) {
  const Deployment d =
      ollama({integer(EngineSetting::context, 16384), integer(EngineSetting::parallel, 2)});
  int last = 99;
  for (const Bytes g : {4 * gib, 6 * gib, 8 * gib, 12 * gib, 24 * gib}) {
    const CheckResult c = check_deployment(d, request({g}));
    const int rank = c.verdict == CheckVerdict::fits ? 0 : 1;
    EXPECT_LE(rank, last) << format_bytes(g);
    last = rank;
  }
  EXPECT_EQ(last, 0);
}

TEST(Check, RefusesWhatNoEngineRuns) {
  EXPECT_THROW(static_cast<void>(check_deployment(ollama({}), request({8 * gib}, 0))), Error);
  Deployment server = ollama({});
  server.engine = DeployEngine::llama_server;
  try {
    static_cast<void>(check_deployment(server, request({8 * gib}, 2)));
    ADD_FAILURE() << "two models on one llama-server";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
  }
  // A quantized V cache with flash attention off: the engine does not start.
  const Deployment q8_no_fa = ollama(
      {text(EngineSetting::kv_cache_type, "q8_0"), text(EngineSetting::flash_attention, "off")});
  try {
    static_cast<void>(check_deployment(q8_no_fa, request({8 * gib})));
    ADD_FAILURE() << "q8_0 without flash attention";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
  }
}

}  // namespace
}  // namespace vramplan
