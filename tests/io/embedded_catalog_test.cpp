// The catalog lint: every embedded model file parses, every entry is consistent, and the
// generated tensor lists match the published parameter counts.
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vramplan/catalog.hpp>
#include <vramplan/error.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/compiled_catalog.hpp>
#include <vramplan/io/embedded_catalog.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::io {
namespace {

Catalog embedded() {
  Catalog catalog;
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    for (CatalogEntry& entry : parse_catalog(file.text, fmt::format("<embedded>/{}", file.name))) {
      catalog.add(std::move(entry));
    }
  }
  return catalog;
}

std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The catalog a command uses is compiled from the same files at build time: it must be
// exactly what parsing the embedded YAML gives, entry by entry, field by field.
TEST(EmbeddedCatalog, CompiledEntriesEqualTheParsedYaml) {
  std::vector<CatalogEntry> parsed;
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    for (CatalogEntry& entry : parse_catalog(file.text, fmt::format("<embedded>/{}", file.name))) {
      parsed.push_back(std::move(entry));
    }
  }
  const std::vector<CatalogEntry> compiled = compiled_catalog();
  ASSERT_EQ(compiled.size(), parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    SCOPED_TRACE(parsed[i].id);
    EXPECT_TRUE(compiled[i] == parsed[i]);
    EXPECT_EQ(compiled[i].notes, parsed[i].notes);  // non-ASCII text survives the escapes
  }
  const Catalog loaded = load_catalog({}, "");
  EXPECT_EQ(loaded.entries().size(), embedded().entries().size());
}

TEST(EmbeddedCatalog, EveryFileParses) {
  ASSERT_GE(embedded_catalog_files().size(), 9u);
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    SCOPED_TRACE(std::string(file.name));
    std::vector<CatalogEntry> entries;
    ASSERT_NO_THROW(entries = parse_catalog(file.text, std::string(file.name)));
    EXPECT_FALSE(entries.empty());
    // Every entry cites where its numbers come from (the loader does not keep `source:`).
    EXPECT_EQ(count(file.text, "\n  - id: "), entries.size());
    EXPECT_EQ(count(file.text, "\n    source: \""), entries.size());
  }
}

// The catalog ships to users, who have none of the project's research notes: a source or note
// must name the upstream config, model card, library page or llama.cpp file itself, never the
// notes that summarise them.
TEST(EmbeddedCatalog, CitesUpstreamSourcesNotTheProjectsNotes) {
  const char* const internal[] = {"models.md", "llamacpp.md",      "ollama.md",
                                  "vllm.md",   "shared/reference", "oracle.md"};
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    SCOPED_TRACE(std::string(file.name));
    for (const char* name : internal) {
      EXPECT_EQ(count(file.text, name), 0u) << file.name << " mentions " << name;
    }
    for (const CatalogEntry& entry : parse_catalog(file.text, std::string(file.name))) {
      for (const char* name : internal) {
        EXPECT_EQ(entry.notes.find(name), std::string::npos) << entry.id << " notes cite " << name;
      }
    }
  }
  // The check itself finds a citation when there is one.
  EXPECT_EQ(count("source: \"models.md llama2-7b; litgpt\"", "models.md"), 1u);
}

TEST(EmbeddedCatalog, IdsAreUniqueAcrossFiles) {
  std::set<std::string> ids;
  std::size_t total = 0;
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    for (const CatalogEntry& entry : parse_catalog(file.text, std::string(file.name))) {
      EXPECT_TRUE(ids.insert(entry.id).second) << "duplicate id " << entry.id;
      ++total;
    }
  }
  EXPECT_EQ(ids.size(), total);
  EXPECT_EQ(embedded().entries().size(), total);
}

TEST(EmbeddedCatalog, LoadCatalogHoldsTheEmbeddedEntries) {
  const Catalog catalog = load_catalog({}, "");
  EXPECT_EQ(catalog.entries().size(), embedded().entries().size());
}

