// vLLM V1 memory model (src/core/vllm.cpp) against the measured startups of
// llm-d-incubation/llm-d-planner accuracy/results/v0.19.0 (vLLM v0.19.0 sweep, H100 80GB =
// 79.19 GiB torch total, util 0.95,
// vllm serve defaults 1024 seqs / 8192 batched tokens, CUDA-graph estimate not applied).
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/vllm.hpp>

#include "support/specs.hpp"

namespace vramplan {
namespace {

const Bytes h100 = static_cast<Bytes>(79.19 * static_cast<double>(gib));

ModelSpec qwen25_7b() {
  ModelSpec s;
  s.arch = "qwen2";
  s.n_layer = 28;
  s.n_embd = 3584;
  s.n_ff = 18944;
  s.n_head = 28;
  s.n_head_kv = 4;
  s.n_vocab = 152064;
  s.n_ctx_train = 32768;
  return s;
}

ModelSpec qwen3_8b() {
  ModelSpec s;
  s.arch = "qwen3";
  s.n_layer = 36;
  s.n_embd = 4096;
  s.n_ff = 12288;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.key_length = 128;
  s.value_length = 128;
  s.n_vocab = 151936;
  s.n_ctx_train = 40960;
  return s;
}

ModelSpec deepseek_v2_lite() {
  ModelSpec s;
  s.arch = "deepseek2";
  s.n_layer = 27;
  s.n_embd = 2048;
  s.n_ff = 10944;
  s.n_head = 16;
  s.n_head_kv = 16;
  s.key_length = 192;
  s.value_length = 128;
  s.n_vocab = 102400;
  s.n_ctx_train = 163840;
  s.mla = Mla{.q_lora_rank = 0,
              .kv_lora_rank = 512,
              .qk_nope_head_dim = 128,
              .qk_rope_head_dim = 64,
              .v_head_dim = 128};
  s.moe = Moe{.n_expert = 64,
              .n_expert_used = 6,
              .n_ff_exp = 1408,
              .n_expert_shared = 2,
              .n_ff_shexp = 2816,
              .n_leading_dense = 1};
  return s;
}

Model bf16_model(const ModelSpec& spec) {
  const Model m = make_model("test", "test", spec, FileType::mostly_bf16,
                             generate_tensors(spec, FileType::mostly_bf16));
  return vllm_checkpoint_model(m, VllmDtype::bf16);
}

// The llm-d v0.19.0 setup on `tp` H100s.
VllmRequest llmd(std::int32_t tp) {
  VllmRequest r;
  r.gpus.assign(static_cast<std::size_t>(tp), h100);
  r.max_model_len = 8192;
  r.util_x10000 = 9500;
  r.release = 19;                 // vLLM 0.19.0
  r.cudagraph_in_budget = false;  // v0.19: the estimate is logged, not applied
  return r;
}

double in_gib(Bytes b) { return static_cast<double>(b) / static_cast<double>(gib); }

// Tolerances of the prediction (docs/memory-model.md "vLLM"): KV pool within 0.15 GiB and
// token capacity within 0.5 % of the logged values for these dense and MLA rows.
void expect_row(const VllmEstimate& e, double kv_gib, std::int64_t tokens) {
  EXPECT_NEAR(in_gib(e.devices.front().kv_cache), kv_gib, 0.15);
  EXPECT_NEAR(static_cast<double>(e.kv_tokens), static_cast<double>(tokens),
              0.005 * static_cast<double>(tokens));
  EXPECT_TRUE(e.fits());
}

// The page formula alone, from the logged (2-decimal) KV size: the logged token count lies
// between the capacities of KV - 0.005 GiB and KV + 0.005 GiB.
void expect_page_formula(double kv_gib, Bytes bytes_per_token, std::int64_t tokens) {
  auto capacity = [&](double g) {
    const auto kv = static_cast<Bytes>(g * static_cast<double>(gib));
    return kv / (vllm_block_size * bytes_per_token) * vllm_block_size;
  };
  EXPECT_LE(capacity(kv_gib - 0.005), tokens);
  EXPECT_GE(capacity(kv_gib + 0.005), tokens);
  EXPECT_EQ(tokens % vllm_block_size, 0);
}

TEST(Vllm, PageFormulaReproducesLoggedTokenCounts) {
  const ModelSpec llama = test::llama31_8b();
  EXPECT_EQ(vllm_kv_bytes_per_token(llama, 1, 2), 131072);
  expect_page_formula(58.11, vllm_kv_bytes_per_token(llama, 1, 2), 476016);         // row 1
  expect_page_formula(58.11, vllm_kv_bytes_per_token(llama, 1, 1), 952032);         // row 2, fp8
  expect_page_formula(63.76, vllm_kv_bytes_per_token(llama, 2, 2), 1044688);        // row 4, TP2
  expect_page_formula(67.44, vllm_kv_bytes_per_token(llama, 4, 2), 2209792);        // row 5, TP4
  expect_page_formula(58.53, vllm_kv_bytes_per_token(qwen25_7b(), 1, 2), 1096000);  // row 8
  expect_page_formula(57.50, vllm_kv_bytes_per_token(qwen3_8b(), 1, 2), 418688);    // row 9
  EXPECT_EQ(vllm_kv_bytes_per_token(deepseek_v2_lite(), 1, 2), 27 * 576 * 2);
  expect_page_formula(43.61, vllm_kv_bytes_per_token(deepseek_v2_lite(), 1, 2), 1505552);  // 13
}

TEST(Vllm, LlamaOnH100MatchesRow1) {
  const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), llmd(1));
  EXPECT_EQ(e.requested, ceil_div(h100 * 9500, 10000));
  EXPECT_NEAR(in_gib(e.requested), 75.23, 0.005);
  EXPECT_NEAR(in_gib(e.devices.front().weights), 14.99, 0.05);
  EXPECT_NEAR(in_gib(e.devices.front().activation), 1.89, 0.02);
  expect_row(e, 58.11, 476016);
  EXPECT_NEAR(e.max_concurrency, 58.11, 0.2);
}

