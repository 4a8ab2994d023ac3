// The scheduler replay (sched.hpp) on hand-built graphs: op offload of a host weight by batch
// size, the copies it makes, lavapipe's storage-buffer limit, and the Vulkan backend's node
// reordering.
#include <gtest/gtest.h>

#include <vramplan/graph_alloc.hpp>
#include <vramplan/sched.hpp>

namespace vramplan {
namespace {

using graph::Elem;
using graph::Graph;
using graph::Memory;
using graph::Op;

// x (a graph input) -> rms_norm -> mul_mat with the weight of block 0 -> output.
Graph one_matmul(std::int64_t rows, Bytes weight_bytes) {
  Graph g;
  const auto x = g.input(Elem::f32, {256, rows, 1, 1});
  const auto n = g.op(Op::rms_norm, Elem::f32, {256, rows, 1, 1}, {x});
  const auto w = g.external(Memory::weight, 0, weight_bytes);
  const auto y = g.op(Op::mul_mat, Elem::f32, {512, rows, 1, 1}, {w, n});
  g.mark_output(y);
  return g;
}

sched::Placement host_block() {
  sched::Placement p;
  p.n_layer = 1;
  p.block_on_gpu = {false};
  return p;
}

TEST(Sched, LargeBatchOnAHostWeightRunsOnTheGpuWithACopyOfTheWeight) {
  const Bytes weight = 3 * mib;
  const sched::Result r =
      sched::replay(one_matmul(64, weight), host_block(), sched::vulkan_lavapipe());
  // The norm follows the offloaded matmul to the GPU (expansion upwards): the GPU holds the
  // weight's copy, the input's copy and the result; the host only the graph input.
  EXPECT_GE(r.gpu, weight + 256 * 64 * 4 + 512 * 64 * 4);
  EXPECT_EQ(r.host, 256 * 64 * 4);
  // The matmul starts a second GPU split: its weight comes from another backend and the
  // current split already has an input (the copy of x).
  EXPECT_EQ(r.splits, 2);
}

TEST(Sched, SmallBatchOrOpOffloadOffStaysOnTheCpu) {
  const sched::Result small =
      sched::replay(one_matmul(16, 3 * mib), host_block(), sched::vulkan_lavapipe());
  EXPECT_EQ(small.gpu, 0);
  EXPECT_EQ(small.splits, 1);
  sched::Placement off = host_block();
  off.op_offload = false;
  const sched::Result r = sched::replay(one_matmul(64, 3 * mib), off, sched::vulkan_lavapipe());
  EXPECT_EQ(r.gpu, 0);
  EXPECT_GE(r.host, 512 * 64 * 4);
}

TEST(Sched, TensorsOverTheStorageBufferRangeRunOnTheCpu) {
  // A GPU weight over lavapipe's 128 MiB range: the op falls back to the CPU, which gets a copy.
  sched::Placement p;
  p.n_layer = 1;
  p.block_on_gpu = {true};
  const sched::Result lavapipe =
      sched::replay(one_matmul(64, 200 * mib), p, sched::vulkan_lavapipe());
  EXPECT_GE(lavapipe.host, 200 * mib);
  const sched::Result generic =
      sched::replay(one_matmul(64, 200 * mib), p, sched::vulkan_generic());
  EXPECT_LT(generic.host, mib);
}

// K and V computed on the GPU and written into a host cache: each store runs on the CPU with a
// copy of its view. The view of V is made between the two stores, after the CPU split's inputs
// (ggml's graph_copy names it by pointer all the same), and V is freed once it is copied: at
// the last matmul the GPU holds only the copy of x and the result.
TEST(Sched, AnActivationCopiedToTheHostIsFreedAfterItsCopy) {
  Graph g;
  const auto x = g.input(Elem::f32, {256, 64, 1, 1});
  const auto idx = g.input(Elem::i64, {64, 1, 1, 1});
  const auto k =
      g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {g.external(Memory::weight, 0, 64 * 1024), x});
  const auto v =
      g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {g.external(Memory::weight, 0, 64 * 1024), x});
  const auto k_cache = g.external(Memory::cache, 0, 256 * 1024);
  const auto v_cache = g.external(Memory::cache, 0, 256 * 1024);
  g.store({g.view(k, {256, 64, 1, 1}), idx, k_cache});
  g.store({g.view(v, {256, 64, 1, 1}), idx, v_cache});
  const auto y =
      g.op(Op::mul_mat, Elem::f32, {4096, 64, 1, 1}, {g.external(Memory::weight, 0, 64 * 1024), x});
  g.mark_output(y);
  sched::Placement p;
  p.n_layer = 1;
  p.block_on_gpu = {true};
  p.kv_offload = false;
  const sched::Result r = sched::replay(g, p, sched::vulkan_lavapipe());
  EXPECT_EQ(r.gpu, 256 * 64 * 4 + 4096 * 64 * 4);
}

