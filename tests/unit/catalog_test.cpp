// Catalog::resolve / suggest / search over a small hand-built catalog.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/error.hpp>

namespace vramplan {
namespace {

CatalogEntry entry(std::string id, std::vector<std::string> ollama, bool latest,
                   std::vector<std::string> hf, std::vector<FileType> quants) {
  CatalogEntry e;
  e.id = std::move(id);
  e.name = e.id;
  e.ollama = std::move(ollama);
  e.ollama_latest = latest;
  e.hf = std::move(hf);
  e.quants = std::move(quants);
  e.default_quant = e.quants.front();
  e.spec.arch = "llama";
  return e;
}

class CatalogTest : public ::testing::Test {
 protected:
  CatalogTest() {
    catalog_.add(entry("llama3.1-8b", {"llama3.1:8b"}, true,
                       {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"},
                       {FileType::mostly_q4_k_m, FileType::mostly_q8_0, FileType::mostly_f16}));
    catalog_.add(entry("llama3.1-70b", {"llama3.1:70b"}, false,
                       {"meta-llama/Llama-3.1-70B-Instruct"}, {FileType::mostly_q4_k_m}));
    catalog_.add(entry("llama3-8b", {"llama3:8b"}, true, {"meta-llama/Meta-Llama-3-8B"},
                       {FileType::mostly_q4_0, FileType::mostly_q8_0}));
    catalog_.add(entry("phi3-mini", {"phi3:3.8b", "phi3:mini"}, true,
                       {"microsoft/Phi-3-mini-4k-instruct"}, {FileType::mostly_q4_0}));
    catalog_.add(entry("phi3-mini-128k", {"phi3:3.8b-mini-128k", "phi3:mini-128k"}, false,
                       {"microsoft/Phi-3-mini-128k-instruct"}, {FileType::mostly_q4_0}));
    CatalogEntry qwen = entry("qwen3-30b-a3b", {"qwen3:30b", "qwen3:30b-a3b"}, false,
                              {"Qwen/Qwen3-30B-A3B"}, {FileType::mostly_q4_k_m});
    qwen.aliases = {"qwen3-moe"};
    qwen.spec.arch = "qwen3moe";
    catalog_.add(std::move(qwen));
  }

  [[nodiscard]] ModelRef resolve(std::string_view name) const {
    const std::optional<ModelRef> ref = catalog_.resolve(name);
    if (!ref) throw std::runtime_error("no match for " + std::string(name));
    return *ref;
  }

  Catalog catalog_;
};

TEST_F(CatalogTest, OllamaTagResolvesWithDefaultQuant) {
  const ModelRef ref = resolve("llama3.1:8b");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_FALSE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "llama3.1:8b");
}

TEST_F(CatalogTest, BareModelAndLatestPickTheLatestEntry) {
  EXPECT_EQ(resolve("llama3.1").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("llama3.1:latest").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("llama3").entry->id, "llama3-8b");
  EXPECT_EQ(resolve("llama3").quant, FileType::mostly_q4_0);
  EXPECT_EQ(resolve("phi3").entry->id, "phi3-mini");
  // No entry of qwen3 is marked latest here.
  EXPECT_FALSE(catalog_.resolve("qwen3").has_value());
}

TEST_F(CatalogTest, ResolutionIsCaseInsensitive) {
  EXPECT_EQ(resolve("LLaMA3.1:8B").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("Llama3.1-8B").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("META-LLAMA/llama-3.1-8b-instruct").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("llama3.1:8b-Instruct-Q8_0").quant, FileType::mostly_q8_0);
}

TEST_F(CatalogTest, FullOllamaTagsIgnoreVariantsAndReadTheQuant) {
  ModelRef ref = resolve("llama3.1:8b-instruct-q8_0");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_EQ(ref.quant, FileType::mostly_q8_0);
  EXPECT_TRUE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "llama3.1:8b-q8_0");

  ref = resolve("llama3.1:8b-text-q4_K_M");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_TRUE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "llama3.1:8b-q4_K_M");

  ref = resolve("llama3.1:8b-instruct");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_FALSE(ref.quant_explicit);

  ref = resolve("llama3.1:70b-instruct-fp16");
  EXPECT_EQ(ref.entry->id, "llama3.1-70b");
  EXPECT_EQ(ref.quant, FileType::mostly_f16);
}

