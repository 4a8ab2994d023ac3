// Detection (src/io/detect.cpp): the parsers on recorded outputs (tests/data/detect/README.md
// says where each came from) and hostile variants, the detections with a fake runner and a fake
// /proc and /sys tree, and the runner's bounds on real processes.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/detect.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) {
  return read_text_file(std::string(VRAMPLAN_DETECT_DATA) + "/" + name);
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NvidiaSmiCsv, OneGpu) {
  const std::vector<DetectedGpu> gpus = parse_nvidia_smi_csv(fixture("nvidia-smi-rtx4090.csv"));
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(*gpus[0].total_bytes, 24564 * mib);
  EXPECT_EQ(*gpus[0].used_bytes, 1234 * mib);
  EXPECT_EQ(*gpus[0].free_bytes(), (24564 - 1234) * mib);
}

TEST(NvidiaSmiCsv, EveryGpuTotalAndFree) {
  const std::vector<DetectedGpu> gpus = parse_nvidia_smi_csv(fixture("nvidia-smi-8x-h100.csv"));
  ASSERT_EQ(gpus.size(), 8u);
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    EXPECT_EQ(gpus[i].name, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(*gpus[i].total_bytes, 81559 * mib);
    EXPECT_EQ(*gpus[i].free_bytes(), (81559 - static_cast<Bytes>(i) * 1024 - 7) * mib);
  }
  const std::vector<DetectedGpu> mixed = parse_nvidia_smi_csv(fixture("nvidia-smi-mixed.csv"));
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[1].name, "NVIDIA GeForce RTX 4060 Ti");
  EXPECT_EQ(*mixed[1].total_bytes, 16380 * mib);
}

TEST(NvidiaSmiCsv, NotAvailableIsUnknown) {
  const std::vector<DetectedGpu> gpus = parse_nvidia_smi_csv(fixture("nvidia-smi-gb10.csv"));
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].name, "NVIDIA GB10");
  EXPECT_FALSE(gpus[0].total_bytes.has_value());
  EXPECT_FALSE(gpus[0].free_bytes().has_value());
  const std::vector<DetectedGpu> other =
      parse_nvidia_smi_csv("Some GPU, 8192, [Not Supported]\r\nOther, N/A, 3\n\n");
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(*other[0].total_bytes, 8192 * mib);
  EXPECT_FALSE(other[0].used_bytes.has_value());
  EXPECT_FALSE(other[1].total_bytes.has_value());
  // A name with a comma keeps it: the sizes are the last two fields.
  EXPECT_EQ(parse_nvidia_smi_csv("Card, Rev B, 100, 1\n")[0].name, "Card, Rev B");
}

TEST(NvidiaSmiCsv, HostileOutputIsOneLineErrors) {
  EXPECT_EQ(error_of([] {
              static_cast<void>(parse_nvidia_smi_csv(fixture("nvidia-smi-no-driver.txt")));
            }),
            "nvidia-smi: line 1: expected 'name, memory.total, memory.used', got 'NVIDIA-SMI has "
            "failed because it couldn't communicate with the NVIDIA driver. Ma...'");
  EXPECT_EQ(
      error_of([] { static_cast<void>(parse_nvidia_smi_csv("X, 99999999999999999999, 0\n")); }),
      "nvidia-smi: line 1: memory.total '99999999999999999999' is not a size up to "
      "1125899906842624 bytes");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_nvidia_smi_csv("X, 1073741825, 0\n")); }),
            "nvidia-smi: line 1: memory.total '1073741825' is not a size up to 1125899906842624 "
            "bytes");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_nvidia_smi_csv("X, -5, 0\n")); }),
            "nvidia-smi: line 1: memory.total '-5' is not a size up to 1125899906842624 bytes");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_nvidia_smi_csv(" , 5, 0\n")); }),
            "nvidia-smi: line 1: no GPU name");
  const std::string binary = std::string("X\x1b]0;t\x07, 1\xff\n\x01", 12) + ", 0\n";
  const std::string message = error_of([&] { static_cast<void>(parse_nvidia_smi_csv(binary)); });
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  std::string many;
  for (int i = 0; i < 65; ++i) many += "GPU, 1024, 0\n";
  EXPECT_EQ(error_of([&] { static_cast<void>(parse_nvidia_smi_csv(many)); }),
            "nvidia-smi: more than 64 GPUs listed");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_nvidia_smi_csv(std::string(5000, 'a'))); }),
            "nvidia-smi: line 1 is longer than 4096 bytes");
  EXPECT_TRUE(parse_nvidia_smi_csv("").empty());
}

