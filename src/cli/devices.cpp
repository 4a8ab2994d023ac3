// --vram, --gpu and --ram read into per-GPU budgets and cards (devices.hpp, docs/sizing.md §6).
#include "devices.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/detect.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>

namespace vramplan::cli {
namespace {

const io::DetectOptions& detect_options(const Context& context) {
  static const io::DetectOptions defaults;
  return context.detect != nullptr ? *context.detect : defaults;
}

// A name a tool printed, as a message quotes it: cut to 80 bytes (docs/sizing.md §4; the
// message itself is escaped where it is written).
std::string shown(const std::string& name) {
  constexpr std::size_t max_shown = 80;
  return name.size() <= max_shown ? name : name.substr(0, max_shown) + "...";
}

// A GPU with more than this in use gets a warning: the plan takes its total, as a fresh start
// of the engine would find it.
constexpr Bytes in_use_warning = Bytes{1} << 30;

// This machine's GPUs (--vram auto, --gpu auto). `named`: --gpu auto, which says when a GPU is
// not in the catalog (its speed and capabilities are then unknown).
Devices detect(const GpuCatalog& catalog, const std::string& what, const std::string& hint,
               bool named, Context& context) {
  Devices out;
  out.source = what;
  const io::GpuDetection found = io::detect_gpus(what, hint, detect_options(context));
  for (std::size_t i = 0; i < found.gpus.size(); ++i) {
    const io::DetectedGpu& gpu = found.gpus[i];
    const std::optional<GpuRef> ref = io::resolve_detected(catalog, gpu);
    if (!gpu.total_bytes) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: {} gives no memory total for GPU {} ('{}'; unified memory "
                              "reads as N/A); {}",
                              what, found.tool, i, shown(gpu.name), hint));
    }
    out.vram.push_back(*gpu.total_bytes);
    out.gpus.push_back(ref ? ref->gpu : nullptr);
    out.names.push_back(ref ? ref->gpu->id : gpu.name);
    if (!ref && named) {
      warn(context,
           fmt::format("{}: GPU {} ('{}') is not in the GPU catalog: planned with its "
                       "{} from {}, without speed or capabilities",
                       what, i, shown(gpu.name), format_bytes(*gpu.total_bytes), found.tool));
    }
    const std::optional<Bytes> free = gpu.free_bytes();
    if (free && *gpu.total_bytes - *free > in_use_warning) {
      warn(context, fmt::format("{}: GPU {} ('{}') has {} in use; the plan takes its total {}",
                                what, i, shown(gpu.name), format_bytes(*gpu.total_bytes - *free),
                                format_bytes(*gpu.total_bytes)));
    }
  }
  if (found.unified && !found.note.empty()) {
    warn(context, fmt::format("{}: unified memory, the GPU's share is {}", what, found.note));
  }
  return out;
}

// The names of a --gpu list without their counts: "a100 x2,t4" -> "a100", "t4" (for the
// messages only; select() has checked the list).
std::vector<std::string> list_items(const std::string& list) {
  const auto trim_end = [](std::string& text) {
    while (!text.empty() && text.back() == ' ') text.pop_back();
  };
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    std::string item = list.substr(start, end - start);
    std::string name = item;
    while (!name.empty() && name.back() >= '0' && name.back() <= '9') name.pop_back();
    if (name.size() < item.size()) {  // "NAMExN", "NAME x N", "NAME*N"
      trim_end(name);
      if (!name.empty() && (name.back() == 'x' || name.back() == 'X' || name.back() == '*')) {
        name.pop_back();
        item = name;
      }
    }
    trim_end(item);
    if (std::find(items.begin(), items.end(), item) == items.end()) items.push_back(item);
    start = end + 1;
  }
  return items;
}

}  // namespace

Support Devices::supports(GpuFeature feature) const {
  for (const Gpu* gpu : gpus) {
    if (gpu == nullptr) return Support::unknown;
  }
  return supports_all(gpus, feature);
}

const Gpu* Devices::same_card() const {
  if (gpus.empty()) return nullptr;
  for (const Gpu* gpu : gpus) {
    if (gpu == nullptr || gpu != gpus.front()) return nullptr;
  }
  return gpus.front();
}

Devices resolve_devices(const ModelFlags& flags, Context& context) {
  if (flags.gpu && flags.vram) {
    throw Error(ErrorKind::usage,
                "give either --gpu or --vram, not both (--gpu sets each GPU's memory from the "
                "catalog)");
  }
  if (!flags.gpu && !flags.vram) return {};
  Devices out;
  if (flags.vram && *flags.vram != "auto") {  // sizes: no card, no catalog to read
    out.vram = parse_vram(*flags.vram);
    out.names.assign(out.vram.size(), "");
    out.gpus.assign(out.vram.size(), nullptr);
    out.source = "--vram";
    if (!flags.gpu_catalogs.empty()) {
      warn(context, "--gpu-catalog is read only with --gpu or --vram auto");
    }
    return out;
  }
  auto catalog = std::make_shared<const GpuCatalog>(io::load_gpu_catalog(flags.gpu_catalogs));
  if (flags.vram) {
    Devices found = detect(*catalog, "--vram auto", "give --vram SIZE", false, context);
    found.catalog = std::move(catalog);
    return found;
  }
  if (*flags.gpu == "auto") {
    Devices found = detect(*catalog, "--gpu auto", "give --gpu NAME or --vram SIZE", true, context);
    found.catalog = std::move(catalog);
    return found;
  }
  const std::vector<GpuRef> refs = catalog->select(*flags.gpu, "--gpu");
  out.vram = selected_memory(refs, "--gpu");
  for (const GpuRef& ref : refs) {
    out.gpus.push_back(ref.gpu);
    out.names.push_back(ref.gpu->id);
  }
  // A generic name ("A100") taken as one card: say which, once per name.
  std::vector<const Gpu*> said;
  for (const std::string& item : list_items(*flags.gpu)) {
    const std::optional<GpuRef> ref = catalog->resolve(item);
    if (!ref || std::find(said.begin(), said.end(), ref->gpu) != said.end()) continue;
    said.push_back(ref->gpu);
    const std::string line = catalog->describe(*ref, item);
    if (!line.empty()) warn(context, "--gpu: " + line);
  }
  out.source = "--gpu";
  out.catalog = std::move(catalog);
  return out;
}

std::vector<Bytes> device_vram(const ModelFlags& flags, Context& context) {
  return resolve_devices(flags, context).vram;
}

Bytes parse_ram(const std::string& text, std::string_view flag, Context& context) {
  if (text != "auto") return parse_size(text, flag);
  const std::string what = fmt::format("{} auto", flag);
  const io::SystemMemory memory =
      io::detect_system_memory(what, fmt::format("give {} SIZE", flag), detect_options(context));
  return memory.available.value_or(memory.total);
}

}  // namespace vramplan::cli