TEST(EmbeddedCatalog, EveryEntryIsValidAndComplete) {
  const Catalog catalog = embedded();
  for (const CatalogEntry& entry : catalog.entries()) {
    SCOPED_TRACE(entry.id);
    EXPECT_NO_THROW(validate(entry.spec, entry.id));
    EXPECT_FALSE(entry.name.empty());
    EXPECT_FALSE(entry.quants.empty());
    if (!entry.quants.empty()) {
      EXPECT_EQ(entry.default_quant, entry.quants.front());
    }
    EXPECT_FALSE(entry.hf.empty());
    EXPECT_FALSE(entry.ollama.empty());
    EXPECT_GT(entry.params_published, 0.0);
    EXPECT_TRUE(has_tensor_layout(entry.spec.arch)) << entry.spec.arch;
    EXPECT_TRUE(entry.source.starts_with("<embedded>/"));
    const std::set<FileType> unique(entry.quants.begin(), entry.quants.end());
    EXPECT_EQ(unique.size(), entry.quants.size()) << "a quantization is listed twice";
  }
}

TEST(EmbeddedCatalog, ParameterCountsMatchPublishedWithinTwoPercent) {
  const Catalog catalog = embedded();
  for (const CatalogEntry& entry : catalog.entries()) {
    if (entry.params_published <= 0) continue;
    SCOPED_TRACE(entry.id);
    // The published count is the model's: a GGUF's stored duplicate of a tied head is not in it.
    ModelSpec model = entry.spec;
    model.stored_output = false;
    const auto tensors = generate_tensors(model, FileType::mostly_f16);
    const double generated = static_cast<double>(parameter_count(tensors));
    const double error = std::abs(generated - entry.params_published) / entry.params_published;
    EXPECT_LT(error, 0.02) << "generated " << generated << " vs published "
                           << entry.params_published;
  }
}

TEST(EmbeddedCatalog, EveryOllamaNameAndIdResolvesBackToItsEntry) {
  const Catalog catalog = embedded();
  for (const CatalogEntry& entry : catalog.entries()) {
    for (const std::string& name : entry.ollama) {
      const std::optional<ModelRef> ref = catalog.resolve(name);
      ASSERT_TRUE(ref.has_value()) << name;
      EXPECT_EQ(ref->entry, &entry) << name << " resolves to " << ref->entry->id;
      EXPECT_FALSE(ref->quant_explicit);
      EXPECT_EQ(ref->quant, entry.default_quant);
    }
    for (const std::string& repo : entry.hf) {
      const std::optional<ModelRef> ref = catalog.resolve(repo);
      ASSERT_TRUE(ref.has_value()) << repo;
      EXPECT_EQ(ref->entry, &entry) << repo << " resolves to " << ref->entry->id;
    }
    const std::optional<ModelRef> by_id = catalog.resolve(entry.id);
    ASSERT_TRUE(by_id.has_value()) << entry.id;
    EXPECT_EQ(by_id->entry, &entry);
  }
}

TEST(EmbeddedCatalog, AtMostOneLatestPerOllamaModel) {
  std::set<std::string> models;
  const Catalog catalog = embedded();
  for (const CatalogEntry& entry : catalog.entries()) {
    if (!entry.ollama_latest) continue;
    const std::string model = entry.ollama.front().substr(0, entry.ollama.front().find(':'));
    EXPECT_TRUE(models.insert(model).second) << "two entries are " << model << ":latest";
  }
}