TEST(Vllm, Fp8KvCacheDoublesTokensRow2) {
  VllmRequest r = llmd(1);
  r.kv_cache_dtype = VllmKvDtype::fp8;
  const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), r);
  expect_row(e, 58.11, 952032);
}

TEST(Vllm, Fp8WeightsRow3) {
  VllmRequest r = llmd(1);
  r.dtype = VllmDtype::fp8;
  const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), r);
  EXPECT_NEAR(in_gib(e.devices.front().weights), 8.49, 0.05);
  expect_row(e, 64.61, 529248);
}

TEST(Vllm, TensorParallelTwoAndFourRows4And5) {
  const Model m = bf16_model(test::llama31_8b());
  const VllmEstimate tp2 = vllm_estimate(m, llmd(2));
  EXPECT_NEAR(in_gib(tp2.devices.front().weights), 7.51, 0.05);
  expect_row(tp2, 63.76, 1044688);
  ASSERT_EQ(tp2.devices.size(), 2U);
  EXPECT_EQ(tp2.devices[1].kv_cache, tp2.devices[0].kv_cache);
  const VllmEstimate tp4 = vllm_estimate(m, llmd(4));
  EXPECT_NEAR(in_gib(tp4.devices.front().weights), 3.77, 0.05);
  expect_row(tp4, 67.44, 2209792);
}

TEST(Vllm, KvPoolDoesNotDependOnMaxModelLenRow6) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r = llmd(1);
  const VllmEstimate at8k = vllm_estimate(m, r);
  r.max_model_len = 32768;
  const VllmEstimate at32k = vllm_estimate(m, r);
  EXPECT_EQ(at8k.kv_tokens, at32k.kv_tokens);
  EXPECT_NEAR(at32k.max_concurrency, 14.53, 0.1);
}

TEST(Vllm, QwenRows8And9) {
  expect_row(vllm_estimate(bf16_model(qwen25_7b()), llmd(1)), 58.53, 1096000);
  expect_row(vllm_estimate(bf16_model(qwen3_8b()), llmd(1)), 57.50, 418688);
}

TEST(Vllm, MlaCacheIsOneLatentPerLayerRow13) {
  const Model m = bf16_model(deepseek_v2_lite());
  expect_row(vllm_estimate(m, llmd(1)), 43.61, 1505552);
  // MLA KV does not shrink with TP.
  EXPECT_EQ(vllm_kv_bytes_per_token(m.spec, 2, 2), vllm_kv_bytes_per_token(m.spec, 1, 2));
}

