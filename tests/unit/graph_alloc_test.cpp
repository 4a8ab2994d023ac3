#include <vramplan/graph_alloc.hpp>
#include <vramplan/reserve_graph.hpp>

#include <algorithm>
#include <optional>

#include <gtest/gtest.h>

#include "support/specs.hpp"

namespace vramplan {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Op;
using graph::TensorId;

// f32 rows of n KiB.
Graph::Shape kib(std::int64_t n) { return {256 * n, 1, 1, 1}; }
constexpr Bytes kKiB = 1024;

TEST(GraphAlloc, FreesASourceAfterItsLastUser) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});
  const TensorId b = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external(), a});
  g.op(Op::mul_mat, Elem::f32, kib(4), {g.external(), b});
  // a and b are live together; c goes into a's freed block.
  EXPECT_EQ(graph::allocated_size(g, 32).total, 8 * kKiB);
}

TEST(GraphAlloc, InPlaceOpTakesOverASingleUseSource) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});
  const TensorId b = g.op(Op::add, Elem::f32, kib(4), {a, g.external()});
  g.op(Op::rms_norm, Elem::f32, kib(4), {b});
  EXPECT_EQ(graph::allocated_size(g, 32).total, 4 * kKiB);
}

TEST(GraphAlloc, NoInPlaceWhenTheSourceHasAnotherUserOrOtherShape) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});
  const TensorId b = g.op(Op::add, Elem::f32, kib(4), {a, g.external()});
  g.op(Op::add, Elem::f32, kib(4), {b, a});  // a still used: b could not take it over
  EXPECT_EQ(graph::allocated_size(g, 32).total, 8 * kKiB);

  Graph h;
  const TensorId x = h.op(Op::mul_mat, Elem::f32, kib(4), {h.external()});
  h.op(Op::add, Elem::f32, {256, 4, 1, 1}, {x, h.external()});  // same bytes, other shape
  EXPECT_EQ(graph::allocated_size(h, 32).total, 8 * kKiB);
}

TEST(GraphAlloc, OutputsAreNeitherFreedNorReused) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});
  g.mark_output(a);
  const TensorId b = g.op(Op::add, Elem::f32, kib(4), {a, g.external()});
  g.op(Op::mul_mat, Elem::f32, kib(4), {g.external(), b});
  EXPECT_EQ(graph::allocated_size(g, 32).total, 12 * kKiB);
}

TEST(GraphAlloc, AViewKeepsItsRootAliveUntilTheViewsLastUser) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});
  const TensorId v = g.view(a, {512, 2, 1, 1});
  g.op(Op::mul_mat, Elem::f32, kib(4), {g.external()});  // a is alive: no reuse
  g.op(Op::mul_mat, Elem::f32, kib(4), {g.external(), v});
  EXPECT_EQ(graph::allocated_size(g, 32).total, 12 * kKiB);
}

TEST(GraphAlloc, BestFitTakesTheLastOfEqualHolesAndFreedNeighboursMerge) {
  Graph g;
  auto mm = [&](std::int64_t size, std::initializer_list<TensorId> srcs) {
    return g.op(Op::mul_mat, Elem::f32, kib(size), srcs);
  };
  const TensorId a = mm(2, {});   // [0, 2)
  const TensorId b = mm(1, {});   // [2, 3)
  const TensorId c = mm(1, {});   // [3, 4)
  const TensorId d = mm(1, {a});  // [4, 5); frees a: hole [0, 2)
  const TensorId e = mm(1, {c});  // best fit [0, 1); frees c: holes [1, 2) and [3, 4)
  const TensorId f = mm(1, {b});  // equal holes: the later one, [3, 4); b merges into [1, 3)
  mm(2, {d, e, f});               // fits the merged hole [1, 3): no growth
  EXPECT_EQ(graph::allocated_size(g, 32).total, 5 * kKiB);
}

TEST(GraphAlloc, SizesAreRoundedToTheAlignment) {
  Graph g;
  const TensorId a = g.op(Op::mul_mat, Elem::f32, {3, 1, 1, 1}, {g.external()});
  g.op(Op::mul_mat, Elem::f32, {3, 1, 1, 1}, {g.external(), a});
  EXPECT_EQ(graph::allocated_size(g, 32).total, 64);
}