TEST(EmbeddedCatalog, HoldsTheRequiredModels) {
  const Catalog catalog = embedded();
  // The models the catalog must carry (docs/catalog.md, "What is in the catalog").
  const char* const required[] = {
      "llama2:7b",
      "llama2:13b",
      "llama2:70b",
      "llama3:8b",
      "llama3:70b",
      "llama3.1:8b",
      "llama3.1:70b",
      "llama3.1:405b",
      "llama3.2:1b",
      "llama3.2:3b",
      "llama3.3:70b",
      "mistral:7b",
      "mistral-nemo:12b",
      "mistral-small:22b",
      "mistral-small:24b",
      "codestral:22b",
      "mixtral:8x7b",
      "mixtral:8x22b",
      "qwen2.5:0.5b",
      "qwen2.5:1.5b",
      "qwen2.5:3b",
      "qwen2.5:7b",
      "qwen2.5:14b",
      "qwen2.5:32b",
      "qwen2.5:72b",
      "qwen2.5-coder:0.5b",
      "qwen2.5-coder:1.5b",
      "qwen2.5-coder:3b",
      "qwen2.5-coder:7b",
      "qwen2.5-coder:14b",
      "qwen2.5-coder:32b",
      "qwen3:0.6b",
      "qwen3:1.7b",
      "qwen3:4b",
      "qwen3:8b",
      "qwen3:14b",
      "qwen3:32b",
      "qwen3:30b-a3b",
      "qwen3:235b-a22b",
      "qwq:32b",
      "phi3:mini",
      "phi3:medium",
      "phi3.5:3.8b",
      "phi4:14b",
      "phi4-mini:3.8b",
      "gemma:2b",
      "gemma:7b",
      "gemma2:2b",
      "gemma2:9b",
      "gemma2:27b",
      "gemma3:1b",
      "gemma3:4b",
      "gemma3:12b",
      "gemma3:27b",
      "deepseek-coder:6.7b",
      "deepseek-coder:33b",
      "deepseek-coder-v2:16b",
      "deepseek-v2:16b",
      "deepseek-r1:1.5b",
      "deepseek-r1:7b",
      "deepseek-r1:8b",
      "deepseek-r1:14b",
      "deepseek-r1:32b",
      "deepseek-r1:70b",
      "deepseek-r1:671b",
      "deepseek-v3:671b",
      "gpt-oss:20b",
      "gpt-oss:120b",
      "llava:7b",
      "llava:13b",
      "nomic-embed-text:v1.5",
      "bge-m3:567m",
      "codellama:7b",
      "codellama:13b",
      "codellama:34b",
      "smollm2:135m",
      "smollm2:360m",
      "smollm2:1.7b",
      "tinyllama:1.1b",
      // Issue 14's missing families on architectures vramplan has.
      "deepseek-coder:1.3b",
      "yi:6b",
      "codegemma:2b",
      "codegemma:7b",
      "falcon3:1b",
      "falcon3:3b",
      "falcon3:7b",
      "falcon3:10b",
      "granite3-dense:8b",
      "granite3.1-dense:8b",
      "granite3.2:8b",
      "granite3.3:8b",
      "granite3.3:2b",
      "smollm:135m",
      "smollm:1.7b",
      "orca-mini:3b",
      "mxbai-embed-large:335m",
      "snowflake-arctic-embed:110m",
      "command-r:35b",
      "dolphin-mixtral:8x7b",
      "dolphin-mixtral:8x22b",
      "llava:34b",
      "codellama:70b",
      "deepseek-coder-v2:236b",
      "deepseek-v2:236b",
      "qwen3-coder:30b",
      "qwen2:0.5b",
      "qwen2:72b",
      "hermes3:8b",
      "wizardlm2:7b",
      "vicuna:7b",
      "neural-chat:7b",
      "starling-lm:7b",
      "mistral-large:123b",
      "mathstral:7b",
      "nemotron:70b",
      "aya:8b",
      "yi:9b",
      "all-minilm:33m",
      "snowflake-arctic-embed:335m",
      "snowflake-arctic-embed:22m",
      "orca-mini:7b",
      "granite4:tiny-h",
      "granite4:micro-h",
      "granite4:small-h",
      "granite4:1b",
      "granite4:350m",
      "granite4:350m-h",
      "granite4:1b-h",
      "qwen3-next:80b",
      "qwen3-next:80b-a3b-instruct-q8_0",
      "orca-mini:13b",
      "orca-mini:70b",
      "qwen:32b",
      "qwen:72b",
      "qwen:110b",
      "qwen3-coder:480b",
      "qwen3-vl:2b",
      "qwen3-vl:235b",
  };
  for (const char* name : required) {
    EXPECT_TRUE(catalog.resolve(name).has_value()) << name;
  }
}