TEST(Vllm, ComponentsAddUpToTheDevice) {
  for (const std::int32_t tp : {1, 2, 4}) {
    const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), llmd(tp));
    for (const VllmDevice& d : e.devices) EXPECT_EQ(d.sum(), d.total);
  }
  VllmRequest r = llmd(1);
  r.gpus = {16 * gib};  // nothing fits: the KV part goes negative, the sum still holds
  const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), r);
  EXPECT_LT(e.devices.front().kv_cache, 0);
  EXPECT_EQ(e.devices.front().sum(), e.devices.front().total);
  EXPECT_FALSE(e.fits());
}

TEST(Vllm, KvHeadsReplicateWhenTpExceedsThem) {
  ModelSpec s = test::llama31_8b();
  s.n_head_kv = 2;
  // 2 KV heads, TP 4: every rank holds one head (vLLM's max(1, kv_heads / tp)).
  EXPECT_EQ(vllm_kv_bytes_per_token(s, 4, 2), 32 * 1 * 256 * 2);
  EXPECT_EQ(vllm_kv_bytes_per_token(s, 2, 2), 32 * 1 * 256 * 2);
  EXPECT_EQ(vllm_kv_bytes_per_token(s, 1, 2), 32 * 2 * 256 * 2);
  // And the KV projections are replicated too: attn_k/attn_v of one head per rank.
  const Model m = bf16_model(s);
  const Bytes k_one_head = 4096 * 128 * 2;
  Bytes kv4 = 0;
  Bytes kv2 = 0;
  for (const TensorInfo& t : m.tensors) {
    if (t.name.find(".attn_k.") == std::string::npos &&
        t.name.find(".attn_v.") == std::string::npos) {
      continue;
    }
    Model one = m;
    one.tensors = {t};
    kv4 += vllm_rank_weight_bytes(one, 4, false);
    kv2 += vllm_rank_weight_bytes(one, 2, false);
  }
  EXPECT_EQ(kv4, 2 * 32 * k_one_head);
  EXPECT_EQ(kv2, 2 * 32 * k_one_head);
}

TEST(Vllm, NormsReplicatedLinearsAndVocabSplit) {
  const Model m = bf16_model(test::llama31_8b());
  Model embd = m;
  embd.tensors = {m.tensors.front()};
  ASSERT_EQ(embd.tensors.front().name, "token_embd.weight");
  EXPECT_EQ(vllm_rank_weight_bytes(embd, 2, false), 128256 / 2 * 4096 * 2);
  Model norm = m;
  norm.tensors = {TensorInfo{"blk.0.attn_norm.weight", {4096, 1, 1, 1}, GgmlType::bf16}};
  EXPECT_EQ(vllm_rank_weight_bytes(norm, 4, false), 4096 * 2);
  Model q = m;
  q.tensors = {TensorInfo{"blk.0.attn_q.weight", {4096, 4096, 1, 1}, GgmlType::bf16}};
  EXPECT_EQ(vllm_rank_weight_bytes(q, 4, false), 4096 * 4096 * 2 / 4);
  EXPECT_EQ(vllm_rank_weight_bytes(q, 4, true), 4096 * 4096 / 4);  // fp8
}