// The Vulkan backend places the next node together with the independent real nodes within the
// next 20 (ggml_vk_graph_optimize): in a = x·W0, b = cont(a), c = x·W1, d = b + c, c is moved
// before b, so a, b and c are alive together where in graph order a is freed once b is made
// (d runs in place of b either way).
TEST(Sched, TheVulkanReorderingMovesIndependentNodesForward) {
  Graph g;
  const Graph::Shape act{1024, 256, 1, 1};  // 1 MiB of f32
  const auto x = g.input(Elem::f32, {256, 256, 1, 1});
  const auto a = g.op(Op::mul_mat, Elem::f32, act, {g.external(Memory::weight, 0, mib), x});
  const auto b = g.op(Op::cont, Elem::f32, act, {a});
  const auto c = g.op(Op::mul_mat, Elem::f32, act, {g.external(Memory::weight, 0, mib), x});
  g.mark_output(g.op(Op::add, Elem::f32, act, {b, c}));
  sched::Placement p;
  p.n_layer = 1;
  p.block_on_gpu = {true};
  sched::GpuRules plain = sched::vulkan_lavapipe();
  plain.reorders_nodes = false;
  ASSERT_TRUE(sched::vulkan_lavapipe().reorders_nodes);
  const sched::Result reordered = sched::replay(g, p, sched::vulkan_lavapipe());
  const sched::Result in_order = sched::replay(g, p, plain);
  EXPECT_EQ(reordered.gpu - in_order.gpu, mib);
  EXPECT_EQ(reordered.host, in_order.host);
}

// The reordering takes a PAD (Qwen3-VL's padded embeddings) for a real node, not a leaf as a
// view is: in m = x·W0, a = m + m, b = a·W1, p = pad(x), y = b + p, the pad of the graph
// input is independent of a and joins m and a's group, so p is made before b and holds a third
// 1 MiB block while a and b are alive. As a leaf it would wait for the views' pass, which a
// group ending in ADD skips, and take a's freed block after b, as in graph order.
TEST(Sched, TheVulkanReorderingMovesAPadForward) {
  Graph g;
  const Graph::Shape act{1024, 256, 1, 1};  // 1 MiB of f32
  const auto x = g.input(Elem::f32, {256, 256, 1, 1});
  const auto m = g.op(Op::mul_mat, Elem::f32, act, {g.external(Memory::weight, 0, mib), x});
  const auto a = g.op(Op::add, Elem::f32, act, {m, m});
  const auto b = g.op(Op::mul_mat, Elem::f32, act, {g.external(Memory::weight, 0, mib), a});
  const auto p = g.op(Op::pad, Elem::f32, act, {x});
  g.mark_output(g.op(Op::add, Elem::f32, act, {b, p}));
  sched::Placement pl;
  pl.n_layer = 1;
  pl.block_on_gpu = {true};
  sched::GpuRules plain = sched::vulkan_lavapipe();
  plain.reorders_nodes = false;
  const sched::Result reordered = sched::replay(g, pl, sched::vulkan_lavapipe());
  const sched::Result in_order = sched::replay(g, pl, plain);
  EXPECT_EQ(reordered.gpu - in_order.gpu, mib);
  EXPECT_EQ(reordered.splits, 1);
}

