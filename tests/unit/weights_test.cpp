#include <vramplan/weights.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>

#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

TEST(WeightLayout, GroupsInputBlocksAndOutput) {
  const ModelSpec s = test::llama31_8b();
  const auto tensors = test::simple_llama_tensors(s, GgmlType::q8_0);
  const WeightLayout w = layout_weights(tensors, s.n_layer);
  ASSERT_EQ(w.blocks.size(), 32u);
  EXPECT_EQ(w.input.host, row_bytes(GgmlType::q8_0, 4096) * 128256);
  EXPECT_EQ(w.output.host, row_bytes(GgmlType::q8_0, 4096) * 128256 + 4 * 4096);
  EXPECT_FALSE(w.output_tied);
  Bytes sum = w.input.host + w.output.host;
  for (const WeightGroup& b : w.blocks) sum += b.host;
  EXPECT_EQ(sum, w.file_tensor_bytes);  // every tensor lands in exactly one group
}

TEST(WeightLayout, TiedOutputDuplicatesTokenEmbedding) {
  ModelSpec s = test::llama31_8b();
  s.tied_embeddings = true;
  const WeightLayout w = layout_weights(test::simple_llama_tensors(s, GgmlType::f16), s.n_layer);
  EXPECT_TRUE(w.output_tied);
  EXPECT_EQ(w.tied_copy, 2 * 4096 * 128256);
  EXPECT_EQ(w.output.host, w.tied_copy + 4 * 4096);
}

TEST(WeightLayout, CudaPadsEachTensorTo128Bytes) {
  WeightGroup g;
  g.add(TensorInfo{"blk.0.attn_norm.weight", {4095, 1, 1, 1}, GgmlType::f32});
  EXPECT_EQ(g.host, 4095 * 4);
  EXPECT_EQ(g.cuda, pad_to(4095 * 4, 128));
  WeightGroup q;  // quantized row of 2880 (not a multiple of 512): one extra 192-elem chunk
  q.add(TensorInfo{"blk.0.attn_q.weight", {2880, 10, 1, 1}, GgmlType::q8_0});
  EXPECT_EQ(q.cuda, pad_to(row_bytes(GgmlType::q8_0, 2880) * 10 + row_bytes(GgmlType::q8_0, 192),
                           128));
}

TEST(WeightLayout, RejectsBlocksBeyondTheLayerCount) {
  std::vector<TensorInfo> t{{"blk.40.attn_q.weight", {32, 32, 1, 1}, GgmlType::f16}};
  EXPECT_THROW((void)layout_weights(t, 32), Error);
}

TEST(LayerOnGpu, OutputLayerGoesFirst) {
  EXPECT_TRUE(layer_on_gpu(32, 32, 1));   // -ngl 1: only the output layer
  EXPECT_FALSE(layer_on_gpu(31, 32, 1));
  EXPECT_TRUE(layer_on_gpu(31, 32, 2));
  EXPECT_TRUE(layer_on_gpu(0, 32, 33));
  EXPECT_FALSE(layer_on_gpu(0, 32, 32));
  EXPECT_FALSE(layer_on_gpu(32, 32, 0));
}

}  // namespace
}  // namespace vramplan
