#include <vramplan/compute.hpp>

#include <vector>

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

// The memo (ComputeCache) against compute_buffer() worked out afresh for each answer: specs
// whose graph is replayed (llama, gemma3 with SWA, gpt-oss MoE) and closed-form ones (MLA +
// MoE, a recurrent hybrid), over contexts, ubatches, slots, flash attention and cache types,
// asked in two interleaved rounds so that the second round is answered from the memo.
TEST(ComputeCache, EveryAnswerIsTheFreshBuffer) {
  const std::vector<ModelSpec> specs{
      test::llama31_8b(),  test::mistral_7b(), test::gemma3_27b(),     test::gpt_oss_20b(),
      test::deepseek_v3(), test::qwen36_27b(), test::granite4_tiny_h()};
  struct Asked {
    const ModelSpec* spec;
    ComputeParams params;
  };
  std::vector<Asked> asked;
  for (const std::int64_t ctx : {std::int64_t{4096}, std::int64_t{32768}}) {
    for (const std::int32_t n_seq : {1, 4}) {
      for (const bool fa : {true, false}) {
        for (const GgmlType kv : {GgmlType::f16, GgmlType::q8_0}) {
          if (kv != GgmlType::f16 && !fa) continue;  // a quantized V cache needs FA
          for (const std::int64_t ubatch : {std::int64_t{512}, std::int64_t{2048}}) {
            for (const ModelSpec& s : specs) {  // the specs interleaved
              const ContextParams cp{.n_ctx = ctx,
                                     .n_seq = n_seq,
                                     .n_batch = ubatch,
                                     .n_ubatch = ubatch,
                                     .type_k = kv,
                                     .type_v = kv,
                                     .flash_attn = fa};
              asked.push_back({&s, ComputeParams{.shape = context_shape(s, cp),
                                                 .n_outputs = n_seq,
                                                 .flash_attn = fa,
                                                 .type_k = kv,
                                                 .type_v = kv,
                                                 .n_seq = n_seq}});
            }
          }
        }
      }
    }
  }
  ComputeCache memo;
  for (int round = 0; round < 2; ++round) {
    for (const Asked& a : asked) {
      const ComputeBuffer fresh = compute_buffer(*a.spec, a.params);
      const ComputeBuffer kept = memo.buffer(*a.spec, a.params);
      SCOPED_TRACE(testing::Message()
                   << a.spec->arch << " ctx " << a.params.shape.n_ctx << " ubatch "
                   << a.params.shape.n_ubatch << " round " << round);
      EXPECT_EQ(kept.logits, fresh.logits);
      EXPECT_EQ(kept.ffn, fresh.ffn);
      EXPECT_EQ(kept.attention, fresh.attention);
    }
  }
  // mistral_7b differs from llama31_8b in the vocabulary only: two specs, never one.
  EXPECT_EQ(memo.misses(), static_cast<std::int64_t>(asked.size()));
  EXPECT_EQ(memo.hits(), static_cast<std::int64_t>(asked.size()));
  EXPECT_EQ(memo.size(), asked.size());
}

// The spec is a key by value: changed in place (a field its hash does not read, then one it
// does), the same object is a new spec and gets its own buffer.
TEST(ComputeCache, ASpecChangedInPlaceIsANewKey) {
  const auto same = [](const ComputeBuffer& a, const ComputeBuffer& b) {
    return a.logits == b.logits && a.ffn == b.ffn && a.attention == b.attention;
  };
  ModelSpec s = test::llama31_8b();
  const ComputeParams p = params(s, 8192, true, 512);
  ComputeCache memo;
  const ComputeBuffer before = memo.buffer(s, p);
  s.key_length = static_cast<std::int32_t>(2 * s.head_dim_k());  // not in the hash
  s.value_length = s.key_length;
  const ComputeBuffer wider = memo.buffer(s, p);
  EXPECT_FALSE(same(wider, before));  // wider heads: a larger graph before the output head
  EXPECT_TRUE(same(wider, compute_buffer(s, p)));
  s.n_ff = s.n_ff / 2;
  EXPECT_TRUE(same(memo.buffer(s, p), compute_buffer(s, p)));
  EXPECT_EQ(memo.misses(), 3);
  EXPECT_EQ(memo.hits(), 0);
  s = test::llama31_8b();
  EXPECT_TRUE(same(memo.buffer(s, p), before));
  EXPECT_EQ(memo.hits(), 1);
}

}  // namespace
}  // namespace vramplan