// Two GPUs, block 0 on GPU 0 and block 1 on GPU 1, a graph input m read by block 1's add: the
// layer split's activation and m are copied into GPU 1. With pipeline parallelism
// (n_copies = 4, ggml_backend_sched_split_graph) every graph input exists 4 times on the CPU
// and every split input 4 times on its GPU, all kept for the whole graph; with one copy they
// are freed after their last use and the norm runs in place on its input's copy.
TEST(Sched, PipelineParallelKeepsFourCopiesOfEveryInputOnEveryBackend) {
  constexpr Bytes act = 256 * 64 * 4;  // every tensor of this graph: 64 KiB
  Graph g;
  const auto x = g.input(Elem::f32, {256, 64, 1, 1});
  const auto m = g.input(Elem::f32, {256, 64, 1, 1});
  const auto n0 = g.op(Op::rms_norm, Elem::f32, {256, 64, 1, 1}, {x});
  const auto w0 = g.external(Memory::weight, 0, mib);
  const auto y0 = g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {w0, n0});
  const auto w1 = g.external(Memory::weight, 1, mib);
  const auto y1 = g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {w1, y0});
  const auto z = g.op(Op::add, Elem::f32, {256, 64, 1, 1}, {y1, m});
  g.mark_output(z);

  sched::Placement p;
  p.n_layer = 2;
  p.block_on_gpu = {true, true};
  p.n_gpus = 2;
  p.block_gpu = {0, 1};
  p.output_gpu = 1;
  const sched::Result one = sched::replay(g, p, sched::cuda());
  ASSERT_EQ(one.gpus.size(), 2u);
  EXPECT_EQ(one.splits, 2);
  EXPECT_EQ(one.gpu, one.gpus[0]);
  EXPECT_EQ(one.gpus[0], 2 * act);  // x's copy (the norm in place), y0
  EXPECT_EQ(one.gpus[1], 3 * act);  // the copies of y0 and m, y1 (the add in place)
  EXPECT_EQ(one.host, 2 * act);     // x and m

  p.n_copies = sched::max_copies;
  const sched::Result four = sched::replay(g, p, sched::cuda());
  EXPECT_EQ(four.splits, 2);
  EXPECT_EQ(four.gpus[0], 4 * act + 2 * act);  // 4 copies of x, the norm, y0
  EXPECT_EQ(four.gpus[1], 4 * 2 * act + act);  // 4 copies of y0 and of m, y1
  EXPECT_EQ(four.host, 4 * 2 * act);           // x and m, 4 times
}

// Two GPUs and the host: a = W1·x and b = W1'·x run on GPU 1 (their weights are there); the
// host's W2 (a batch of 16: no op offload) reads a, GPU 0's W0 reads b. a goes to the host and
// b to GPU 0, one copy each: a copy belongs to a (tensor, backend) pair, and with three backends
// the pair (a, host) must not be taken for (b, GPU 0), the tensor after a.
TEST(Sched, EachCopyBelongsToOneTensorAndOneBackend) {
  constexpr Bytes act = 256 * 16 * 4;
  Graph g;
  const auto x = g.input(Elem::f32, {256, 16, 1, 1});
  const auto w1 = g.external(Memory::weight, 1, mib);
  const auto w1b = g.external(Memory::weight, 1, mib);
  const auto w2 = g.external(Memory::weight, 2, mib);
  const auto w0 = g.external(Memory::weight, 0, mib);
  const auto a = g.op(Op::mul_mat, Elem::f32, {256, 16, 1, 1}, {w1, x});
  const auto b = g.op(Op::mul_mat, Elem::f32, {256, 16, 1, 1}, {w1b, x});
  ASSERT_EQ(b, a + 1);
  g.mark_output(g.op(Op::mul_mat, Elem::f32, {256, 16, 1, 1}, {w2, a}));
  g.mark_output(g.op(Op::mul_mat, Elem::f32, {256, 16, 1, 1}, {w0, b}));
  sched::Placement p;
  p.n_layer = 3;
  p.block_on_gpu = {true, true, false};
  p.n_gpus = 2;
  p.block_gpu = {0, 1, 0};
  const sched::Result r = sched::replay(g, p, sched::cuda());
  ASSERT_EQ(r.gpus.size(), 2u);
  EXPECT_EQ(r.gpus[0], 2 * act);  // b's copy and W0·b
  EXPECT_EQ(r.host, 2 * act);     // a's copy and W2·a (x is freed once copied to GPU 1)
}

