// The GPUs and RAM a command plans for, from the flags: --vram SIZE[,SIZE...], --gpu
// NAME[,NAME...]|NAMExN (the GPU catalog, docs/sizing.md §2), and `auto` for both and for
// --ram (this machine, docs/sizing.md §4). One place, so every command reads them alike.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/cli.hpp>
#include <vramplan/gpu_catalog.hpp>

#include "common.hpp"

namespace vramplan::cli {

// What the flags give, one entry per GPU in order.
struct Devices {
  std::vector<Bytes> vram;         // the memory the planner is given for each GPU
  std::vector<std::string> names;  // the catalog id, else the name a tool printed ("" for SIZE)
  std::vector<const Gpu*> gpus;    // the catalog's card, nullptr where there is none
  // Owns the cards `gpus` points to (the embedded catalog and --gpu-catalog files); null for
  // --vram SIZE, which names no card.
  std::shared_ptr<const GpuCatalog> catalog;
  std::string source;  // the flag that gave them: "--vram", "--vram auto", "--gpu", "--gpu auto"

  [[nodiscard]] bool empty() const { return vram.empty(); }
  // What every GPU can do (supports_all): unknown when a GPU has no card or there is none.
  // Engines decide with it (bf16 and fp8 for vLLM, flash attention for llama.cpp).
  [[nodiscard]] Support supports(GpuFeature feature) const;
  // The card when every GPU is the same one (the speed estimate's device), else nullptr.
  [[nodiscard]] const Gpu* same_card() const;
};

// --vram and --gpu of `flags` (with --gpu-catalog files): empty Devices when neither is given.
// Errors: both given, or a malformed list (Error{usage}); an unknown GPU name or a tool output
// that cannot be read (Error{bad_input}); no GPU tool for `auto` (Error{io}). Generic names
// ("A100") and GPUs in use are said on stderr.
[[nodiscard]] Devices resolve_devices(const ModelFlags& flags, Context& context);

// The GPU memory only (fit and estimate: what parse_vram gave before --gpu).
[[nodiscard]] std::vector<Bytes> device_vram(const ModelFlags& flags, Context& context);

// --ram SIZE or --ram auto (the memory this machine can allocate now: MemAvailable within the
// container's limit, else the total). `flag` names it in messages ("--ram").
[[nodiscard]] Bytes parse_ram(const std::string& text, std::string_view flag, Context& context);

}  // namespace vramplan::cli