TEST(ReserveGraph, ModelsTheRebuiltFamiliesOnly) {
  EXPECT_TRUE(graph_modelled(test::llama31_8b()));
  EXPECT_TRUE(graph_modelled(test::mistral_7b()));
  EXPECT_TRUE(graph_modelled(test::gpt_oss_20b()));
  EXPECT_FALSE(graph_modelled(test::deepseek_v3()));
  EXPECT_TRUE(graph_modelled(test::gemma3_27b()));
  EXPECT_TRUE(graph_modelled(test::phi2_2b7()));
  EXPECT_TRUE(graph_modelled(test::command_r_plus_shape()));
}

// Measured with real llama.cpp (node-llama-cpp 3.22.1, CPU): Llama 3.2 3B, n_ctx 8192, two
// sequences, ubatch 512, flash attention, q8_0 cache: 284.5918 MiB. The logits land above
// the last layer's FFN output, which sits higher in the buffer than with one sequence
// (268.5020 MiB at n_ctx 16384): a placement effect no closed form of phases captured.
TEST(ReserveGraph, ReproducesAllocatorPlacementOfLlama32) {
  const ModelSpec s = test::llama32_3b();
  auto params = [&](std::int64_t n_ctx, std::int32_t n_seq) {
    const ContextParams cp{.n_ctx = n_ctx,
                           .n_seq = n_seq,
                           .n_batch = 512,
                           .n_ubatch = 512,
                           .type_k = GgmlType::q8_0,
                           .type_v = GgmlType::q8_0,
                           .flash_attn = true};
    return ComputeParams{.shape = context_shape(s, cp),
                         .n_outputs = 512,
                         .flash_attn = true,
                         .type_k = GgmlType::q8_0,
                         .type_v = GgmlType::q8_0};
  };
  const auto two = graph_compute_buffer(s, params(8192, 2));
  ASSERT_TRUE(two.has_value());
  EXPECT_NEAR(static_cast<double>(two->with_output) / static_cast<double>(mib), 284.5918, 1e-4);
  const auto one = graph_compute_buffer(s, params(16384, 1));
  ASSERT_TRUE(one.has_value());
  EXPECT_NEAR(static_cast<double>(one->with_output) / static_cast<double>(mib), 268.5020, 1e-4);
  EXPECT_LT(two->without_output, two->with_output);
}

// The two shapes outside the oracle grids each rebuilt architecture is pinned on, to figures
// llama.cpp's graph probe (scripts/oracle/graph) printed for it: 3 sequences at n_ctx 12288,
// ubatch 512 (reserved as 513 tokens, 171 per sequence), no flash attention, f16 cache; and
// one sequence at n_ctx 8192, ubatch 1024, flash attention, q4_0 cache.
struct HeldOut {
  std::int64_t n_ctx, ubatch;
  std::int32_t n_seq;
  bool flash_attn;
  GgmlType cache;
};
constexpr HeldOut kThreeSequences{12288, 512, 3, false, GgmlType::f16};
constexpr HeldOut kQuantizedCache{8192, 1024, 1, true, GgmlType::q4_0};

// The replayed compute buffer in MiB, with the output head or without.
double held_out_mib(const ModelSpec& s, const HeldOut& h, bool with_output = true) {
  const ContextParams cp{.n_ctx = h.n_ctx,
                         .n_seq = h.n_seq,
                         .n_batch = h.ubatch,
                         .n_ubatch = h.ubatch,
                         .type_k = h.cache,
                         .type_v = h.cache,
                         .flash_attn = h.flash_attn};
  const std::optional<GraphCompute> c =
      graph_compute_buffer(s, ComputeParams{.shape = context_shape(s, cp),
                                            .n_outputs = h.ubatch,
                                            .flash_attn = h.flash_attn,
                                            .type_k = h.cache,
                                            .type_v = h.cache,
                                            .n_seq = h.n_seq});
  if (!c) {
    ADD_FAILURE() << "no rebuilt graph";
    return 0;
  }
  return static_cast<double>(with_output ? c->with_output : c->without_output) /
         static_cast<double>(mib);
}

