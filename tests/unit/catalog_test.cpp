// Catalog::resolve / suggest / search over a small hand-built catalog.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

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
    // Ollama's default llama3.2:1b is Q8_0; its 4-bit tags are Q4_K_M.
    catalog_.add(entry("llama3.2-1b", {"llama3.2:1b"}, false, {"meta-llama/Llama-3.2-1B"},
                       {FileType::mostly_q8_0, FileType::mostly_q4_k_m, FileType::mostly_f16}));
    catalog_.add(entry("llama3.2-3b", {"llama3.2:3b"}, true, {"meta-llama/Llama-3.2-3B"},
                       {FileType::mostly_q4_k_m, FileType::mostly_q8_0}));
    // Official variant tags are listed where the family publishes them.
    catalog_.add(entry("mistral-7b", {"mistral:7b", "mistral:instruct", "mistral:text"}, true,
                       {"mistralai/Mistral-7B-Instruct-v0.3"},
                       {FileType::mostly_q4_k_m, FileType::mostly_q4_0}));
    catalog_.add(entry("mistral-7b-v0.2", {"mistral:v0.2", "mistral:7b-instruct-v0.2"}, false,
                       {"mistralai/Mistral-7B-Instruct-v0.2"}, {FileType::mostly_q4_0}));
  }

  [[nodiscard]] ModelRef resolve(std::string_view name) const {
    const std::optional<ModelRef> ref = catalog_.resolve(name);
    if (!ref) throw std::runtime_error("no match for " + std::string(name));
    return *ref;
  }

  Catalog catalog_;
};

// Both catalogs' "did you mean": within a third of the typed name (at least 2 edits), nearest
// first, ties in catalog order.
TEST(TypoCandidates, NearestFirstWithinTheLimitTiesInOrder) {
  EXPECT_EQ(typo_candidates({3, 1, 2, 1, 0}, 6), (std::vector<std::size_t>{4, 1, 3, 2}));
  EXPECT_EQ(typo_candidates({3, 4}, 9), (std::vector<std::size_t>{0}));
  EXPECT_TRUE(typo_candidates({5, 9}, 3).empty());
}

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
  EXPECT_TRUE(ref.unknown_parts.empty());
}

