// Integer overflow (docs/reliability.md §4, issue 9 class 4): sizes computed from file values
// and settings never wrap. Each reproducer is a file or a value that used to give weights of
// 0 B or a negative size, a KV cache of 0 B or "fits: yes"; now it is Error{bad_input} (exit
// 3) with one line naming the field, or a usage error for a setting out of its range.
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/graph_alloc.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/gguf_model.hpp>
#include <vramplan/planner.hpp>

#include <unistd.h>

#include "support/gguf_writer.hpp"
#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

namespace fs = std::filesystem;
using test::GgufWriter;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// The message of the Error `f` throws, checking its kind; "" (a test failure) when it does not
// throw. Messages are one line.
template <typename F>
std::string error_of(F f, ErrorKind kind = ErrorKind::bad_input) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no error";
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CheckedArithmetic, ResultsAndOverflow) {
  EXPECT_EQ(checked_add(2, 3, "x"), 5);
  EXPECT_EQ(checked_mul(-4, 3, "x"), -12);
  EXPECT_EQ(checked_mul(std::int64_t{1} << 31, std::int64_t{1} << 31, "x"), std::int64_t{1} << 62);
  EXPECT_EQ(checked_add(int64_max - 1, 1, "x"), int64_max);
  const std::string add = error_of([] { (void)checked_add(int64_max, 1, "the KV cache"); });
  EXPECT_EQ(add, "the KV cache overflows a 64-bit byte count");
  const std::string mul = error_of(
      [] { (void)checked_mul(std::int64_t{1} << 32, std::int64_t{1} << 31, "tensor 'x' bytes"); });
  EXPECT_EQ(mul, "tensor 'x' bytes overflows a 64-bit byte count");
}

// --- tensors: byte sizes and their sums ---

TEST(Overflow, TensorByteSizeNamesTheTensor) {
  // 2^61 f32 elements: 2^63 bytes, one more than an int64 holds.
  const TensorInfo t{
      "blk.0.ffn_up.weight", {std::int64_t{1} << 31, std::int64_t{1} << 30, 1, 1}, GgmlType::f32};
  const std::string m = error_of([&] { (void)t.bytes(); });
  EXPECT_TRUE(contains(m, "blk.0.ffn_up.weight")) << m;
  const TensorInfo e{"x", {int64_max, 2, 1, 1}, GgmlType::f32};
  EXPECT_TRUE(contains(error_of([&] { (void)e.elements(); }), "'x'"));
}

TEST(Overflow, WeightSumsDoNotWrap) {
  // Three tensors of 2^62 bytes each: the sum used to wrap to a negative total.
  ModelSpec s = test::llama31_8b();
  s.n_layer = 1;
  std::vector<TensorInfo> tensors;
  for (const char* name : {"blk.0.a.weight", "blk.0.b.weight", "blk.0.c.weight"}) {
    tensors.push_back({name, {std::int64_t{1} << 31, std::int64_t{1} << 29, 1, 1}, GgmlType::f32});
  }
  const std::string m =
      error_of([&] { (void)make_model("m", "test", s, FileType::all_f32, tensors); });
  EXPECT_TRUE(contains(m, "weights")) << m;
}

// --- GGUF files ---

class OverflowGguf : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / (std::string("vramplan-overflow-test-") + info->name() +
                                        "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Model load(const GgufWriter& w) {
    const std::string path = (dir_ / "m.gguf").string();
    w.write_sparse(path);
    return io::model_from_gguf(io::read_gguf_model_files(path), "m.gguf");
  }

  // `fit` of the model on a 24 GiB GPU, as the CLI runs it.
  static LlamaPlan plan(const Model& m, EngineId id = EngineId::llamacpp) {
    FitRequest r;
    r.engine = &engine(id);
    r.backend = Backend::cuda;
    r.vram = {24 * gib};
    r.ram = 64 * gib;
    r.headroom =
        Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
    return fit(m, r, {});
  }

  fs::path dir_;
};

GgufWriter base(const std::string& arch, std::uint32_t n_layer, std::uint32_t n_embd,
                std::uint32_t n_head, std::uint32_t n_ctx) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".block_count", n_layer);
  w.set_u32(arch + ".context_length", n_ctx);
  w.set_u32(arch + ".embedding_length", n_embd);
  w.set_u32(arch + ".feed_forward_length", 64);
  w.set_u32(arch + ".attention.head_count", n_head);
  const std::array<std::int64_t, 2> embd{n_embd, 32};
  w.add_tensor("token_embd.weight", embd, GgmlType::q8_0);
  w.add_tensor("output.weight", embd, GgmlType::q8_0);
  return w;
}

TEST_F(OverflowGguf, HugeSsmStateIsRejected) {
  // inner_size x state_size = 2^62 elements of f32 per layer: the recurrent state wrapped to
  // 0 B. Caps on the ssm.* values keep it far from overflow.
  GgufWriter w = base("mamba2", 1, 64, 1, 4096);
  w.set_u32("mamba2.ssm.conv_kernel", 4);
  w.set_u32("mamba2.ssm.inner_size", (1u << 31) - 1);
  w.set_u32("mamba2.ssm.state_size", (1u << 31) - 1);
  w.set_u32("mamba2.ssm.group_count", 1);
  const std::string m = error_of([&] { (void)plan(load(w)); });
  EXPECT_TRUE(contains(m, "inner_size")) << m;
}