// GPTQ/AWQ/W4A16 linears as vLLM's Marlin layout holds them (gptq_marlin.py create_weights,
// kernels/mixed_precision/marlin.py): packed int4, a 16-bit scale per 128 inputs and output,
// zero points only when asymmetric, g_idx + sort indices only with act order.
TEST(Vllm, GroupQuantizedLinearsAsMarlinHoldsThem) {
  const Model m = bf16_model(test::llama31_8b());
  Model q = m;
  q.tensors = {TensorInfo{"blk.0.attn_q.weight", {4096, 4096, 1, 1}, GgmlType::bf16}};
  VllmIntQuant w4;  // 4 bits, group 128, symmetric, no act order
  EXPECT_EQ(vllm_rank_weight_bytes(q, 1, w4), 4096 * 4096 / 2 + 32 * 4096 * 2);
  EXPECT_EQ(vllm_rank_weight_bytes(q, 4, w4), (4096 * 4096 / 2 + 32 * 4096 * 2) / 4);
  VllmIntQuant awq = w4;
  awq.zero_points = true;
  EXPECT_EQ(vllm_rank_weight_bytes(q, 1, awq), 4096 * 4096 / 2 + 32 * 4096 * 2 + 32 * 4096 / 2);
  VllmIntQuant act = w4;
  act.act_order = true;
  EXPECT_EQ(vllm_rank_weight_bytes(q, 1, act), 4096 * 4096 / 2 + 32 * 4096 * 2 + 2 * 4 * 4096);
  VllmIntQuant channel = w4;
  channel.group_size = -1;
  EXPECT_EQ(vllm_rank_weight_bytes(q, 1, channel), 4096 * 4096 / 2 + 4096 * 2);
  // A row-parallel layer with act order keeps every input group's scales on each rank.
  Model o = m;
  o.tensors = {TensorInfo{"blk.0.attn_output.weight", {4096, 4096, 1, 1}, GgmlType::bf16}};
  EXPECT_EQ(vllm_rank_weight_bytes(o, 2, w4), (4096 * 4096 / 2 + 32 * 4096 * 2) / 2);
  EXPECT_EQ(vllm_rank_weight_bytes(o, 2, act),
            4096 * 4096 / 2 / 2 + 32 * 4096 * 2 + 2 * 4 * 4096 / 2);
  // Embeddings, norms and the head stay 16-bit.
  Model embd = m;
  embd.tensors = {m.tensors.front()};
  EXPECT_EQ(vllm_rank_weight_bytes(embd, 2, w4), vllm_rank_weight_bytes(embd, 2, false));
  // The whole model: between a quarter and a third of bf16 (embeddings and head stay 16-bit).
  const Bytes bf16 = vllm_rank_weight_bytes(m, 1, false);
  const Bytes int4 = vllm_rank_weight_bytes(m, 1, w4);
  EXPECT_GT(int4, bf16 / 4);
  EXPECT_LT(int4, bf16 / 2);
  VllmRequest r = llmd(1);
  r.int_quant = w4;
  EXPECT_EQ(vllm_estimate(m, r).devices.front().weights, int4 + vllm_weight_extra);
}

TEST(Vllm, StartupCheckFailsWhenUtilExceedsFreeMemory) {
  VllmRequest r = llmd(1);
  r.util_x10000 = 9950;  // 78.80 GiB requested, 78.69 GiB free after the CUDA context
  const VllmEstimate e = vllm_estimate(bf16_model(test::llama31_8b()), r);
  EXPECT_FALSE(e.startup_ok);
  EXPECT_FALSE(e.fits());
  EXPECT_LT(e.devices.front().outside_budget, 0);
  const VllmPlan plan = vllm_fit(bf16_model(test::llama31_8b()), r);
  EXPECT_FALSE(plan.fits);
  ASSERT_FALSE(plan.reasons.empty());
  const Finding& why = plan.reasons.front();
  EXPECT_EQ(why.kind, FindingKind::vllm_startup);
  EXPECT_EQ(why.number("util_x10000"), 9950);
  EXPECT_LT(why.number("free_bytes"), why.number("requested_bytes"));
}

