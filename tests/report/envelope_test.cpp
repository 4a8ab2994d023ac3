// The plan envelope through the whole CLI: `fit` and `estimate` print the same keys for every
// engine (issue "one plan for every engine"), so a script reads any of them one way.
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/cli.hpp>

namespace vramplan {
namespace {

using Json = nlohmann::json;

Json run_json(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  cli::Context context{out, err, [](const std::string&) { return std::optional<std::string>(); },
                       false};
  const int exit = cli::run(args, context);
  EXPECT_TRUE(exit == 0 || exit == 1) << "exit " << exit << ": " << err.str();
  return Json::parse(out.str());
}

std::set<std::string> keys(const Json& object) {
  std::set<std::string> out;
  for (const auto& item : object.items()) out.insert(item.key());
  return out;
}

struct Case {
  std::vector<std::string> args;
  std::string engine;
  std::string command;
};

TEST(PlanEnvelope, EveryEngineAndCommandSharesTheKeys) {
  const std::vector<Case> cases = {
      {{"fit", "--vram", "16G", "--model", "llama3.1:8b-q8"}, "ollama", "fit"},
      {{"fit", "--engine", "llamacpp", "--vram", "8G", "--model", "qwen3:30b"}, "llamacpp", "fit"},
      {{"fit", "--engine", "vllm", "--vram", "24G", "--model", "llama3.1:8b"}, "vllm", "fit"},
      {{"fit", "--engine", "vllm", "--vram", "16G", "--model", "llama3.1:8b"}, "vllm", "fit"},
      {{"estimate", "--vram", "8G", "--model", "llama3.1:8b", "--ctx", "8192"},
       "ollama",
       "estimate"},
      {{"estimate", "--engine", "vllm", "--vram", "24G", "--model", "llama3.1:8b"},
       "vllm",
       "estimate"},
  };
  const std::set<std::string> top{"schema_version", "command",        "fits",         "model",
                                  "engine",         "recommendation", "estimate",     "decisions",
                                  "reasons",        "suggestions",    "alternatives", "notes",
                                  "speed",          "details"};
  for (Case c : cases) {
    c.args.insert(c.args.end(), {"--format", "json"});
    const Json j = run_json(c.args);
    SCOPED_TRACE(c.args[0] + " " + c.engine);
    EXPECT_EQ(keys(j), top);
    EXPECT_EQ(j["command"], c.command);
    EXPECT_EQ(j["engine"]["name"], c.engine);
    EXPECT_TRUE(j["fits"].is_boolean());
    EXPECT_TRUE(j["recommendation"].is_object());
    EXPECT_FALSE(j["recommendation"].empty());
    EXPECT_EQ(keys(j["estimate"]), (std::set<std::string>{"devices", "components", "total_bytes"}));
    ASSERT_FALSE(j["estimate"]["devices"].empty());
    std::int64_t total = 0;
    for (const Json& d : j["estimate"]["devices"]) {
      EXPECT_EQ(keys(d), (std::set<std::string>{"name", "kind", "bytes", "capacity_bytes", "layers",
                                                "components"}));
      std::int64_t parts = 0;
      for (const auto& part : d["components"].items()) parts += part.value().get<std::int64_t>();
      EXPECT_EQ(parts, d["bytes"].get<std::int64_t>());
      total += parts;
    }
    EXPECT_EQ(total, j["estimate"]["total_bytes"].get<std::int64_t>());
    for (const char* list : {"decisions", "reasons", "notes", "suggestions", "alternatives"}) {
      for (const Json& finding : j[list]) {
        EXPECT_TRUE(finding["kind"].is_string()) << list;
        EXPECT_TRUE(finding["text"].is_string()) << list;
      }
    }
  }
}

TEST(PlanEnvelope, TheVerdictMatchesTheExitCode) {
  // 16 GiB is too small for a bf16 8B under vLLM's budget; 24 GiB is not.
  for (const auto& [vram, fits] : {std::pair{"16G", false}, std::pair{"24G", true}}) {
    const Json j = run_json(
        {"fit", "--engine", "vllm", "--vram", vram, "--model", "llama3.1:8b", "--format", "json"});
    EXPECT_EQ(j["fits"], fits) << vram;
    EXPECT_EQ(j["reasons"].empty(), fits) << vram;
  }
}

}  // namespace
}  // namespace vramplan

namespace vramplan {
namespace {

// Speed next to the plan (issue 12): with a catalog card, both formats carry it; with a bare
// size there is nothing to time, and JSON says null.
TEST(PlanEnvelope, SpeedWithAKnownCardOnly) {
  const Json card =
      run_json({"fit", "--gpu", "4090", "--model", "llama3.1:8b", "--format", "json"});
  ASSERT_TRUE(card["speed"].is_object());
  const double decode = card["speed"]["decode_tokens_per_s"].get<double>();
  const double at_ctx = card["speed"]["decode_at_ctx_tokens_per_s"].get<double>();
  EXPECT_GT(decode, 0);
  EXPECT_LE(at_ctx, decode);  // a longer cache is read per token: never faster
  EXPECT_GT(card["speed"]["prefill_tokens_per_s"].get<double>(), decode);
  EXPECT_EQ(card["speed"]["ctx"], card["details"]["n_ctx_seq"]);
  const Json bare =
      run_json({"fit", "--vram", "24G", "--model", "llama3.1:8b", "--format", "json"});
  EXPECT_TRUE(bare["speed"].is_null());
  // Half the layers on the CPU is far slower than all on the GPU (RAM bandwidth given).
  const Json offload = run_json({"fit", "--gpu", "4090", "--model", "llama3.1:8b", "--gpu-layers",
                                 "16", "--ram-bandwidth", "80", "--format", "json"});
  ASSERT_TRUE(offload["speed"].is_object());
  EXPECT_LT(offload["speed"]["decode_tokens_per_s"].get<double>(), decode / 2);
}

}  // namespace
}  // namespace vramplan