TEST_F(OverflowGguf, HugeGroupCountIsRejected) {
  GgufWriter w = base("mamba2", 1, 64, 1, 4096);
  w.set_u32("mamba2.ssm.conv_kernel", 1u << 30);
  w.set_u32("mamba2.ssm.inner_size", 64);
  w.set_u32("mamba2.ssm.state_size", 64);
  w.set_u32("mamba2.ssm.group_count", 1u << 30);
  const std::string m = error_of([&] { (void)plan(load(w)); });
  EXPECT_TRUE(contains(m, "conv_kernel") || contains(m, "group_count")) << m;
}

TEST_F(OverflowGguf, HugeKvCacheNamesTheKvCache) {
  // Every dimension at its cap: 2^28 K elements per token and layer, 2^27 tokens, 1024 layers:
  // 2^67 bytes of KV cache, which wrapped to 0 B.
  GgufWriter w = base("llama", 1024, 1u << 20, 1u << 14, 1u << 27);
  w.set_u32("llama.attention.head_count_kv", 1u << 14);
  w.set_u32("llama.attention.key_length", 1u << 14);
  w.set_u32("llama.attention.value_length", 1u << 14);
  const Model model = load(w);
  const std::string m = error_of([&] { (void)plan(model); });
  EXPECT_TRUE(contains(m, "KV cache")) << m;
  Config c;
  c.ctx = max_context;
  c.gpu_layers = 0;
  const std::string e = error_of(
      [&] { (void)estimate(model, engine(EngineId::llamacpp), Backend::cuda, c, {24 * gib}); });
  EXPECT_TRUE(contains(e, "KV cache")) << e;
}

TEST_F(OverflowGguf, HugeComputeGraphNamesTheComputeBuffer) {
  // Without flash attention the KQ scores are [cells, tokens, heads]: 2^27 x 2^20 x 2^14 f32.
  GgufWriter w = base("llama", 1, 1u << 14, 1u << 14, 1u << 27);
  w.set_u32("llama.attention.head_count_kv", 1);
  const Model model = load(w);
  Config c;
  c.ctx = 1 << 27;
  c.flash_attn = false;
  c.n_batch = 1 << 20;
  c.n_ubatch = 1 << 20;
  const std::string e = error_of(
      [&] { (void)estimate(model, engine(EngineId::llamacpp), Backend::cuda, c, {24 * gib}); });
  EXPECT_TRUE(contains(e, "compute buffer")) << e;
}

TEST_F(OverflowGguf, ClosedFormComputeBufferDoesNotWrap) {
  // An architecture without a graph builder takes the closed forms: same KQ size.
  GgufWriter w = base("falcon", 1, 1u << 14, 1u << 14, 1u << 27);
  w.set_u32("falcon.attention.head_count_kv", 1);
  const Model model = load(w);
  Config c;
  c.ctx = 1 << 27;
  c.flash_attn = false;
  c.n_batch = 1 << 20;
  c.n_ubatch = 1 << 20;
  const std::string e = error_of(
      [&] { (void)estimate(model, engine(EngineId::llamacpp), Backend::cuda, c, {24 * gib}); });
  EXPECT_TRUE(contains(e, "compute buffer")) << e;
}

// --- settings that reach core unchecked (a .params num_ctx of 2^62) ---

TEST(Overflow, HugeContextIsOutOfRange) {
  const Model m = test::simple_model(test::llama31_8b());
  Config c;
  c.ctx = std::int64_t{1} << 62;
  const std::string e =
      error_of([&] { (void)estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {24 * gib}); },
               ErrorKind::invalid_setting);
  EXPECT_TRUE(contains(e, "context")) << e;
  // Ollama clamps its num_ctx to the model's maximum first: that one plans.
  const Estimate o = estimate(m, engine(EngineId::ollama), Backend::cuda, c, {24 * gib});
  EXPECT_EQ(o.config.ctx, m.spec.n_ctx_train);
  EXPECT_GT(o.kv_cache(), 0);

  FitRequest r;
  r.engine = &engine(EngineId::llamacpp);
  r.vram = {24 * gib};
  r.headroom =
      Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
  r.ctx = std::int64_t{1} << 62;
  EXPECT_TRUE(
      contains(error_of([&] { (void)fit(m, r, {}); }, ErrorKind::invalid_setting), "context"));
}

TEST(Overflow, HugeBatchIsOutOfRange) {
  const Model m = test::simple_model(test::llama31_8b());
  Config c;
  c.ctx = 4096;
  c.n_batch = std::int64_t{1} << 40;
  c.n_ubatch = std::int64_t{1} << 40;
  const std::string e =
      error_of([&] { (void)estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {24 * gib}); },
               ErrorKind::invalid_setting);
  EXPECT_TRUE(contains(e, "batch")) << e;
}

TEST(Overflow, GraphTensorSizeNamesTheComputeBuffer) {
  graph::Graph g;
  g.input(graph::Elem::f32, {std::int64_t{1} << 40, std::int64_t{1} << 30, 1, 1});
  EXPECT_TRUE(contains(error_of([&] { (void)graph::allocated_size(g, 32); }), "compute buffer"));
  // Two tensors of 2^61 bytes each fit one by one but not together.
  graph::Graph two;
  two.input(graph::Elem::f32, {std::int64_t{1} << 59, 1, 1, 1});
  two.input(graph::Elem::f32, {std::int64_t{1} << 59, 1, 1, 1});
  two.input(graph::Elem::f32, {std::int64_t{1} << 59, 1, 1, 1});
  two.input(graph::Elem::f32, {std::int64_t{1} << 59, 1, 1, 1});
  EXPECT_TRUE(contains(error_of([&] { (void)graph::allocated_size(two, 32); }), "compute buffer"));
}

}  // namespace
}  // namespace vramplan