// Granite 4.0 H 350M (granitehybrid: 28 Mamba2 blocks, 4 roped attention blocks) on shapes
// outside the oracle grid. llama.cpp b10309's own figures (the graph probe of
// scripts/oracle/graph on a vramplan_make_gguf file of granite4:350m-h, whose graph matches
// the rebuilt one node by node): 3 sequences at n_ctx 12288, ubatch 512 (reserved as 513
// tokens, 171 per sequence), no flash attention: 199.0049 MiB; one sequence at n_ctx 8192,
// ubatch 1024, flash attention, q4_0 cache (rotated): 401.0039 MiB.
TEST(ReserveGraph, RebuildsTheGraniteHybridGraph) {
  const ModelSpec s = test::granite4_h_350m();
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 199.0049, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 401.0039, 1e-4);
}

// Gemma 3n E2B (gemma3n: AltUp's four streams, LAuReL, per-layer inputs, blocks 20-29 reading
// the cache of block 18 or 19) on shapes outside the oracle grid. llama.cpp b10309's own
// figures (the graph probe of scripts/oracle/graph on a vramplan_make_gguf file of
// gemma3n:e2b-q8_0, whose graph matches the rebuilt one node by node): 3 sequences at n_ctx
// 12288, ubatch 512 (reserved as 513 tokens, 171 per sequence), no flash attention:
// 524.5176 MiB; one sequence at n_ctx 8192, ubatch 1024, flash attention, q4_0 cache
// (rotated): 1041.0039 MiB. The logits of the 262400-token vocabulary dominate both.
TEST(ReserveGraph, RebuildsTheGemma3nGraph) {
  const ModelSpec s = test::gemma3n_e2b();
  ASSERT_TRUE(graph_modelled(s));
  // Its ops have backend rules (sched.cpp); exact on Vulkan
  // (bench/accuracy/vulkan/llamacpp-vulkan-llama4-gemma3n.jsonl): the scheduler replay.
  EXPECT_TRUE(schedule_modelled(s));
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 524.5176, 1e-4);
  // Without the head (the streams' merge, the norm and the logits of 513 outputs) less.
  EXPECT_LT(held_out_mib(s, kThreeSequences, false), held_out_mib(s, kThreeSequences));
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 1041.0039, 1e-4);
}

// Qwen3-VL 2B's text model (qwen3vl: qwen3's block, M-RoPE's four positions per token, and
// n_deepstack_layers 3 as real files carry it: the token embeddings padded to 4 x n_embd, the
// first three blocks adding a slice of them to their output) on shapes outside the oracle
// grid. llama.cpp b10309's own figures (the graph probe of scripts/oracle/graph on a
// vramplan_make_gguf file of qwen3-vl:2b-f16, whose graph matches the rebuilt one node by
// node): 3 sequences at n_ctx 12288, ubatch 512 (513 tokens, 171 per sequence), no flash
// attention: 320.7832 MiB; one sequence at n_ctx 8192, ubatch 1024, flash attention, q4_0
// cache: 641.5039 MiB.
TEST(ReserveGraph, RebuildsTheQwen3VlGraph) {
  const ModelSpec s = test::qwen3vl_2b();
  ASSERT_TRUE(graph_modelled(s));
  EXPECT_TRUE(schedule_modelled(s));  // PAD has backend rules: GPU plans take the scheduler replay
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 320.7832, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 641.5039, 1e-4);
  // One PAD, and one add per DeepStack block more than the same model without them.
  auto count = [](const ModelSpec& m, Op op) {
    const ContextParams cp{.n_ctx = 4096, .n_batch = 512, .n_ubatch = 512, .flash_attn = true};
    const graph::Graph g = reserve_graph(
        m, ComputeParams{.shape = context_shape(m, cp), .n_outputs = 512, .flash_attn = true},
        true);
    return std::count_if(g.nodes().begin(), g.nodes().end(),
                         [&](TensorId id) { return g.at(id).op == op; });
  };
  ModelSpec plain = s;
  plain.n_deepstack = 0;
  EXPECT_EQ(count(s, Op::pad), 1);
  EXPECT_EQ(count(plain, Op::pad), 0);
  EXPECT_EQ(count(s, Op::add), count(plain, Op::add) + 3);
  // As many DeepStack blocks as blocks: not a shape llama.cpp's graph was checked in.
  ModelSpec every = s;
  every.n_deepstack = s.n_layer;
  EXPECT_FALSE(graph_modelled(every));
}