TEST(Vllm, SamplerWarmupRiskWithLargeVocabAndHighUtil) {
  // gpt-oss-20b (vocab 201,088), 1024 sequences: 786 MiB of fp32 logits + 150 MiB, exactly
  // the allocation that failed in that sweep's row 27.
  const Model m = bf16_model(test::gpt_oss_20b());
  VllmRequest r = llmd(1);
  const VllmEstimate row27 = vllm_estimate(m, r);
  EXPECT_EQ(row27.sampler_need, 1024LL * 201088 * 4 + 150 * mib);
  EXPECT_EQ(pad_to(row27.sampler_need - 150 * mib, 2 * mib), 786 * mib);  // torch's "786.00 MiB"
  // Row 27 itself (util 0.95) failed with 552 MiB free because of 1.78 GiB of allocator
  // fragmentation the model does not predict: 2.46 GiB stays outside the budget after the
  // 1 GiB graph pool, so the rule passes it (documented miss, docs/memory-model.md "vLLM").
  EXPECT_TRUE(row27.sampler_ok);
  r.util_x10000 = 9900;
  const VllmEstimate high = vllm_estimate(m, r);
  EXPECT_TRUE(high.startup_ok);
  EXPECT_FALSE(high.sampler_ok);
  // The recommender, util unset, steps below the default only when needed; at 0.92 with the
  // estimate in the budget gpt-oss passes.
  VllmRequest open = r;
  open.util_x10000.reset();
  open.cudagraph_in_budget = true;
  open.release = 21;  // the 0.92 default
  const VllmPlan plan = vllm_fit(m, open);
  EXPECT_EQ(plan.estimate.util_x10000, vllm_default_util_x10000);
  EXPECT_TRUE(plan.estimate.sampler_ok);
}

TEST(Vllm, FitLowersUtilUntilTheSamplerFits) {
  // A small card with a huge vocabulary: the default 0.92 leaves too little outside the budget.
  ModelSpec s = test::llama31_8b();
  s.n_layer = 4;
  s.n_vocab = 1 << 20;
  VllmRequest r;
  r.gpus = {8 * gib};
  const VllmPlan plan = vllm_fit(bf16_model(s), r);
  EXPECT_LT(plan.estimate.util_x10000, vllm_default_util_x10000);
  EXPECT_TRUE(plan.estimate.sampler_ok);
  EXPECT_EQ(plan.estimate.util_x10000 % 100, 0);
  // One step higher would not have passed.
  VllmRequest higher = r;
  higher.util_x10000 = plan.estimate.util_x10000 + 100;
  higher.max_model_len = plan.estimate.max_model_len;
  EXPECT_FALSE(vllm_estimate(bf16_model(s), higher).sampler_ok);
}

TEST(Vllm, FitPicksTheLargestMaxModelLenThatFits) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r;
  r.gpus = {24 * gib};
  const VllmPlan plan = vllm_fit(m, r);
  ASSERT_TRUE(plan.fits);
  const VllmEstimate& e = plan.estimate;
  EXPECT_LT(e.max_model_len, 131072);
  EXPECT_EQ(e.max_model_len % vllm_block_size, 0);
  EXPECT_EQ(e.max_model_len, e.kv_tokens);
  EXPECT_EQ(e.util_x10000, vllm_default_util_x10000);
  EXPECT_EQ(e.max_num_seqs, 256);  // < 70 GiB
  // 16 tokens more does not fit.
  r.max_model_len = e.max_model_len + vllm_block_size;
  r.util_x10000 = e.util_x10000;
  EXPECT_FALSE(vllm_estimate(m, r).fits());
  // On an 80 GB H100 the whole context fits.
  VllmRequest big;
  big.gpus = {h100};
  const VllmPlan full = vllm_fit(m, big);
  EXPECT_TRUE(full.fits);
  EXPECT_EQ(full.estimate.max_model_len, 131072);
  EXPECT_EQ(full.estimate.max_num_seqs, 1024);
}

TEST(Vllm, NothingFitsSaysWhyAndWhatWould) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r;
  r.gpus = {16 * gib};
  const VllmPlan plan = vllm_fit(m, r);
  EXPECT_FALSE(plan.fits);
  ASSERT_FALSE(plan.reasons.empty());
  const Finding& why = plan.reasons.front();
  EXPECT_EQ(why.kind, FindingKind::vllm_no_kv_room);
  EXPECT_EQ(why.number("over_bytes"), why.number("non_kv_bytes") - why.number("requested_bytes"));
  EXPECT_GT(why.number("over_bytes"), 0);
  bool fp8_fits = false;
  bool tp2_fits = false;
  for (const VllmSuggestion& s : plan.suggestions) {
    if (s.change.kind == FindingKind::vllm_fp8_weights) fp8_fits = s.fits;
    if (s.change.kind == FindingKind::vllm_more_gpus && s.change.number("gpus") == 2) {
      tp2_fits = s.fits && s.max_model_len > 0;
    }
  }
  EXPECT_TRUE(fp8_fits);
  EXPECT_TRUE(tp2_fits);
}