TEST(RocmSmiCsv, ProductNameMemoryAndArch) {
  const std::vector<DetectedGpu> gpus = parse_rocm_smi_csv(fixture("rocm-smi-rx7900xt.csv"));
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0].name, "Radeon RX 7900 XT");
  EXPECT_EQ(gpus[0].arch, "gfx1100");
  EXPECT_EQ(*gpus[0].total_bytes, 21458059264);
  EXPECT_EQ(*gpus[0].used_bytes, 27856896);
  const std::vector<DetectedGpu> two = parse_rocm_smi_csv(fixture("rocm-smi-rx6800-and-igpu.csv"));
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].name, "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]");
  EXPECT_EQ(two[0].arch, "gfx1030");
  EXPECT_EQ(*two[1].total_bytes, 67108864);
  EXPECT_EQ(two[1].name, "Raphael");
}

TEST(RocmSmiCsv, HostileOutput) {
  EXPECT_EQ(error_of([] { static_cast<void>(parse_rocm_smi_csv("garbage\n")); }),
            "rocm-smi: no CSV header line starting with 'device'");
  EXPECT_EQ(
      error_of([] { static_cast<void>(parse_rocm_smi_csv("device,Card Series\ncard0,X\n")); }),
      "rocm-smi: line 1: no 'VRAM Total Memory (B)' column (run with --showmeminfo vram)");
  EXPECT_EQ(error_of([] {
              static_cast<void>(parse_rocm_smi_csv("device,VRAM Total Memory (B)\ncard0,1,2\n"));
            }),
            "rocm-smi: line 2: 3 fields where the header has 2: 'card0,1,2'");
  EXPECT_EQ(error_of([] {
              static_cast<void>(
                  parse_rocm_smi_csv("device,VRAM Total Memory (B)\ncard0,18446744073709551616\n"));
            }),
            "rocm-smi: line 2: VRAM Total Memory (B) '18446744073709551616' is not a size up to "
            "1125899906842624 bytes");
  // Warnings before the table are skipped; N/A is unknown.
  const std::vector<DetectedGpu> gpus = parse_rocm_smi_csv(
      "WARNING: something\ndevice,VRAM Total Memory (B),Card Series\ncard0,N/A,Thing\n");
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_FALSE(gpus[0].total_bytes.has_value());
  EXPECT_EQ(gpus[0].name, "Thing");
}

TEST(Sysctl, MemsizeWiredLimitAndChip) {
  const SysctlValues m2 = parse_sysctl(fixture("sysctl-m2-ultra.txt"));
  EXPECT_EQ(*m2.memsize, 192 * gib);
  EXPECT_EQ(*m2.wired_limit_mb, 0);
  EXPECT_EQ(m2.cpu_brand, "Apple M2 Ultra");
  EXPECT_EQ(*parse_sysctl("hw.memsize = 17179869184\n").memsize, 16 * gib);
  EXPECT_EQ(error_of([] { static_cast<void>(parse_sysctl("hw.memsize: lots\n")); }),
            "sysctl: line 1: hw.memsize 'lots' is not a size up to 1125899906842624 bytes");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_sysctl("iogpu.wired_limit_mb: -1\n")); }),
            "sysctl: line 1: iogpu.wired_limit_mb '-1' is not a number of MB");
  EXPECT_FALSE(parse_sysctl("sysctl: unknown oid 'iogpu.wired_limit_mb'\n").memsize.has_value());
}