// Qwen2.5-VL 3B's text model (Qwen/Qwen2.5-VL-3B-Instruct config.json: 36 blocks of 2048, FFN
// 11008, 16 heads of 128, 2 KV heads, tied, vocab 151936) as Ollama's file names it (qwen25vl)
// and as llama.cpp loads it (qwen2vl: Ollama's compat layer renames it): qwen2's block with
// M-RoPE's four positions per token (src/models/qwen2vl.cpp), on shapes outside the oracle
// grid. llama.cpp b10309's own figures (the graph probe of scripts/oracle/graph on
// `vramplan_make_gguf --model qwen2.5vl:3b-fp16 --as-llamacpp`, whose graph matches the rebuilt
// one node by node): 3 sequences at n_ctx 12288, ubatch 512, no flash attention: 304.7598 MiB;
// one sequence at n_ctx 8192, ubatch 1024, flash attention, q4_0 cache: 617.5039 MiB.
TEST(ReserveGraph, RebuildsTheQwen25VlGraph) {
  ModelSpec s;
  s.arch = "qwen25vl";
  s.n_layer = 36;
  s.n_embd = 2048;
  s.n_ff = 11008;
  s.n_head = 16;
  s.n_head_kv = 2;
  s.n_vocab = 151936;
  s.n_ctx_train = 128000;
  s.tied_embeddings = true;
  for (const char* arch : {"qwen25vl", "qwen2vl"}) {
    s.arch = arch;
    ASSERT_TRUE(graph_modelled(s)) << arch;
    EXPECT_NEAR(held_out_mib(s, kThreeSequences), 304.7598, 1e-4) << arch;
    EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 617.5039, 1e-4) << arch;
  }
  // The positions input holds 4 per token (M-RoPE); qwen2's, the same blocks, one per token.
  auto positions = [](const ModelSpec& m) {
    const ContextParams cp{.n_ctx = 4096, .n_batch = 512, .n_ubatch = 512, .flash_attn = true};
    const graph::Graph g = reserve_graph(
        m, ComputeParams{.shape = context_shape(m, cp), .n_outputs = 512, .flash_attn = true},
        true);
    std::int64_t n = 0;
    for (const TensorId id : g.inputs()) {
      if (g.at(id).elem == Elem::i32 && g.at(id).ne[1] == 1) n = std::max(n, g.at(id).ne[0]);
    }
    return n;
  };
  ModelSpec plain = s;
  plain.arch = "qwen2";
  EXPECT_EQ(positions(s), 4 * 512);
  EXPECT_EQ(positions(plain), 512);
}

// Qwen3-Next 80B-A3B (qwen3next: 36 Gated DeltaNet blocks, 12 gated-attention blocks, 512
// routed experts and a gated shared expert) on shapes outside the oracle grid. llama.cpp's own
// figures (the graph probe of scripts/oracle/graph on a vramplan_make_gguf file of
// qwen3-next:80b-q8_0, whose graph matches the rebuilt one node by node): 3 sequences at n_ctx
// 12288, ubatch 512 (reserved as 513 tokens, 171 per sequence), no flash attention:
// 314.7950 MiB; one sequence at n_ctx 8192, ubatch 1024, flash attention, q4_0 cache:
// 617.5039 MiB.
TEST(ReserveGraph, RebuildsTheQwen3NextGraph) {
  const ModelSpec s = test::qwen3_next_80b();
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 314.7950, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 617.5039, 1e-4);
}