TEST(Vllm, BatchDefaultsFollowGpuSizeAndTheA100Rule) {
  EXPECT_EQ(vllm_batch_defaults(h100, "").max_num_seqs, 1024);
  EXPECT_EQ(vllm_batch_defaults(h100, "NVIDIA H100 80GB HBM3").max_num_batched_tokens, 8192);
  EXPECT_EQ(vllm_batch_defaults(h100, "NVIDIA A100-SXM4-80GB").max_num_seqs, 256);
  EXPECT_EQ(vllm_batch_defaults(24 * gib, "").max_num_batched_tokens, 2048);
}

TEST(Vllm, TensorParallelMustSplitTheHeads) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r;
  r.gpus = {24 * gib, 24 * gib, 24 * gib};
  EXPECT_THROW(static_cast<void>(vllm_estimate(m, r)), Error);
  r.gpus = {24 * gib, 16 * gib};
  EXPECT_THROW(static_cast<void>(vllm_estimate(m, r)), Error);
}

TEST(Vllm, EnforceEagerDropsTheGraphEstimate) {
  VllmRequest r = llmd(1);
  r.cudagraph_in_budget = true;
  const Model m = bf16_model(test::llama31_8b());
  const VllmEstimate graphs = vllm_estimate(m, r);
  r.enforce_eager = true;
  const VllmEstimate eager = vllm_estimate(m, r);
  EXPECT_EQ(graphs.devices.front().cuda_graph, vllm_cuda_graph);
  EXPECT_EQ(eager.devices.front().cuda_graph, 0);
  EXPECT_EQ(eager.devices.front().kv_cache - graphs.devices.front().kv_cache, vllm_cuda_graph);
}

TEST(Vllm, DtypeNamesRoundTrip) {
  for (const VllmDtype d :
       {VllmDtype::checkpoint, VllmDtype::bf16, VllmDtype::fp16, VllmDtype::fp8}) {
    EXPECT_EQ(parse_vllm_dtype(to_string(d)), d);
  }
  EXPECT_EQ(parse_vllm_dtype("bfloat16"), VllmDtype::bf16);
  EXPECT_EQ(parse_vllm_dtype("q4"), std::nullopt);
  EXPECT_EQ(parse_vllm_kv_dtype("fp8"), VllmKvDtype::fp8);
  EXPECT_EQ(parse_vllm_kv_dtype("auto"), VllmKvDtype::model);
  EXPECT_EQ(parse_vllm_kv_dtype("q8_0"), std::nullopt);
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

TEST(Vllm, ReleaseNamesParseToTheImplementedOnes) {
  EXPECT_EQ(parse_vllm_release("0.11"), 11);
  EXPECT_EQ(parse_vllm_release("0.11.2"), 11);
  EXPECT_EQ(parse_vllm_release("v0.21"), 21);
  EXPECT_EQ(parse_vllm_release("0.10.1.1"), std::nullopt);  // not a release spelling vLLM uses
  EXPECT_EQ(parse_vllm_release("0.9"), std::nullopt);       // V0 accounting, not implemented
  EXPECT_EQ(parse_vllm_release("0.22"), std::nullopt);
  EXPECT_EQ(parse_vllm_release("1.0"), std::nullopt);
  EXPECT_EQ(parse_vllm_release("0.11x"), std::nullopt);
  EXPECT_EQ(parse_vllm_release(""), std::nullopt);
  EXPECT_EQ(vllm_release_name(17), "0.17");
  EXPECT_EQ(vllm_known_releases().rfind("0.10, 0.11", 0), 0U);
}

TEST(Vllm, RulesChangeAtTheReleasesThatChangedThem) {
  EXPECT_EQ(vllm_rules(16).activation_per_logit_x10, vllm_activation_per_logit_old_x10);
  EXPECT_EQ(vllm_rules(17).activation_per_logit_x10, vllm_activation_per_logit_x10);
  EXPECT_EQ(vllm_rules(20).default_util_x10000, 9000);
  EXPECT_FALSE(vllm_rules(20).cudagraph_in_budget);
  EXPECT_EQ(vllm_rules(21).default_util_x10000, 9200);
  EXPECT_TRUE(vllm_rules(21).cudagraph_in_budget);
  // The same request planned with 0.16 rules leaves less KV (a larger profiling peak).
  VllmRequest r = llmd(1);
  const Model m = bf16_model(test::llama31_8b());
  const VllmEstimate now = vllm_estimate(m, r);
  r.release = 16;
  const VllmEstimate old = vllm_estimate(m, r);
  EXPECT_GT(old.devices.front().activation, now.devices.front().activation);
  EXPECT_LT(old.devices.front().kv_cache, now.devices.front().kv_cache);
  EXPECT_EQ(old.release, 16);
}

// profile_run keeps the dummy batch's hidden states (max_num_batched_tokens x hidden size,
// 16-bit) alive through the sampler run: the peak grows with both, and a wider model logs more
// (Llama-3.3-70B 1.96 GiB vs Llama-3.1-8B 1.89 on 0.19, same vocabulary and batch).
TEST(Vllm, ActivationHoldsTheDummyBatchHiddenStates) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r = llmd(1);
  r.max_num_batched_tokens = 8192;
  const Bytes at_8k = vllm_estimate(m, r).devices.front().activation;
  r.max_num_batched_tokens = 2048;
  const Bytes at_2k = vllm_estimate(m, r).devices.front().activation;
  EXPECT_EQ(at_8k - at_2k, (8192 - 2048) * m.spec.n_embd * 2);
  ModelSpec wide = test::llama31_8b();
  wide.n_embd *= 2;  // 8192, as the 70B models
  wide.n_ff *= 2;
  r.max_num_batched_tokens = 8192;
  const Bytes wider = vllm_estimate(bf16_model(wide), r).devices.front().activation;
  EXPECT_EQ(wider - at_8k, 8192 * 4096 * 2);
  EXPECT_NEAR(in_gib(wider), 1.96, 0.02);
}

