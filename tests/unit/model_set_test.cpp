// plan_model_set (include/vramplan/model_set.hpp): several models on one Ollama. Checked
// against check_deployment() of the settings it writes, run as a person would run `vramplan
// check` on the .env fit wrote, and against the rules the header states: what the user fixed is
// never changed, OLLAMA_MAX_LOADED_MODELS holds every model that must stay loaded.
#include <vramplan/model_set.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/vllm.hpp>

#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

SetRequest two_8b(std::vector<Bytes> gpus) {
  SetRequest r;
  r.gpus = std::move(gpus);
  for (int i = 0; i < 2; ++i) {
    r.models.push_back(CheckModel{.model = test::simple_model(test::llama31_8b())});
  }
  return r;
}

const SetSetting* find(const SetPlan& p, EngineSetting s) {
  for (const SetSetting& x : p.settings) {
    if (x.setting == s) return &x;
  }
  return nullptr;
}

// The settings as an Ollama deployment, typed the way interpret_deployment() types them.
Deployment deployment_of(const SetPlan& p) {
  DeploymentInput in;
  in.engine = DeployEngine::ollama;
  for (const SetSetting& s : p.settings) {
    in.environment.push_back(
        EnvEntry{.name = std::string(setting_default_name(DeployEngine::ollama, s.setting)),
                 .value = setting_value_text(DeployEngine::ollama, s.setting, s.value),
                 .origin = {}});
  }
  return interpret_deployment(in);
}

CheckResult recheck(const SetPlan& p, const SetRequest& r) {
  return check_deployment(deployment_of(p), CheckRequest{.models = r.models, .gpus = r.gpus});
}

TEST(ModelSet, FitsAsItIsOnALargeGpu) {
  const SetRequest r = two_8b({80 * gib});
  const SetPlan p = plan_model_set(r);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.result.verdict, CheckVerdict::fits);
  EXPECT_TRUE(p.decisions.empty());
  ASSERT_NE(find(p, EngineSetting::max_loaded_models), nullptr);
  EXPECT_EQ(find(p, EngineSetting::max_loaded_models)->value, "2");
  for (const SetSetting& s : p.settings) EXPECT_FALSE(s.changed) << setting_name(s.setting);
  // The .env it writes, checked again: the same verdict and the same use.
  const CheckResult again = recheck(p, r);
  EXPECT_EQ(again.verdict, CheckVerdict::fits);
  EXPECT_EQ(again.devices.at(0).used, p.result.devices.at(0).used);
}

// The capacity between the two models' use with a q8_0 cache and with f16, at 32768 context.
Bytes between_q8_and_f16(const SetRequest& base) {
  SetRequest f16 = base;
  f16.ctx = 32768;
  f16.kv_type = GgmlType::f16;
  f16.fitted = false;
  SetRequest q8 = f16;
  q8.kv_type = GgmlType::q8_0;
  const Bytes f16_use = plan_model_set(f16).result.devices.at(0).used;
  const Bytes q8_use = plan_model_set(q8).result.devices.at(0).used;
  EXPECT_LT(q8_use + 512 * mib, f16_use);
  return q8_use + 256 * mib;
}

TEST(ModelSet, ChoosesAQ8CacheWhenThatKeepsBothLoaded) {
  SetRequest r = two_8b({80 * gib});
  r.gpus = {between_q8_and_f16(r)};
  r.ctx = 32768;
  const SetPlan p = plan_model_set(r);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.result.verdict, CheckVerdict::fits);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0].kind, FindingKind::check_fix_kv_q8_0);
  EXPECT_EQ(find(p, EngineSetting::kv_cache_type)->value, "q8_0");
  EXPECT_TRUE(find(p, EngineSetting::kv_cache_type)->changed);
  EXPECT_EQ(find(p, EngineSetting::context)->value, "32768");  // given: kept
  EXPECT_FALSE(find(p, EngineSetting::context)->changed);
  EXPECT_LE(p.result.devices.at(0).used, r.gpus[0]);
  EXPECT_EQ(recheck(p, r).verdict, CheckVerdict::fits);
}

TEST(ModelSet, NeverChangesWhatTheUserFixed) {
  SetRequest r = two_8b({80 * gib});
  r.gpus = {between_q8_and_f16(r)};
  r.ctx = 32768;
  r.kv_type = GgmlType::f16;
  const SetPlan p = plan_model_set(r);
  EXPECT_EQ(find(p, EngineSetting::kv_cache_type)->value, "f16");
  EXPECT_EQ(find(p, EngineSetting::context)->value, "32768");
  for (const SettingChange& c : p.changes) {
    EXPECT_NE(c.setting, EngineSetting::kv_cache_type);
    EXPECT_NE(c.setting, EngineSetting::context);
  }
}