// Phi-2 (phi2: LayerNorm with bias, a fused biased QKV, attention and a GELU FFN side by side
// off one norm, a biased head) on shapes outside the oracle grid. llama.cpp b10309's own
// figures (the graph probe of scripts/oracle/graph on a vramplan_make_gguf file of
// phi:2.7b-q6_K, whose graph matches the rebuilt one node by node): 3 sequences at n_ctx 6144,
// ubatch 512 (513 tokens, 171 per sequence), no flash attention: 177.3556 MiB; one sequence
// at n_ctx 2048, ubatch 2048, flash attention, f16 cache: 440.0078 MiB. (phi2's 80-wide heads
// take no q4_0 or q8_0 cache.)
TEST(ReserveGraph, RebuildsThePhi2Graph) {
  const ModelSpec s = test::phi2_2b7();
  ASSERT_TRUE(graph_modelled(s));
  EXPECT_NEAR(held_out_mib(s, {6144, 512, 3, false, GgmlType::f16}), 177.3556, 1e-4);
  EXPECT_NEAR(held_out_mib(s, {2048, 2048, 1, true, GgmlType::f16}), 440.0078, 1e-4);
}

// Command-R+'s block (command-r with 64 blocks: 2-D per-head Q/K layer norms, the FFN and the
// residual summed before the attention output) in a small synthetic shape; the oracle grid
// has only aya:8b (32 blocks, no Q/K norms). llama.cpp b10309's own figures (the graph probe on
// a vramplan_make_gguf file of that shape, whose graph matches the rebuilt one node by node):
// 83.1720 MiB and 133.0039 MiB.
TEST(ReserveGraph, RebuildsTheCommandRPlusGraph) {
  const ModelSpec s = test::command_r_plus_shape();
  ASSERT_TRUE(graph_modelled(s));
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 83.1720, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 133.0039, 1e-4);
  // LayerNorms (GGML_OP_NORM) as llama.cpp's dump counts them: each block's norm and its Q
  // and K norms, and the output norm; below 64 blocks the Q/K norms are gone.
  auto layer_norms = [](const ModelSpec& m) {
    const ContextParams cp{.n_ctx = 4096, .n_batch = 512, .n_ubatch = 512, .flash_attn = true};
    const graph::Graph g = reserve_graph(
        m, ComputeParams{.shape = context_shape(m, cp), .n_outputs = 512, .flash_attn = true},
        true);
    return std::count_if(g.nodes().begin(), g.nodes().end(),
                         [&](TensorId id) { return g.at(id).op == Op::norm; });
  };
  EXPECT_EQ(layer_norms(s), 64 * 3 + 1);
  ModelSpec fewer = s;
  fewer.n_layer = 63;
  EXPECT_EQ(layer_norms(fewer), 63 + 1);
}

// The encoders (graph_encoder.cpp: no KV cache, K and V the ubatch's own rows, an
// n_tokens x n_tokens mask) on shapes outside the oracle grids (grid-more-archs,
// grid-embedding, grid-encoders). llama.cpp b10309's own figures, from the graph probe of
// scripts/oracle/graph on vramplan_make_gguf files of bge-m3:567m, nomic-embed-text:v1.5 and
// embeddinggemma:300m-f16, whose graphs match the rebuilt ones node by node. The cache type
// changes nothing: there is no cache.
constexpr HeldOut kEncoderSequences{1536, 768, 3, true, GgmlType::f16};
constexpr HeldOut kEncoderOddUbatch{2048, 1000, 1, false, GgmlType::f16};

