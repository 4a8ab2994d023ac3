// The planner's work is bounded whatever the model's shape (docs/reliability.md §7, issue 9
// class 7): a crafted model with 1024 layers and thousands of experts plans, fitting or not,
// in a bounded number of estimates. The bound is on estimate() calls, not on wall time, so
// the test is not flaky on a loaded machine.
#include <vramplan/planner.hpp>

#include <algorithm>
#include <functional>
#include <utility>

#include <gtest/gtest.h>

#include <vramplan/tensors.hpp>

namespace vramplan {
namespace {

// At most this many estimate() calls for one `fit`, suggestions included.
// At most this many estimate() calls for one `fit`, suggestions included. A plan is at most
// about 25 estimates (a binary search over contexts, one over GPU layers, one over
// --n-cpu-moe); a `fit` that does not fit plans up to 4 smaller quantizations and 4 other
// changes on top, one that spills its q8_0 cache (--kv-type auto) and up to 5 alternatives.
constexpr std::int64_t max_estimates = 250;

// The shape of the crafted file of the issue: the most layers validate() accepts, many experts,
// everything else tiny so that a plan is a search over layers and --n-cpu-moe.
Model crafted_moe(std::int32_t experts, FileType ftype = FileType::mostly_q4_k_m) {
  ModelSpec s;
  s.arch = "qwen3moe";
  s.n_layer = 1024;
  s.n_embd = 64;
  s.n_ff = 64;
  s.n_head = 4;
  s.n_head_kv = 4;
  s.n_vocab = 256;
  s.n_ctx_train = 4096;
  s.moe = Moe{.n_expert = experts, .n_expert_used = 2, .n_ff_exp = 64};
  validate(s, "crafted");
  return make_model("crafted", "unit test", s, ftype, generate_tensors(s, ftype));
}

FitRequest request(EngineId id, std::vector<Bytes> vram, Bytes ram) {
  FitRequest r;
  r.engine = &engine(id);
  r.backend = Backend::cuda;
  r.vram = std::move(vram);
  r.ram = ram;
  r.headroom =
      Headroom{.profile = "fit", .fixed = 1024 * mib, .fraction = 0, .explanation = "1 GiB"};
  // As `fit` plans: --kv-type auto, and the alternatives of a plan that spills.
  r.kv_auto = true;
  r.alternatives = true;
  return r;
}

class PlannerBound : public ::testing::TestWithParam<std::int32_t> {};

TEST_P(PlannerBound, CraftedMoeFitsOrNotWithinTheEstimateBound) {
  const Model m = crafted_moe(GetParam());
  bool some_fit = false;
  bool some_not = false;
  bool alternatives_planned = false;
  for (EngineId id : {EngineId::ollama, EngineId::llamacpp}) {
    // Nothing fits / some layers / experts in RAM / everything on the GPU / a spill that fits
    // (RAM unchecked), with its alternatives.
    for (const auto& [vram, ram] :
         {std::pair{1 * gib, Bytes{0}}, std::pair{1 * gib, 4 * gib}, std::pair{3 * gib, 4 * gib},
          std::pair{64 * gib, Bytes{0}}, std::pair{3 * gib, Bytes{0}}}) {
      const LlamaPlan p = fit(m, request(id, {vram}, ram), {});
      some_fit = some_fit || p.fits;
      // A plan that fits made more than its own and --kv-type auto's: alternatives were planned.
      alternatives_planned = alternatives_planned || (p.fits && p.plans > 2);
      some_not = some_not || !p.fits;
      EXPECT_LE(p.estimates, max_estimates)
          << engine(id).name << " " << format_bytes(vram) << " ram " << format_bytes(ram);
      EXPECT_GT(p.estimates, 0);
    }
    const LlamaPlan two = fit(m, request(id, {2 * gib, 3 * gib}, 0), {});
    EXPECT_LE(two.estimates, max_estimates) << engine(id).name << " two GPUs";
  }
  EXPECT_TRUE(some_fit);  // both outcomes are exercised
  EXPECT_TRUE(some_not);
  EXPECT_TRUE(alternatives_planned);  // the alternatives' plans are inside the bound too
}

TEST(PlannerBound, ManySmallerQuantizationsDoNotMultiplyTheWork) {
  const Model f16 = crafted_moe(512, FileType::mostly_f16);
  std::vector<Model> alternatives;
  for (FileType t : {FileType::mostly_q8_0, FileType::mostly_q6_k, FileType::mostly_q5_k_m,
                     FileType::mostly_q5_0, FileType::mostly_q4_k_m, FileType::mostly_q4_0,
                     FileType::mostly_q3_k_m, FileType::mostly_q3_k_s, FileType::mostly_q2_k}) {
    alternatives.push_back(crafted_moe(512, t));
  }
  // The four with the most bytes, in the order given.
  std::vector<Bytes> sizes;
  for (const Model& m : alternatives) sizes.push_back(m.weights.file_tensor_bytes);
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  std::vector<std::string> expected;
  for (const Model& m : alternatives) {
    if (m.weights.file_tensor_bytes >= sizes[3]) expected.emplace_back(to_string(m.file_type));
  }
  ASSERT_EQ(expected.size(), 4u);
  for (EngineId id : {EngineId::ollama, EngineId::llamacpp}) {
    const LlamaPlan p = fit(f16, request(id, {1 * gib}, 4 * gib), alternatives);
    EXPECT_FALSE(p.fits);
    EXPECT_LE(p.estimates, max_estimates) << engine(id).name;
    std::vector<std::string> quants;
    for (const Suggestion& s : p.suggestions) {
      if (s.change.kind == FindingKind::smaller_quant) {
        quants.push_back(s.change.word("file_type"));
      }
    }
    EXPECT_EQ(quants, expected) << engine(id).name;
  }
}

INSTANTIATE_TEST_SUITE_P(Experts, PlannerBound, ::testing::Values(512, 4096));

}  // namespace
}  // namespace vramplan
