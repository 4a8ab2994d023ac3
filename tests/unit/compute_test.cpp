#include <vramplan/compute.hpp>

#include <gtest/gtest.h>

#include "support/specs.hpp"

namespace vramplan {
namespace {

double mib_of(Bytes b) { return static_cast<double>(b) / static_cast<double>(mib); }

ComputeParams params(const ModelSpec& spec, std::int64_t n_ctx, bool fa, std::int64_t n_out,
                     std::int32_t n_seq = 1) {
  const ContextParams cp{
      .n_ctx = n_ctx, .n_seq = n_seq, .n_batch = 512, .n_ubatch = 512, .flash_attn = fa};
  return ComputeParams{.shape = context_shape(spec, cp), .n_outputs = n_out, .flash_attn = fa};
}

// Measured with real llama.cpp (scripts/oracle, docs/accuracy.md): Llama-3.1-8B, ub 512, ctx 8192,
// library n_outputs = 512: 266.50 MiB with flash attention, 572.01 MiB without.
TEST(ComputeBuffer, Llama31MatchesMeasuredCpuBuffers) {
  const ModelSpec s = test::llama31_8b();
  EXPECT_NEAR(mib_of(compute_buffer(s, params(s, 8192, true, 512)).peak(true)), 266.50, 0.05);
  EXPECT_NEAR(mib_of(compute_buffer(s, params(s, 8192, false, 512)).peak(true)), 572.01, 0.05);
}

// docs/memory-model.md §5: 16384 cells per stream, np 2, no FA: 1024 (KQ) + 32 (mask) + 44 MiB.
TEST(ComputeBuffer, AttentionScoresScaleWithCellsPerStream) {
  const ModelSpec s = test::llama31_8b();
  EXPECT_NEAR(mib_of(compute_buffer(s, params(s, 32768, false, 512, 2)).peak(true)), 1100.01, 0.05);
}

// Mistral-7B (vocab 32768) with FA at 32k: the FFN phase (148 MiB) beats the logits.
TEST(ComputeBuffer, FfnPhaseWinsForSmallVocabularies) {
  const ModelSpec s = test::mistral_7b();
  const ComputeBuffer b = compute_buffer(s, params(s, 32768, true, 512));
  EXPECT_NEAR(mib_of(b.ffn), 148.0, 0.05);
  EXPECT_EQ(b.peak(true), b.ffn);
}

// llama-server reserves one output per sequence (b9460+): the logits term shrinks.
TEST(ComputeBuffer, ServerOutputReserveDropsTheLogitsPeak) {
  const ModelSpec s = test::llama31_8b();
  const ComputeBuffer lib = compute_buffer(s, params(s, 8192, true, 512));
  const ComputeBuffer server = compute_buffer(s, params(s, 8192, true, 1));
  EXPECT_GT(lib.peak(true), server.peak(true));
  EXPECT_EQ(server.peak(true), server.ffn);
}

TEST(OutputBuffer, LogitsForEverySequence) {
  EXPECT_EQ(output_buffer(test::llama31_8b(), 1), 4 * 128256);
  EXPECT_NEAR(mib_of(output_buffer(test::llama31_8b(), 4)), 1.96, 0.005);
}

TEST(HostInputs, MatchTheCudaHostBufferOfAPublishedLog) {
  // A published llama.cpp CUDA log: 8B, n_ctx 32768 unified, ub 512 -> CUDA_Host compute
  // 72.01 MiB (docs/memory-model.md §5).
  const ModelSpec s = test::llama31_8b();
  ContextParams cp{.n_ctx = 32768, .n_seq = 4, .kv_unified = true};
  const ComputeParams p{.shape = context_shape(s, cp), .n_outputs = 4, .flash_attn = true};
  EXPECT_NEAR(mib_of(host_input_buffer(s, p)), 72.01, 0.01);
}

}  // namespace
}  // namespace vramplan