TEST(ModelSet, TakesTurnsOnlyWhenNothingKeepsThemLoaded) {
  // Room for one 8B with its context, not for two.
  SetRequest one = two_8b({80 * gib});
  one.ctx = 4096;
  one.fitted = false;
  const Bytes pair = plan_model_set(one).result.devices.at(0).used;
  SetRequest r = two_8b({pair * 6 / 10});
  r.ctx = 4096;
  r.kv_type = GgmlType::q8_0;  // nothing left to change but the quantization and the turns
  const SetPlan p = plan_model_set(r);
  EXPECT_TRUE(p.fits);
  ASSERT_EQ(p.result.verdict, CheckVerdict::take_turns);
  EXPECT_EQ(find(p, EngineSetting::max_loaded_models)->value, "1");
  EXPECT_TRUE(find(p, EngineSetting::max_loaded_models)->changed);
  ASSERT_EQ(p.decisions.size(), 1u);
  EXPECT_EQ(p.decisions[0].kind, FindingKind::check_fix_max_loaded);
}

TEST(ModelSet, EstimateChangesNothing) {
  SetRequest r = two_8b({4 * gib});
  r.fitted = false;
  const SetPlan p = plan_model_set(r);
  EXPECT_TRUE(p.decisions.empty());
  EXPECT_TRUE(p.changes.empty());
  for (const SetSetting& s : p.settings) EXPECT_FALSE(s.changed);
}

TEST(ModelSet, NeedsTwoModels) {
  SetRequest r = two_8b({24 * gib});
  r.models.pop_back();
  try {
    (void)plan_model_set(r);
    FAIL() << "one model accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
  }
}

TEST(ModelSet, AModelsOwnContextBeatsTheServers) {
  SetRequest r = two_8b({80 * gib});
  r.ctx = 4096;
  r.models[0].ctx = 32768;
  const SetPlan p = plan_model_set(r);
  ASSERT_EQ(p.result.models.size(), 2u);
  EXPECT_EQ(p.result.models[0].ctx, 32768);
  EXPECT_EQ(p.result.models[1].ctx, 4096);
  EXPECT_EQ(find(p, EngineSetting::context)->value, "4096");
  // The first as check evaluates it alone with the server at 32768.
  SetRequest alone = two_8b({80 * gib});
  alone.models.pop_back();
  const CheckResult own =
      check_deployment(deployment_of(p), CheckRequest{.models = alone.models, .gpus = {80 * gib}});
  SetRequest server32k = two_8b({80 * gib});
  server32k.ctx = 32768;
  server32k.fitted = false;
  const SetPlan both32k = plan_model_set(server32k);
  EXPECT_EQ(p.result.models[0].gpu_bytes.at(0), both32k.result.models[0].gpu_bytes.at(0));
  EXPECT_LT(p.result.models[1].gpu_bytes.at(0), p.result.models[0].gpu_bytes.at(0));
  EXPECT_EQ(own.models.at(0).ctx, 4096);  // without its own context: the server's
  bool said = false;
  for (const Finding& f : p.result.findings) said = said || f.kind == FindingKind::set_own_ctx;
  EXPECT_TRUE(said);
}

// --- vLLM containers beside the Ollama server (one GPU) ---

VllmService vllm_8b() {
  return VllmService{
      .model = vllm_checkpoint_model(test::simple_model(test::llama31_8b()), VllmDtype::bf16),
      .model_ref = "meta-llama/Llama-3.1-8B-Instruct",
      .request = {}};
}

SetRequest ollama_and_vllm(Bytes gpu) {
  SetRequest r = two_8b({gpu});
  r.models.pop_back();
  r.vllm.push_back(vllm_8b());
  return r;
}

// Whether vLLM's KV pool at `util_x10000` holds one request of `len`, from vllm_estimate().
bool pool_holds(const VllmService& s, Bytes gpu, std::int64_t len, std::int32_t util_x10000) {
  VllmRequest r = s.request;
  r.gpus = {gpu};
  r.max_model_len = len;
  r.util_x10000 = util_x10000;
  const VllmEstimate e = vllm_estimate(s.model, r);
  return e.devices.front().kv_cache >= e.kv_needed;
}

