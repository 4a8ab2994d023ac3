#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>
#include <vramplan/tensors.hpp>

#include "support/specs.hpp"

namespace vramplan {
namespace {

using test::deepseek_v3;  // tests/support/specs.hpp
using test::gpt_oss_20b;
using test::llama31_8b;

// Qwen/Qwen2.5-0.5B-Instruct (its config.json on Hugging Face).
ModelSpec qwen25_05b() {
  ModelSpec s;
  s.arch = "qwen2";
  s.n_layer = 24;
  s.n_embd = 896;
  s.n_ff = 4864;
  s.n_head = 14;
  s.n_head_kv = 2;
  s.n_vocab = 151936;
  s.n_ctx_train = 32768;
  s.tied_embeddings = true;
  return s;
}

// openai/gpt-oss-20b: n_embd 2880 is not a multiple of 256.

ModelSpec gemma2_2b() {
  ModelSpec s;
  s.arch = "gemma2";
  s.n_layer = 26;
  s.n_embd = 2304;
  s.n_ff = 9216;
  s.n_head = 8;
  s.n_head_kv = 4;
  s.key_length = 256;
  s.value_length = 256;
  s.n_vocab = 256000;
  s.tied_embeddings = true;
  return s;
}

const TensorInfo* find(const std::vector<TensorInfo>& tensors, const std::string& name) {
  const auto it = std::find_if(tensors.begin(), tensors.end(),
                               [&](const TensorInfo& t) { return t.name == name; });
  return it == tensors.end() ? nullptr : &*it;
}

GgmlType type_of(const std::vector<TensorInfo>& tensors, const std::string& name) {
  const TensorInfo* t = find(tensors, name);
  if (t == nullptr) throw Error(ErrorKind::internal, "test: no tensor " + name);
  return t->type;
}

Bytes total_bytes(const std::vector<TensorInfo>& tensors) {
  Bytes total = 0;
  for (const TensorInfo& t : tensors) total += t.bytes();
  return total;
}

TEST(Tensors, ParameterCountLlama31Is8030261248) {
  EXPECT_EQ(parameter_count(generate_tensors(llama31_8b(), FileType::mostly_f16)), 8'030'261'248);
}

TEST(Tensors, ParameterCountQwen25HalfBIs494032768) {
  EXPECT_EQ(parameter_count(generate_tensors(qwen25_05b(), FileType::mostly_f16)), 494'032'768);
}

// google/embeddinggemma-300m (test::embeddinggemma_300m): gemma3 blocks, no output head, and the
// sentence-transformers projections 768 -> 3072 -> 768 that Ollama's file carries.
TEST(Tensors, EmbeddingGemmaHasDenseProjectionsAndNoOutputHead) {
  const std::vector<TensorInfo> t =
      generate_tensors(test::embeddinggemma_300m(), FileType::mostly_bf16);
  // 302,863,104 in the blocks, embeddings and norms, 2 x 768 x 3072 in the projections.
  EXPECT_EQ(parameter_count(t), 307'581'696);
  ASSERT_NE(find(t, "dense_2.weight"), nullptr);
  EXPECT_EQ(find(t, "dense_2.weight")->ne[0], 768);
  EXPECT_EQ(find(t, "dense_2.weight")->ne[1], 3072);
  ASSERT_NE(find(t, "dense_3.weight"), nullptr);
  EXPECT_EQ(find(t, "dense_3.weight")->ne[0], 3072);
  EXPECT_EQ(find(t, "output.weight"), nullptr);
  EXPECT_NE(find(t, "output_norm.weight"), nullptr);
  EXPECT_NE(find(t, "blk.0.attn_q_norm.weight"), nullptr);
  EXPECT_NE(find(t, "blk.23.post_ffw_norm.weight"), nullptr);
  EXPECT_EQ(find(t, "token_types.weight"), nullptr);  // not an encoder's extra tensors
}

TEST(Tensors, ParameterCountDoesNotDependOnFileType) {
  const ModelSpec spec = llama31_8b();
  EXPECT_EQ(parameter_count(generate_tensors(spec, FileType::mostly_q4_k_m)),
            parameter_count(generate_tensors(spec, FileType::all_f32)));
}

// llama.cpp tools/quantize/README.md sizes for Llama-3.1-8B. The published
// figures are file sizes; a file adds a header of ~5-8 MB (mostly the 128k-token
// vocabulary), well inside the 0.5 % tolerance, so tensor bytes alone are compared.
struct PublishedSize {
  FileType ftype;
  double gib;
};

class Llama31Sizes : public ::testing::TestWithParam<PublishedSize> {};

TEST_P(Llama31Sizes, MatchTheQuantizeReadmeWithinHalfAPercent) {
  const PublishedSize p = GetParam();
  const double gib = static_cast<double>(total_bytes(generate_tensors(llama31_8b(), p.ftype))) /
                     static_cast<double>(vramplan::gib);
  EXPECT_NEAR(gib, p.gib, p.gib * 0.005) << to_string(p.ftype);
}

INSTANTIATE_TEST_SUITE_P(
    Readme, Llama31Sizes,
    ::testing::Values(
        PublishedSize{FileType::mostly_q4_k_m, 4.58}, PublishedSize{FileType::mostly_q8_0, 7.95},
        PublishedSize{FileType::mostly_q6_k, 6.14}, PublishedSize{FileType::mostly_q5_k_m, 5.33},
        PublishedSize{FileType::mostly_q5_k_s, 5.21}, PublishedSize{FileType::mostly_q4_k_s, 4.36},
        PublishedSize{FileType::mostly_q3_k_l, 4.02}, PublishedSize{FileType::mostly_q3_k_s, 3.41},
        PublishedSize{FileType::mostly_q2_k, 2.95}, PublishedSize{FileType::mostly_iq4_xs, 4.17},
        PublishedSize{FileType::mostly_iq4_nl, 4.38},
        PublishedSize{FileType::mostly_iq3_xxs, 3.04},  // imatrix assumed
        PublishedSize{FileType::mostly_iq2_xxs, 2.23}, PublishedSize{FileType::mostly_f16, 14.96}));

TEST(Tensors, Q4KMBumpsAttnVAndFfnDownOnMoreBitsLayers) {
  const auto t = generate_tensors(llama31_8b(), FileType::mostly_q4_k_m);
  // use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2.
  EXPECT_EQ(type_of(t, "blk.0.attn_v.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.1.attn_v.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.4.attn_v.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.6.attn_v.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.31.ffn_down.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.5.ffn_down.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.5.attn_q.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.5.ffn_gate.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "output.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "token_embd.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.0.attn_norm.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "output_norm.weight"), GgmlType::f32);
}

TEST(Tensors, Q4KMWithOneMoreBitsLayerCountOf4Plus4Plus8) {
  const auto t = generate_tensors(llama31_8b(), FileType::mostly_q4_k_m);
  int q6 = 0;
  for (const TensorInfo& x : t) {
    if (x.name.ends_with("attn_v.weight") && x.type == GgmlType::q6_k) ++q6;
  }
  EXPECT_EQ(q6, 16);  // 4 first + 4 last + 8 of the 24 in between
}

TEST(Tensors, QuantizeCountersFollowBlockOrderNotNameOrder) {
  // With 12 blocks, name order would visit blk.10 before blk.2.
  ModelSpec s = llama31_8b();
  s.n_layer = 12;
  const auto t = generate_tensors(s, FileType::mostly_q4_k_m);
  // use_more_bits(i, 12): i < 1, i >= 10, or (i - 1) % 3 == 2 -> 0, 3, 6, 9, 10, 11.
  EXPECT_EQ(type_of(t, "blk.2.attn_v.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.3.attn_v.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.10.attn_v.weight"), GgmlType::q6_k);
}

TEST(Tensors, Q4KSAndQ3KMUseTheirOwnLayerRules) {
  const auto s = generate_tensors(llama31_8b(), FileType::mostly_q4_k_s);
  EXPECT_EQ(type_of(s, "blk.3.attn_v.weight"), GgmlType::q5_k);
  EXPECT_EQ(type_of(s, "blk.4.attn_v.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(s, "blk.3.ffn_down.weight"), GgmlType::q5_k);
  EXPECT_EQ(type_of(s, "blk.4.ffn_down.weight"), GgmlType::q4_k);
  const auto m = generate_tensors(llama31_8b(), FileType::mostly_q3_k_m);
  EXPECT_EQ(type_of(m, "blk.1.attn_v.weight"), GgmlType::q5_k);
  EXPECT_EQ(type_of(m, "blk.2.attn_v.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(m, "blk.1.ffn_down.weight"), GgmlType::q5_k);
  EXPECT_EQ(type_of(m, "blk.2.ffn_down.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(m, "blk.2.attn_output.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(m, "blk.2.attn_q.weight"), GgmlType::q3_k);
}

TEST(Tensors, Q2KRaisesAttnVForGqaAndFfnDown) {
  const auto t = generate_tensors(llama31_8b(), FileType::mostly_q2_k);
  EXPECT_EQ(type_of(t, "blk.9.attn_v.weight"), GgmlType::q4_k);  // n_gqa 4
  EXPECT_EQ(type_of(t, "blk.9.ffn_down.weight"), GgmlType::q3_k);
  EXPECT_EQ(type_of(t, "blk.9.attn_output.weight"), GgmlType::q3_k);
  EXPECT_EQ(type_of(t, "blk.9.ffn_up.weight"), GgmlType::q2_k);
}

TEST(Tensors, LegacyQuantsGetAQ6KOutput) {
  const auto t = generate_tensors(llama31_8b(), FileType::mostly_q4_0);
  EXPECT_EQ(type_of(t, "output.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "token_embd.weight"), GgmlType::q4_0);
  EXPECT_EQ(type_of(t, "blk.0.attn_v.weight"), GgmlType::q4_0);
  const auto q8 = generate_tensors(llama31_8b(), FileType::mostly_q8_0);
  EXPECT_EQ(type_of(q8, "output.weight"), GgmlType::q8_0);
}

TEST(Tensors, SeventyBGqaModelsGetQ5KAttnV) {
  ModelSpec s = llama31_8b();
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_ff = 28672;
  s.n_head = 64;
  const auto t = generate_tensors(s, FileType::mostly_q4_k_m);
  EXPECT_EQ(type_of(t, "blk.20.attn_v.weight"), GgmlType::q5_k);  // not a more-bits layer
  EXPECT_EQ(type_of(t, "blk.0.attn_v.weight"), GgmlType::q6_k);
}

TEST(Tensors, MixtralEightExpertsGetQ8AttnVAndK) {
  ModelSpec s = llama31_8b();
  s.n_vocab = 32000;
  s.moe.n_expert = 8;
  s.moe.n_expert_used = 2;
  const auto t = generate_tensors(s, FileType::mostly_q4_k_m);
  EXPECT_EQ(type_of(t, "blk.3.attn_v.weight"), GgmlType::q8_0);
  EXPECT_EQ(type_of(t, "blk.3.attn_k.weight"), GgmlType::q8_0);
  EXPECT_EQ(type_of(t, "blk.3.attn_output.weight"), GgmlType::q5_k);
  EXPECT_EQ(type_of(t, "blk.3.ffn_gate_inp.weight"), GgmlType::f32);
  const TensorInfo* exps = find(t, "blk.3.ffn_down_exps.weight");
  ASSERT_NE(exps, nullptr);
  EXPECT_EQ(exps->ne, (std::array<std::int64_t, 4>{14336, 4096, 8, 1}));
  EXPECT_EQ(exps->type, GgmlType::q6_k);  // block 3 is a more-bits layer (i < 32/8)
  EXPECT_EQ(type_of(t, "blk.5.ffn_down_exps.weight"), GgmlType::q4_k);
  EXPECT_EQ(find(t, "blk.3.ffn_gate.weight"), nullptr);
}

TEST(Tensors, RowsNotAMultipleOf256FallBack) {
  const auto t = generate_tensors(gpt_oss_20b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(type_of(t, "blk.4.attn_q.weight"), GgmlType::q5_0);       // q4_K -> q5_0
  EXPECT_EQ(type_of(t, "blk.0.attn_v.weight"), GgmlType::q8_0);       // q6_K -> q8_0
  EXPECT_EQ(type_of(t, "blk.4.attn_output.weight"), GgmlType::q4_k);  // row 4096 fits
  EXPECT_EQ(type_of(t, "output.weight"), GgmlType::q8_0);
  EXPECT_EQ(type_of(t, "token_embd.weight"), GgmlType::q5_0);
  EXPECT_EQ(type_of(t, "blk.4.ffn_down_exps.weight"), GgmlType::mxfp4);  // shipped MXFP4
  const auto q5 = generate_tensors(gpt_oss_20b(), FileType::mostly_q5_k_s);
  EXPECT_EQ(type_of(q5, "blk.4.attn_q.weight"), GgmlType::q5_1);  // q5_K -> q5_1
  const auto q2 = generate_tensors(gpt_oss_20b(), FileType::mostly_q3_k_s);
  EXPECT_EQ(type_of(q2, "blk.4.attn_q.weight"), GgmlType::q4_0);  // q3_K -> q4_0
}

TEST(Tensors, Mxfp4MoeIsMxfp4ExpertsAndQ8Elsewhere) {
  const auto t = generate_tensors(gpt_oss_20b(), FileType::mostly_mxfp4_moe);
  for (const TensorInfo& x : t) {
    const bool kept_f32 = x.ne[1] == 1 || x.name.ends_with(".bias") ||
                          x.name.find("ffn_gate_inp") != std::string::npos;
    if (kept_f32) {
      EXPECT_EQ(x.type, GgmlType::f32) << x.name;
    } else if (x.ne[2] > 1) {
      EXPECT_EQ(x.type, GgmlType::mxfp4) << x.name;
    } else {
      EXPECT_EQ(x.type, GgmlType::q8_0) << x.name;
    }
  }
}

TEST(Tensors, FloatFilesKeepNormsBiasesAndRouterInF32) {
  const auto t = generate_tensors(gpt_oss_20b(), FileType::mostly_bf16);
  EXPECT_EQ(type_of(t, "blk.0.attn_q.weight"), GgmlType::bf16);
  EXPECT_EQ(type_of(t, "blk.0.attn_q.bias"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ffn_gate_inp.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ffn_up_exps.bias"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.attn_sinks.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ffn_up_exps.weight"), GgmlType::mxfp4);
  const auto f32 = generate_tensors(llama31_8b(), FileType::all_f32);
  EXPECT_EQ(type_of(f32, "token_embd.weight"), GgmlType::f32);
}

TEST(Tensors, TiedModelHasNoOutputAndItsEmbeddingTakesTheOutputType) {
  const auto t = generate_tensors(qwen25_05b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(find(t, "output.weight"), nullptr);
  // 896 is not a multiple of 256: the head rule picks q8_0.
  EXPECT_EQ(type_of(t, "token_embd.weight"), GgmlType::q8_0);
  const auto g = generate_tensors(gemma2_2b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(find(g, "output.weight"), nullptr);
  EXPECT_EQ(type_of(g, "token_embd.weight"), GgmlType::q6_k);
}

TEST(Tensors, LayoutsFollowTheGgufOrder) {
  const auto t = generate_tensors(llama31_8b(), FileType::mostly_q4_k_m);
  ASSERT_EQ(t.size(), 2u + 32u * 9u + 1u);
  EXPECT_EQ(t.front().name, "token_embd.weight");
  EXPECT_EQ(t.front().ne, (std::array<std::int64_t, 4>{4096, 128256, 1, 1}));
  EXPECT_EQ(t[t.size() - 2].name, "output_norm.weight");
  EXPECT_EQ(t.back().name, "output.weight");
  const TensorInfo* k = find(t, "blk.7.attn_k.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->ne, (std::array<std::int64_t, 4>{4096, 1024, 1, 1}));
  const TensorInfo* down = find(t, "blk.7.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne, (std::array<std::int64_t, 4>{14336, 4096, 1, 1}));
}

TEST(Tensors, ArchitectureSpecificTensorsExist) {
  const auto g2 = generate_tensors(gemma2_2b(), FileType::mostly_f16);
  EXPECT_NE(find(g2, "blk.0.post_ffw_norm.weight"), nullptr);
  EXPECT_NE(find(g2, "blk.0.post_attention_norm.weight"), nullptr);
  EXPECT_EQ(find(g2, "blk.0.attn_q_norm.weight"), nullptr);

  ModelSpec g3 = gemma2_2b();
  g3.arch = "gemma3";
  const auto t3 = generate_tensors(g3, FileType::mostly_f16);
  const TensorInfo* qn = find(t3, "blk.0.attn_q_norm.weight");
  ASSERT_NE(qn, nullptr);
  EXPECT_EQ(qn->ne[0], 256);

  const auto q2 = generate_tensors(qwen25_05b(), FileType::mostly_f16);
  const TensorInfo* bq = find(q2, "blk.0.attn_q.bias");
  ASSERT_NE(bq, nullptr);
  EXPECT_EQ(bq->ne[0], 896);
  EXPECT_EQ(bq->type, GgmlType::f32);

  ModelSpec q3 = qwen25_05b();
  q3.arch = "qwen3";
  const auto t = generate_tensors(q3, FileType::mostly_f16);
  EXPECT_NE(find(t, "blk.0.attn_k_norm.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.0.attn_q.bias"), nullptr);
}

TEST(Tensors, Phi3HasFusedQkvAndGateUp) {
  ModelSpec s;  // microsoft/Phi-3-mini-4k-instruct
  s.arch = "phi3";
  s.n_layer = 32;
  s.n_embd = 3072;
  s.n_ff = 8192;
  s.n_head = 32;
  s.n_head_kv = 32;
  s.n_vocab = 32064;
  const auto t = generate_tensors(s, FileType::mostly_q4_k_m);
  const TensorInfo* qkv = find(t, "blk.0.attn_qkv.weight");
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->ne, (std::array<std::int64_t, 4>{3072, 9216, 1, 1}));
  const TensorInfo* up = find(t, "blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->ne, (std::array<std::int64_t, 4>{3072, 16384, 1, 1}));
  EXPECT_EQ(find(t, "blk.0.ffn_gate.weight"), nullptr);
  // llama-quant.cpp treats attn_qkv as attn_v-like (category_is_attn_v).
  EXPECT_EQ(qkv->type, GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.4.attn_qkv.weight"), GgmlType::q4_k);
  EXPECT_EQ(parameter_count(t), 3'821'079'552);  // Phi-3-mini: 3.82 B
}

TEST(Tensors, DeepseekV3HasMlaSplitKvBAndSharedExperts) {
  const auto t = generate_tensors(deepseek_v3(), FileType::mostly_q4_k_m);
  EXPECT_NE(find(t, "blk.0.ffn_gate.weight"), nullptr);  // leading dense block
  EXPECT_EQ(find(t, "blk.0.ffn_gate_exps.weight"), nullptr);
  const TensorInfo* kb = find(t, "blk.3.attn_k_b.weight");
  ASSERT_NE(kb, nullptr);
  EXPECT_EQ(kb->ne, (std::array<std::int64_t, 4>{128, 512, 128, 1}));
  EXPECT_EQ(kb->type, GgmlType::q5_0);  // row of 128: q4_K falls back
  const TensorInfo* vb = find(t, "blk.3.attn_v_b.weight");
  ASSERT_NE(vb, nullptr);
  EXPECT_EQ(vb->ne, (std::array<std::int64_t, 4>{512, 128, 128, 1}));
  EXPECT_NE(find(t, "blk.3.exp_probs_b.bias"), nullptr);
  const TensorInfo* sh = find(t, "blk.3.ffn_down_shexp.weight");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->ne, (std::array<std::int64_t, 4>{2048, 7168, 1, 1}));
  const TensorInfo* qb = find(t, "blk.3.attn_q_b.weight");
  ASSERT_NE(qb, nullptr);
  EXPECT_EQ(qb->ne, (std::array<std::int64_t, 4>{1536, 128 * 192, 1, 1}));
  // 671 B total parameters without the MTP block (DeepSeek-V3 README: 671B + 14B MTP).
  const double billions = static_cast<double>(parameter_count(t)) / 1e9;
  EXPECT_NEAR(billions, 671.0, 1.0);
}

TEST(Tensors, EncodersHaveTokenTypesAndNoHead) {
  ModelSpec s;  // nomic-ai/nomic-embed-text-v1.5
  s.arch = "nomic-bert";
  s.n_layer = 12;
  s.n_embd = 768;
  s.n_ff = 3072;
  s.n_head = 12;
  s.n_head_kv = 12;
  s.n_vocab = 30522;
  s.n_ctx_train = 2048;
  s.causal = false;
  const auto t = generate_tensors(s, FileType::mostly_f16);
  EXPECT_NE(find(t, "token_types.weight"), nullptr);
  EXPECT_NE(find(t, "blk.0.attn_qkv.weight"), nullptr);
  EXPECT_EQ(find(t, "position_embd.weight"), nullptr);
  EXPECT_EQ(find(t, "output.weight"), nullptr);
  EXPECT_EQ(find(t, "output_norm.weight"), nullptr);
  EXPECT_EQ(parameter_count(t), 136'727'040);  // nomic-embed-text-v1.5: 136.7 M

  s.arch = "bert";  // sentence-transformers/all-MiniLM-L6-v2
  s.n_layer = 6;
  s.n_embd = 384;
  s.n_ff = 1536;
  s.n_ctx_train = 512;
  const auto b = generate_tensors(s, FileType::mostly_q4_k_m);
  EXPECT_EQ(type_of(b, "position_embd.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(b, "token_types.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(b, "blk.0.attn_q.weight"), GgmlType::q5_0);  // 384 % 256 != 0
  EXPECT_EQ(type_of(b, "token_embd.weight"), GgmlType::q8_0);    // no head: treated as tied
  EXPECT_EQ(parameter_count(b), 22'565'376);  // all-MiniLM-L6-v2 without its pooler
}

// Pieces only one family has, read from src/models/command-r.cpp, llama4.cpp, starcoder2.cpp.
TEST(Tensors, FamilyPiecesFollowTheirLoaders) {
  ModelSpec c;  // CohereForAI/c4ai-command-r-plus: 64 blocks, 2-D per-head Q/K norms
  c.arch = "command-r";
  c.n_layer = 64;
  c.n_embd = 12288;
  c.n_ff = 33792;
  c.n_head = 96;
  c.n_head_kv = 8;
  c.n_vocab = 256000;
  c.tied_embeddings = true;
  const auto plus = generate_tensors(c, FileType::mostly_f16);
  const TensorInfo* qn = find(plus, "blk.0.attn_q_norm.weight");
  ASSERT_NE(qn, nullptr);
  EXPECT_EQ(qn->ne, (std::array<std::int64_t, 4>{128, 96, 1, 1}));
  const TensorInfo* kn = find(plus, "blk.0.attn_k_norm.weight");
  ASSERT_NE(kn, nullptr);
  EXPECT_EQ(kn->ne, (std::array<std::int64_t, 4>{128, 8, 1, 1}));
  EXPECT_EQ(find(plus, "blk.0.ffn_norm.weight"), nullptr);  // parallel attention and FFN
  EXPECT_EQ(find(plus, "output.weight"), nullptr);
  c.n_layer = 40;  // Command-R: no Q/K norms
  EXPECT_EQ(find(generate_tensors(c, FileType::mostly_f16), "blk.0.attn_q_norm.weight"), nullptr);

  ModelSpec l4;  // Llama-4-Maverick-style: experts on every second block, one shared expert
  l4.arch = "llama4";
  l4.n_layer = 4;
  l4.n_embd = 512;
  l4.n_ff = 2048;
  l4.n_head = 8;
  l4.n_head_kv = 2;
  l4.n_vocab = 1000;
  l4.moe = Moe{.n_expert = 16, .n_expert_used = 1, .n_ff_exp = 1024, .every_n = 2};
  const auto t4 = generate_tensors(l4, FileType::mostly_f16);
  EXPECT_NE(find(t4, "blk.0.ffn_gate.weight"), nullptr);
  EXPECT_EQ(find(t4, "blk.0.ffn_gate_exps.weight"), nullptr);
  const TensorInfo* sh = find(t4, "blk.1.ffn_up_shexp.weight");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->ne, (std::array<std::int64_t, 4>{512, 1024, 1, 1}));
  const TensorInfo* ex = find(t4, "blk.3.ffn_down_exps.weight");
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ(ex->ne, (std::array<std::int64_t, 4>{1024, 512, 16, 1}));

  ModelSpec sc = l4;  // starcoder2: LayerNorm biases, biased projections, no gate
  sc.arch = "starcoder2";
  sc.moe = Moe{};
  const auto t2 = generate_tensors(sc, FileType::mostly_f16);
  for (const char* name :
       {"blk.0.attn_norm.bias", "blk.0.attn_k.bias", "blk.0.attn_output.bias",
        "blk.0.ffn_norm.bias", "blk.0.ffn_up.bias", "blk.0.ffn_down.bias", "output_norm.bias"}) {
    EXPECT_NE(find(t2, name), nullptr) << name;
  }
  EXPECT_EQ(find(t2, "blk.0.ffn_gate.weight"), nullptr);
  const TensorInfo* kb = find(t2, "blk.0.attn_k.bias");
  ASSERT_NE(kb, nullptr);
  EXPECT_EQ(kb->ne[0], 2 * 64);  // two KV heads of 512 / 8
}

// phi2 (src/models/phi2.cpp): LayerNorm biases, a biased fused QKV, parallel attention and
// FFN (no ffn_norm), a biased GELU FFN and a biased output head; microsoft/phi-2's shape gives
// its published 2,779,683,840 parameters.
TEST(Tensors, Phi2FollowsItsLoader) {
  const ModelSpec s = test::phi2_2b7();
  const auto t = generate_tensors(s, FileType::mostly_f16);
  EXPECT_EQ(parameter_count(t), 2'779'683'840);
  const TensorInfo* qkv = find(t, "blk.0.attn_qkv.bias");
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(qkv->ne[0], 3 * 2560);
  const TensorInfo* ob = find(t, "output.bias");
  ASSERT_NE(ob, nullptr);
  EXPECT_EQ(ob->ne[0], 51200);
  for (const char* name : {"blk.0.attn_norm.bias", "blk.0.attn_output.bias", "blk.0.ffn_up.bias",
                           "blk.0.ffn_down.bias", "output_norm.bias"}) {
    EXPECT_NE(find(t, name), nullptr) << name;
  }
  EXPECT_EQ(find(t, "blk.0.ffn_norm.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.0.ffn_gate.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.0.attn_q.weight"), nullptr);
}

// The text models of the vision families are their base family's layout: mistral3 is llama's
// (src/models/mistral3.cpp), qwen2vl/qwen25vl qwen2's, qwen3vl qwen3's; the towers are projectors.
TEST(Tensors, VisionTextModelsKeepTheirBaseLayouts) {
  const auto names = [](const ModelSpec& s) {
    std::vector<std::pair<std::string, std::array<std::int64_t, 4>>> out;
    for (const TensorInfo& t : generate_tensors(s, FileType::mostly_q4_k_m)) {
      out.emplace_back(t.name, t.ne);
    }
    return out;
  };
  for (const auto& [base, vision] :
       {std::pair{"llama", "mistral3"}, std::pair{"qwen2", "qwen2vl"},
        std::pair{"qwen2", "qwen25vl"}, std::pair{"qwen3", "qwen3vl"}}) {
    ModelSpec a = llama31_8b();
    a.arch = base;
    ModelSpec b = a;
    b.arch = vision;
    EXPECT_EQ(names(a), names(b)) << vision;
  }
}

// The tensors of granite-4.0-h-tiny as a gguf-dump lists them (tests/support/specs.hpp names
// the dump): 666 tensors, the Mamba2 mixer's shapes, the conv kernel kept in F32.
TEST(Tensors, GraniteHybridFollowsTheTinyHFile) {
  const std::vector<TensorInfo> t =
      generate_tensors(test::granite4_tiny_h(), FileType::mostly_q4_k_m);
  EXPECT_EQ(t.size(), 666U);
  const auto shape = [&](const std::string& name) {
    const TensorInfo* info = find(t, name);
    return info == nullptr ? std::array<std::int64_t, 4>{} : info->ne;
  };
  using S = std::array<std::int64_t, 4>;
  EXPECT_EQ(shape("blk.0.ssm_in.weight"), (S{1536, 6448, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_conv1d.weight"), (S{4, 3328, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_conv1d.bias"), (S{3328, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_a"), (S{1, 48, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_d"), (S{1, 48, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_dt.bias"), (S{48, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_norm.weight"), (S{3072, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_out.weight"), (S{3072, 1536, 1, 1}));
  EXPECT_EQ(shape("blk.0.ffn_gate_exps.weight"), (S{1536, 512, 64, 1}));
  EXPECT_EQ(shape("blk.0.ffn_down_shexp.weight"), (S{1024, 1536, 1, 1}));
  EXPECT_EQ(shape("blk.5.attn_k.weight"), (S{1536, 512, 1, 1}));
  EXPECT_EQ(find(t, "blk.0.attn_q.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.5.ssm_in.weight"), nullptr);
  EXPECT_EQ(find(t, "output.weight"), nullptr);
  EXPECT_EQ(type_of(t, "blk.0.ssm_conv1d.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ssm_a"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ssm_in.weight"), GgmlType::q4_k);
}

// Granite 4.0 H 350M has no experts: llama.cpp's LLM_ARCH_GRANITE_HYBRID loader (the n_expert
// == 0 branch) gives every block, Mamba2 or attention, a dense ffn_gate/ffn_up/ffn_down of
// feed_forward_length and no router. Summing that loader's shapes by hand: 28 Mamba2 blocks of
// 8,503,184 (ssm_in 768 x 3376, conv 4 x 1792 plus its bias, 3 x 48 head values, norm 1536,
// ssm_out 1536 x 768, FFN 3 x 768 x 2048, two norms), 4 attention blocks of 6,292,992 and the
// tied 100352 x 768 embedding: 340,332,224, the 340M ollama.com shows for granite4:350m-h.
TEST(Tensors, GraniteHybridWithoutExpertsHasADenseFfnInEveryBlock) {
  const std::vector<TensorInfo> t = generate_tensors(test::granite4_h_350m(), FileType::mostly_f16);
  EXPECT_EQ(t.size(), 2U + 28U * 13U + 4U * 9U);
  EXPECT_EQ(parameter_count(t), 340'332'224);
  const auto shape = [&](const std::string& name) {
    const TensorInfo* info = find(t, name);
    return info == nullptr ? std::array<std::int64_t, 4>{} : info->ne;
  };
  using S = std::array<std::int64_t, 4>;
  EXPECT_EQ(shape("blk.0.ssm_in.weight"), (S{768, 3376, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_conv1d.weight"), (S{4, 1792, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_norm.weight"), (S{1536, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ffn_gate.weight"), (S{768, 2048, 1, 1}));
  EXPECT_EQ(shape("blk.0.ffn_down.weight"), (S{2048, 768, 1, 1}));
  EXPECT_EQ(shape("blk.10.attn_k.weight"), (S{768, 256, 1, 1}));
  EXPECT_EQ(shape("blk.10.ffn_up.weight"), (S{768, 2048, 1, 1}));
  EXPECT_EQ(find(t, "blk.9.attn_q.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.13.ssm_in.weight"), nullptr);
  for (const char* name : {"blk.0.ffn_gate_inp.weight", "blk.0.ffn_gate_exps.weight",
                           "blk.0.ffn_gate_shexp.weight", "blk.10.ffn_gate_inp.weight"}) {
    EXPECT_EQ(find(t, name), nullptr) << name;
  }
  EXPECT_EQ(find(t, "output.weight"), nullptr);
}

// Qwen3-Next 80B-A3B in Q4_K_M against a published llama.cpp load of such a file
// (lmstudio-ai/lmstudio-bug-tracker#1266: 807 tensors, 313 F32, 48 F16, 391 q4_K, 55 q6_K,
// "file size = 45.08 GiB"): 3 + 36 x 17 + 12 x 16 tensors; the shared-expert gate stays F16;
// the 12 attn_v and the 48 blocks' ffn_down_exps/_shexp get llama-quantize's more-bits rule.
TEST(Tensors, Qwen3NextFollowsAPublishedQ4KMFile) {
  const std::vector<TensorInfo> t =
      generate_tensors(test::qwen3_next_80b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(t.size(), 807U);
  const auto count = [&](GgmlType type) {
    return std::count_if(t.begin(), t.end(), [&](const TensorInfo& x) { return x.type == type; });
  };
  EXPECT_EQ(count(GgmlType::f32), 313);
  EXPECT_EQ(count(GgmlType::f16), 48);
  EXPECT_EQ(count(GgmlType::q4_k), 391);
  EXPECT_EQ(count(GgmlType::q6_k), 55);
  EXPECT_NEAR(static_cast<double>(total_bytes(t)) / static_cast<double>(vramplan::gib), 45.08,
              0.005);
  EXPECT_EQ(parameter_count(t), 79'674'391'296);
  const auto shape = [&](const std::string& name) {
    const TensorInfo* info = find(t, name);
    return info == nullptr ? std::array<std::int64_t, 4>{} : info->ne;
  };
  using S = std::array<std::int64_t, 4>;
  // src/models/qwen3next.cpp: qkvz = 2 x 16 x 128 + 2 x 32 x 128, conv over 2 x 2048 + 4096.
  EXPECT_EQ(shape("blk.0.ssm_in.weight"), (S{2048, 12288, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_conv1d.weight"), (S{4, 8192, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_ba.weight"), (S{2048, 64, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_a"), (S{32, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_dt.bias"), (S{32, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_norm.weight"), (S{128, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ssm_out.weight"), (S{4096, 2048, 1, 1}));
  EXPECT_EQ(shape("blk.3.attn_q.weight"), (S{2048, 8192, 1, 1}));
  EXPECT_EQ(shape("blk.3.attn_k.weight"), (S{2048, 512, 1, 1}));
  EXPECT_EQ(shape("blk.3.attn_output.weight"), (S{4096, 2048, 1, 1}));
  EXPECT_EQ(shape("blk.3.attn_q_norm.weight"), (S{256, 1, 1, 1}));
  EXPECT_EQ(shape("blk.3.post_attention_norm.weight"), (S{2048, 1, 1, 1}));
  EXPECT_EQ(shape("blk.0.ffn_gate_exps.weight"), (S{2048, 512, 512, 1}));
  EXPECT_EQ(shape("blk.0.ffn_gate_inp_shexp.weight"), (S{2048, 1, 1, 1}));
  EXPECT_EQ(find(t, "blk.0.attn_q.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.3.ssm_in.weight"), nullptr);
  EXPECT_EQ(find(t, "blk.0.ffn_norm.weight"), nullptr);
  EXPECT_EQ(type_of(t, "blk.0.ffn_gate_inp_shexp.weight"), GgmlType::f16);
  EXPECT_EQ(type_of(t, "blk.0.ssm_conv1d.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.ssm_ba.weight"), GgmlType::q4_k);
  EXPECT_EQ(type_of(t, "blk.3.attn_v.weight"), GgmlType::q6_k);  // first of 12: more bits
  EXPECT_EQ(type_of(t, "blk.7.attn_v.weight"), GgmlType::q4_k);  // second: not
  EXPECT_EQ(type_of(t, "blk.0.ffn_down_exps.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "blk.6.ffn_down_exps.weight"), GgmlType::q4_k);
}

// Gemma 3n E2B: gemma3's block plus 11 per-block tensors (per-layer input gate and projection,
// AltUp, LAuReL) and 5 global ones (src/models/gemma3n.cpp); 24 x 30 + 7 = 727 tensors.
// AltUp's and LAuReL's tensors and per_layer_model_proj are never quantized (llama-quant.cpp's
// tensor_allows_quantization); per_layer_token_embd follows the tied token_embd (Q6_K in
// Q4_K_M).
TEST(Tensors, Gemma3nHasPerLayerEmbeddingsAltupAndLaurel) {
  const std::vector<TensorInfo> t = generate_tensors(test::gemma3n_e2b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(t.size(), 727U);
  const auto shape = [&](const std::string& name) {
    const TensorInfo* info = find(t, name);
    return info == nullptr ? std::array<std::int64_t, 4>{} : info->ne;
  };
  using S = std::array<std::int64_t, 4>;
  EXPECT_EQ(shape("per_layer_token_embd.weight"), (S{256 * 30, 262400, 1, 1}));
  EXPECT_EQ(shape("per_layer_model_proj.weight"), (S{2048, 256 * 30, 1, 1}));
  EXPECT_EQ(shape("altup_proj.weight"), (S{2048, 2048, 3, 1}));
  EXPECT_EQ(shape("blk.29.altup_predict_coef.weight"), (S{4, 16, 1, 1}));
  EXPECT_EQ(shape("blk.29.laurel_l.weight"), (S{2048, 64, 1, 1}));
  EXPECT_EQ(shape("blk.0.inp_gate.weight"), (S{2048, 256, 1, 1}));
  EXPECT_EQ(shape("blk.0.proj.weight"), (S{256, 2048, 1, 1}));
  EXPECT_EQ(shape("blk.29.attn_k.weight"), (S{2048, 512, 1, 1}));  // shared-KV blocks keep K/V
  EXPECT_EQ(find(t, "output.weight"), nullptr);
  EXPECT_EQ(type_of(t, "per_layer_token_embd.weight"), GgmlType::q6_k);
  EXPECT_EQ(type_of(t, "per_layer_model_proj.weight"), GgmlType::f16);
  EXPECT_EQ(type_of(t, "blk.0.laurel_l.weight"), GgmlType::f16);
  EXPECT_EQ(type_of(t, "blk.0.altup_router.weight"), GgmlType::f16);
  EXPECT_EQ(type_of(t, "blk.0.altup_correct_scale.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.0.inp_gate.weight"), GgmlType::q4_k);
  // 4.46B: the parameter count ollama.com shows for gemma3n:e2b's text-only file.
  EXPECT_NEAR(static_cast<double>(parameter_count(t)), 4.46e9, 0.005e9);
}

// Llama 3.2 Vision 11B (mllama) as Ollama's converter writes the text model: 32 llama blocks of
// 9 tensors and 8 cross-attention blocks of 13 (attn_norm, cross_attn_q_norm/q_proj/k_norm/
// k_proj/v_proj/o_proj, cross_attn_attn_gate, ffn_norm, ffn_gate/up/down, cross_attn_mlp_gate;
// model/models/mllama/model_text.go @v0.24.0), plus token_embd, output_norm and output:
// 32 x 9 + 8 x 13 + 3 = 395. The parameter count is the text part of transformers' model: every
// block has Llama 3.1 8B's projections, so 40 x 218.1M + 2 x 525.3M (embeddings, head).
TEST(Tensors, MllamaHasCrossAttentionBlocksWithGates) {
  const std::vector<TensorInfo> t = generate_tensors(test::mllama_11b(), FileType::mostly_q4_k_m);
  EXPECT_EQ(t.size(), 395U);
  const auto shape = [&](const std::string& name) {
    const TensorInfo* info = find(t, name);
    return info == nullptr ? std::array<std::int64_t, 4>{} : info->ne;
  };
  using S = std::array<std::int64_t, 4>;
  EXPECT_EQ(shape("blk.3.cross_attn_q_proj.weight"), (S{4096, 4096, 1, 1}));
  EXPECT_EQ(shape("blk.3.cross_attn_k_proj.weight"), (S{4096, 1024, 1, 1}));
  EXPECT_EQ(shape("blk.38.cross_attn_v_proj.weight"), (S{4096, 1024, 1, 1}));
  EXPECT_EQ(shape("blk.38.cross_attn_o_proj.weight"), (S{4096, 4096, 1, 1}));
  EXPECT_EQ(shape("blk.3.cross_attn_q_norm.weight"), (S{128, 1, 1, 1}));
  EXPECT_EQ(shape("blk.3.cross_attn_attn_gate"), (S{1, 1, 1, 1}));
  EXPECT_EQ(shape("blk.3.cross_attn_mlp_gate"), (S{1, 1, 1, 1}));
  EXPECT_EQ(shape("blk.3.ffn_down.weight"), (S{14336, 4096, 1, 1}));
  EXPECT_EQ(find(t, "blk.3.attn_q.weight"), nullptr);  // no self-attention in a cross block
  EXPECT_EQ(find(t, "blk.4.cross_attn_q_proj.weight"), nullptr);
  EXPECT_EQ(shape("blk.4.attn_k.weight"), (S{4096, 1024, 1, 1}));
  EXPECT_EQ(type_of(t, "blk.3.cross_attn_attn_gate"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.3.cross_attn_k_norm.weight"), GgmlType::f32);
  EXPECT_EQ(type_of(t, "blk.3.cross_attn_q_proj.weight"), GgmlType::q4_k);
  // Worked out by hand from the module shapes of transformers' MllamaForCausalLM for the 11B
  // config: 9,775,192,080 parameters, its embedding table having vocab + 8 rows (the image
  // tokens), which the layout leaves out (8 x 4096). With the vision tower and projector
  // (895,028,755 in the checkpoint) that is 10,670,220,835: the "10.7B" Hugging Face shows
  // for meta-llama/Llama-3.2-11B-Vision.
  EXPECT_EQ(parameter_count(t), 9775192080 - 8 * 4096);
}

// The Ollama library's gemma3n files keep per_layer_token_embd as converted (F16): only that
// tensor differs from llama-quantize's mix, and the other tensors' counters are undisturbed.
TEST(Tensors, OllamaBuildKeepsGemma3nPerLayerEmbeddingsInF16) {
  ModelSpec ollama = test::gemma3n_e2b();
  ollama.quantizer = Quantizer::ollama;
  for (const FileType ftype : {FileType::mostly_q4_k_m, FileType::mostly_q8_0}) {
    const std::vector<TensorInfo> plain = generate_tensors(test::gemma3n_e2b(), ftype);
    const std::vector<TensorInfo> kept = generate_tensors(ollama, ftype);
    ASSERT_EQ(plain.size(), kept.size());
    int differ = 0;
    for (std::size_t i = 0; i < plain.size(); ++i) {
      if (plain[i].type == kept[i].type) continue;
      ++differ;
      EXPECT_EQ(kept[i].name, "per_layer_token_embd.weight");
      EXPECT_EQ(kept[i].type, GgmlType::f16);
    }
    EXPECT_EQ(differ, 1) << to_string(ftype);
  }
  // A float file is the converter's output already: nothing to keep.
  EXPECT_EQ(generate_tensors(ollama, FileType::mostly_f16),
            generate_tensors(test::gemma3n_e2b(), FileType::mostly_f16));
  // The rule is gemma3n's: another architecture's Ollama build is llama-quantize's mix.
  ModelSpec llama = test::llama31_8b();
  llama.quantizer = Quantizer::ollama;
  EXPECT_EQ(generate_tensors(llama, FileType::mostly_q4_k_m),
            generate_tensors(test::llama31_8b(), FileType::mostly_q4_k_m));
}

// Ollama 0.6.5-0.6.8 quantized with a llama.cpp copy that skipped every name holding "v.", so
// attn_v stayed F16. The Qwen3 8B file the library serves (an April 2025 build) loads as 145
// f32, 36 f16, 199 q4_K and 19 q6_K tensors, 4.86 GiB (llama.cpp's loader lines quoted in
// intel/ipex-llm issue 13301); llama-quantize's own mix of that shape is 217 q4_K and 37 q6_K.
TEST(Tensors, Ollama065BuildKeepsAttnVAsConverted) {
  ModelSpec qwen3_8b;
  qwen3_8b.arch = "qwen3";
  qwen3_8b.n_layer = 36;
  qwen3_8b.n_embd = 4096;
  qwen3_8b.n_ff = 12288;
  qwen3_8b.n_head = 32;
  qwen3_8b.n_head_kv = 8;
  qwen3_8b.key_length = 128;
  qwen3_8b.value_length = 128;
  qwen3_8b.n_vocab = 151936;
  qwen3_8b.n_ctx_train = 40960;
  const auto count = [](const std::vector<TensorInfo>& t, GgmlType type) {
    return std::count_if(t.begin(), t.end(), [&](const TensorInfo& x) { return x.type == type; });
  };
  const std::vector<TensorInfo> plain = generate_tensors(qwen3_8b, FileType::mostly_q4_k_m);
  EXPECT_EQ(count(plain, GgmlType::f16), 0);
  EXPECT_EQ(count(plain, GgmlType::q4_k), 217);
  EXPECT_EQ(count(plain, GgmlType::q6_k), 37);

  ModelSpec ollama = qwen3_8b;
  ollama.quantizer = Quantizer::ollama_065;
  const std::vector<TensorInfo> t = generate_tensors(ollama, FileType::mostly_q4_k_m);
  EXPECT_EQ(count(t, GgmlType::f32), 145);
  EXPECT_EQ(count(t, GgmlType::f16), 36);
  EXPECT_EQ(count(t, GgmlType::q4_k), 199);
  EXPECT_EQ(count(t, GgmlType::q6_k), 19);
  for (const TensorInfo& x : t) {
    if (x.type == GgmlType::f16) {
      EXPECT_NE(x.name.find(".attn_v.weight"), std::string::npos);
    }
  }
  // The loader prints the size in GiB with two decimals.
  Bytes total = 0;
  for (const TensorInfo& x : t) total += x.bytes();
  const double gib = static_cast<double>(total) / (1024.0 * 1024.0 * 1024.0);
  EXPECT_NEAR(gib, 4.86, 0.005);
  // A float file is the converter's output: nothing differs.
  EXPECT_EQ(generate_tensors(ollama, FileType::mostly_f16),
            generate_tensors(qwen3_8b, FileType::mostly_f16));
}

// The library's gemma:2b file (1,678,447,520 bytes) holds its tied token_embd in Q8_0, where
// llama-quantize's rule gives the tied tensor the output's Q6_K: token_embd_type states the
// type the file has, in every file type, and changes nothing else.
TEST(Tensors, TokenEmbdTypeSetsOnlyTheEmbeddingInEveryFileType) {
  ModelSpec gemma;
  gemma.arch = "gemma";
  gemma.n_layer = 18;
  gemma.n_embd = 2048;
  gemma.n_ff = 16384;
  gemma.n_head = 8;
  gemma.n_head_kv = 1;
  gemma.key_length = 256;
  gemma.value_length = 256;
  gemma.n_vocab = 256000;
  gemma.n_ctx_train = 8192;
  gemma.tied_embeddings = true;
  ModelSpec stored = gemma;
  stored.token_embd_type = GgmlType::q8_0;
  const auto embd = [](const std::vector<TensorInfo>& t) {
    return *std::find_if(t.begin(), t.end(),
                         [](const TensorInfo& x) { return x.name == "token_embd.weight"; });
  };
  const auto total = [](const std::vector<TensorInfo>& t) {
    Bytes sum = 0;
    for (const TensorInfo& x : t) sum += x.bytes();
    return sum;
  };
  for (const FileType ftype : {FileType::mostly_q4_0, FileType::mostly_q2_k, FileType::mostly_q6_k,
                               FileType::mostly_f16}) {
    const std::vector<TensorInfo> plain = generate_tensors(gemma, ftype);
    const std::vector<TensorInfo> t = generate_tensors(stored, ftype);
    ASSERT_EQ(t.size(), plain.size());
    EXPECT_EQ(embd(t).type, GgmlType::q8_0) << to_string(ftype);
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i].name != "token_embd.weight") {
        EXPECT_EQ(t[i].type, plain[i].type) << t[i].name;
      }
    }
  }
  EXPECT_EQ(embd(generate_tensors(gemma, FileType::mostly_q4_0)).type, GgmlType::q6_k);
  // The file's 1,678,447,520 bytes hold these tensors and about 6 MB of header and tokenizer.
  const Bytes q4_0 = total(generate_tensors(stored, FileType::mostly_q4_0));
  EXPECT_EQ(q4_0, 1'672'126'464);
  EXPECT_LT(1'678'447'520 - q4_0, 8'000'000);
  // A type whose block does not divide the rows is refused.
  ModelSpec misfit = gemma;
  misfit.token_embd_type = GgmlType::q4_k;
  misfit.n_embd = 2080;
  EXPECT_THROW((void)generate_tensors(misfit, FileType::mostly_q4_0), Error);
}

TEST(Tensors, EveryListedArchitectureHasALayout) {
  for (const char* arch :
       {"llama",         "qwen2",      "qwen3",     "qwen3moe", "gemma",     "gemma2",
        "gemma3",        "phi3",       "deepseek2", "gpt-oss",  "command-r", "starcoder2",
        "bert",          "nomic-bert", "olmo2",     "granite",  "internlm2", "llama4",
        "phi2",          "mistral3",   "qwen2vl",   "qwen25vl", "qwen3vl",   "qwen3vlmoe",
        "granitehybrid", "gemma3n",    "qwen3next", "mllama"}) {
    EXPECT_TRUE(has_tensor_layout(arch)) << arch;
  }
  EXPECT_FALSE(has_tensor_layout("mamba"));
}

// One TensorLayout typed again and again, in an order that goes back and forth between float,
// K-quant, legacy and i-quant types, gives each time the list of a layout built for that type
// alone: typed() keeps no state from one call to the next. Dense, MoE with MXFP4 experts, MLA.
TEST(Tensors, ALayoutRetypedIsTheLayoutTypedOnce) {
  const std::vector<FileType> types{FileType::mostly_q4_k_m, FileType::mostly_f16,
                                    FileType::mostly_q2_k,   FileType::mostly_q8_0,
                                    FileType::mostly_q4_k_m, FileType::mostly_iq3_xxs,
                                    FileType::mostly_q5_k_s, FileType::all_f32,
                                    FileType::mostly_q3_k_l, FileType::mostly_q2_k};
  for (const ModelSpec& s : {llama31_8b(), gpt_oss_20b(), deepseek_v3()}) {
    const TensorLayout layout(s);
    for (const FileType t : types) {
      SCOPED_TRACE(testing::Message() << s.arch << " " << to_string(t));
      const std::vector<TensorInfo> once = TensorLayout(s).typed(t);
      EXPECT_EQ(layout.typed(t), once);
      EXPECT_EQ(generate_tensors(s, t), once);
    }
  }
}

// retype() over one list, quantization after quantization (what recommend does with an
// entry's Model), leaves what typed() gives for each; another layout's list is refused.
TEST(Tensors, AListRetypedInPlaceIsTheListTypedAfresh) {
  const std::vector<FileType> types{FileType::mostly_q4_k_m, FileType::mostly_f16,
                                    FileType::mostly_q2_k,   FileType::mostly_q8_0,
                                    FileType::mostly_q4_k_m, FileType::mostly_iq3_xxs,
                                    FileType::mostly_q5_k_s, FileType::all_f32,
                                    FileType::mostly_q3_k_l, FileType::mostly_q2_k};
  for (const ModelSpec& s : {llama31_8b(), gpt_oss_20b(), deepseek_v3()}) {
    const TensorLayout layout(s);
    std::vector<TensorInfo> list = layout.typed(FileType::mostly_q6_k);
    for (const FileType t : types) {
      SCOPED_TRACE(testing::Message() << s.arch << " " << to_string(t));
      layout.retype(list, t);
      EXPECT_EQ(list, TensorLayout(s).typed(t));
    }
  }
  const TensorLayout layout(llama31_8b());
  std::vector<TensorInfo> other = TensorLayout(gpt_oss_20b()).typed(FileType::mostly_q4_k_m);
  EXPECT_THROW(layout.retype(other, FileType::mostly_q8_0), std::invalid_argument);
  std::vector<TensorInfo> renamed = layout.typed(FileType::mostly_q4_k_m);
  renamed.back().name += "x";
  EXPECT_THROW(layout.retype(renamed, FileType::mostly_q8_0), std::invalid_argument);
  std::vector<TensorInfo> shorter = layout.typed(FileType::mostly_q4_k_m);
  shorter.pop_back();
  EXPECT_THROW(layout.retype(shorter, FileType::mostly_q8_0), std::invalid_argument);
}

TEST(Tensors, UnknownArchitectureThrowsBadInput) {
  ModelSpec s = llama31_8b();
  s.arch = "no-such-arch";
  try {
    (void)generate_tensors(s, FileType::mostly_q4_k_m);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
  }
}

}  // namespace
}  // namespace vramplan