TEST(EmbeddedCatalog, SpecialShapesAreEncoded) {
  const Catalog catalog = embedded();
  const CatalogEntry* v3 = catalog.find_id("deepseek-v3-671b");
  ASSERT_NE(v3, nullptr);
  EXPECT_TRUE(v3->spec.mla.present());
  EXPECT_EQ(layer_attention(v3->spec, 0).k_width, 576);
  EXPECT_EQ(v3->spec.moe.n_leading_dense, 3);

  const CatalogEntry* llava = catalog.find_id("llava-7b");
  ASSERT_NE(llava, nullptr);
  ASSERT_TRUE(llava->projector.has_value());
  EXPECT_GT(llava->projector->bytes, 500'000'000);
  EXPECT_LT(llava->projector->bytes, 700'000'000);

  const CatalogEntry* nomic = catalog.find_id("nomic-embed-text");
  ASSERT_NE(nomic, nullptr);
  EXPECT_FALSE(nomic->spec.causal);
  EXPECT_FALSE(layer_attention(nomic->spec, 0).has_kv);

  const CatalogEntry* gemma3 = catalog.find_id("gemma3-27b");
  ASSERT_NE(gemma3, nullptr);
  EXPECT_TRUE(layer_attention(gemma3->spec, 0).swa);
  EXPECT_FALSE(layer_attention(gemma3->spec, 5).swa);

  const CatalogEntry* oss = catalog.find_id("gpt-oss-20b");
  ASSERT_NE(oss, nullptr);
  EXPECT_TRUE(layer_attention(oss->spec, 0).swa);
  EXPECT_FALSE(layer_attention(oss->spec, 1).swa);

  // Granite 4.0 -h: Mamba2 blocks without KV, attention on every tenth block from 5.
  for (const char* id :
       {"granite4-tiny-h", "granite4-micro-h", "granite4-small-h", "granite4-1b-h"}) {
    const CatalogEntry* g = catalog.find_id(id);
    ASSERT_NE(g, nullptr) << id;
    for (std::int32_t il = 0; il < g->spec.n_layer; ++il) {
      const LayerAttention a = layer_attention(g->spec, il);
      EXPECT_EQ(a.has_kv, il % 10 == 5) << id << " block " << il;
      EXPECT_EQ(a.recurrent, il % 10 != 5) << id << " block " << il;
    }
  }
  // Granite 4.0 H 350M: attention on blocks 10, 13, 17 and 27 of 32, no experts.
  const CatalogEntry* nano = catalog.find_id("granite4-350m-h");
  ASSERT_NE(nano, nullptr);
  EXPECT_FALSE(nano->spec.moe.present());
  for (std::int32_t il = 0; il < nano->spec.n_layer; ++il) {
    const bool attends = il == 10 || il == 13 || il == 17 || il == 27;
    EXPECT_EQ(layer_attention(nano->spec, il).has_kv, attends) << "granite4-350m-h block " << il;
    EXPECT_EQ(layer_attention(nano->spec, il).recurrent, !attends)
        << "granite4-350m-h block " << il;
  }
  // Qwen3-Next: gated attention with KV on every 4th block, Gated DeltaNet state elsewhere.
  const CatalogEntry* next = catalog.find_id("qwen3-next-80b-a3b");
  ASSERT_NE(next, nullptr);
  for (std::int32_t il = 0; il < next->spec.n_layer; ++il) {
    const LayerAttention a = layer_attention(next->spec, il);
    EXPECT_EQ(a.has_kv, il % 4 == 3) << "qwen3-next block " << il;
    EXPECT_EQ(a.recurrent, il % 4 != 3) << "qwen3-next block " << il;
  }
}