// A part that is neither a quantization nor a known variant word still resolves without it,
// but is named, so the caller can say the plan is for another tag than the one typed.
TEST_F(CatalogTest, UnknownTagPartsAreNamed) {
  ModelRef ref = resolve("llama3.1:8b-h-q8_0");
  EXPECT_EQ(ref.matched, "llama3.1:8b-q8_0");
  EXPECT_EQ(ref.unknown_parts, std::vector<std::string>{"h"});
  ref = resolve("llama3.1:8b-text-v0.2-2407-a3b-llama3.1-beta");
  EXPECT_TRUE(ref.unknown_parts.empty());
  ref = resolve("llama3.1:8b-vx-v1.-x2407");
  EXPECT_EQ(ref.unknown_parts, (std::vector<std::string>{"vx", "v1.", "x2407"}));
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

TEST_F(CatalogTest, BitWordsMapToTheQuantOllamaServes) {
  // "4bit" is the model's 4-bit build: the default where that is 4-bit, else the first
  // 4-bit type it is offered in; never the (8-bit) default.
  ModelRef ref = resolve("llama3.2:1b-4bit");
  EXPECT_EQ(ref.entry->id, "llama3.2-1b");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_TRUE(ref.quant_explicit);
  EXPECT_EQ(ref.matched, "llama3.2:1b-q4_K_M");
  EXPECT_EQ(resolve("llama3.2:1b-int4").quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(resolve("llama3:8b-4bit").quant, FileType::mostly_q4_0);  // default Q4_0
  EXPECT_EQ(resolve("llama3.1:70b-4bit").quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(resolve("llama3.2:1b-instruct-8bit").quant, FileType::mostly_q8_0);
  EXPECT_EQ(resolve("llama3.2:3b-int8").quant, FileType::mostly_q8_0);
  EXPECT_EQ(resolve("llama3.2:3b-16bit").quant, FileType::mostly_f16);
  EXPECT_EQ(resolve("llama3.1-8b-8bit").quant, FileType::mostly_q8_0);  // catalog id form
  EXPECT_EQ(resolve("hf.co/meta-llama/Llama-3.2-1B:4bit").quant, FileType::mostly_q4_k_m);
}

TEST_F(CatalogTest, TagsWithoutASizeTakeTheLatestEntry) {
  ModelRef ref = resolve("llama3.2:4bit");
  EXPECT_EQ(ref.entry->id, "llama3.2-3b");
  EXPECT_EQ(ref.quant, FileType::mostly_q4_k_m);
  EXPECT_EQ(ref.matched, "llama3.2:3b-q4_K_M");
  ref = resolve("llama3.2:q8_0");
  EXPECT_EQ(ref.entry->id, "llama3.2-3b");
  EXPECT_EQ(ref.quant, FileType::mostly_q8_0);
  EXPECT_EQ(resolve("llama3.2:fp16").quant, FileType::mostly_f16);
  // A model without a latest entry has nothing to fall back on.
  EXPECT_FALSE(catalog_.resolve("qwen3:4bit").has_value());
}

TEST_F(CatalogTest, FormatsOllamaDoesNotServeAreRefusedWithAReason) {
  for (const char* name : {"llama3.1:8b-awq", "llama3.1:8b-instruct-gptq", "llama3.2:1b-mlx",
                           "llama3.1:8b-fp8", "llama3.1:8b-int4-awq", "llama3.2:awq"}) {
    try {
      static_cast<void>(catalog_.resolve(name));
      ADD_FAILURE() << name << ": expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input);
      EXPECT_NE(std::string(e.what()).find("not a GGUF file type"), std::string::npos) << e.what();
    }
  }
  try {
    static_cast<void>(catalog_.resolve("llama3.1:8b-it-qat"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("quantization-aware"), std::string::npos) << e.what();
  }
  EXPECT_THROW(static_cast<void>(catalog_.resolve("hf.co/meta-llama/Llama-3.2-1B:awq")), Error);
}

TEST_F(CatalogTest, TwoQuantizationsInOneTagAreAnError) {
  try {
    static_cast<void>(catalog_.resolve("llama3.2:1b-4bit-q8_0"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "two quantizations, '4bit' and 'q8_0', in 'llama3.2:1b-4bit-q8_0'");
  }
  EXPECT_EQ(resolve("llama3.2:1b-q8_0-8bit").quant, FileType::mostly_q8_0);  // agree
}

TEST_F(CatalogTest, VariantTagsResolveWhereTheFamilyPublishesThem) {
  EXPECT_EQ(resolve("mistral:instruct").entry->id, "mistral-7b");
  EXPECT_EQ(resolve("mistral:text").entry->id, "mistral-7b");
  EXPECT_EQ(resolve("mistral:v0.2").entry->id, "mistral-7b-v0.2");
  EXPECT_EQ(resolve("mistral:7b-instruct-v0.2-q8_0").entry->id, "mistral-7b-v0.2");
  EXPECT_EQ(resolve("mistral:7b-instruct-v0.2-q8_0").quant, FileType::mostly_q8_0);
  EXPECT_EQ(resolve("mistral:7b-instruct-q8_0").entry->id, "mistral-7b");
  EXPECT_FALSE(catalog_.resolve("llama3.1:python").has_value());
  EXPECT_FALSE(catalog_.resolve("llama3.1:instruct").has_value());
}

TEST_F(CatalogTest, UnknownTagOfAKnownModelListsItsTags) {
  EXPECT_EQ(catalog_.unknown_message("llama3.1:python").text_with("--model"),
            "unknown tag 'python' of 'llama3.1' (the catalog knows 8b, 70b, latest) (run "
            "'vramplan models llama3.1' to list them)");
  const std::string typo = catalog_.unknown_message("llama3.1:8x").text_with("--model");
  EXPECT_NE(typo.find("(the catalog knows 8b, 70b, latest); did"), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean 'llama3.1:8b'"), std::string::npos) << typo;
  // Without a latest entry, "latest" is not offered.
  EXPECT_NE(catalog_.unknown_message("qwen3:8b").text_with("--model").find("knows 30b, 30b-a3b)"),
            std::string::npos);
}

TEST_F(CatalogTest, UnknownHuggingFaceRepoSaysHowToPlanItOffline) {
  const std::string message =
      catalog_.unknown_message("someone/Qwen2.5-7B-Finetune").text_with("--model");
  EXPECT_EQ(message,
            "unknown model 'someone/Qwen2.5-7B-Finetune': the catalog has no Hugging Face repo "
            "'someone/Qwen2.5-7B-Finetune'; to plan it offline, download its config.json (a "
            "few KB: https://huggingface.co/someone/Qwen2.5-7B-Finetune/resolve/main/config.json)"
            " and pass --model path/to/config.json");
  const std::string gguf =
      catalog_.unknown_message("hf.co/someone/Tuned-8B-GGUF:Q4_K_M").text_with("--model");
  EXPECT_NE(gguf.find("no Hugging Face repo 'someone/Tuned-8B-GGUF'; to plan it offline, "
                      "download the config.json of the model it converts"),
            std::string::npos)
      << gguf;
  // A near miss of a known repo still gets its suggestion.
  EXPECT_NE(
      catalog_.unknown_message("meta-llama/Llama-3.1-8C").text_with("--model").find("did you mean"),
      std::string::npos);
}

TEST_F(CatalogTest, UnknownModelSuggestsCloseNames) {
  EXPECT_EQ(catalog_.unknown_message("lama3.1:8b").text_with("--model"),
            "unknown model 'lama3.1:8b'; did you mean 'llama3.1:8b', 'llama3.1:70b', 'llama3:8b'? "
            "(run "
            "'vramplan models' to list known models)");
}

TEST_F(CatalogTest, AddReplacesAnEntryWithTheSameId) {
  CatalogEntry replacement =
      entry("llama3.1-8b", {"llama3.1:8b"}, true, {"me/my-llama"}, {FileType::mostly_q8_0});
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
