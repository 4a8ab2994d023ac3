// The GPU catalog (models/hardware/gpus.yaml, docs/sizing.md): what each card gives a program
// (memory, bandwidth, tensor throughput, capabilities), and name resolution the way nvidia-smi,
// rocm-smi and people write names. Pure data and lookup; loading YAML is
// io/gpu_catalog_yaml.hpp, asking the machine is io/detect.hpp.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/error.hpp>
#include <vramplan/bytes.hpp>

namespace vramplan {

enum class GpuVendor { nvidia, amd, intel, apple };
[[nodiscard]] std::string_view to_string(GpuVendor vendor);
[[nodiscard]] std::optional<GpuVendor> parse_gpu_vendor(std::string_view text);

// Where a card's memory figure comes from (docs/sizing-data.md §1.1, `memory_source`).
enum class MemorySource {
  nvidia_smi,    // memory.total in a published nvidia-smi output
  rocm_log,      // the total llama.cpp's ROCm init line printed
  ggml_log,      // the total llama.cpp's CUDA init line printed
  driver_bytes,  // a byte count read from the driver by another tool
  spec,          // the size on the box x 1024 MiB: an upper bound
  unified,       // no dedicated memory (Apple, GB10): see apple_gpu_memory()
};
[[nodiscard]] std::string_view to_string(MemorySource source);
[[nodiscard]] std::optional<MemorySource> parse_memory_source(std::string_view text);

// NVIDIA compute capability, "8.9".
struct ComputeCapability {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ComputeCapability&) const = default;
};
[[nodiscard]] std::string to_string(ComputeCapability cc);
// "8.9", "12.0": digits, a dot, digits (major <= 99, minor <= 9); nullopt otherwise.
[[nodiscard]] std::optional<ComputeCapability> parse_compute_capability(std::string_view text);

// One card. Optional values are empty where no source states them (null in the YAML): a
// consumer says "unknown", it never guesses.
struct Gpu {
  std::string id;    // unique, lower case [a-z0-9-]: "rtx-4090"
  std::string name;  // marketing name: "NVIDIA GeForce RTX 4090"
  GpuVendor vendor = GpuVendor::nvidia;
  std::vector<std::string> aliases;  // names that resolve to this card (nvidia-smi's among them)
  std::optional<double> memory_gb;   // the size on the box, decimal GB as marketed
  // The memory a program gets (nvidia-smi's memory.total: 15360 MiB for a "16 GB" T4); empty
  // for unified memory, where it depends on the machine (apple_gpu_memory()).
  std::optional<Bytes> memory_bytes;
  MemorySource memory_source = MemorySource::spec;
  std::optional<Bytes> cuda_total_bytes;     // cudaDeviceProp::totalGlobalMem where known
  std::optional<std::string> memory_type;    // "GDDR6X", "HBM3"
  std::optional<double> bandwidth_gbps;      // peak, 10^9 bytes/s
  std::optional<double> fp16_tensor_tflops;  // dense FP16/BF16 matrix throughput, no sparsity
  std::optional<ComputeCapability> compute_capability;  // NVIDIA only
  std::string arch;  // "ada", "hopper"; the LLVM target for AMD ("gfx1100")
  std::optional<bool> bf16;
  std::optional<bool> fp8;
  std::optional<bool> flash_attention;  // llama.cpp's flash attention works (null: not established)
  std::optional<bool> flash_attn2;      // the FlashAttention-2 kernels vLLM uses can run
  std::optional<bool> vllm;             // vLLM runs on it
  int devices_per_board = 1;            // MI250: 2 devices per board
  bool unified_memory = false;
  std::vector<int> gpu_cores;                  // Apple: GPU core counts of the configurations
  std::vector<double> memory_configs_gb_seen;  // Apple: sizes seen in the cited sources
  std::vector<std::string> sources;            // URLs behind the values
  std::string notes;
  std::string origin;  // file it was loaded from ("<embedded>/gpus.yaml", a user path)

  bool operator==(const Gpu&) const = default;
};

// What engines ask of a card: "can this GPU do bf16 / fp8 / flash attention".
enum class GpuFeature { bf16, fp8, flash_attention, flash_attn2, vllm };
enum class Support { yes, no, unknown };
[[nodiscard]] std::string_view to_string(GpuFeature feature);
[[nodiscard]] std::string_view to_string(Support support);
[[nodiscard]] Support supports(const Gpu& gpu, GpuFeature feature);
// Over several GPUs (a tensor-parallel group runs one dtype): no if any card cannot, unknown
// if any is not established, yes if every card can; unknown for an empty list.
[[nodiscard]] Support supports_all(std::span<const Gpu* const> gpus, GpuFeature feature);

