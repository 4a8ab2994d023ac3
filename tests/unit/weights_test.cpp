#include <vramplan/weights.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/tensors.hpp>

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
  EXPECT_EQ(q.cuda,
            pad_to(row_bytes(GgmlType::q8_0, 2880) * 10 + row_bytes(GgmlType::q8_0, 192), 128));
}

// Vulkan and Metal add no row padding (ggml_backend_vk_buffer_type_get_alloc_size and Metal's
// return ggml_nbytes for a weight); each tensor is only aligned, to 16 and 32 bytes. Measured
// on lavapipe: the MoE shape's 768-wide expert down matrices, which CUDA pads, split 3:1 over
// two Vulkan devices (docs/accuracy.md, "Several Vulkan devices").
TEST(WeightLayout, VulkanAndMetalOnlyAlignEachTensor) {
  WeightGroup q;
  q.add(TensorInfo{"blk.0.ffn_down_exps.weight", {768, 1024, 16, 1}, GgmlType::q8_0});
  const Bytes bytes = row_bytes(GgmlType::q8_0, 768) * 1024 * 16;
  EXPECT_EQ(q.vulkan, bytes);
  EXPECT_EQ(q.metal, bytes);
  // CUDA: one chunk of 256 elements (272 bytes) past the tensor, then 128-byte alignment.
  EXPECT_EQ(q.cuda, bytes + 384);
  WeightGroup odd;  // 3 rows of 34 bytes: 102
  odd.add(TensorInfo{"blk.0.attn_q.weight", {32, 3, 1, 1}, GgmlType::q8_0});
  EXPECT_EQ(odd.vulkan, 112);
  EXPECT_EQ(odd.metal, 128);
  EXPECT_EQ(gpu_weights(odd, Backend::vulkan), 112);
  EXPECT_EQ(gpu_weights(odd, Backend::metal), 128);
  EXPECT_EQ(gpu_weights(odd, Backend::cuda), odd.cuda);
}

TEST(WeightLayout, RejectsBlocksBeyondTheLayerCount) {
  std::vector<TensorInfo> t{{"blk.40.attn_q.weight", {32, 32, 1, 1}, GgmlType::f16}};
  EXPECT_THROW((void)layout_weights(t, 32), Error);
}

TEST(LayerOnGpu, OutputLayerGoesFirst) {
  EXPECT_TRUE(layer_on_gpu(32, 32, 1));  // -ngl 1: only the output layer
  EXPECT_FALSE(layer_on_gpu(31, 32, 1));
  EXPECT_TRUE(layer_on_gpu(31, 32, 2));
  EXPECT_TRUE(layer_on_gpu(0, 32, 33));
  EXPECT_FALSE(layer_on_gpu(0, 32, 32));
  EXPECT_FALSE(layer_on_gpu(32, 32, 0));
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

TEST(CpuRepack, CopiesOnlyMatmulWeightsOfTheIsasTypes) {
  const TensorInfo q4k{"blk.0.ffn_up.weight", {4096, 14336, 1, 1}, GgmlType::q4_k};
  const TensorInfo q2k{"blk.0.ffn_down.weight", {14336, 4096, 1, 1}, GgmlType::q2_k};
  const TensorInfo q8{"blk.0.attn_q.weight", {4096, 4096, 1, 1}, GgmlType::q8_0};
  const TensorInfo embd{"token_embd.weight", {4096, 128256, 1, 1}, GgmlType::q4_k};
  const TensorInfo odd_rows{"blk.0.attn_k.weight", {4096, 1020, 1, 1}, GgmlType::q4_0};
  const TensorInfo norm{"blk.0.attn_norm.weight", {4096, 1, 1, 1}, GgmlType::f32};
  EXPECT_TRUE(is_repacked(q4k, CpuRepack::avx2));
  EXPECT_FALSE(is_repacked(q4k, CpuRepack::off));
  EXPECT_FALSE(is_repacked(q2k, CpuRepack::avx2));
  EXPECT_TRUE(is_repacked(q2k, CpuRepack::avx512));
  EXPECT_FALSE(is_repacked(q8, CpuRepack::avx512));
  EXPECT_TRUE(is_repacked(q8, CpuRepack::arm));
  EXPECT_FALSE(is_repacked(embd, CpuRepack::avx2));  // read with get_rows
  EXPECT_FALSE(is_repacked(odd_rows, CpuRepack::avx2));
  EXPECT_FALSE(is_repacked(norm, CpuRepack::arm));
  EXPECT_EQ(parse_cpu_repack("avx512"), CpuRepack::avx512);
  EXPECT_EQ(parse_cpu_repack("sse"), std::nullopt);
}

TEST(CpuRepack, HostWeightsIncludeTheCopyOnlyOnTheCpu) {
  const Model m = test::simple_model(test::llama31_8b(), GgmlType::q4_0, FileType::mostly_q4_0);
  Config c{.ctx = 4096, .parallel = 1, .gpu_layers = 0, .n_batch = 512, .n_ubatch = 512};
  const Engine& lib = engine(EngineId::llamacpp_lib);
  c.cpu_repack = CpuRepack::off;
  const Bytes plain = estimate(m, lib, Backend::cpu, c, {}).host().weights;
  c.cpu_repack = CpuRepack::avx2;
  const Estimate repacked = estimate(m, lib, Backend::cpu, c, {});
  Bytes matmul = m.weights.output.host - 4 * 4096;  // output.weight, not output_norm
  for (const WeightGroup& b : m.weights.blocks) matmul += b.host - 2 * 4 * 4096;  // no norms
  EXPECT_EQ(repacked.host().weights - plain, matmul);
  ASSERT_FALSE(repacked.notes.empty());
  c.gpu_layers = 33;  // everything on the GPU: nothing left to repack
  EXPECT_EQ(estimate(m, lib, Backend::cuda, c, {16 * gib}).host().weights, m.weights.input.host);
}

TEST(WeightLayout, ExpertTensorsAreThoseNCpuMoeMoves) {
  EXPECT_TRUE(is_expert_tensor("blk.3.ffn_up_exps.weight"));
  EXPECT_TRUE(is_expert_tensor("blk.3.ffn_gate_exps.bias"));
  EXPECT_TRUE(is_expert_tensor("blk.12.ffn_gate_up_exps.weight"));
  EXPECT_TRUE(is_expert_tensor("blk.0.ffn_down_chexps.weight"));
  EXPECT_FALSE(is_expert_tensor("blk.3.ffn_up.weight"));
  EXPECT_FALSE(is_expert_tensor("blk.3.ffn_up_shexp.weight"));
  EXPECT_FALSE(is_expert_tensor("blk.3.ffn_gate_inp.weight"));

  const ModelSpec s = test::gpt_oss_20b();
  const std::vector<TensorInfo> tensors = generate_tensors(s, FileType::mostly_mxfp4_moe);
  const WeightLayout w = layout_weights(tensors, s.n_layer);
  ASSERT_EQ(w.experts.size(), w.blocks.size());
  Bytes expected = 0;
  for (const TensorInfo& t : tensors) {
    if (tensor_block(t.name) == 5 && is_expert_tensor(t.name)) expected += t.bytes();
  }
  EXPECT_GT(expected, 0);
  EXPECT_EQ(w.experts[5].host, expected);
  EXPECT_LT(w.experts[5].host, w.blocks[5].host);  // attention and router stay in the block
  // A dense model has none.
  const Model dense = test::simple_model(test::llama31_8b());
  for (const WeightGroup& g : dense.weights.experts) EXPECT_EQ(g.host, 0);
}

}  // namespace
}  // namespace vramplan