TEST(MemInfo, TotalAndAvailable) {
  const MemInfo info = parse_meminfo(fixture("meminfo.txt"));
  EXPECT_EQ(info.total, 65727132 * kib);
  EXPECT_EQ(*info.available, 58964408 * kib);
  EXPECT_FALSE(parse_meminfo("MemTotal: 1024 kB\n").available.has_value());
  EXPECT_EQ(error_of([] { static_cast<void>(parse_meminfo("MemFree: 1 kB\n")); }),
            "/proc/meminfo: no MemTotal line");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_meminfo("MemTotal: 99999999999999999 kB\n")); }),
            "/proc/meminfo: line 1: MemTotal '99999999999999999' is not a size up to "
            "1125899906842624 bytes");
}

TEST(CgroupLimit, MaxNumbersAndTheV1NoLimitValue) {
  EXPECT_FALSE(parse_cgroup_limit("max\n").has_value());
  EXPECT_EQ(*parse_cgroup_limit("8589934592\n"), 8 * gib);
  EXPECT_FALSE(parse_cgroup_limit("9223372036854771712\n").has_value());  // v1 "unlimited"
  EXPECT_FALSE(parse_cgroup_limit("99999999999999999999999").has_value());
  EXPECT_EQ(error_of([] { static_cast<void>(parse_cgroup_limit("lots")); }),
            "cgroup memory limit 'lots' is not a number or 'max'");
  EXPECT_EQ(error_of([] { static_cast<void>(parse_cgroup_limit("-1")); }),
            "cgroup memory limit '-1' is not a number or 'max'");
}

// --- detections with recorded outputs ---------------------------------------------------

// A runner answering from recorded outputs by tool name; anything else is "not found".
CommandRunner recorded(std::map<std::string, CommandResult> answers) {
  return [answers = std::move(answers)](const std::vector<std::string>& argv) {
    if (const auto it = answers.find(argv.at(0)); it != answers.end()) return it->second;
    CommandResult missing;
    missing.status = CommandResult::Status::not_found;
    missing.reason = argv.at(0) + " not found";
    return missing;
  };
}

CommandResult ok(std::string output) {
  CommandResult r;
  r.output = std::move(output);
  return r;
}

TEST(DetectGpus, NvidiaSmiFirst) {
  DetectOptions options;
  options.apple = false;
  options.run = recorded({{"nvidia-smi", ok(fixture("nvidia-smi-8x-h100.csv"))},
                          {"rocm-smi", ok(fixture("rocm-smi-rx7900xt.csv"))}});
  const GpuDetection d = detect_gpus("--gpu auto", "give --gpu NAME", options);
  EXPECT_EQ(d.tool, "nvidia-smi");
  EXPECT_EQ(d.gpus.size(), 8u);
}

TEST(DetectGpus, RocmSmiWhenNvidiaSmiIsMissingOrFindsNothing) {
  DetectOptions options;
  options.apple = false;
  options.run = recorded({{"rocm-smi", ok(fixture("rocm-smi-rx7900xt.csv"))}});
  EXPECT_EQ(detect_gpus("--vram auto", "give --vram SIZE", options).tool, "rocm-smi");
  CommandResult no_devices;
  no_devices.status = CommandResult::Status::failed;
  no_devices.exit_code = 6;
  no_devices.reason = "nvidia-smi failed (exit 6): No devices were found";
  options.run = recorded(
      {{"nvidia-smi", no_devices}, {"rocm-smi", ok(fixture("rocm-smi-rx6800-and-igpu.csv"))}});
  EXPECT_EQ(detect_gpus("--vram auto", "give --vram SIZE", options).gpus.size(), 2u);
}