// How a typed name found its card, strongest first (docs/sizing.md "How names resolve").
enum class GpuMatch {
  id,             // "rtx-4090"
  name,           // the name or an alias, case-insensitive: "NVIDIA GeForce RTX 4090", "T4"
  vendor_prefix,  // the same after dropping NVIDIA / GeForce / Tesla / AMD / Radeon / Intel / Apple
  loose,          // separators and units ignored: "rtx4090", "a100_80gb"
  size,           // a size picked the variant: "a100 40g", "v100-32gb"
  variant,        // the only card of that name with a form factor / core count added: "h100 sxm5"
  arch,           // the architecture in a driver's name: "AMD Radeon Graphics (RADV GFX1201)"
};
[[nodiscard]] std::string_view to_string(GpuMatch match);

struct GpuRef {
  const Gpu* gpu = nullptr;
  GpuMatch how = GpuMatch::id;
  // A generic name given to one card (docs/sizing-data.md §1.1: "A100" -> the SXM4 80GB):
  // the caller should say which card it picked (GpuCatalog::describe).
  bool generic = false;
  // A detected memory total chose between cards of one name (the RTX 4060 Ti 8 and 16 GB).
  bool by_memory = false;
};

// Most devices --gpu may select (NAMExN and lists together), and the longest list text.
inline constexpr std::size_t max_selected_gpus = 64;
inline constexpr std::size_t max_gpu_list_bytes = 4096;

class GpuCatalog {
 public:
  // Adds a card; a later card with an existing id replaces the earlier one (user files
  // override the embedded catalog).
  void add(Gpu gpu);

  [[nodiscard]] const std::vector<Gpu>& gpus() const { return gpus_; }
  [[nodiscard]] const Gpu* find_id(std::string_view id) const;

  // Resolves "NVIDIA GeForce RTX 4090", "RTX 4090", "4090", "rtx-4090", "Tesla T4",
  // "a100-80g", "Apple M2 Ultra", ... (docs/sizing.md). `memory_total` (what nvidia-smi or
  // rocm-smi reported) picks between cards that share a name. nullopt when nothing matches.
  // Throws Error{bad_input} naming the candidates when a name fits several cards equally
  // ("V100 PCIe": 16 or 32 GB) and no memory total decides.
  [[nodiscard]] std::optional<GpuRef> resolve(std::string_view name,
                                              std::optional<Bytes> memory_total = {}) const;

  // Up to `max` card ids closest to `name` (edit distance), for "did you mean".
  [[nodiscard]] std::vector<std::string> suggest(std::string_view name, std::size_t max = 3) const;

  // The one-line error for a name resolve() does not know, with the closest ids; it names the
  // vram setting as data (SettingText).
  [[nodiscard]] SettingText unknown_message(std::string_view name) const;

  // What to tell the user about a match that was a choice: "'A100' is taken as NVIDIA A100
  // SXM4 80GB (a100-sxm4-80gb); name the variant for another, e.g. a100-pcie-40gb"; "" when
  // the name was not generic.
  [[nodiscard]] std::string describe(const GpuRef& ref, std::string_view typed) const;

  // Cards whose id, name, aliases, vendor or arch contain `query` (case-insensitive); all if
  // empty. For `vramplan gpus QUERY`.
  [[nodiscard]] std::vector<const Gpu*> search(std::string_view query) const;

  // --gpu's value: "4090", "4090x2", "A100-80G x8", "rtx 4090,rtx 3090": one GpuRef per
  // device, in order; a board shown as several devices (MI250) counts as that many. At most
  // max_selected_gpus devices and max_gpu_list_bytes of text. Throws Error{usage, "<what>: ..."}
  // for a malformed list (an empty item, a count of 0 or over the limit) and Error{bad_input,
  // "<what>: " + unknown_message(...)} for an unknown name.
  [[nodiscard]] std::vector<GpuRef> select(std::string_view list, std::string_view what) const;

 private:
  std::vector<Gpu> gpus_;
};

// What --gpu sets --vram to: the memory each selected device gives a program, in order (a
// board's memory split over its devices_per_board). Throws
// Error{usage, "<what>: ..."} for a card with no such figure (unified memory, which depends on
// the machine, or a user's card without memory_mib), saying to give --vram.
[[nodiscard]] std::vector<Bytes> selected_memory(std::span<const GpuRef> gpus,
                                                 std::string_view what);

// How much of a Mac's unified memory the GPU may use (docs/sizing.md "Apple Silicon"):
// `iogpu.wired_limit_mb` when it is set (non-zero), else Metal's default
// recommendedMaxWorkingSetSize as observed in llama.cpp logs: 2/3 of the RAM up to 32 GiB,
// 3/4 above. Never more than the RAM.
struct AppleGpuMemory {
  Bytes bytes = 0;
  bool from_wired_limit = false;  // iogpu.wired_limit_mb set it
  std::string rule;  // "iogpu.wired_limit_mb = 57344", "3/4 of 64.00 GiB (macOS default)"
};
[[nodiscard]] AppleGpuMemory apple_gpu_memory(Bytes unified_total,
                                              std::optional<std::int64_t> wired_limit_mb);

}  // namespace vramplan
