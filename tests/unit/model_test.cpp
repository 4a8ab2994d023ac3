#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>

#include "support/specs.hpp"

namespace vramplan {
namespace {

TEST(LayerAttention, GqaWidthsComeFromKvHeadsTimesHeadDim) {
  const LayerAttention a = layer_attention(test::llama31_8b(), 0);
  EXPECT_TRUE(a.has_kv);
  EXPECT_FALSE(a.swa);
  EXPECT_EQ(a.k_width, 1024);
  EXPECT_EQ(a.v_width, 1024);
}

TEST(LayerAttention, SwaPatternMakesEveryPthLayerFull) {
  const ModelSpec g = test::gemma3_27b();  // period 6: layers 5, 11, ... are full
  EXPECT_TRUE(layer_attention(g, 0).swa);
  EXPECT_TRUE(layer_attention(g, 4).swa);
  EXPECT_FALSE(layer_attention(g, 5).swa);
  EXPECT_FALSE(layer_attention(g, 11).swa);
  ModelSpec d = g;
  d.swa.dense_first = true;  // dense_first: layers 0, 6, ... are full
  EXPECT_FALSE(layer_attention(d, 0).swa);
  EXPECT_TRUE(layer_attention(d, 5).swa);
  ModelSpec all = g;
  all.swa.period = 0;
  EXPECT_TRUE(layer_attention(all, 5).swa);
}

TEST(LayerAttention, NextnBlocksHaveNoCache) {
  ModelSpec s = test::llama31_8b();
  s.n_nextn = 1;
  EXPECT_TRUE(layer_attention(s, 30).has_kv);
  EXPECT_FALSE(layer_attention(s, 31).has_kv);
}

TEST(Validate, RejectsImpossibleSpecsWithTheField) {
  ModelSpec s = test::llama31_8b();
  s.n_layer = 0;
  try {
    validate(s, "models/x.yaml: model 'x'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(e.what(), "models/x.yaml: model 'x': layers must be in [1, 1024], got 0");
  }
  s = test::llama31_8b();
  s.n_head_kv = 64;
  EXPECT_THROW(validate(s, "x"), Error);
  s = test::llama31_8b();
  s.n_head_kv_per_layer = {1, 2};
  EXPECT_THROW(validate(s, "x"), Error);
  EXPECT_NO_THROW(validate(test::gemma3_27b(), "x"));
  EXPECT_NO_THROW(validate(test::qwen36_27b(), "x"));
  EXPECT_NO_THROW(validate(test::deepseek_v3(), "x"));
}

TEST(TensorBlock, ParsesBlockIndex) {
  EXPECT_EQ(tensor_block("blk.12.attn_q.weight"), 12);
  EXPECT_EQ(tensor_block("token_embd.weight"), -1);
  EXPECT_EQ(tensor_block("blk.x.attn_q.weight"), -1);
  EXPECT_EQ(tensor_block("blk.3"), -1);
}

}  // namespace
}  // namespace vramplan