// The MoE margin of the profiling peak belongs to the bf16/fp8 fused-MoE path: gpt-oss's MXFP4
// experts log none (7.38 GiB on 0.11 and 2.87 on 0.19 are the logits and hidden states alone).
TEST(Vllm, MoeActivationMarginIsNotAppliedToMxfp4Experts) {
  const Model mxfp4 = bf16_model(test::gpt_oss_20b());
  Model bf16 = mxfp4;
  int retyped = 0;
  for (TensorInfo& t : bf16.tensors) {
    if (t.type == GgmlType::mxfp4) {
      t.type = GgmlType::bf16;
      ++retyped;
    }
  }
  ASSERT_GT(retyped, 0);
  const VllmRequest r = llmd(2);
  const Bytes with_margin = vllm_estimate(bf16, r).devices.front().activation;
  const Bytes without = vllm_estimate(mxfp4, r).devices.front().activation;
  EXPECT_EQ(with_margin - without, vllm_activation_moe);
  EXPECT_NEAR(in_gib(without), 2.87, 0.05);  // gpt-oss-20b TP 2 on 0.19, logged
}

TEST(Vllm, IntQuantFormatsParseAndPrintBack) {
  const std::optional<VllmIntQuant> gptq = parse_vllm_int_quant("gptq");
  ASSERT_TRUE(gptq.has_value());
  EXPECT_EQ(*gptq, (VllmIntQuant{.bits = 4, .group_size = 128}));
  EXPECT_EQ(parse_vllm_int_quant("w4a16"), gptq);
  const std::optional<VllmIntQuant> awq = parse_vllm_int_quant("AWQ-g64");
  ASSERT_TRUE(awq.has_value());
  EXPECT_TRUE(awq->zero_points);
  EXPECT_EQ(awq->group_size, 64);
  const std::optional<VllmIntQuant> int8 = parse_vllm_int_quant("w8a16-gchannel-act");
  ASSERT_TRUE(int8.has_value());
  EXPECT_EQ(*int8,
            (VllmIntQuant{.bits = 8, .group_size = -1, .zero_points = false, .act_order = true}));
  for (const char* text : {"gptq-g128", "awq-g64", "gptq-int8-gchannel-act", "gptq-g32-act"}) {
    const std::optional<VllmIntQuant> q = parse_vllm_int_quant(text);
    ASSERT_TRUE(q.has_value()) << text;
    EXPECT_EQ(to_string(*q), text);
  }
  for (const char* bad : {"", "fp8", "gptq-g", "gptq-g0", "gptq-g99999999", "awq-act",
                          "gptq-act-g128", "gptq-g128x", "exl2"}) {
    EXPECT_EQ(parse_vllm_int_quant(bad), std::nullopt) << bad;
  }
}