// BGE-M3 (bert: learned positions, biased projections, GELU): 3 sequences at n_ctx 12288,
// ubatch 512 (513 tokens), no flash attention: 29.0959 MiB; n_ctx 8192, ubatch 1024, flash
// attention (q4_0 asked for, no cache to apply it to): 30.0117 MiB.
TEST(ReserveGraph, RebuildsTheBertEncoderGraph) {
  const ModelSpec s = test::bge_m3();
  ASSERT_TRUE(graph_modelled(s));
  // Replayed on GPUs too: exact on every buffer of the encoders' Vulkan runs
  // (bench/accuracy/vulkan/llamacpp-vulkan-archs.jsonl).
  EXPECT_TRUE(schedule_modelled(s));
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 29.0959, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 30.0117, 1e-4);
  // No output head: the graph without it is the same graph.
  EXPECT_EQ(held_out_mib(s, kThreeSequences, false), held_out_mib(s, kThreeSequences));
  // An encoder family said to be causal (a catalog entry without `causal: false`) is neither
  // the encoder graph nor a decoder's: closed forms.
  ModelSpec causal = s;
  causal.causal = true;
  EXPECT_FALSE(graph_modelled(causal));
}

// Nomic Embed Text v1.5 (nomic-bert: roped views of a fused QKV, SwiGLU): 3 sequences at n_ctx
// 1536, ubatch 768, flash attention: 34.8838 MiB; n_ctx 2048, ubatch 1000, no flash attention:
// 73.0400 MiB.
TEST(ReserveGraph, RebuildsTheNomicBertEncoderGraph) {
  const ModelSpec s = test::nomic_embed_text();
  EXPECT_NEAR(held_out_mib(s, kEncoderSequences), 34.8838, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kEncoderOddUbatch), 73.0400, 1e-4);
}

// EmbeddingGemma 300M (gemma-embedding: gemma3's blocks over the no-cache attention, a second
// mask for the sliding-window blocks): 19.1338 MiB and 33.7334 MiB on the same two shapes.
TEST(ReserveGraph, RebuildsTheEmbeddingGemmaGraph) {
  const ModelSpec s = test::embeddinggemma_300m();
  EXPECT_NEAR(held_out_mib(s, kEncoderSequences), 19.1338, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kEncoderOddUbatch), 33.7334, 1e-4);
  // A family whose encoder graph was not checked keeps the closed forms.
  ModelSpec other = s;
  other.arch = "modern-bert";
  EXPECT_FALSE(graph_modelled(other));
}

// Phi-4 (arch phi3, head size 128): the Hadamard rotation of a quantized cache applies, and V,
// a strided view of the fused QKV projection, is copied contiguous before it is rotated.
// Measured with real llama.cpp (b10309, CPU): n_ctx 4096, one sequence, ubatch 512, flash
// attention, q8_0 cache: 240.0918 MiB.
TEST(ReserveGraph, FusedQkvWithRotatedCacheMatchesPhi4) {
  const ModelSpec s = test::phi4_14b();
  const ContextParams cp{.n_ctx = 4096,
                         .n_seq = 1,
                         .n_batch = 512,
                         .n_ubatch = 512,
                         .type_k = GgmlType::q8_0,
                         .type_v = GgmlType::q8_0,
                         .flash_attn = true};
  const ComputeParams p{.shape = context_shape(s, cp),
                        .n_outputs = 512,
                        .flash_attn = true,
                        .type_k = GgmlType::q8_0,
                        .type_v = GgmlType::q8_0};
  const auto b = graph_compute_buffer(s, p);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(static_cast<double>(b->with_output) / static_cast<double>(mib), 240.0918, 1e-4);
}

// llama_context::graph_reserve rounds the ubatch up to a multiple of the sequences: ubatch 6
// with 4 sequences reserves 8 tokens (and 6 outputs). Measured with real llama.cpp (b10309,
// CPU): Llama 3.2 3B, n_ctx 4096, flash attention, f16 cache: 3.0996 MiB.
TEST(ReserveGraph, RoundsTheUbatchUpToAMultipleOfTheSequences) {
  const ModelSpec s = test::llama32_3b();
  const ContextParams cp{
      .n_ctx = 4096, .n_seq = 4, .n_batch = 6, .n_ubatch = 6, .flash_attn = true};
  const ComputeParams p{
      .shape = context_shape(s, cp), .n_outputs = 6, .flash_attn = true, .n_seq = 4};
  const auto b = graph_compute_buffer(s, p);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(static_cast<double>(b->with_output) / static_cast<double>(mib), 3.0996, 1e-4);
}