TEST_F(CatalogTest, ShortQuantSuffixes) {
  EXPECT_EQ(resolve("llama3.1:8b-q8").quant, FileType::mostly_q8_0);
  EXPECT_EQ(resolve("llama3.1:8b-q4").quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(resolve("llama3.1:8b-q4_0").quant, FileType::mostly_q4_0);
  EXPECT_EQ(resolve("llama3.1:8b-q4_k_m").quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(resolve("llama3.1:8b-fp16").quant, FileType::mostly_f16);
  EXPECT_EQ(resolve("llama3.1:8b-f16").quant, FileType::mostly_f16);
  EXPECT_EQ(resolve("llama3.1:8b-fp16").matched, "llama3.1:8b-fp16");
}

TEST_F(CatalogTest, QuantNotOfferedIsStillAllowed) {
  const ModelRef ref = resolve("llama3.1:70b-q5_K_S");
  EXPECT_EQ(ref.quant, FileType::mostly_q5_k_s);
  EXPECT_TRUE(ref.quant_explicit);
}

TEST_F(CatalogTest, UnknownQuantIsAnErrorNamingIt) {
  try {
    static_cast<void>(catalog_.resolve("llama3.1:8b-q9"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(e.what(), "unknown quantization 'q9' in 'llama3.1:8b-q9'");
  }
  EXPECT_THROW(static_cast<void>(catalog_.resolve("llama3.1:8b-instruct-iq9_xx")), Error);
  EXPECT_THROW(static_cast<void>(catalog_.resolve("hf.co/meta-llama/Llama-3.1-8B:Q7_K")), Error);
}

TEST_F(CatalogTest, CatalogIdsWithAndWithoutQuant) {
  ModelRef ref = resolve("llama3.1-8b");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_FALSE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "llama3.1:8b");

  ref = resolve("llama3.1-8b-q8_0");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_EQ(ref.quant, FileType::mostly_q8_0);
  EXPECT_TRUE(ref.quant_explicit);

  EXPECT_EQ(resolve("qwen3-moe").entry->id, "qwen3-30b-a3b");  // alias
}

TEST_F(CatalogTest, HuggingFaceRepoIds) {
  ModelRef ref = resolve("meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_FALSE(ref.quant_explicit);

  ref = resolve("hf.co/meta-llama/Llama-3.1-8B-Instruct:Q8_0");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_EQ(ref.quant, FileType::mostly_q8_0);
  EXPECT_TRUE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "meta-llama/Llama-3.1-8B-Instruct:Q8_0");

  // A GGUF conversion repo of a known model, as `ollama pull hf.co/...` takes it.
  ref = resolve("hf.co/bartowski/Llama-3.1-8B-Instruct-GGUF:Q4_K_M");
  EXPECT_EQ(ref.entry->id, "llama3.1-8b");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_TRUE(ref.quant_explicit);

  ref = resolve("huggingface.co/Qwen/Qwen3-30B-A3B");
  EXPECT_EQ(ref.entry->id, "qwen3-30b-a3b");

  EXPECT_FALSE(catalog_.resolve("hf.co/someone/unknown-model-GGUF:Q4_K_M").has_value());
}

TEST_F(CatalogTest, RegistryPrefixesAreIgnored) {
  EXPECT_EQ(resolve("registry.ollama.ai/library/llama3.1:8b").entry->id, "llama3.1-8b");
  EXPECT_EQ(resolve("library/llama3.1:70b").entry->id, "llama3.1-70b");
}

TEST_F(CatalogTest, LongestTagPrefixWins) {
  EXPECT_EQ(resolve("phi3:3.8b").entry->id, "phi3-mini");
  EXPECT_EQ(resolve("phi3:3.8b-mini-4k-instruct-q4_0").entry->id, "phi3-mini");
  EXPECT_EQ(resolve("phi3:3.8b-mini-128k-instruct-q4_0").entry->id, "phi3-mini-128k");
  EXPECT_EQ(resolve("phi3:mini-128k").entry->id, "phi3-mini-128k");
  EXPECT_EQ(resolve("qwen3:30b-a3b-q8_0").entry->id, "qwen3-30b-a3b");
  EXPECT_EQ(resolve("qwen3:30b-a3b-q8_0").matched, "qwen3:30b-a3b-q8_0");
}

TEST_F(CatalogTest, UnknownNamesDoNotResolve) {
  EXPECT_FALSE(catalog_.resolve("llama3.1:8x").has_value());
  EXPECT_FALSE(catalog_.resolve("llama3.1:80b").has_value());  // tag prefix must end at a dash
  EXPECT_FALSE(catalog_.resolve("llama9").has_value());
  EXPECT_FALSE(catalog_.resolve("").has_value());
  EXPECT_FALSE(catalog_.resolve("   ").has_value());
}

TEST_F(CatalogTest, SuggestionsForATypo) {
  const std::vector<std::string> close = catalog_.suggest("llama3.1:8x");
  ASSERT_FALSE(close.empty());
  EXPECT_EQ(close.front(), "llama3.1:8b");
  EXPECT_LE(close.size(), 3u);
  EXPECT_EQ(catalog_.suggest("llama3.1:8x"), close);  // deterministic
  EXPECT_EQ(catalog_.suggest("lama3:8b", 1), std::vector<std::string>{"llama3:8b"});
  EXPECT_TRUE(catalog_.suggest("completely-unrelated-name-xyz").empty());
}

TEST_F(CatalogTest, SearchMatchesIdsNamesTagsAndRepos) {
  auto ids = [](const std::vector<const CatalogEntry*>& entries) {
    std::vector<std::string> out;
    for (const CatalogEntry* e : entries) out.push_back(e->id);
    return out;
  };
  EXPECT_EQ(catalog_.search("").size(), catalog_.entries().size());
  EXPECT_EQ(ids(catalog_.search("PHI3")),
            (std::vector<std::string>{"phi3-mini", "phi3-mini-128k"}));
  EXPECT_EQ(ids(catalog_.search("meta-llama/Meta")), std::vector<std::string>{"llama3-8b"});
  EXPECT_EQ(ids(catalog_.search("qwen3moe")), std::vector<std::string>{"qwen3-30b-a3b"});
  EXPECT_EQ(ids(catalog_.search("3.1:70")), std::vector<std::string>{"llama3.1-70b"});
  EXPECT_TRUE(catalog_.search("mixtral").empty());
}

TEST_F(CatalogTest, AddReplacesAnEntryWithTheSameId) {
  CatalogEntry replacement = entry("llama3.1-8b", {"llama3.1:8b"}, true, {"me/my-llama"},
                                   {FileType::mostly_q8_0});
  const std::size_t before = catalog_.entries().size();
  catalog_.add(std::move(replacement));
  EXPECT_EQ(catalog_.entries().size(), before);
  const CatalogEntry* found = catalog_.find_id("LLAMA3.1-8B");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->hf, std::vector<std::string>{"me/my-llama"});
  EXPECT_EQ(resolve("llama3.1:8b").quant, FileType::mostly_q8_0);
  EXPECT_EQ(catalog_.find_id("nope"), nullptr);
}

}  // namespace
}  // namespace vramplan