// Every Ollama family in the catalog resolves by its bare name, to the entry marked `latest`, and
// that entry is the one the library's tag list says `latest` is: the size tag showing the same
// size as `latest` (the list read on 2026-12-04 from a copy in Alpaca's src/ollama_models.py
// @7bc6f67d; its rows are in tests/data/ollama-tags.tsv).
TEST(EmbeddedCatalog, EveryFamilyBareNameResolvesToTheLibrarysLatest) {
  const Catalog catalog = embedded();
  std::set<std::string> families;
  for (const CatalogEntry& entry : catalog.entries()) {
    for (const std::string& tag : entry.ollama) families.insert(tag.substr(0, tag.find(':')));
  }
  EXPECT_GE(families.size(), 60u);
  for (const std::string& family : families) {
    const std::optional<ModelRef> bare = catalog.resolve(family);
    ASSERT_TRUE(bare.has_value()) << family;
    EXPECT_TRUE(bare->entry->ollama_latest) << family << " -> " << bare->entry->id;
    const std::optional<ModelRef> latest = catalog.resolve(family + ":latest");
    ASSERT_TRUE(latest.has_value()) << family;
    EXPECT_EQ(latest->entry->id, bare->entry->id) << family;
  }
  struct Latest {
    const char* bare;
    const char* tag;  // the size tag the library lists with latest's size
  };
  constexpr Latest library[] = {{"all-minilm", "all-minilm:22m"},
                                {"aya", "aya:8b"},
                                {"bge-m3", "bge-m3:567m"},
                                {"codegemma", "codegemma:7b"},
                                {"codellama", "codellama:7b"},
                                {"codestral", "codestral:22b"},
                                {"cogito", "cogito:8b"},
                                {"command-r", "command-r:35b"},
                                {"deepseek-coder", "deepseek-coder:1.3b"},
                                {"deepseek-coder-v2", "deepseek-coder-v2:16b"},
                                {"deepseek-r1", "deepseek-r1:8b"},
                                {"deepseek-v2", "deepseek-v2:16b"},
                                {"deepseek-v3", "deepseek-v3:671b"},
                                {"dolphin-llama3", "dolphin-llama3:8b"},
                                {"dolphin-mistral", "dolphin-mistral:7b"},
                                {"dolphin-mixtral", "dolphin-mixtral:8x7b"},
                                {"dolphin-phi", "dolphin-phi:2.7b"},
                                {"dolphin3", "dolphin3:8b"},
                                {"embeddinggemma", "embeddinggemma:300m"},
                                {"falcon3", "falcon3:7b"},
                                {"gemma", "gemma:7b"},
                                {"gemma2", "gemma2:9b"},
                                {"gemma3", "gemma3:4b"},
                                {"gemma3n", "gemma3n:e4b"},
                                {"gpt-oss", "gpt-oss:20b"},
                                {"granite3-dense", "granite3-dense:2b"},
                                {"granite3.1-dense", "granite3.1-dense:8b"},
                                {"granite3.2", "granite3.2:8b"},
                                {"granite3.3", "granite3.3:8b"},
                                {"granite4", "granite4:3b"},
                                {"hermes3", "hermes3:8b"},
                                {"internlm2", "internlm2:7b"},
                                {"llama2", "llama2:7b"},
                                {"llama2-uncensored", "llama2-uncensored:7b"},
                                {"llama3", "llama3:8b"},
                                {"llama3.1", "llama3.1:8b"},
                                {"llama3.2", "llama3.2:3b"},
                                {"llama3.2-vision", "llama3.2-vision:11b"},
                                {"llama3.3", "llama3.3:70b"},
                                {"llama4", "llama4:16x17b"},
                                {"llava", "llava:7b"},
                                {"mathstral", "mathstral:7b"},
                                {"mistral", "mistral:7b"},
                                {"mistral-large", "mistral-large:123b"},
                                {"minicpm-v", "minicpm-v:8b"},
                                {"mistral-nemo", "mistral-nemo:12b"},
                                {"mistral-small", "mistral-small:24b"},
                                {"mistral-small3.1", "mistral-small3.1:24b"},
                                {"mistral-small3.2", "mistral-small3.2:24b"},
                                {"mixtral", "mixtral:8x7b"},
                                {"mxbai-embed-large", "mxbai-embed-large:335m"},
                                {"moondream", "moondream:1.8b"},
                                {"nemotron", "nemotron:70b"},
                                {"neural-chat", "neural-chat:7b"},
                                {"nomic-embed-text", "nomic-embed-text:137m-v1.5-fp16"},
                                {"olmo2", "olmo2:7b"},
                                {"openhermes", "openhermes:7b-mistral-v2-q4_0"},
                                {"orca-mini", "orca-mini:3b"},
                                {"phi", "phi:2.7b"},
                                {"phi3", "phi3:3.8b"},
                                {"phi3.5", "phi3.5:3.8b"},
                                {"phi4", "phi4:14b"},
                                {"phi4-mini", "phi4-mini:3.8b"},
                                {"qwen", "qwen:4b"},
                                {"qwen2", "qwen2:7b"},
                                {"qwen2.5", "qwen2.5:7b"},
                                {"qwen2.5-coder", "qwen2.5-coder:7b"},
                                {"qwen2.5vl", "qwen2.5vl:7b"},
                                {"qwen3", "qwen3:8b"},
                                {"qwen3-coder", "qwen3-coder:30b"},
                                {"qwen3-next", "qwen3-next:80b"},
                                {"qwen3-embedding", "qwen3-embedding:8b"},
                                {"qwen3-vl", "qwen3-vl:8b"},
                                {"qwq", "qwq:32b"},
                                {"smollm", "smollm:1.7b"},
                                {"smollm2", "smollm2:1.7b"},
                                {"snowflake-arctic-embed", "snowflake-arctic-embed:335m"},
                                {"starcoder2", "starcoder2:3b"},
                                {"starling-lm", "starling-lm:7b"},
                                {"tinyllama", "tinyllama:1.1b"},
                                {"vicuna", "vicuna:7b"},
                                {"wizardlm2", "wizardlm2:7b"},
                                {"yi", "yi:6b"},
                                {"zephyr", "zephyr:7b"}};
  std::set<std::string> listed;
  for (const Latest& l : library) {
    listed.insert(l.bare);
    const std::optional<ModelRef> bare = catalog.resolve(l.bare);
    const std::optional<ModelRef> tag = catalog.resolve(l.tag);
    ASSERT_TRUE(bare.has_value()) << l.bare;
    ASSERT_TRUE(tag.has_value()) << l.tag;
    EXPECT_EQ(bare->entry->id, tag->entry->id) << l.bare << " should be " << l.tag;
  }
  EXPECT_GE(listed.size(), 60u);
}