// Llama 4 Scout (llama4: chunked attention on 3 of 4 blocks, the others without rope and with
// Q times the temperature input, weightless Q/K norms after rope, one sigmoid-routed expert
// weighted before it runs, beside a shared expert) on shapes outside the oracle grid.
// llama.cpp's own figures (the graph probe of scripts/oracle/graph on a vramplan_make_gguf file
// of llama4:scout-q8_0, whose graph matches the rebuilt one node by node): 424.6465 MiB and
// 901.4531 MiB; both mostly the logits of the 202048-token vocabulary.
TEST(ReserveGraph, RebuildsTheLlama4Graph) {
  const ModelSpec s = test::llama4_scout();
  ASSERT_TRUE(graph_modelled(s));
  // The experts' input is a REPEAT (rules in sched.cpp); exact on Vulkan
  // (bench/accuracy/vulkan/llamacpp-vulkan-llama4-gemma3n.jsonl): the scheduler replay.
  EXPECT_TRUE(schedule_modelled(s));
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 424.6465, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 901.4531, 1e-4);
}

// Llama 4 Maverick (llama4 with 128 experts: routed experts on every second block only, a
// dense FFN of 16384 on the others, and no Q/K norms: load_arch_hparams sets use_kq_norm
// unless the model has 128 experts) on shapes outside the oracle grid. llama.cpp's own figures
// (the graph probe of scripts/oracle/graph on a vramplan_make_gguf file of
// llama4:maverick-q8_0, whose graph matches the rebuilt one node by node): 445.3965 MiB and
// 890.7539 MiB. Maverick's text model is Scout's shape with those experts.
TEST(ReserveGraph, RebuildsTheLlama4GraphWithInterleavedExperts) {
  ModelSpec s = test::llama4_scout();
  s.moe.n_expert = 128;
  s.moe.every_n = 2;
  ASSERT_TRUE(graph_modelled(s));
  EXPECT_TRUE(schedule_modelled(s));
  EXPECT_NEAR(held_out_mib(s, kThreeSequences), 445.3965, 1e-4);
  EXPECT_NEAR(held_out_mib(s, kQuantizedCache), 890.7539, 1e-4);
  // The dense blocks' FFN and the Q/K norms are in the graph: with MoE on every block (and
  // the norms a 16-expert model has) it is another graph.
  auto nodes = [](const ModelSpec& m, Op op) {
    const ContextParams cp{.n_ctx = 4096, .n_batch = 512, .n_ubatch = 512};
    const graph::Graph g =
        reserve_graph(m, ComputeParams{.shape = context_shape(m, cp), .n_outputs = 512}, true);
    return std::count_if(g.nodes().begin(), g.nodes().end(),
                         [&](graph::TensorId t) { return g.at(t).op == op; });
  };
  ModelSpec every = s;
  every.moe.every_n = 1;
  EXPECT_EQ(nodes(s, Op::mul_mat_id), nodes(every, Op::mul_mat_id) / 2);
  ModelSpec normed = s;
  normed.moe.n_expert = 16;
  // 36 roped blocks (3 of 4), Q and K each: 72 weightless norms more.
  EXPECT_EQ(nodes(normed, Op::rms_norm), nodes(s, Op::rms_norm) + 72);
}

TEST(GraphAlloc, TheMarkBeforeTheHeadIsTheSizeWithoutIt) {
  const ModelSpec s = test::gpt_oss_20b();
  const ContextParams cp{.n_ctx = 8192, .n_seq = 2, .n_batch = 512, .n_ubatch = 512};
  const ComputeParams p{.shape = context_shape(s, cp), .n_outputs = 512, .n_seq = 2};
  const graph::AllocatedSize with = graph::allocated_size(reserve_graph(s, p, true), 32);
  const graph::AllocatedSize without = graph::allocated_size(reserve_graph(s, p, false), 32);
  EXPECT_EQ(with.before_head, without.total);
  EXPECT_EQ(without.before_head, without.total);
  EXPECT_GT(with.total, with.before_head);
}

}  // namespace
}  // namespace vramplan