TEST(DetectGpus, OneLineWhenNoToolAnswers) {
  DetectOptions options;
  options.apple = false;
  options.run = recorded({});
  EXPECT_EQ(
      error_of([&] { static_cast<void>(detect_gpus("--vram auto", "give --vram SIZE", options)); }),
      "--vram auto: no GPU tool found (nvidia-smi not found, rocm-smi not found); give "
      "--vram SIZE");
  CommandResult broken;
  broken.status = CommandResult::Status::failed;
  broken.exit_code = 9;
  broken.reason =
      "nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't "
      "communicate with the NVIDIA driver.";
  options.run = recorded({{"nvidia-smi", broken}});
  EXPECT_EQ(
      error_of([&] { static_cast<void>(detect_gpus("--gpu auto", "give --gpu NAME", options)); }),
      "--gpu auto: nvidia-smi failed (exit 9): NVIDIA-SMI has failed because it couldn't "
      "communicate with the NVIDIA driver.; give --gpu NAME");
  options.run = recorded({{"nvidia-smi", ok("X, lots, 0\n")}});
  EXPECT_EQ(
      error_of([&] { static_cast<void>(detect_gpus("--vram auto", "give --vram SIZE", options)); }),
      "--vram auto: nvidia-smi: line 1: memory.total 'lots' is not a size up to "
      "1125899906842624 bytes");
  options.run = recorded({{"nvidia-smi", ok("\n")}});
  EXPECT_EQ(
      error_of([&] { static_cast<void>(detect_gpus("--vram auto", "give --vram SIZE", options)); }),
      "--vram auto: nvidia-smi listed no GPU; give --vram SIZE");
}

TEST(DetectGpus, AppleSharesTheUnifiedMemory) {
  DetectOptions options;
  options.apple = true;
  options.run = recorded({{"sysctl", ok(fixture("sysctl-m2-ultra.txt"))}});
  const GpuDetection d = detect_gpus("--vram auto", "give --vram SIZE", options);
  EXPECT_TRUE(d.unified);
  ASSERT_EQ(d.gpus.size(), 1u);
  EXPECT_EQ(d.gpus[0].name, "Apple M2 Ultra");
  EXPECT_EQ(*d.gpus[0].total_bytes, 144 * gib);  // 3/4 of 192 GiB
  EXPECT_EQ(d.note, "3/4 of 192.00 GiB (macOS default recommendedMaxWorkingSetSize)");
  options.run = recorded({{"sysctl", ok(fixture("sysctl-m1-max-wired.txt"))}});
  const GpuDetection wired = detect_gpus("--vram auto", "give --vram SIZE", options);
  EXPECT_EQ(*wired.gpus[0].total_bytes, 57344 * mib);
  EXPECT_EQ(wired.note, "iogpu.wired_limit_mb = 57344");
}

TEST(ResolveDetected, RecordedNamesFindTheirCards) {
  const GpuCatalog catalog = load_gpu_catalog();
  const auto id = [&](const DetectedGpu& gpu) {
    const std::optional<GpuRef> ref = resolve_detected(catalog, gpu);
    return ref ? ref->gpu->id : std::string("<none>");
  };
  const std::vector<DetectedGpu> mixed = parse_nvidia_smi_csv(fixture("nvidia-smi-mixed.csv"));
  EXPECT_EQ(id(mixed[0]), "rtx-3090");
  EXPECT_EQ(id(mixed[1]), "rtx-4060-ti-16gb");  // nvidia-smi's one name, told apart by memory
  EXPECT_TRUE(resolve_detected(catalog, mixed[1])->by_memory);
  EXPECT_EQ(id(parse_nvidia_smi_csv(fixture("nvidia-smi-8x-h100.csv"))[7]), "h100-sxm");
  EXPECT_EQ(id(parse_nvidia_smi_csv(fixture("nvidia-smi-gb10.csv"))[0]), "gb10");
  EXPECT_EQ(id(parse_rocm_smi_csv(fixture("rocm-smi-rx7900xt.csv"))[0]), "rx-7900-xt");
  // A code name with the LLVM target: the memory picks among the gfx1100 cards.
  EXPECT_EQ(id(DetectedGpu{"Navi 31 [Radeon RX 7900 XT/7900 XTX]", "gfx1100", 25753026560, 0}),
            "rx-7900-xtx");
  const std::vector<DetectedGpu> amd = parse_rocm_smi_csv(fixture("rocm-smi-rx6800-and-igpu.csv"));
  EXPECT_EQ(id(amd[0]), "<none>");  // no RX 6800 in the catalog (docs/sizing-data.md §3)
  EXPECT_EQ(id(amd[1]), "<none>");
}

