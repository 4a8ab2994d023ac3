// This machine's GPUs and memory, for `--vram auto`, `--ram auto` and `--gpu auto`
// (docs/sizing.md "Detection"): pure parsers of what nvidia-smi, rocm-smi, sysctl,
// /proc/meminfo and the cgroup files print, a bounded runner for the tools, and the
// detections built on both. Everything read is untrusted: parsers refuse what they cannot
// read with one line, and the runner bounds time and output.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/gpu_catalog.hpp>

namespace vramplan::io {

// One GPU as a tool reported it.
struct DetectedGpu {
  std::string name;                  // as printed ("NVIDIA GeForce RTX 4090"); escape to show
  std::string arch;                  // rocm-smi's GFX version ("gfx1100"); "" otherwise
  std::optional<Bytes> total_bytes;  // memory.total; empty where the tool says N/A (GB10)
  std::optional<Bytes> used_bytes;   // memory.used; empty where the tool says N/A

  // total - used, when both are known (never negative).
  [[nodiscard]] std::optional<Bytes> free_bytes() const;
};

// Most GPUs one tool output may list, and the longest line read.
inline constexpr std::size_t detect_max_gpus = 64;
inline constexpr std::size_t detect_max_line = 4096;
// Largest memory size believed (per GPU or machine): 1 PiB. A larger number is an error.
inline constexpr Bytes detect_max_bytes = Bytes{1} << 50;

// `nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader,nounits`: one
// line per GPU, MiB; "[N/A]", "N/A", "[Not Supported]" read as unknown. Throws
// Error{bad_input, "nvidia-smi: line N: ..."} on a line it cannot read.
[[nodiscard]] std::vector<DetectedGpu> parse_nvidia_smi_csv(std::string_view text);

// `rocm-smi --showproductname --showmeminfo vram --csv`: a header naming the columns (the name
// is "Card Series", the sizes "VRAM Total Memory (B)" and "VRAM Total Used Memory (B)", bytes),
// then one line per card. Throws Error{bad_input, "rocm-smi: ..."}.
[[nodiscard]] std::vector<DetectedGpu> parse_rocm_smi_csv(std::string_view text);

// Values of `sysctl hw.memsize iogpu.wired_limit_mb machdep.cpu.brand_string` ("key: value"
// lines; unknown keys ignored).
struct SysctlValues {
  std::optional<Bytes> memsize;                // hw.memsize, bytes
  std::optional<std::int64_t> wired_limit_mb;  // iogpu.wired_limit_mb (0 = the default)
  std::string cpu_brand;                       // machdep.cpu.brand_string: "Apple M2 Ultra"
};
[[nodiscard]] SysctlValues parse_sysctl(std::string_view text);

// /proc/meminfo: MemTotal and MemAvailable (kB, which is KiB). Throws Error{bad_input} when
// MemTotal is missing or a value is not a number.
struct MemInfo {
  Bytes total = 0;
  std::optional<Bytes> available;  // older kernels (< 3.14) have no MemAvailable
};
[[nodiscard]] MemInfo parse_meminfo(std::string_view text);

// A cgroup memory limit file: v2 memory.max ("max" = none) or v1 memory.limit_in_bytes (a
// value of 2^62 or more is the kernel's "no limit"). nullopt for no limit; throws
// Error{bad_input} for anything else that is not a number.
[[nodiscard]] std::optional<Bytes> parse_cgroup_limit(std::string_view text);

// What running a tool gave.
struct CommandResult {
  enum class Status { ok, not_found, cannot_run, failed, timed_out, too_much_output };
  Status status = Status::ok;
  int exit_code = 0;
  std::string output;  // stdout (also on failure, up to the limit)
  std::string reason;  // one line for anything but ok: "nvidia-smi not found"
};

struct CommandLimits {
  std::chrono::milliseconds timeout{5000};
  std::size_t max_output = 64 * 1024;  // bytes of stdout; more is a failure
};

// Runs argv[0] (looked up in PATH) with argv, without a shell: stdin from /dev/null, stdout
// captured, stderr's first line kept for the reason. The tool and whatever it starts (its
// process group) are killed at the time limit or when stdout passes max_output. Never throws
// for the tool's behaviour; throws Error{internal} only when no pipe or process can be made.
[[nodiscard]] CommandResult run_command(const std::vector<std::string>& argv,
                                        const CommandLimits& limits = {});

using CommandRunner = std::function<CommandResult(const std::vector<std::string>&)>;

// Where detection looks; tests replace the runner (recorded outputs) and the root (a folder
// with proc/ and sys/ trees).
struct DetectOptions {
  CommandRunner run;  // empty: run_command with the default limits
  std::string root = "/";
#ifdef __APPLE__
  bool apple = true;
#else
  bool apple = false;
#endif
};

struct GpuDetection {
  std::string tool;  // "nvidia-smi", "rocm-smi", "sysctl"
  std::vector<DetectedGpu> gpus;
  // Apple: one GPU whose total is its share of the unified memory (apple_gpu_memory()); the
  // rule that gave it.
  bool unified = false;
  std::string note;
};

// The GPUs: nvidia-smi, else rocm-smi; on macOS sysctl. Throws Error{io, "<what>: <why>; <hint>"}
// when no tool answers, e.g. "--vram auto: nvidia-smi not found, rocm-smi not found; give --vram
// SIZE", and Error{bad_input, "<what>: ..."} when a tool's output cannot be read.
[[nodiscard]] GpuDetection detect_gpus(std::string_view what, std::string_view hint,
                                       const DetectOptions& options = {});

// The catalog's card for a detected GPU: its name with its memory total (GpuCatalog::resolve),
// else, for rocm-smi's code names ("Navi 31 [Radeon RX 7900 XT/7900 XTX]"), its LLVM target
// with the total. nullopt when neither finds one card; throws like resolve() when a name fits
// several cards equally.
[[nodiscard]] std::optional<GpuRef> resolve_detected(const GpuCatalog& catalog,
                                                     const DetectedGpu& gpu);

struct SystemMemory {
  Bytes total = 0;                    // RAM, or the container's limit when that is lower
  std::optional<Bytes> available;     // what can be allocated now, within the limit
  std::optional<Bytes> cgroup_limit;  // the container's memory limit, if any
  std::string source;                 // "/proc/meminfo", "/proc/meminfo, cgroup memory.max"
};

// RAM: /proc/meminfo (MemTotal, MemAvailable) and the cgroup limit of this process (v2
// memory.max up the hierarchy, or v1 memory.limit_in_bytes), with usage subtracted from the
// limit for `available`; on macOS `sysctl hw.memsize`. Throws Error{io, "<what>: ...; <hint>"}
// when none can be read.
[[nodiscard]] SystemMemory detect_system_memory(std::string_view what, std::string_view hint,
                                                const DetectOptions& options = {});

}  // namespace vramplan::io
