// GPU catalog rules on hand-built cards (src/core/gpu_catalog.cpp, docs/sizing.md). The real
// catalog's names are in tests/io/gpu_catalog_yaml_test.cpp.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/gpu_catalog.hpp>

namespace vramplan {
namespace {

Gpu card(std::string id, std::string name, std::vector<std::string> aliases,
         std::optional<double> gb, std::optional<Bytes> mib_total, std::string arch = "x") {
  Gpu g;
  g.id = std::move(id);
  g.name = std::move(name);
  g.aliases = std::move(aliases);
  g.memory_gb = gb;
  if (mib_total) g.memory_bytes = *mib_total * mib;
  g.arch = std::move(arch);
  return g;
}

GpuCatalog small_catalog() {
  GpuCatalog c;
  c.add(card("t4", "NVIDIA T4", {"Tesla T4", "T4"}, 16, 15360));
  c.add(card("a100-pcie-40gb", "NVIDIA A100 PCIe 40GB", {"NVIDIA A100-PCIE-40GB", "A100 PCIe 40GB"},
             40, 40960));
  c.add(card("a100-sxm4-40gb", "NVIDIA A100 SXM4 40GB", {"NVIDIA A100-SXM4-40GB", "A100 SXM4 40GB"},
             40, 40960));
  c.add(card("a100-sxm4-80gb", "NVIDIA A100 SXM4 80GB",
             {"NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB", "A100", "a100-80g"}, 80, 81920));
  c.add(card("rtx-4060-ti-8gb", "NVIDIA GeForce RTX 4060 Ti 8GB",
             {"NVIDIA GeForce RTX 4060 Ti", "RTX 4060 Ti 8GB"}, 8, 8192));
  c.add(
      card("rtx-4060-ti-16gb", "NVIDIA GeForce RTX 4060 Ti 16GB", {"RTX 4060 Ti 16GB"}, 16, 16384));
  c.add(card("rtx-4090", "NVIDIA GeForce RTX 4090", {"NVIDIA GeForce RTX 4090", "RTX 4090", "4090"},
             24, 24564));
  c.add(card("rx-9070-xt", "AMD Radeon RX 9070 XT", {"AMD Radeon RX 9070 XT", "RX 9070 XT"}, 16,
             16384, "gfx1201"));
  c.add(card("rx-7900-xtx", "AMD Radeon RX 7900 XTX", {"RX 7900 XTX"}, 24, 24576, "gfx1100"));
  c.add(card("w7900", "AMD Radeon PRO W7900", {"W7900"}, 48, 49152, "gfx1100"));
  c.add(card("m3-max-30c", "Apple M3 Max (30-core GPU)", {"Apple M3 Max 30-core GPU"}, {}, {}));
  c.add(card("m3-max-40c", "Apple M3 Max (40-core GPU)", {"Apple M3 Max 40-core GPU"}, {}, {}));
  return c;
}

std::string resolved_id(const GpuCatalog& c, std::string_view name,
                        std::optional<Bytes> memory = {}) {
  const std::optional<GpuRef> ref = c.resolve(name, memory);
  return ref ? ref->gpu->id : "<none>";
}

TEST(GpuCatalog, ResolvesIdNameAliasCaseAndSpaces) {
  const GpuCatalog c = small_catalog();
  EXPECT_EQ(c.resolve("rtx-4090")->how, GpuMatch::id);
  EXPECT_EQ(c.resolve("  nvidia   geforce RTX 4090 ")->how, GpuMatch::name);
  EXPECT_EQ(resolved_id(c, "tesla t4"), "t4");
  EXPECT_EQ(c.resolve("GeForce RTX 4090")->how, GpuMatch::vendor_prefix);
  EXPECT_EQ(resolved_id(c, "GeForce RTX 4090"), "rtx-4090");
  EXPECT_EQ(c.resolve("rtx4090")->how, GpuMatch::loose);
  EXPECT_EQ(resolved_id(c, "RTX_4090"), "rtx-4090");
  EXPECT_EQ(resolved_id(c, "A100_80GB"), "a100-sxm4-80gb");
  EXPECT_FALSE(c.resolve("").has_value());
  EXPECT_FALSE(c.resolve("rtx 4091").has_value());
  EXPECT_FALSE(c.resolve("RX 9070").has_value()) << "the XT is another card, not a variant";
}

TEST(GpuCatalog, GenericNamesAreMarkedAndDescribed) {
  const GpuCatalog c = small_catalog();
  const GpuRef a100 = *c.resolve("A100");
  EXPECT_EQ(a100.gpu->id, "a100-sxm4-80gb");
  EXPECT_TRUE(a100.generic);
  EXPECT_EQ(c.describe(a100, "A100"),
            "'A100' is taken as NVIDIA A100 SXM4 80GB (a100-sxm4-80gb); name the card for "
            "another, e.g. a100-pcie-40gb, a100-sxm4-40gb");
  EXPECT_FALSE(c.resolve("RTX 4090")->generic);
  EXPECT_EQ(c.describe(*c.resolve("RTX 4090"), "RTX 4090"), "");
}

TEST(GpuCatalog, SizeSuffixPicksTheVariant) {
  const GpuCatalog c = small_catalog();
  EXPECT_EQ(resolved_id(c, "a100-80g"), "a100-sxm4-80gb");  // an alias
  const GpuRef forty = *c.resolve("A100 40GB");
  EXPECT_EQ(forty.gpu->id, "a100-sxm4-40gb");
  EXPECT_EQ(forty.how, GpuMatch::size);
  EXPECT_EQ(resolved_id(c, "rtx 4060 ti-16g"), "rtx-4060-ti-16gb");
  EXPECT_EQ(resolved_id(c, "4090 24gb"), "rtx-4090");
  EXPECT_EQ(resolved_id(c, "4090 48gb"), "<none>");
}

TEST(GpuCatalog, MemoryTotalPicksBetweenSameNamedSizes) {
  const GpuCatalog c = small_catalog();
  const std::string smi = "NVIDIA GeForce RTX 4060 Ti";
  EXPECT_EQ(resolved_id(c, smi), "rtx-4060-ti-8gb");
  EXPECT_EQ(resolved_id(c, smi, 8188 * mib), "rtx-4060-ti-8gb");
  const GpuRef sixteen = *c.resolve(smi, 16380 * mib);
  EXPECT_EQ(sixteen.gpu->id, "rtx-4060-ti-16gb");
  EXPECT_TRUE(sixteen.by_memory);
  EXPECT_EQ(c.describe(sixteen, smi),
            "'NVIDIA GeForce RTX 4060 Ti' is NVIDIA GeForce RTX 4060 Ti 16GB (rtx-4060-ti-16gb), "
            "told apart by its memory");
  // Nothing within 10 %: the name's own card stays.
  EXPECT_EQ(resolved_id(c, smi, 12 * gib), "rtx-4060-ti-8gb");
}

TEST(GpuCatalog, VariantsAndArchitecturesAreAmbiguousUnlessMemoryDecides) {
  const GpuCatalog c = small_catalog();
  // 40 and 80 GB: not a single variant.
  EXPECT_THROW(static_cast<void>(c.resolve("A100 SXM4")), Error);
  EXPECT_EQ(resolved_id(c, "A100 SXM4", 40 * gib), "a100-sxm4-40gb");
  try {
    static_cast<void>(c.resolve("Apple M3 Max"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_STREQ(e.what(),
                 "GPU name 'Apple M3 Max' fits 2 cards: m3-max-30c, m3-max-40c; name "
                 "one of them");
  }
  EXPECT_EQ(resolved_id(c, "AMD Radeon Graphics (RADV GFX1201)"), "rx-9070-xt");
  EXPECT_EQ(c.resolve("AMD Radeon Graphics (RADV GFX1201)")->how, GpuMatch::arch);
  EXPECT_THROW(static_cast<void>(c.resolve("AMD Radeon Graphics (RADV GFX1100)")), Error);
  EXPECT_EQ(resolved_id(c, "AMD Radeon Graphics (RADV GFX1100)", 25753026560), "rx-7900-xtx");
  EXPECT_EQ(resolved_id(c, "gfx1100", 48 * gib), "w7900");
}

TEST(GpuCatalog, SelectParsesCountsAndLists) {
  const GpuCatalog c = small_catalog();
  auto ids = [&](std::string_view list) {
    std::vector<std::string> out;
    for (const GpuRef& ref : c.select(list, "--gpu")) out.push_back(ref.gpu->id);
    return out;
  };
  EXPECT_EQ(ids("4090"), (std::vector<std::string>{"rtx-4090"}));
  EXPECT_EQ(ids("4090x2"), (std::vector<std::string>{"rtx-4090", "rtx-4090"}));
  EXPECT_EQ(ids("A100-80G x3"),
            (std::vector<std::string>{"a100-sxm4-80gb", "a100-sxm4-80gb", "a100-sxm4-80gb"}));
  EXPECT_EQ(ids(" rtx 4090 , Tesla T4*1"), (std::vector<std::string>{"rtx-4090", "t4"}));
  EXPECT_EQ(ids("T4 x 2"), (std::vector<std::string>{"t4", "t4"}));
  EXPECT_EQ(ids("RX 7900 XTX"), (std::vector<std::string>{"rx-7900-xtx"}));
  EXPECT_EQ(ids("4090x64").size(), 64u);
}

TEST(GpuCatalog, SelectRefusesMalformedListsWithOneLine) {
  const GpuCatalog c = small_catalog();
  auto message = [&](std::string_view list) {
    try {
      static_cast<void>(c.select(list, "--gpu"));
    } catch (const Error& e) {
      return std::string(ErrorKind::invalid_setting == e.kind() ? "usage: " : "input: ") +
             e.message_with("--vram");  // as the command line says it
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("4090,"),
            "usage: --gpu: empty GPU name in '4090,' (examples: 4090, 4090x2, a100-80g,t4)");
  EXPECT_EQ(message("4090x0"), "usage: --gpu: the count in '4090x0' must be between 1 and 64");
  EXPECT_EQ(message("4090x65"), "usage: --gpu: the count in '4090x65' must be between 1 and 64");
  EXPECT_EQ(message("4090x99999999999999999999"),
            "usage: --gpu: the count in '4090x99999999999999999999' must be between 1 and 64");
  EXPECT_EQ(message("4090x40,t4x40"), "usage: --gpu: more than 64 GPUs in '4090x40,t4x40'");
  EXPECT_EQ(message("rtx4099"),
            "input: --gpu: unknown GPU 'rtx4099'; did you mean 'rtx-4090'? (run 'vramplan gpus' "
            "to list known GPUs, or give --vram)");
  EXPECT_EQ(message("rtx 4909"),
            "input: --gpu: unknown GPU 'rtx 4909'; did you mean 'rtx-4090'? (run 'vramplan gpus' "
            "to list known GPUs, or give --vram)");
  EXPECT_EQ(message("Apple M3 Max"),
            "input: --gpu: GPU name 'Apple M3 Max' fits 2 cards: m3-max-30c, m3-max-40c; name one "
            "of them");
  EXPECT_EQ(message(std::string(5000, 'x')),
            "usage: --gpu: the GPU list is 5000 bytes, more than the limit of 4096");
  // A long unknown name gets no suggestion (bounded work) but the same one line.
  EXPECT_EQ(message(std::string(300, 'q')).find('\n'), std::string::npos);
}

TEST(GpuCatalog, SelectedMemoryIsWhatEachCardGivesAProgram) {
  GpuCatalog c = small_catalog();
  c.add(card("mystery", "Mystery Card", {}, {}, {}));
  const std::vector<GpuRef> two = c.select("t4x2,4090", "--gpu");
  EXPECT_EQ(selected_memory(two, "--gpu"),
            (std::vector<Bytes>{15360 * mib, 15360 * mib, 24564 * mib}));
  Gpu mi250 = card("mi250", "AMD Instinct MI250", {"MI250"}, 128, 131040);
  mi250.devices_per_board = 2;  // two GCDs of 65520 MiB each (rocm-smi lists both)
  c.add(mi250);
  const std::vector<GpuRef> boards = c.select("mi250x2", "--gpu");
  EXPECT_EQ(boards.size(), 4u);
  EXPECT_EQ(selected_memory(boards, "--gpu"), (std::vector<Bytes>(4, 65520 * mib)));
  EXPECT_THROW(static_cast<void>(c.select("mi250x33", "--gpu")), Error);
  Gpu apple = card("m2", "Apple M2", {}, {}, {});
  apple.unified_memory = true;
  c.add(apple);
  auto message = [&](std::string_view list) {
    try {
      static_cast<void>(selected_memory(c.select(list, "--gpu"), "--gpu"));
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
      return e.message_with("--vram");  // as the command line says it
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("m2"),
            "--gpu: Apple M2 (m2) shares the machine's memory; give --vram SIZE or auto");
  EXPECT_EQ(message("t4,mystery"),
            "--gpu: the catalog has no memory size for Mystery Card (mystery); give --vram SIZE");
}

TEST(GpuCatalog, LaterCardWithTheSameIdReplaces) {
  GpuCatalog c = small_catalog();
  const std::size_t before = c.gpus().size();
  c.add(card("t4", "My T4", {"T4"}, 16, 15000));
  EXPECT_EQ(c.gpus().size(), before);
  EXPECT_EQ(c.find_id("T4")->name, "My T4");
  EXPECT_EQ(*c.resolve("t4")->gpu->memory_bytes, 15000 * mib);
}

TEST(GpuCatalog, CapabilitiesAreTriState) {
  Gpu t4 = card("t4", "NVIDIA T4", {}, 16, 15360);
  t4.bf16 = false;
  t4.fp8 = false;
  t4.flash_attention = true;
  Gpu h100 = card("h100", "NVIDIA H100", {}, 80, 81559);
  h100.bf16 = true;
  h100.fp8 = true;
  const Gpu amd = card("rx", "AMD RX", {}, 24, 24576);
  EXPECT_EQ(supports(t4, GpuFeature::bf16), Support::no);
  EXPECT_EQ(supports(h100, GpuFeature::fp8), Support::yes);
  EXPECT_EQ(supports(amd, GpuFeature::bf16), Support::unknown);
  EXPECT_EQ(supports(t4, GpuFeature::flash_attention), Support::yes);
  const std::vector<const Gpu*> mixed{&h100, &t4};
  EXPECT_EQ(supports_all(mixed, GpuFeature::bf16), Support::no);
  const std::vector<const Gpu*> unknown{&h100, &amd};
  EXPECT_EQ(supports_all(unknown, GpuFeature::bf16), Support::unknown);
  const std::vector<const Gpu*> both{&h100, &h100};
  EXPECT_EQ(supports_all(both, GpuFeature::bf16), Support::yes);
  EXPECT_EQ(supports_all({}, GpuFeature::bf16), Support::unknown);
}

TEST(GpuCatalog, ComputeCapabilityParses) {
  EXPECT_EQ(parse_compute_capability("8.9"), (ComputeCapability{8, 9}));
  EXPECT_EQ(parse_compute_capability("12.0"), (ComputeCapability{12, 0}));
  EXPECT_GT(*parse_compute_capability("12.0"), *parse_compute_capability("8.9"));
  EXPECT_EQ(to_string(ComputeCapability{7, 5}), "7.5");
  for (const char* bad : {"", "8", "8.", ".9", "8.10", "123.1", "8,9", "a.b", "8.9 "}) {
    EXPECT_FALSE(parse_compute_capability(bad).has_value()) << bad;
  }
}

TEST(AppleGpuMemory, DefaultShareAndWiredLimit) {
  // The defaults reproduce llama.cpp's recommendedMaxWorkingSetSize logs (docs/sizing-data.md
  // §1.4): 10922.67 MiB of 16 GB, 49152 MiB of 64 GB.
  EXPECT_EQ(apple_gpu_memory(16 * gib, std::nullopt).bytes / kib, 11184810);  // 10922.67 MiB
  EXPECT_EQ(apple_gpu_memory(64 * gib, 0).bytes, 49152 * mib);
  EXPECT_EQ(apple_gpu_memory(64 * gib, 0).rule,
            "3/4 of 64.00 GiB (macOS default recommendedMaxWorkingSetSize)");
  const AppleGpuMemory wired = apple_gpu_memory(64 * gib, 57344);
  EXPECT_EQ(wired.bytes, 57344 * mib);
  EXPECT_TRUE(wired.from_wired_limit);
  EXPECT_EQ(wired.rule, "iogpu.wired_limit_mb = 57344");
  // A limit past the RAM (or absurd) is the RAM; no overflow.
  EXPECT_EQ(apple_gpu_memory(64 * gib, std::int64_t{1} << 62).bytes, 64 * gib);
  EXPECT_EQ(apple_gpu_memory(0, 100).bytes, 0);
}

}  // namespace
}  // namespace vramplan