// The rope frequency factors of blocks on one device are one tensor (TENSOR_DUPLICATED in
// llama.cpp's create_tensor returns the tensor already made in that buffer type's context). Two
// host blocks whose projections are offloaded: a ROPE node on the GPU reading host factors
// starts a split when its split already has inputs (ggml_backend_sched_split_graph), and copies
// them in the first block only; in the second block the rope's split then has no input, so the
// next offloaded projection joins it: 4 splits, where factors taken per block would give 5
// (block 1's rope would copy its own and the projection after it would start a fifth).
TEST(Sched, RopeFactorsOfOneDeviceAreOneTensor) {
  Graph g;
  const auto x = g.input(Elem::f32, {256, 64, 1, 1});
  const auto pos = g.input(Elem::i32, {64, 1, 1, 1});
  auto block = [&](std::int32_t il, graph::TensorId in) {
    const auto w = g.external(Memory::weight, il, mib);
    const auto f = g.external(Memory::weight, il, 256);
    const auto q = g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {w, in});
    return g.op(Op::rope, Elem::f32, {64, 4, 64, 1}, {g.view(q, {64, 4, 64, 1}), pos, f});
  };
  const auto r0 = block(0, x);
  const auto r1 = block(1, g.view(r0, {256, 64, 1, 1}));
  const auto w_after = g.external(Memory::weight, 1, mib);
  g.mark_output(
      g.op(Op::mul_mat, Elem::f32, {256, 64, 1, 1}, {w_after, g.view(r1, {256, 64, 1, 1})}));
  sched::Placement p;
  p.n_layer = 2;
  p.block_on_gpu = {false, false};
  const sched::Result r = sched::replay(g, p, sched::cuda());
  EXPECT_EQ(r.splits, 4);
}

// Metal's offload_op takes only matrix multiplications (ggml_backend_metal_device_offload_op in
// ggml/src/ggml-metal/ggml-metal.cpp: MUL_MAT or MUL_MAT_ID with a batch of 32 or more); CUDA's
// takes any op but get_rows at that batch (ggml_backend_cuda_device_offload_op). A norm's
// multiplication by a host weight (64 rows) therefore runs on the GPU under CUDA's rules, the
// norm with it (two splits: the weight's copy starts a second one; the GPU holds the copies of x
// and of the weight, both ops in place), and stays on the CPU under Metal's (one split, nothing
// on the GPU).
TEST(Sched, MetalOffloadsOnlyMatrixMultiplications) {
  Graph g;
  const auto x = g.input(Elem::f32, {256, 64, 1, 1});
  const auto n = g.op(Op::rms_norm, Elem::f32, {256, 64, 1, 1}, {x});
  const auto w = g.external(Memory::weight, 0, 256 * 4);
  const auto y = g.op(Op::mul, Elem::f32, {256, 64, 1, 1}, {n, w});
  g.mark_output(y);
  constexpr Bytes act = 256 * 64 * 4;
  const sched::Result cuda = sched::replay(g, host_block(), sched::cuda());
  EXPECT_EQ(cuda.splits, 2);
  EXPECT_EQ(cuda.gpu, act + 256 * 4);
  EXPECT_EQ(cuda.host, act);
  const sched::Result metal = sched::replay(g, host_block(), sched::metal());
  EXPECT_EQ(metal.splits, 1);
  EXPECT_EQ(metal.gpu, 0);
  EXPECT_EQ(metal.host, act);  // x, the norm and the product in place
  // A matrix multiplication on a host weight is offloaded by both.
  const sched::Result mm = sched::replay(one_matmul(64, 3 * mib), host_block(), sched::metal());
  EXPECT_EQ(mm.host, 256 * 64 * 4);
  EXPECT_EQ(mm.splits, 2);
}

}  // namespace
}  // namespace vramplan
