#include <vramplan/kv_cache.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>

#include "support/specs.hpp"

namespace vramplan {
namespace {

ContextParams ctx(std::int64_t n_ctx, std::int32_t n_seq = 1, GgmlType type = GgmlType::f16) {
  return ContextParams{.n_ctx = n_ctx, .n_seq = n_seq, .type_k = type, .type_v = type};
}

// Hand-checked: 32 layers x (1024 + 1024) elements x 2 bytes = 128 KiB per token.
TEST(KvCache, Llama31At8kIsOneGiBInF16) {
  const KvCache kv = kv_cache(test::llama31_8b(), ctx(8192));
  EXPECT_EQ(kv.total(), 1 * gib);
  EXPECT_EQ(kv.k, 512 * mib);
  EXPECT_EQ(kv.v, 512 * mib);
  EXPECT_EQ(kv.kv_layers, 32);
}

TEST(KvCache, QuantizedCacheUsesBlockSizes) {
  EXPECT_EQ(kv_cache(test::llama31_8b(), ctx(8192, 1, GgmlType::q8_0)).total(), 544 * mib);
  EXPECT_EQ(kv_cache(test::llama31_8b(), ctx(8192, 1, GgmlType::q4_0)).total(), 288 * mib);
}

TEST(KvCache, ContextIsPaddedTo256) {
  const KvCache kv = kv_cache(test::llama31_8b(), ctx(8000));
  EXPECT_EQ(kv.shape.n_ctx, 8192);
  EXPECT_EQ(kv.total(), 1 * gib);
}

TEST(KvCache, StreamsSplitTheContextAndPadEach) {
  // -c 10000 -np 3: n_ctx 10240 -> n_ctx_seq PAD(3413) = 3584, n_ctx = 3 * 3584 = 10752.
  const KvCache kv = kv_cache(test::llama31_8b(), ctx(10000, 3));
  EXPECT_EQ(kv.shape.n_ctx_seq, 3584);
  EXPECT_EQ(kv.shape.n_stream, 3);
  EXPECT_EQ(kv.shape.n_ctx, 10752);
  EXPECT_EQ(kv.total(), 10752 * 128 * kib);
}

TEST(KvCache, UnifiedKeepsOneStream) {
  ContextParams p = ctx(32768, 4);
  p.kv_unified = true;
  const KvCache kv = kv_cache(test::llama31_8b(), p);
  EXPECT_EQ(kv.shape.n_stream, 1);
  EXPECT_EQ(kv.shape.n_ctx_seq, 32768);
  EXPECT_EQ(kv.total(), 4 * gib);
}

// docs/memory-model.md §3 check: 10 full layers at 2560 MiB, 52 SWA layers at 1536 cells.
TEST(KvCache, Gemma3SlidingWindowLayersKeepOnlyTheWindow) {
  const KvCache kv = kv_cache(test::gemma3_27b(), ctx(32768));
  EXPECT_EQ(kv.swa_layers, 52);
  EXPECT_EQ(kv.shape.n_swa_cells, 1536);
  EXPECT_EQ(kv.total(), 2560 * mib + 624 * mib);
}

TEST(KvCache, GptOssSwaCellsDependOnUnifiedSlots) {
  ContextParams unified = ctx(131072, 4);
  unified.kv_unified = true;
  const KvCache a = kv_cache(test::gpt_oss_20b(), unified);
  EXPECT_EQ(a.shape.n_swa_cells, 1024);  // PAD(128 * 4 + 512)
  EXPECT_EQ(a.total(), 3 * gib + 24 * mib);
  const KvCache b = kv_cache(test::gpt_oss_20b(), ctx(131072));
  EXPECT_EQ(b.shape.n_swa_cells, 768);  // PAD(128 + 512)
}

TEST(KvCache, SwaFullMakesEveryLayerFullSize) {
  ContextParams p = ctx(8192);
  p.swa_full = true;
  EXPECT_EQ(kv_cache(test::gemma3_27b(), p).total(), 62 * 8 * kib * 8192);
}

// ≥ b7832 MLA stores only the 576-wide latent: 61 x 576 x 2 = 70,272 B per token.
TEST(KvCache, MlaStoresOnlyTheLatent) {
  const KvCache kv = kv_cache(test::deepseek_v3(), ctx(4096));
  EXPECT_EQ(kv.total(), 70272 * 4096);
  EXPECT_EQ(kv.v, 0);
}

// A published llama.cpp log (docs/memory-model.md §3): Qwen3.6-27B at 262144, 4 sequences:
// 16384 MiB KV + 598.5 MiB state.
TEST(KvCache, HybridModelHasKvOnAttentionLayersAndStateElsewhere) {
  const KvCache kv = kv_cache(test::qwen36_27b(), ctx(262144, 4));
  EXPECT_EQ(kv.kv_layers, 16);
  EXPECT_EQ(kv.k + kv.v, 16384 * mib);
  EXPECT_EQ(kv.recurrent, 4 * 48 * 4 * (3 * (6144 + 4096) + 128 * 6144));
  EXPECT_NEAR(static_cast<double>(kv.recurrent) / mib, 598.5, 0.01);
}

// granite-4.0-h-tiny: KV on its 4 attention blocks only; each of the 36 Mamba2 blocks keeps
// 9984 conv values (llama.cpp's cache_r_l0 in the gdb session named in tests/support/specs.hpp)
// and 3072 x 128 SSM values per sequence, in F32.
TEST(KvCache, GraniteHybridKeepsKvOnFourBlocksAndMamba2StateOnTheRest) {
  const KvCache kv = kv_cache(test::granite4_tiny_h(), ctx(8192, 2));
  EXPECT_EQ(kv.kv_layers, 4);
  EXPECT_EQ(kv.k + kv.v, 4 * 2 * 8192 * 512 * 2);
  EXPECT_EQ(kv.recurrent, 2 * 36 * 4 * (9984 + 3072 * 128));
}

// Qwen3-Next 80B-A3B: KV on its 12 attention blocks (2 KV heads of 256); each of the 36 Gated
// DeltaNet blocks keeps llama.cpp's n_embd_r() = (4 - 1) x (4096 + 2 x 16 x 128) = 24576 conv
// values and n_embd_s() = 128 x 4096 = 524288 state values per sequence (src/llama-hparams.cpp),
// F32 (src/llama-memory-recurrent.cpp): 75.375 MiB per sequence, whatever the context.
TEST(KvCache, Qwen3NextKeepsKvOnTwelveBlocksAndDeltaNetStateOnTheRest) {
  const KvCache kv = kv_cache(test::qwen3_next_80b(), ctx(8192, 2));
  EXPECT_EQ(kv.kv_layers, 12);
  EXPECT_EQ(kv.k + kv.v, 12 * 2 * 8192 * 512 * 2);
  EXPECT_EQ(kv.recurrent, 2 * 36 * 4 * (24576 + 524288));
  EXPECT_NEAR(static_cast<double>(kv.recurrent) / mib, 2 * 75.375, 1e-9);
}

// gemma3n: only blocks 0-19 keep a cache (llama.cpp's n_layer_kv_from_start), 4 global and
// 16 sliding ones; the oracle's gemma3n:e2b run at n_ctx 32768 logged 4 layers x 32768 cells
// plus 16 layers x 1024 cells, 288 MiB in F16.
TEST(KvCache, Gemma3nKeepsKvInItsFirstTwentyBlocksOnly) {
  const KvCache kv = kv_cache(test::gemma3n_e2b(), ctx(32768));
  EXPECT_EQ(kv.kv_layers, 20);
  EXPECT_EQ(kv.swa_layers, 16);
  EXPECT_EQ(kv.shape.n_swa_cells, 1024);
  EXPECT_EQ(kv.total(), 288 * mib);
}

// mllama (Llama 3.2 Vision 11B): the 32 self-attention blocks keep the context's cache; the 8
// cross-attention blocks keep one image's K and V in F32 whatever the cache type, for any
// context: Ollama's estimate (fs/ggml/ggml.go GraphSize @v0.24.0) sizes each as
// headsKV x (headK + headV) x 4 bytes x 1601 vision tokens x 4 tiles = 8 x 256 x 4 x 6404
// = 52,461,568 bytes, 419,692,544 for the 8 blocks (400.25 MiB).
TEST(KvCache, MllamaCachesOneImageInItsCrossAttentionBlocks) {
  for (const GgmlType type : {GgmlType::f16, GgmlType::q8_0}) {
    for (const std::int64_t n_ctx : {2048, 8192}) {
      const KvCache kv = kv_cache(test::mllama_11b(), ctx(n_ctx, 1, type));
      const Bytes context_part = 32 * 2 * n_ctx * row_bytes(type, 1024);
      EXPECT_EQ(kv.kv_layers, 32);
      EXPECT_EQ(kv.cross_layers, 8);
      EXPECT_EQ(kv.cross, 419692544);
      EXPECT_EQ(kv.total(), context_part + 419692544) << n_ctx;
      EXPECT_EQ(kv.per_layer[3], 52461568);
      EXPECT_EQ(kv.per_layer[4], 2 * n_ctx * row_bytes(type, 1024));
    }
  }
}

TEST(KvCache, EncodersHaveNoCache) {
  ModelSpec s = test::llama31_8b();
  s.causal = false;
  EXPECT_EQ(kv_cache(s, ctx(8192)).total(), 0);
}

TEST(KvCache, QuantizedVNeedsFlashAttention) {
  ContextParams p = ctx(8192, 1, GgmlType::q8_0);
  p.flash_attn = false;
  try {
    (void)kv_cache(test::llama31_8b(), p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
    EXPECT_STREQ(e.what(), "a quantized V cache ('q8_0') requires flash attention");
  }
}

// With flash attention llama.cpp refuses a quantized cache whose block does not divide the head
// size (llama_init_from_model): phi2's heads are 80 wide, so no q8_0 or q4_0 cache there, though
// its rows (32 heads x 80 = 2560) are whole blocks. Without flash attention a quantized K is
// taken. Measured: node-llama-cpp 3.22.1 refuses phi:2.7b with a q8_0 cache
// (bench/accuracy/data/llamacpp-cpu-more-archs.jsonl).
TEST(KvCache, WithFlashAttentionAQuantizedBlockMustDivideTheHead) {
  ModelSpec phi2 = test::llama31_8b();
  phi2.n_embd = 2560;
  phi2.n_head = phi2.n_head_kv = 32;
  ASSERT_EQ(phi2.head_dim_k(), 80);
  for (const GgmlType t : {GgmlType::q8_0, GgmlType::q4_0, GgmlType::q5_1}) {
    EXPECT_FALSE(cache_type_fits_heads(phi2, t)) << to_string(t);
    EXPECT_TRUE(cache_type_fits_heads(test::llama31_8b(), t)) << to_string(t);
  }
  EXPECT_TRUE(cache_type_fits_heads(phi2, GgmlType::f16));
  EXPECT_TRUE(cache_type_fits_heads(phi2, GgmlType::bf16));
  ContextParams p = ctx(4096, 1, GgmlType::q8_0);
  p.flash_attn = true;
  try {
    (void)kv_cache(phi2, p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
    EXPECT_STREQ(e.what(),
                 "cache type 'q8_0' needs K heads that are a multiple of 32 elements with flash "
                 "attention, but this model's are 80 (use f16, or turn flash attention off for "
                 "a quantized K cache)");
  }
  p.flash_attn = false;
  p.type_v = GgmlType::f16;
  EXPECT_EQ(kv_cache(phi2, p).k, 32 * 4096 * 2560 / 32 * 34);  // q8_0: 34 bytes per 32
}

TEST(KvCache, MlaNeedsTheSameKAndVTypes) {
  ContextParams p = ctx(4096);
  p.type_k = GgmlType::q8_0;
  p.flash_attn = false;
  try {
    (void)kv_cache(test::deepseek_v3(), p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
    EXPECT_STREQ(e.what(),
                 "this model (MLA) needs the same K and V cache types, got K 'q8_0' "
                 "and V 'f16'");
  }
  p.type_v = GgmlType::q8_0;
  p.flash_attn = true;
  EXPECT_EQ(kv_cache(test::deepseek_v3(), p).total(), 61 * row_bytes(GgmlType::q8_0, 576) * 4096);
}

TEST(KvCache, RejectsTypesLlamaCppRefuses) {
  EXPECT_THROW((void)kv_cache(test::llama31_8b(), ctx(8192, 1, GgmlType::q4_k)), Error);
  EXPECT_THROW((void)kv_cache(test::llama31_8b(), ctx(0)), Error);
}

}  // namespace
}  // namespace vramplan