// What bare names and official variant tags pull from the Ollama library (checked 2026-12-03,
// docs/catalog.md "Ollama tag mappings"), and the quantization words people type.
TEST(EmbeddedCatalog, BareNamesResolveToWhatOllamaServes) {
  const Catalog catalog = embedded();
  const auto id_of = [&](std::string_view name) {
    const std::optional<ModelRef> ref = catalog.resolve(name);
    return ref ? ref->entry->id : std::string("(none)");
  };
  const auto quant_of = [&](std::string_view name) {
    const std::optional<ModelRef> ref = catalog.resolve(name);
    return ref ? std::string(to_string(ref->quant)) : std::string("(none)");
  };
  EXPECT_EQ(id_of("deepseek-r1"), "deepseek-r1-0528-8b");
  EXPECT_EQ(id_of("deepseek-r1:8b"), "deepseek-r1-0528-8b");
  EXPECT_EQ(catalog.resolve("deepseek-r1")->entry->spec.arch, "qwen3");
  EXPECT_EQ(id_of("deepseek-r1:8b-llama-distill-q4_K_M"), "deepseek-r1-8b");
  EXPECT_EQ(id_of("deepseek-r1:7b-qwen-distill-q8_0"), "deepseek-r1-7b");
  EXPECT_EQ(id_of("mistral"), "mistral-7b");
  EXPECT_EQ(quant_of("mistral"), "Q4_K_M");
  EXPECT_EQ(quant_of("mistral:7b"), "Q4_K_M");
  EXPECT_EQ(id_of("mistral:v0.2"), "mistral-7b-v0.2");
  EXPECT_EQ(id_of("mistral:7b-instruct-v0.2-q4_0"), "mistral-7b-v0.2");
  EXPECT_EQ(quant_of("mistral-nemo"), "Q4_0");
  EXPECT_EQ(quant_of("mistral-small:22b"), "Q4_0");
  EXPECT_EQ(quant_of("internlm2:7b"), "Q4_0");
  EXPECT_EQ(id_of("phi3"), "phi3-mini-128k");
  EXPECT_EQ(id_of("phi3:14b"), "phi3-medium-128k");
  EXPECT_EQ(id_of("phi3:3.8b-mini-4k-instruct-q4_0"), "phi3-mini");
  for (const char* name : {"qwen3:4b", "qwen3:30b", "qwen3:235b"}) {
    EXPECT_EQ(catalog.resolve(name)->entry->spec.n_ctx_train, 262144) << name;
  }
  EXPECT_EQ(id_of("llava:7b-v1.6-vicuna-q4_0"), "llava-7b-vicuna");
  EXPECT_EQ(id_of("llava:7b-v1.5-q4_0"), "llava-7b-vicuna");
  EXPECT_EQ(catalog.find_id("llava-7b-vicuna")->spec.n_head_kv, 32);
  EXPECT_EQ(id_of("llava:7b-v1.6-mistral-q4_0"), "llava-7b");
  EXPECT_EQ(id_of("starcoder2"), "starcoder2-3b");
  // Families whose latest is the smallest size (issue 14).
  EXPECT_EQ(id_of("deepseek-coder"), "deepseek-coder-1.3b");
  EXPECT_EQ(quant_of("deepseek-coder"), "Q4_0");
  EXPECT_EQ(id_of("yi"), "yi-6b");
  EXPECT_EQ(id_of("yi:6b-chat-v1.5-q8_0"), "yi-6b");
  EXPECT_EQ(id_of("yi:34b"), "yi-34b");
  EXPECT_EQ(id_of("orca-mini"), "orca-mini-3b");
  EXPECT_EQ(id_of("granite3.3"), "granite3.3-8b");
  EXPECT_EQ(quant_of("granite3.3"), "Q4_K_M");
  EXPECT_EQ(catalog.resolve("granite3.3")->entry->spec.n_ctx_train, 131072);
  EXPECT_EQ(catalog.resolve("granite3-dense:8b")->entry->spec.n_ctx_train, 4096);
  EXPECT_EQ(id_of("command-r:35b-v0.1-q4_0"), "command-r-35b-v01");
  EXPECT_EQ(catalog.find_id("command-r-35b-v01")->spec.n_head_kv, 64);
  EXPECT_EQ(catalog.find_id("command-r-35b")->spec.n_head_kv, 8);
  EXPECT_EQ(catalog.resolve("qwen3-coder")->entry->spec.n_ctx_train, 262144);
  ASSERT_TRUE(catalog.find_id("llava-34b")->projector.has_value());
  EXPECT_EQ(catalog.find_id("llava-34b")->projector->bytes, 699'971'584);
  EXPECT_FALSE(catalog.find_id("mxbai-embed-large")->spec.causal);
  // Read from the ollama.com tag pages (tests/data/ollama-tags.tsv).
  EXPECT_EQ(id_of("falcon3"), "falcon3-7b");
  EXPECT_EQ(quant_of("falcon3"), "Q4_K_M");
  EXPECT_EQ(id_of("command-r"), "command-r-35b");
  EXPECT_EQ(quant_of("command-r"), "Q4_0");
  EXPECT_EQ(id_of("command-r:v0.1"), "command-r-35b-v01");
  EXPECT_EQ(id_of("yi:9b-chat-v1.5-fp16"), "yi-9b");
  EXPECT_EQ(quant_of("mxbai-embed-large"), "F16");
  // Families of issue 14 that needed an architecture: vision towers counted as projectors.
  EXPECT_EQ(id_of("mistral-small3.1"), "mistral-small3.1-24b");
  EXPECT_EQ(id_of("mistral-small3.2:24b-instruct-2506-q8_0"), "mistral-small3.2-24b");
  EXPECT_EQ(catalog.resolve("mistral-small3.1")->entry->spec.arch, "mistral3");
  EXPECT_EQ(id_of("qwen2.5vl"), "qwen2.5vl-7b");
  EXPECT_EQ(id_of("qwen2.5vl:72b-q4_K_M"), "qwen2.5vl-72b");
  EXPECT_EQ(id_of("llama4"), "llama4-scout");
  EXPECT_EQ(id_of("llama4:maverick"), "llama4-maverick");
  EXPECT_EQ(id_of("phi"), "phi2-2.7b");
  EXPECT_EQ(id_of("qwen"), "qwen1.5-4b");
  EXPECT_EQ(id_of("qwen3-vl"), "qwen3-vl-8b");
  EXPECT_EQ(id_of("qwen3-vl:4b-instruct-q8_0"), "qwen3-vl-4b");
  EXPECT_EQ(catalog.resolve("qwen3-vl:30b")->entry->spec.arch, "qwen3vlmoe");
  EXPECT_EQ(catalog.resolve("qwen3-vl:32b")->entry->spec.arch, "qwen3vl");
  EXPECT_EQ(id_of("qwen:14b-chat-v1.5-q4_K_M"), "qwen1.5-14b");
  EXPECT_EQ(id_of("qwen:110b-chat-v1.5-q4_0"), "qwen1.5-110b");
  EXPECT_EQ(catalog.find_id("qwen1.5-110b")->spec.n_head_kv, 8);
  EXPECT_EQ(catalog.find_id("qwen1.5-72b")->spec.n_head_kv, 64);
  EXPECT_EQ(id_of("qwen3-coder:480b-a35b-instruct-q8_0"), "qwen3-coder-480b");
  EXPECT_EQ(catalog.find_id("qwen3-coder-480b")->spec.moe.n_expert, 160);
  EXPECT_EQ(id_of("qwen3-coder"), "qwen3-coder-30b");
  EXPECT_EQ(id_of("orca-mini:13b-v3-q4_0"), "orca-mini-13b");
  EXPECT_EQ(id_of("orca-mini:70b-v3-q4_K_M"), "orca-mini-70b");
  EXPECT_EQ(catalog.find_id("orca-mini-70b")->spec.n_head_kv, 8);
  EXPECT_EQ(catalog.resolve("qwen3-vl:235b")->entry->spec.arch, "qwen3vlmoe");
  EXPECT_EQ(catalog.resolve("qwen3-vl:2b")->entry->spec.arch, "qwen3vl");
  EXPECT_EQ(id_of("granite4:1b"), "granite4-1b");
  EXPECT_EQ(id_of("granite4"), "granite4-micro");
  EXPECT_EQ(id_of("dolphin-phi"), "dolphin-phi-2.7b");
  EXPECT_EQ(id_of("qwen3-embedding"), "qwen3-embedding-8b");
  EXPECT_EQ(quant_of("qwen3-embedding:0.6b"), "Q8_0");
  // EmbeddingGemma: gemma-embedding, no cache, and a qat tag refused rather than mapped.
  EXPECT_EQ(id_of("embeddinggemma"), "embeddinggemma-300m");
  EXPECT_EQ(quant_of("embeddinggemma"), "BF16");
  EXPECT_FALSE(catalog.resolve("embeddinggemma")->entry->spec.causal);
  EXPECT_THROW(static_cast<void>(catalog.resolve("embeddinggemma:300m-qat-q4_0")), Error);
  for (const char* id :
       {"mistral-small3.1-24b", "mistral-small3.2-24b", "qwen2.5vl-3b", "qwen2.5vl-7b",
        "qwen2.5vl-32b", "qwen2.5vl-72b", "llama4-scout", "llama4-maverick", "qwen3-vl-8b",
        "qwen3-vl-32b", "qwen3-vl-2b", "qwen3-vl-235b"}) {
    EXPECT_TRUE(catalog.find_id(id)->projector.has_value()) << id;
  }
  EXPECT_EQ(id_of("codellama:python"), "codellama-7b");
  EXPECT_EQ(id_of("llama2:chat"), "llama2-7b");
  EXPECT_EQ(id_of("llama3:text"), "llama3-8b");
  EXPECT_EQ(id_of("mistral:instruct"), "mistral-7b");
  EXPECT_EQ(id_of("granite4"), "granite4-micro");  // the dense micro, architecture granite
  EXPECT_EQ(catalog.resolve("granite4")->entry->spec.arch, "granite");
  EXPECT_EQ(quant_of("granite4"), "Q4_K_M");
  EXPECT_EQ(id_of("mixtral"), "mixtral-8x7b");
  EXPECT_EQ(quant_of("mixtral"), "Q4_0");
  EXPECT_EQ(id_of("mixtral:text"), "mixtral-8x7b");
  EXPECT_EQ(id_of("mixtral:v0.1-instruct"), "mixtral-8x22b");  // its page: 141B, 80GB
  EXPECT_EQ(id_of("zephyr"), "zephyr-7b");
  EXPECT_EQ(quant_of("zephyr"), "Q4_0");
  EXPECT_EQ(quant_of("tinyllama"), "Q4_0");
  EXPECT_EQ(quant_of("codegemma:2b"), "Q4_0");
  EXPECT_EQ(quant_of("nomic-embed-text"), "F16");
  EXPECT_EQ(id_of("starcoder2:7b"), "starcoder2-7b");
  EXPECT_EQ(id_of("qwen:7b"), "qwen1.5-7b");
  // Quantization words: the 4-bit build of llama3.2:1b is Q4_K_M, not its Q8_0 default.
  EXPECT_EQ(quant_of("llama3.2:1b-4bit"), "Q4_K_M");
  EXPECT_EQ(quant_of("llama3.2:4bit"), "Q4_K_M");
  EXPECT_EQ(quant_of("llama3.2:1b-int8"), "Q8_0");
  // The library's gemma3 qat tags are Google's QAT Q4_0 files (token_embd F16) and resolve to
  // their own entries; a qat word on a tag no entry lists is still refused, never mapped.
  EXPECT_EQ(id_of("gemma3:4b-it-qat"), "gemma3-4b-qat");
  EXPECT_EQ(quant_of("gemma3:27b-it-qat"), "Q4_0");
  EXPECT_EQ(catalog.find_id("gemma3-12b-qat")->spec.token_embd_type, GgmlType::f16);
  EXPECT_THROW(static_cast<void>(catalog.resolve("gemma3:4b-qat")), Error);
  EXPECT_THROW(static_cast<void>(catalog.resolve("embeddinggemma:300m-qat-q4_0")), Error);
  EXPECT_THROW(static_cast<void>(catalog.resolve("qwen2.5:7b-instruct-awq")), Error);
  // Gemma 3's vision tower is counted.
  ASSERT_TRUE(catalog.find_id("gemma3-4b")->projector.has_value());
  EXPECT_FALSE(catalog.find_id("gemma3-1b")->projector.has_value());
}

}  // namespace
}  // namespace vramplan::io