// A fake root with proc/ and sys/ files.
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("vramplan-detect-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& path, const std::string& text) {
    fs::create_directories((root_ / path).parent_path());
    std::ofstream(root_ / path) << text;
  }
  SystemMemory detect() {
    DetectOptions options;
    options.root = root_.string();
    options.apple = false;
    return detect_system_memory("--ram auto", "give --ram SIZE", options);
  }
  fs::path root_;
};

TEST_F(FakeRoot, MeminfoAlone) {
  write("proc/meminfo", fixture("meminfo.txt"));
  const SystemMemory m = detect();
  EXPECT_EQ(m.total, 65727132 * kib);
  EXPECT_EQ(*m.available, 58964408 * kib);
  EXPECT_FALSE(m.cgroup_limit.has_value());
  EXPECT_EQ(m.source, "/proc/meminfo");
}

TEST_F(FakeRoot, CgroupV2LimitInAContainer) {
  write("proc/meminfo", fixture("meminfo.txt"));
  write("proc/self/cgroup", "0::/\n");
  write("sys/fs/cgroup/memory.max", "8589934592\n");
  write("sys/fs/cgroup/memory.current", "1073741824\n");
  const SystemMemory m = detect();
  EXPECT_EQ(m.total, 8 * gib);
  EXPECT_EQ(*m.available, 7 * gib);
  EXPECT_EQ(*m.cgroup_limit, 8 * gib);
  EXPECT_EQ(m.source, "/proc/meminfo, cgroup memory.max");
}

TEST_F(FakeRoot, CgroupV2TightestLimitUpTheTree) {
  write("proc/meminfo", fixture("meminfo.txt"));
  write("proc/self/cgroup", "0::/user.slice/app.scope\n");
  write("sys/fs/cgroup/user.slice/memory.max", "4294967296\n");
  write("sys/fs/cgroup/user.slice/app.scope/memory.max", "max\n");
  write("sys/fs/cgroup/user.slice/app.scope/memory.current", "0\n");
  EXPECT_EQ(detect().total, 4 * gib);
}

TEST_F(FakeRoot, CgroupV2WithoutLimit) {
  write("proc/meminfo", fixture("meminfo.txt"));
  write("proc/self/cgroup", "0::/\n");
  write("sys/fs/cgroup/memory.max", "max\n");
  EXPECT_EQ(detect().total, 65727132 * kib);
}

