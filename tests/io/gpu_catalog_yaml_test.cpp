// The GPU catalog reader (src/io/gpu_catalog_yaml.cpp), the embedded catalog's lint, and the
// names of issue 12 and of public nvidia-smi / rocm-smi / Mesa logs resolving to their cards.
#include <unistd.h>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/text.hpp>

namespace vramplan::io {
namespace {

std::string parse_error(std::string_view text) {
  try {
    static_cast<void>(parse_gpu_catalog(text, "gpus/x.yaml"));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    return e.what();
  }
  return "no error";
}

constexpr std::string_view minimal = R"(gpus:
- id: my-card
  name: My Card
  vendor: nvidia
)";

TEST(GpuCatalogYaml, MinimalCardKeepsEveryUnknownValueEmpty) {
  const GpuCatalogFile file = parse_gpu_catalog(minimal, "mine.yaml");
  ASSERT_EQ(file.gpus.size(), 1u);
  const Gpu& g = file.gpus.front();
  EXPECT_EQ(g.id, "my-card");
  EXPECT_EQ(g.origin, "mine.yaml");
  EXPECT_FALSE(g.memory_bytes || g.memory_gb || g.bandwidth_gbps || g.fp16_tensor_tflops ||
               g.compute_capability || g.bf16 || g.fp8 || g.flash_attention || g.vllm);
  EXPECT_EQ(supports(g, GpuFeature::bf16), Support::unknown);
}

TEST(GpuCatalogYaml, NullIsUnknownNotAGuess) {
  const GpuCatalogFile file = parse_gpu_catalog(R"(schema_version: 1
checked: '2026-12-03'
gpus:
- id: t4
  name: NVIDIA T4
  vendor: nvidia
  aliases: [Tesla T4, T4]
  memory_gb: 16
  memory_mib: 15360
  memory_source: nvidia-smi
  memory_type: null
  bandwidth_gbps: 300
  fp16_tensor_tflops: null
  compute_capability: '7.5'
  arch: turing
  bf16: false
  fp8: null
  flash_attention: {llama_cpp: true, flash_attn2: false}
  vllm: true
  sources: [https://example.org/t4]
  notes: a note
)",
                                                "t.yaml");
  const Gpu& g = file.gpus.at(0);
  EXPECT_EQ(file.checked, "2026-12-03");
  EXPECT_EQ(*g.memory_bytes, 15360 * mib);
  EXPECT_EQ(g.memory_source, MemorySource::nvidia_smi);
  EXPECT_FALSE(g.memory_type.has_value());
  EXPECT_EQ(*g.bandwidth_gbps, 300);
  EXPECT_FALSE(g.fp16_tensor_tflops.has_value());
  EXPECT_EQ(*g.compute_capability, (ComputeCapability{7, 5}));
  EXPECT_EQ(supports(g, GpuFeature::bf16), Support::no);
  EXPECT_EQ(supports(g, GpuFeature::fp8), Support::unknown);
  EXPECT_EQ(supports(g, GpuFeature::flash_attention), Support::yes);
  EXPECT_EQ(supports(g, GpuFeature::flash_attn2), Support::no);
  EXPECT_EQ(g.sources, (std::vector<std::string>{"https://example.org/t4"}));
}

TEST(GpuCatalogYaml, MalformedFilesGetOneLocatedLine) {
  const std::string card = "gpus:\n- id: c\n  name: C\n  vendor: nvidia\n";
  EXPECT_EQ(parse_error("gpus: 3\n"), "gpus/x.yaml:1:7: key 'gpus' in the file must be a list");
  EXPECT_EQ(parse_error("models: []\n"), "gpus/x.yaml:1:1: unknown key 'models' in the file");
  EXPECT_EQ(parse_error("checked: x\n"), "gpus/x.yaml:1:1: missing the key 'gpus'");
  EXPECT_EQ(parse_error("schema_version: 2\ngpus: []\n"),
            "gpus/x.yaml:1:17: schema_version 2 is not supported (this vramplan reads 1)");
  EXPECT_EQ(parse_error("gpus:\n- id: c\n  name: C\n"),
            "gpus/x.yaml:2:3: missing required key 'vendor' in GPU 'c'");
  EXPECT_EQ(parse_error(card + "  colour: red\n"),
            "gpus/x.yaml:5:3: unknown key 'colour' in GPU 'c'");
  EXPECT_EQ(parse_error("gpus:\n- id: c\n  name: C\n  vendor: nvida\n"),
            "gpus/x.yaml:4:11: key 'vendor' in GPU 'c' must be nvidia, amd, intel or apple, got "
            "'nvida'");
  EXPECT_EQ(parse_error(card + "  memory_mib: 99999999999999999999\n"),
            "gpus/x.yaml:5:15: key 'memory_mib' in GPU 'c' must be an integer in [1, 16777216], "
            "got '99999999999999999999'");
  EXPECT_EQ(parse_error(card + "  bandwidth_gbps: -3\n"),
            "gpus/x.yaml:5:19: key 'bandwidth_gbps' in GPU 'c' must be a number in (0, 1000000], "
            "got '-3'");
  EXPECT_EQ(parse_error(card + "  bandwidth_gbps: nan\n"),
            "gpus/x.yaml:5:19: key 'bandwidth_gbps' in GPU 'c' must be a number in (0, 1000000], "
            "got 'nan'");
  EXPECT_EQ(parse_error(card + "  compute_capability: '8.10'\n"),
            "gpus/x.yaml:5:23: key 'compute_capability' in GPU 'c' must be like '8.9', got '8.10'");
  EXPECT_EQ(parse_error(card + "  bf16: maybe\n"),
            "gpus/x.yaml:5:9: key 'bf16' in GPU 'c' must be true, false or null, got 'maybe'");
  EXPECT_EQ(parse_error(card + "  flash_attention: {llama_cpp: true, v3: false}\n"),
            "gpus/x.yaml:5:38: unknown key 'v3' in 'flash_attention' of GPU 'c'");
  EXPECT_EQ(parse_error(card + "- id: c\n  name: D\n  vendor: amd\n"),
            "gpus/x.yaml:5:7: duplicate id 'c' (first defined on line 2)");
  EXPECT_EQ(parse_error("gpus:\n- id: Bad Id\n  name: C\n  vendor: nvidia\n"),
            "gpus/x.yaml:2:7: id 'Bad Id' must hold only a-z, 0-9 and '-'");
  EXPECT_EQ(parse_error(card + "  name: again\n"),
            "gpus/x.yaml:5:3: duplicate key 'name' in GPU 'c'");
}

TEST(GpuCatalogYaml, LimitsOfTheModelCatalogApply) {
  EXPECT_EQ(parse_error(std::string(catalog_max_bytes + 1, '#')),
            "gpus/x.yaml: GPU catalog is 4194305 bytes, more than the limit of 4194304");
  EXPECT_EQ(parse_error("gpus: " + std::string(40, '[') + std::string(40, ']') + "\n"),
            "gpus/x.yaml:1:22: YAML nested deeper than 16 levels");
  EXPECT_EQ(parse_error("gpus:\n- id: c\n  name: " + std::string(200, 'n') + "\n  vendor: amd\n"),
            "gpus/x.yaml:3:9: key 'name' in GPU 'c' is 200 bytes, more than the limit of 128");
  std::string many = "gpus:\n- id: c\n  name: C\n  vendor: amd\n  aliases: [";
  for (int i = 0; i < 65; ++i) many += (i ? ",a" : "a") + std::to_string(i);
  EXPECT_EQ(parse_error(many + "]\n"),
            "gpus/x.yaml:5:12: key 'aliases' in GPU 'c' has 65 items, more than the limit of 64");
}

TEST(GpuCatalogYaml, MessagesQuotingTheFileStayOnOneLine) {
  const std::string message =
      parse_error("gpus:\n- id: c\n  name: C\n  vendor: \"nv\\e]0;x\\a\\nOLLAMA=1\"\n");
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_NE(message.find("\\x1b]0;x\\x07\\x0aOLLAMA=1"), std::string::npos) << message;
  const std::string yaml_cpp = parse_error("gpus: \"\\q\x01\"\n");
  EXPECT_EQ(yaml_cpp.find('\x01'), std::string::npos) << yaml_cpp;
}

// --- the embedded catalog ---------------------------------------------------------------

TEST(EmbeddedGpuCatalog, CompiledValuesEqualTheYamlParsedNow) {
  const GpuCatalogFile compiled = compiled_gpu_catalog();
  const GpuCatalogFile parsed = parse_gpu_catalog(
      read_text_file(VRAMPLAN_GPU_CATALOG_YAML, catalog_max_bytes), "<embedded>/gpus.yaml");
  EXPECT_EQ(compiled.gpus, parsed.gpus);
  EXPECT_EQ(compiled.apple_working_set, parsed.apple_working_set);
  EXPECT_EQ(compiled.checked, parsed.checked);
  EXPECT_EQ(compiled.gpus.size(), 72u);  // docs/sizing-data.md §1
}

TEST(EmbeddedGpuCatalog, Lints) {
  const GpuCatalog catalog = load_gpu_catalog();
  std::set<std::string> ids;
  for (const Gpu& g : catalog.gpus()) {
    SCOPED_TRACE(g.id);
    EXPECT_TRUE(ids.insert(g.id).second) << "duplicate id";
    ASSERT_FALSE(g.sources.empty()) << "every card names its sources";
    for (const std::string& url : g.sources) EXPECT_TRUE(url.starts_with("https://")) << url;
    EXPECT_FALSE(g.arch.empty());
    // Aliases are unambiguous: every spelling of a card finds that card and no other.
    std::vector<std::string> names = g.aliases;
    names.push_back(g.id);
    names.push_back(g.name);
    for (const std::string& name : names) {
      const std::optional<GpuRef> ref = catalog.resolve(name);
      ASSERT_TRUE(ref.has_value()) << name;
      EXPECT_EQ(ref->gpu->id, g.id) << name;
    }
    // The capability rules of docs/sizing-data.md §1.2 hold for every NVIDIA card.
    if (g.compute_capability) {
      const ComputeCapability cc = *g.compute_capability;
      EXPECT_EQ(g.bf16, cc >= (ComputeCapability{8, 0}));
      EXPECT_EQ(g.fp8, cc >= (ComputeCapability{8, 9}));
      EXPECT_EQ(g.vllm, cc >= (ComputeCapability{7, 0}));
      EXPECT_EQ(g.flash_attn2, cc >= (ComputeCapability{8, 0}));
    }
    // Memory a program gets: known for every card with dedicated memory, never above the
    // marketed size rounded up to GiB, and for nvidia-smi figures below it.
    if (g.unified_memory) {
      EXPECT_FALSE(g.memory_bytes.has_value());
    } else {
      ASSERT_TRUE(g.memory_bytes && g.memory_gb);
      EXPECT_LE(*g.memory_bytes,
                static_cast<Bytes>(std::ceil(*g.memory_gb)) * gib * g.devices_per_board);
    }
  }
}

TEST(EmbeddedGpuCatalog, AppleDefaultRuleMatchesTheObservedWorkingSets) {
  const GpuCatalogFile file = compiled_gpu_catalog();
  ASSERT_GE(file.apple_working_set.size(), 5u);
  for (const AppleWorkingSetPoint& p : file.apple_working_set) {
    SCOPED_TRACE(p.source);
    const Bytes ram = static_cast<Bytes>(p.unified_gb) * gib;
    const double predicted_mib = static_cast<double>(apple_gpu_memory(ram, 0).bytes) / mib;
    if (p.unified_gb <= 96) {
      EXPECT_NEAR(predicted_mib, p.recommended_mib, 0.01);  // the 2023 macOS points
    } else {
      EXPECT_LE(predicted_mib, p.recommended_mib);  // macOS 26 gives more: the rule is safe
    }
  }
}

struct NameCase {
  const char* typed;
  const char* id;
  std::optional<Bytes> memory = std::nullopt;
};

// Issue 12's examples, then names as tools print them in public logs (docs/sizing-data.md §1.5
// and tests/data/detect/README.md name the sources).
const NameCase name_cases[] = {
    {"NVIDIA GeForce RTX 4090", "rtx-4090"},
    {"RTX 4090", "rtx-4090"},
    {"4090", "rtx-4090"},
    {"Tesla T4", "t4"},
    {"T4", "t4"},
    {"NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb"},
    {"a100-80g", "a100-sxm4-80gb"},
    {"Apple M2 Ultra", "apple-m2-ultra"},
    {"rtx-4090", "rtx-4090"},
    {"geforce rtx4090", "rtx-4090"},
    {"A100", "a100-sxm4-80gb"},
    {"a100 40gb", "a100-sxm4-40gb"},
    {"V100", "v100-sxm2-16gb"},
    {"v100-32g", "v100-sxm2-32gb"},
    {"H100", "h100-sxm"},
    {"h100 sxm5", "h100-sxm"},
    {"NVIDIA H100 80GB HBM3", "h100-sxm"},        // gpu-burn#114, nccl#1264
    {"NVIDIA A100-PCIE-40GB", "a100-pcie-40gb"},  // modal-client#2797
    {"NVIDIA A100 80GB PCIe", "a100-pcie-80gb"},
    {"NVIDIA A10", "a10"},
    {"NVIDIA L4", "l4"},
    {"NVIDIA L40S", "l40s"},
    {"Tesla V100-SXM2-32GB", "v100-sxm2-32gb"},  // llama.cpp#25749
    {"NVIDIA B200", "b200"},                     // TensorRT-LLM#10278
    {"NVIDIA GB10", "gb10"},                     // llama.cpp benches/dgx-spark.md
    {"NVIDIA GeForce RTX 3090", "rtx-3090"},
    {"NVIDIA GeForce RTX 5090", "rtx-5090"},
    {"NVIDIA GeForce RTX 4070", "rtx-4070"},  // meta-llama/llama#466
    {"NVIDIA GeForce RTX 4060 Ti", "rtx-4060-ti-8gb", 8188 * mib},
    {"NVIDIA GeForce RTX 4060 Ti", "rtx-4060-ti-16gb", 16380 * mib},
    {"NVIDIA GeForce RTX 3080", "rtx-3080", 10240 * mib},
    {"NVIDIA GeForce RTX 3080", "rtx-3080-12gb", 12288 * mib},
    {"Radeon RX 7900 XT", "rx-7900-xt"},  // rocm-smi, marimo#9237
    {"AMD Radeon RX 7900 XTX", "rx-7900-xtx"},
    {"AMD Radeon Graphics (RADV GFX1201)", "rx-9070-xt"},  // Mesa RADV
    {"AMD Instinct MI300X", "mi300x"},
    {"Intel(R) Arc(TM) A770 Graphics", "arc-a770"},
    {"Apple M3 Max 40-core GPU", "apple-m3-max-40c"},
};

TEST(EmbeddedGpuCatalog, NamesResolveTheWayToolsAndPeopleWriteThem) {
  const GpuCatalog catalog = load_gpu_catalog();
  for (const NameCase& c : name_cases) {
    const std::optional<GpuRef> ref = catalog.resolve(c.typed, c.memory);
    ASSERT_TRUE(ref.has_value()) << c.typed;
    EXPECT_EQ(ref->gpu->id, c.id) << c.typed;
  }
  EXPECT_TRUE(catalog.resolve("A100")->generic);
  EXPECT_EQ(catalog.describe(*catalog.resolve("A100"), "A100"),
            "'A100' is taken as NVIDIA A100 SXM4 80GB (a100-sxm4-80gb); name the card for "
            "another, e.g. a100-pcie-40gb, a100-sxm4-40gb, a100-pcie-80gb");
  EXPECT_TRUE(catalog.resolve("RTX 3080")->generic);
  // A size narrows a generic name without always deciding it.
  const GpuRef h100 = *catalog.resolve("h100 80gb");
  EXPECT_EQ(h100.gpu->id, "h100-sxm");
  EXPECT_EQ(catalog.describe(h100, "h100 80gb"),
            "'h100 80gb' is taken as NVIDIA H100 SXM5 80GB (h100-sxm); name the card for "
            "another, e.g. h100-pcie");
  EXPECT_FALSE(catalog.resolve("RTX 4060 Ti 8GB")->generic);
  EXPECT_FALSE(catalog.resolve("RTX 4090")->generic);
  // Cards the catalog does not have (docs/sizing-data.md §3) are misses, not near guesses.
  for (const char* missing : {"NVIDIA GeForce RTX 2060", "Tesla P100-PCIE-16GB",
                              "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]", "Raphael"}) {
    EXPECT_FALSE(catalog.resolve(missing).has_value()) << missing;
  }
  EXPECT_THROW(static_cast<void>(catalog.resolve("Apple M3 Max")), Error);
}

TEST(EmbeddedGpuCatalog, VllmOnAT4MustPlanFp16) {
  const GpuCatalog catalog = load_gpu_catalog();
  const Gpu& t4 = *catalog.resolve("Tesla T4")->gpu;
  EXPECT_EQ(supports(t4, GpuFeature::bf16), Support::no);
  EXPECT_EQ(supports(t4, GpuFeature::fp8), Support::no);
  EXPECT_EQ(supports(t4, GpuFeature::vllm), Support::yes);
  EXPECT_EQ(*t4.memory_bytes, 15360 * mib);  // a "16 GB" T4
  const Gpu& a100 = *catalog.resolve("NVIDIA A100-SXM4-80GB")->gpu;
  EXPECT_EQ(supports(a100, GpuFeature::bf16), Support::yes);
  EXPECT_EQ(supports(a100, GpuFeature::fp8), Support::no);
}

TEST(EmbeddedGpuCatalog, UnknownNamesSuggestIds) {
  const GpuCatalog catalog = load_gpu_catalog();
  EXPECT_EQ(catalog.unknown_message("rtx 4909").text_with("--vram"),
            "unknown GPU 'rtx 4909'; did you mean 'rtx-4090'? (run 'vramplan gpus' to list known "
            "GPUs, or give --vram)");
  EXPECT_EQ(catalog.unknown_message("quantum card").text_with("--vram"),
            "unknown GPU 'quantum card' (run 'vramplan gpus' to list known GPUs, or give --vram)");
}

TEST(LoadGpuCatalog, UserFilesAddAndReplaceCards) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("vramplan-gpus-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "mine.yaml";
  std::ofstream(file) << "gpus:\n"
                         "- id: t4\n  name: My T4\n  vendor: nvidia\n  memory_mib: 15000\n"
                         "- id: my-card\n  name: My Card\n  vendor: amd\n  aliases: [mc1]\n"
                         "- id: my-4090\n  name: My 4090\n  vendor: nvidia\n  aliases: ['4090']\n";
  const GpuCatalog catalog = load_gpu_catalog({file.string()});
  EXPECT_EQ(catalog.gpus().size(), 74u);
  EXPECT_EQ(catalog.find_id("t4")->name, "My T4");
  EXPECT_EQ(catalog.find_id("t4")->origin, file.string());
  EXPECT_EQ(catalog.resolve("mc1")->gpu->id, "my-card");
  EXPECT_EQ(catalog.resolve("4090")->gpu->id, "my-4090") << "a user's card wins its alias";
  EXPECT_EQ(catalog.resolve("RTX 4090")->gpu->id, "rtx-4090");
  EXPECT_THROW(static_cast<void>(load_gpu_catalog({(dir / "missing.yaml").string()})), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vramplan::io