TEST(ModelSet, VllmContainerGetsTheSmallestBudgetThatServesItsLength) {
  const SetRequest r = ollama_and_vllm(40 * gib);
  const SetPlan p = plan_model_set(r);
  ASSERT_EQ(p.vllm.size(), 1u);
  const VllmServicePlan& v = p.vllm.front();
  EXPECT_TRUE(v.util_chosen);
  EXPECT_TRUE(v.plan.fits);
  const VllmEstimate& e = v.plan.estimate;
  EXPECT_EQ(e.max_model_len, vllm_set_default_len);  // the 8B's maximum is 131072
  EXPECT_TRUE(pool_holds(r.vllm.front(), 40 * gib, e.max_model_len, e.util_x10000));
  EXPECT_FALSE(pool_holds(r.vllm.front(), 40 * gib, e.max_model_len, e.util_x10000 - 100));
  // It holds more than its budget: the CUDA context and the sampler warm-up lie outside.
  EXPECT_GT(v.footprint, e.requested);
  EXPECT_TRUE(p.fits);
}

TEST(ModelSet, OllamaGetsWhatTheContainersLeave) {
  const SetRequest r = ollama_and_vllm(40 * gib);
  const SetPlan p = plan_model_set(r);
  const Bytes reserved = p.vllm.front().footprint;
  // The Ollama model alone, planned by check on the GPU minus the reservation.
  const CheckResult ollama = check_deployment(
      deployment_of(p), CheckRequest{.models = {r.models.front()}, .gpus = {40 * gib - reserved}});
  ASSERT_EQ(p.result.models.size(), 2u);
  EXPECT_EQ(p.result.models[0].gpu_bytes.at(0), ollama.models.at(0).gpu_bytes.at(0));
  EXPECT_EQ(p.result.models[1].engine, DeployEngine::vllm);
  EXPECT_EQ(p.result.models[1].gpu_bytes.at(0), reserved);
  EXPECT_EQ(p.result.devices.at(0).capacity, 40 * gib);
  EXPECT_EQ(p.result.devices.at(0).used, ollama.devices.at(0).used + reserved);
  const CheckedDevice& d = p.result.devices.at(0);
  EXPECT_EQ(d.weights + d.kv_cache + d.compute + d.other, d.used);
}

TEST(ModelSet, VllmDefaultBudgetPushesOllamaToTheCpu) {
  SetRequest r = ollama_and_vllm(32 * gib);
  r.fitted = false;  // estimate: vLLM's default utilisation, 0.92
  const SetPlan p = plan_model_set(r);
  EXPECT_FALSE(p.vllm.front().util_chosen);
  EXPECT_EQ(p.vllm.front().plan.estimate.util_x10000, vllm_default_util_x10000);
  const CheckedModel& chat = p.result.models.at(0);
  EXPECT_LT(chat.gpu_layers, chat.total_layers / 2);
  EXPECT_EQ(p.result.verdict, CheckVerdict::spills);
  // fit on the same GPU: every layer of both on it.
  r.fitted = true;
  const SetPlan fitted = plan_model_set(r);
  EXPECT_TRUE(fitted.fits);
  EXPECT_EQ(fitted.result.verdict, CheckVerdict::fits);
  EXPECT_EQ(fitted.result.models.at(0).gpu_layers, chat.total_layers);
}

TEST(ModelSet, TwoVllmContainersAddUp) {
  SetRequest r;
  r.gpus = {48 * gib};
  r.vllm = {vllm_8b(), vllm_8b()};
  r.ctx = 4096;
  const SetPlan p = plan_model_set(r);
  ASSERT_EQ(p.vllm.size(), 2u);
  EXPECT_TRUE(p.fits);
  EXPECT_EQ(p.vllm[0].plan.estimate.max_model_len, 4096);
  EXPECT_EQ(p.result.devices.at(0).used, p.vllm[0].footprint + p.vllm[1].footprint);
  // Two 8B bf16 containers (about 15 GiB of weights each) do not share a 24 GiB card.
  r.gpus = {24 * gib};
  EXPECT_FALSE(plan_model_set(r).fits);
}

TEST(ModelSet, VllmContainersNeedOneGpu) {
  SetRequest r = ollama_and_vllm(24 * gib);
  r.gpus = {24 * gib, 24 * gib};
  try {
    (void)plan_model_set(r);
    FAIL() << "two GPUs accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
  }
}

}  // namespace
}  // namespace vramplan
