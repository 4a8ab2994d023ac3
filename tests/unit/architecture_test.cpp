#include <set>
#include <string>

#include <gtest/gtest.h>

#include <vramplan/architecture.hpp>
#include <vramplan/reserve_graph.hpp>
#include <vramplan/tensors.hpp>

#include "support/specs.hpp"

namespace vramplan {
namespace {

TEST(Architecture, NamesAndHuggingFaceNamesAreUnique) {
  std::set<std::string_view> names, classes, types;
  for (const Architecture& a : architectures()) {
    EXPECT_TRUE(names.insert(a.name).second) << a.name;
    for (const HfName& n : a.hf_names) {
      EXPECT_TRUE(classes.insert(n.hf_class).second) << n.hf_class;
      EXPECT_TRUE(types.insert(n.model_type).second) << n.model_type;
    }
  }
  EXPECT_GE(names.size(), 18u);
}

TEST(Architecture, HuggingFaceNamesFindTheirFamily) {
  ASSERT_NE(architecture_by_hf_class("MixtralForCausalLM"), nullptr);
  EXPECT_EQ(architecture_by_hf_class("MixtralForCausalLM")->name, "llama");
  ASSERT_NE(architecture_by_model_type("gemma3_text"), nullptr);
  EXPECT_EQ(architecture_by_model_type("gemma3_text")->name, "gemma3");
  ASSERT_NE(architecture_by_model_type("cohere"), nullptr);
  EXPECT_EQ(architecture_by_model_type("cohere")->name, "command-r");
  EXPECT_EQ(architecture_by_hf_class(""), nullptr);
  EXPECT_EQ(architecture_by_model_type(""), nullptr);
  EXPECT_EQ(architecture_by_model_type("no_such_type"), nullptr);
}

// The graph builder works from a tensor layout's pieces: a family rebuilt without one would
// replay a graph whose weights vramplan cannot list.
TEST(Architecture, RebuiltGraphsHaveTensorLayouts) {
  for (const Architecture& a : architectures()) {
    const bool rebuilt = a.graph.dense || a.graph.moe;
    EXPECT_TRUE(!rebuilt || a.tensor_layout) << a.name;
    // Encoders are rebuilt by graph_encoder.cpp, which covers dense blocks only.
    EXPECT_FALSE(a.graph.moe && (a.encoder || a.bidirectional)) << a.name;
  }
}

TEST(Architecture, UnknownNameGetsTheGenericEntry) {
  const Architecture& a = architecture("no-such-arch");
  EXPECT_FALSE(known_architecture("no-such-arch"));
  EXPECT_FALSE(a.tensor_layout);
  EXPECT_FALSE(a.encoder);
  EXPECT_FALSE(a.graph.dense || a.graph.moe);
  EXPECT_TRUE(a.swa.applies && a.swa.pattern_from_file && a.swa.needs_pattern);
  EXPECT_EQ(a.recurrence, Recurrence::none);
  EXPECT_TRUE(known_architecture("llama"));
}

// A family's graph is rebuilt only for the shapes it was checked with.
TEST(Architecture, GraphRulesDecideWhichShapesAreRebuilt) {
  ModelSpec s = test::llama31_8b();
  EXPECT_TRUE(graph_modelled(s));
  s.arch = "granite";  // same tensors, granite's multipliers: checked
  EXPECT_TRUE(graph_modelled(s));
  ModelSpec granite_moe = s;  // but not with experts
  granite_moe.moe = Moe{.n_expert = 8, .n_expert_used = 2, .n_ff_exp = 1024};
  EXPECT_FALSE(graph_modelled(granite_moe));
  s.arch = "llama";
  s.swa = SlidingWindow{.window = 4096, .period = 4};  // llama was not checked with a window
  EXPECT_FALSE(graph_modelled(s));
  ModelSpec g = test::gemma3_27b();  // gemma3 was
  EXPECT_TRUE(graph_modelled(g));
  g.moe = Moe{.n_expert = 8, .n_expert_used = 2, .n_ff_exp = 1024};  // but not with experts
  EXPECT_FALSE(graph_modelled(g));
  // granitehybrid: the dense hybrids (Mamba2 and attention blocks) were checked, and so were
  // those with routed and shared experts in every block (Tiny), not experts every other block.
  const ModelSpec nano = test::granite4_h_350m();
  EXPECT_TRUE(graph_modelled(nano));
  ModelSpec tiny = test::granite4_tiny_h();
  EXPECT_TRUE(graph_modelled(tiny));
  tiny.moe.every_n = 2;
  EXPECT_FALSE(graph_modelled(tiny));
  ModelSpec odd = nano;  // a recurrent block with KV heads is not a shape the builder covers
  odd.n_head_kv_per_layer[0] = 4;
  EXPECT_FALSE(graph_modelled(odd));
  ModelSpec qwen = nano;  // nor is a Mamba2 hybrid's shape in the Gated DeltaNet family
  qwen.arch = "qwen3next";
  EXPECT_FALSE(graph_modelled(qwen));
  // qwen3next: the Gated DeltaNet hybrid with routed and gated shared experts was checked.
  const ModelSpec next = test::qwen3_next_80b();
  EXPECT_TRUE(graph_modelled(next));
  // Both hybrid families' GPU plans take the scheduler replay (exact on their Vulkan runs,
  // bench/accuracy/vulkan/llamacpp-vulkan-hybrid.jsonl).
  EXPECT_TRUE(schedule_modelled(next));
  EXPECT_TRUE(schedule_modelled(nano));
  EXPECT_TRUE(schedule_modelled(test::granite4_tiny_h()));
  ModelSpec uneven = next;  // V heads not a multiple of the K heads: not a shape it covers
  uneven.recurrent.group_count = 12;
  EXPECT_FALSE(graph_modelled(uneven));
  ModelSpec qwen35 = next;  // a Gated DeltaNet family whose graph was not checked
  qwen35.arch = "qwen35moe";
  EXPECT_FALSE(graph_modelled(qwen35));
}

}  // namespace
}  // namespace vramplan