TEST_F(FakeRoot, CgroupV1LimitAndItsNoLimitValue) {
  write("proc/meminfo", fixture("meminfo.txt"));
  write("proc/self/cgroup", "12:cpu,cpuacct:/docker/abc\n9:memory:/docker/abc\n");
  // No cgroup namespace: the container's cgroup is the root of the mount.
  write("sys/fs/cgroup/memory/memory.limit_in_bytes", "2147483648\n");
  write("sys/fs/cgroup/memory/memory.usage_in_bytes", "3221225472\n");
  const SystemMemory m = detect();
  EXPECT_EQ(m.total, 2 * gib);
  EXPECT_EQ(*m.available, 0) << "usage over the limit leaves nothing, not a negative size";
  write("sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
  EXPECT_FALSE(detect().cgroup_limit.has_value());
}

TEST_F(FakeRoot, HostileCgroupFilesAreIgnoredAndPathsStayInside) {
  write("proc/meminfo", fixture("meminfo.txt"));
  write("proc/self/cgroup", "0::/../../etc\n");
  write("sys/fs/cgroup/memory.max", "garbage\x01\xff");
  EXPECT_FALSE(detect().cgroup_limit.has_value());
}

TEST_F(FakeRoot, MissingOrBrokenMeminfo) {
  EXPECT_EQ(error_of([&] { static_cast<void>(detect()); }),
            "--ram auto: cannot read /proc/meminfo; give --ram SIZE");
  write("proc/meminfo", "MemTotal: \x1b[2J kB\n");
  EXPECT_EQ(error_of([&] { static_cast<void>(detect()); }),
            "--ram auto: /proc/meminfo: line 1: MemTotal '\\x1b[2J' is not a size up to "
            "1125899906842624 bytes");
}

// Seeds for the fuzz targets gpu_catalog and detect (tests/fuzz, scripts/fuzz.sh), written
// like FuzzCorpus.* in fuzz_corpus_test.cpp; skipped unless VRAMPLAN_FUZZ_CORPUS_DIR is set.
TEST(FuzzCorpus, WritesGpuCatalogAndDetectSeeds) {
  const char* dir = std::getenv("VRAMPLAN_FUZZ_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "VRAMPLAN_FUZZ_CORPUS_DIR not set";
  const fs::path gpus = fs::path(dir) / "gpu_catalog";
  const fs::path detect = fs::path(dir) / "detect";
  fs::create_directories(gpus);
  fs::create_directories(detect);
  std::ofstream(gpus / "gpus.yaml", std::ios::binary) << read_text_file(VRAMPLAN_GPU_CATALOG_YAML);
  for (const fs::directory_entry& entry : fs::directory_iterator(VRAMPLAN_DETECT_DATA)) {
    if (entry.path().extension() == ".md") continue;
    fs::copy_file(entry.path(), detect / entry.path().filename(),
                  fs::copy_options::overwrite_existing);
  }
  EXPECT_FALSE(fs::is_empty(detect));
}

// --- the runner on real processes -------------------------------------------------------

using Clock = std::chrono::steady_clock;

TEST(RunCommand, CapturesOutput) {
  const CommandResult r = run_command({"sh", "-c", "printf 'GPU, 1, 2\\n'"});
  EXPECT_EQ(r.status, CommandResult::Status::ok);
  EXPECT_EQ(r.output, "GPU, 1, 2\n");
}

TEST(RunCommand, MissingToolFailureAndSignal) {
  const CommandResult missing = run_command({"vramplan-no-such-tool"});
  EXPECT_EQ(missing.status, CommandResult::Status::not_found);
  EXPECT_EQ(missing.reason, "vramplan-no-such-tool not found");
  const CommandResult failed = run_command({"sh", "-c", "echo 'it broke' >&2; exit 3"});
  EXPECT_EQ(failed.status, CommandResult::Status::failed);
  EXPECT_EQ(failed.exit_code, 3);
  EXPECT_EQ(failed.reason, "sh failed (exit 3): it broke");
  const CommandResult hostile = run_command({"sh", "-c", "printf '\\033[2Jbad\\n' >&2; exit 1"});
  EXPECT_EQ(hostile.reason, "sh failed (exit 1): \\x1b[2Jbad");
  const CommandResult killed = run_command({"sh", "-c", "kill -9 $$"});
  EXPECT_EQ(killed.status, CommandResult::Status::failed);
  EXPECT_EQ(killed.reason, "sh was killed by signal 9");
}

TEST(RunCommand, TimesOutOnACommandThatSleeps) {
  const Clock::time_point start = Clock::now();
  const CommandResult r = run_command({"sleep", "30"}, {std::chrono::milliseconds(300)});
  EXPECT_EQ(r.status, CommandResult::Status::timed_out);
  EXPECT_EQ(r.reason, "sleep did not finish within 300 ms");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(RunCommand, ATimeLimitAlsoForAToolThatClosesItsOutputAndStays) {
  const Clock::time_point start = Clock::now();
  const CommandResult r =
      run_command({"sh", "-c", "exec >&- 2>&-; sleep 30"}, {std::chrono::milliseconds(300)});
  EXPECT_EQ(r.status, CommandResult::Status::timed_out);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(RunCommand, CapsACommandThatFloods) {
  const Clock::time_point start = Clock::now();
  const CommandResult r = run_command({"yes"}, {std::chrono::seconds(20), 64 * 1024});
  EXPECT_EQ(r.status, CommandResult::Status::too_much_output);
  EXPECT_EQ(r.reason, "yes printed more than 65536 bytes");
  EXPECT_LE(r.output.size(), 64u * 1024);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

TEST(RunCommand, WhatTheToolLeavesBehindDoesNotHoldItUp) {
  const Clock::time_point start = Clock::now();
  const CommandResult r =
      run_command({"sh", "-c", "sleep 30 & echo done"}, {std::chrono::seconds(20)});
  EXPECT_EQ(r.status, CommandResult::Status::ok);
  EXPECT_EQ(r.output, "done\n");
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace vramplan::io
