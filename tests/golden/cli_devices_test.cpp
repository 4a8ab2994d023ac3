// --gpu, --vram and --ram as the commands read them (src/cli/devices.hpp): the budget, the
// cards and their capabilities, with detection answered from recorded outputs.
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>
#include <vramplan/io/detect.hpp>

#include "../../src/cli/devices.hpp"

namespace vramplan::cli {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(VRAMPLAN_DETECT_DATA) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A Context whose tools answer from `answers` (tool name -> stdout); others are not found.
struct Fixture {
  std::ostringstream out, err;
  io::DetectOptions detect;
  Context context{out, err, [](const std::string&) -> std::optional<std::string> { return {}; },
                  false};

  explicit Fixture(std::map<std::string, std::string> answers = {}) {
    detect.apple = false;
    detect.root = "/nonexistent-vramplan-root";
    detect.run = [answers = std::move(answers)](const std::vector<std::string>& argv) {
      io::CommandResult r;
      if (const auto it = answers.find(argv.at(0)); it != answers.end()) {
        r.output = it->second;
      } else {
        r.status = io::CommandResult::Status::not_found;
        r.reason = argv.at(0) + " not found";
      }
      return r;
    };
    context.detect = &detect;
  }
};

ModelFlags gpu_flag(const std::string& value) {
  ModelFlags flags;
  flags.gpu = value;
  return flags;
}

TEST(Devices, NamedCardsGiveTheirMemoryAndCapabilities) {
  Fixture f;
  const Devices d = resolve_devices(gpu_flag("t4x2"), f.context);
  // The T4's memory.total as nvidia-smi prints it (models/hardware/gpus.yaml, memory_mib).
  EXPECT_EQ(d.vram, (std::vector<Bytes>{15360 * mib, 15360 * mib}));
  EXPECT_EQ(d.names, (std::vector<std::string>{"t4", "t4"}));
  ASSERT_NE(d.same_card(), nullptr);
  EXPECT_EQ(d.same_card()->id, "t4");
  // What the vLLM plan needs: a T4 has neither bf16 nor fp8 (it must run fp16).
  EXPECT_EQ(d.supports(GpuFeature::bf16), Support::no);
  EXPECT_EQ(d.supports(GpuFeature::fp8), Support::no);
  EXPECT_EQ(f.err.str(), "");
}

TEST(Devices, AGenericNameIsSaidOnceWithoutItsCount) {
  Fixture f;
  const Devices d = resolve_devices(gpu_flag("a100 x 2,A100"), f.context);
  EXPECT_EQ(d.vram.size(), 3u);
  const std::string err = f.err.str();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.rfind("vramplan: warning: --gpu: 'a100' is taken as ", 0), 0u) << err;
}

TEST(Devices, MixedCardsHaveNoSingleCardAndTheWeakestCapability) {
  Fixture f;
  const Devices d = resolve_devices(gpu_flag("4090,t4"), f.context);
  ASSERT_EQ(d.gpus.size(), 2u);
  EXPECT_EQ(d.same_card(), nullptr);
  EXPECT_EQ(d.supports(GpuFeature::bf16), Support::no);  // the T4 cannot
  EXPECT_EQ(d.source, "--gpu");
}

TEST(Devices, SizesHaveNoCardsAndUnknownCapabilities) {
  Fixture f;
  ModelFlags flags;
  flags.vram = "24G,16G";
  const Devices d = resolve_devices(flags, f.context);
  EXPECT_EQ(d.vram, (std::vector<Bytes>{24 * gib, 16 * gib}));
  EXPECT_EQ(d.same_card(), nullptr);
  EXPECT_EQ(d.supports(GpuFeature::bf16), Support::unknown);
  EXPECT_TRUE(resolve_devices(ModelFlags{}, f.context).empty());
}

TEST(Devices, GpuAndVramTogetherIsAUsageError) {
  Fixture f;
  ModelFlags flags = gpu_flag("4090");
  flags.vram = "24G";
  try {
    static_cast<void>(resolve_devices(flags, f.context));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
  }
}

TEST(Devices, AutoTakesEachDetectedTotalAndResolvesTheCard) {
  Fixture f(std::map<std::string, std::string>{{"nvidia-smi", fixture("nvidia-smi-rtx4090.csv")}});
  ModelFlags flags;
  flags.vram = "auto";
  const Devices d = resolve_devices(flags, f.context);
  // The fixture's memory.total column: 24564 MiB.
  EXPECT_EQ(d.vram, (std::vector<Bytes>{24564 * mib}));
  ASSERT_NE(d.same_card(), nullptr);
  EXPECT_EQ(d.same_card()->id, "rtx-4090");
  EXPECT_EQ(d.source, "--vram auto");
}

TEST(Devices, AutoKeepsAGpuTheCatalogLacksWithAWarning) {
  Fixture f(
      std::map<std::string, std::string>{{"nvidia-smi", "NVIDIA Imaginary 9000, 32768, 0\n"}});
  const Devices d = resolve_devices(gpu_flag("auto"), f.context);
  EXPECT_EQ(d.vram, (std::vector<Bytes>{32768 * mib}));
  ASSERT_EQ(d.gpus.size(), 1u);
  EXPECT_EQ(d.gpus[0], nullptr);
  EXPECT_EQ(d.names[0], "NVIDIA Imaginary 9000");
  EXPECT_NE(f.err.str().find("not in the GPU catalog"), std::string::npos) << f.err.str();
}

TEST(Devices, AToolsNameIsCutInMessages) {
  const std::string long_name = "NVIDIA " + std::string(300, 'Z');
  Fixture f(std::map<std::string, std::string>{{"nvidia-smi", long_name + ", 8192, 4096\n"}});
  const Devices d = resolve_devices(gpu_flag("auto"), f.context);
  ASSERT_EQ(d.names.size(), 1u);
  const std::string err = f.err.str();
  // Two warnings (not in the catalog; 4 GiB in use), each quoting 80 bytes of the name.
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
  EXPECT_EQ(err.find(std::string(81, 'Z')), std::string::npos) << err;
  EXPECT_NE(err.find("ZZZ..."), std::string::npos) << err;
}

TEST(Devices, AutoWithoutAToolIsAnIoError) {
  Fixture f;
  try {
    static_cast<void>(resolve_devices(gpu_flag("auto"), f.context));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(Devices, RamSizeOrDetected) {
  Fixture f;
  EXPECT_EQ(parse_ram("64G", "--ram", f.context), 64 * gib);
  EXPECT_THROW(static_cast<void>(parse_ram("auto", "--ram", f.context)), Error);  // no meminfo
  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     ("vramplan-devices-test-root-" + std::to_string(::getpid()));
  std::filesystem::create_directories(root / "proc");
  std::ofstream(root / "proc" / "meminfo", std::ios::binary) << fixture("meminfo.txt");
  f.detect.root = root.string();
  // The fixture's MemAvailable, 58964408 kB (KiB); no cgroup files under the root.
  EXPECT_EQ(parse_ram("auto", "--ram", f.context), Bytes{58964408} * 1024);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace vramplan::cli