// A GPTQ request plans the quantized linears and reports the format; fit does not suggest fp8
// weights for it (its linears are already smaller).
TEST(Vllm, IntQuantRequestIsPlannedAndNotOfferedFp8Weights) {
  const Model m = bf16_model(test::llama31_8b());
  VllmRequest r;
  r.gpus = {8 * gib};
  r.max_model_len = 131072;
  const VllmPlan bf16 = vllm_fit(m, r);
  r.int_quant = VllmIntQuant{};
  const VllmPlan gptq = vllm_fit(m, r);
  ASSERT_TRUE(gptq.estimate.int_quant.has_value());
  EXPECT_EQ(to_string(*gptq.estimate.int_quant), "gptq-g128");
  EXPECT_LT(gptq.estimate.devices.front().weights, bf16.estimate.devices.front().weights / 2);
  auto offers_fp8 = [](const VllmPlan& p) {
    return std::any_of(p.suggestions.begin(), p.suggestions.end(), [](const VllmSuggestion& s) {
      return s.change.kind == FindingKind::vllm_fp8_weights;
    });
  };
  EXPECT_TRUE(offers_fp8(bf16));
  EXPECT_FALSE(gptq.fits);
  EXPECT_FALSE(offers_fp8(gptq));
}

// An FFN-only FP8 checkpoint (Meta's Llama-3.1-405B FP8) keeps the attention projections and
// the first and last layers in bf16: between online fp8 and bf16, by exactly those tensors.
TEST(Vllm, Fp8FfnOnlyKeepsAttentionAndTheEdgeLayersSixteenBit) {
  const Model m = bf16_model(test::llama31_8b());
  const ModelSpec& s = m.spec;
  const Bytes all_fp8 = vllm_rank_weight_bytes(m, 1, true);
  const Bytes ffn_fp8 = vllm_rank_weight_bytes_fp8_ffn(m, 1);
  // Kept 16-bit: q/k/v/o of every layer (one extra byte per element) and the FFN of two layers.
  const std::int64_t attn =
      s.n_embd * (s.n_head * s.head_dim_k()) * 2 + s.n_embd * (s.n_head_kv * s.head_dim_k()) * 2;
  const std::int64_t ffn = 3 * s.n_embd * s.n_ff;
  EXPECT_EQ(ffn_fp8 - all_fp8, s.n_layer * attn + 2 * ffn);
  EXPECT_LT(ffn_fp8, vllm_rank_weight_bytes(m, 1, false));
  VllmRequest r = llmd(1);
  r.dtype = VllmDtype::fp8;
  const Bytes online = vllm_estimate(m, r).devices.front().weights;
  r.fp8_ffn_only = true;
  EXPECT_EQ(vllm_estimate(m, r).devices.front().weights - online, ffn_fp8 - all_fp8);
}

TEST(Vllm, SlidingWindowLayersAreGroupedAndCapped) {
  // gpt-oss-20b: 12 sliding (window 128) + 12 full layers -> 2 groups of 12 layers.
  const ModelSpec s = test::gpt_oss_20b();
  const VllmKvLayout layout = vllm_kv_layout(s, 2, 2);
  EXPECT_TRUE(layout.hybrid);
  EXPECT_EQ(layout.group_size, 12);
  EXPECT_EQ(layout.full_groups, 1);
  EXPECT_EQ(layout.swa_groups, 1);
  EXPECT_EQ(layout.window, 128);
  // A full group holds ceil(len / 16) blocks, a sliding one ceil(min(w - 1 + batched, len)/16)+1.
  EXPECT_EQ(vllm_blocks_per_request(layout, 8192, 8192), 512 + 513);
  EXPECT_EQ(vllm_blocks_per_request(layout, 131072, 2048), 8192 + 137);
}

}  // namespace
}  // namespace vramplan
