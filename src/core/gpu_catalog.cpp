// GPU catalog lookup: name resolution the way nvidia-smi, rocm-smi, Mesa and people write
// card names (docs/sizing.md "How names resolve"), capabilities, and the Apple GPU share.
// Pure: no I/O, no environment.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/text.hpp>

#include "by_id.hpp"

namespace vramplan {
namespace {

[[nodiscard]] bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
[[nodiscard]] bool is_digit(char c) { return c >= '0' && c <= '9'; }
[[nodiscard]] bool is_alnum(char c) { return is_digit(c) || (c >= 'a' && c <= 'z'); }

[[nodiscard]] std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Lower case, trimmed, runs of white space as one space: "NVIDIA  GeForce RTX 4090 " ->
// "nvidia geforce rtx 4090".
[[nodiscard]] std::string normalize(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (const char c : text) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += lower_ascii(c);
  }
  return out;
}

// Words drivers and people put before the model name (docs/sizing-data.md §1.1): removed
// repeatedly, so "nvidia geforce rtx 4090" and "amd radeon rx 7900 xtx" lose both.
constexpr std::string_view vendor_words[] = {"nvidia ", "geforce ",  "tesla ", "amd ",
                                             "radeon ", "intel(r) ", "intel ", "apple "};

[[nodiscard]] std::string strip_vendor(std::string key) {
  bool again = true;
  while (again) {
    again = false;
    for (const std::string_view word : vendor_words) {
      if (key.size() > word.size() && key.starts_with(word)) {
        key.erase(0, word.size());
        again = true;
      }
    }
  }
  return key;
}

// A trailing size "80g", "80gb", "80 GiB" after a separator: its GB count and where the name
// before it ends (separators dropped); nullopt when the key does not end in one.
struct SizeSuffix {
  int gb = 0;
  std::size_t name_end = 0;
};

[[nodiscard]] std::optional<SizeSuffix> size_suffix(std::string_view key) {
  std::size_t end = key.size();
  for (const std::string_view unit : {"gib", "gb", "g"}) {
    if (key.ends_with(unit)) {
      end -= unit.size();
      break;
    }
  }
  if (end == key.size()) return std::nullopt;
  while (end > 0 && key[end - 1] == ' ') --end;
  std::size_t start = end;
  while (start > 0 && is_digit(key[start - 1])) --start;
  if (start == end || end - start > 4 || start == 0) return std::nullopt;
  const char separator = key[start - 1];
  if (separator != ' ' && separator != '-' && separator != '_') return std::nullopt;
  int gb = 0;
  for (std::size_t i = start; i < end; ++i) gb = gb * 10 + (key[i] - '0');
  std::size_t name_end = start - 1;
  while (name_end > 0 &&
         (key[name_end - 1] == ' ' || key[name_end - 1] == '-' || key[name_end - 1] == '_')) {
    --name_end;
  }
  if (name_end == 0 || gb == 0) return std::nullopt;
  return SizeSuffix{gb, name_end};
}

// Separators and "(tm)"/"(r)" ignored, "80gb"/"80gib" read as "80g": "RTX-4090", "rtx4090"
// and "a100_80GB" meet "rtx 4090" and "a100-80g".
[[nodiscard]] std::string loose(std::string_view stripped) {
  std::string text(stripped);
  for (const std::string_view mark : {"(tm)", "(r)"}) {
    for (std::size_t at = text.find(mark); at != std::string::npos; at = text.find(mark)) {
      text.erase(at, mark.size());
    }
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (!is_alnum(c)) continue;
    out += c;
    if (is_digit(c) && i + 1 < text.size() && text[i + 1] == 'g') {
      // "80gb" / "80gib" -> "80g" (the 'g' itself is appended by the next iteration)
      const std::string_view rest = std::string_view(text).substr(i + 2);
      if (rest.starts_with("ib")) {
        out += 'g';
        i += 3;
      } else if (rest.starts_with("b")) {
        out += 'g';
        i += 2;
      }
    }
  }
  return out;
}

// A word that only tells variants of one card apart: a size, a form factor, a core count.
[[nodiscard]] bool is_variant_word(std::string_view word) {
  while (!word.empty() && (word.front() == '(' || word.front() == '[')) word.remove_prefix(1);
  while (!word.empty() && (word.back() == ')' || word.back() == ']')) word.remove_suffix(1);
  for (const std::string_view known :
       {"pcie", "sxm", "sxm2", "sxm4", "sxm5", "hbm2", "hbm2e", "hbm3", "hbm3e", "gpu"}) {
    if (word == known) return true;
  }
  std::size_t digits = 0;
  while (digits < word.size() && is_digit(word[digits])) ++digits;
  if (digits == 0) return false;
  const std::string_view unit = word.substr(digits);
  return unit == "g" || unit == "gb" || unit == "gib" || unit == "-core";
}

[[nodiscard]] bool only_variant_words(std::string_view rest) {
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (!is_variant_word(rest.substr(0, space))) return false;
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return true;
}

// Every spelling of a card, normalized and with vendor words dropped.
[[nodiscard]] std::vector<std::string> stripped_keys(const Gpu& gpu) {
  std::vector<std::string> keys{strip_vendor(normalize(gpu.id)), strip_vendor(normalize(gpu.name))};
  for (const std::string& alias : gpu.aliases) keys.push_back(strip_vendor(normalize(alias)));
  return keys;
}

// The card's name without a trailing size: cards that share it differ only in memory
// ("NVIDIA GeForce RTX 3080 10GB" and "... 12GB", the RTX 4060 Ti 8GB and 16GB).
[[nodiscard]] std::string family(const Gpu& gpu) {
  std::string key = normalize(gpu.name);
  if (const auto size = size_suffix(key)) key.resize(size->name_end);
  return key;
}

void add_unique(std::vector<const Gpu*>& out, const Gpu* gpu) {
  if (std::find(out.begin(), out.end(), gpu) == out.end()) out.push_back(gpu);
}

class Resolver {
 public:
  Resolver(const std::vector<Gpu>& gpus, std::string_view typed, std::optional<Bytes> memory)
      : gpus_(gpus), typed_(typed), memory_(memory) {}

  [[nodiscard]] std::optional<GpuRef> run() const {
    const std::string key = normalize(typed_);
    if (key.empty()) return std::nullopt;
    std::optional<GpuRef> ref = by_name(key);
    if (!ref) ref = by_size(key);
    if (!ref) ref = by_variant(strip_vendor(key));
    if (!ref) ref = by_arch(key);
    if (ref && memory_ && (ref->how != GpuMatch::size)) ref = pick_sibling_by_memory(*ref);
    return ref;
  }

  // Cards other than `gpu` whose name is the typed one plus variant words: what a generic
  // name ("A100") could also have meant; for a name typed with a size ("h100 80gb"), the other
  // cards of that name and size.
  [[nodiscard]] std::vector<const Gpu*> alternatives(const Gpu& gpu) const {
    std::vector<const Gpu*> out;
    const std::string typed = strip_vendor(normalize(typed_));
    for (const Gpu* other : variants_of(typed)) {
      if (other != &gpu) add_unique(out, other);
    }
    const std::optional<SizeSuffix> size = size_suffix(typed);
    if (!out.empty() || !size) return out;
    for (const Gpu* other : variants_of(typed.substr(0, size->name_end))) {
      if (other != &gpu && other->memory_gb && std::abs(*other->memory_gb - size->gb) < 0.5) {
        add_unique(out, other);
      }
    }
    return out;
  }

 private:
  // Exact id, then name or alias, then without vendor words, then loosely. Later cards win,
  // as in the model catalog: a user's card that takes an embedded card's alias is found first.
  [[nodiscard]] std::optional<GpuRef> by_name(const std::string& key) const {
    for (const Gpu& gpu : gpus_) {
      if (normalize(gpu.id) == key) return GpuRef{&gpu, GpuMatch::id};
    }
    std::optional<GpuRef> found = first_where(GpuMatch::name, [&](const Gpu& gpu) {
      if (normalize(gpu.name) == key) return true;
      return std::any_of(gpu.aliases.begin(), gpu.aliases.end(),
                         [&](const std::string& alias) { return normalize(alias) == key; });
    });
    const std::string stripped = strip_vendor(key);
    if (!found) {
      found = first_where(GpuMatch::vendor_prefix, [&](const Gpu& gpu) {
        const std::vector<std::string> keys = stripped_keys(gpu);
        return std::find(keys.begin(), keys.end(), stripped) != keys.end();
      });
    }
    const std::string loose_key = loose(stripped);
    if (!found && !loose_key.empty()) {
      found = first_where(GpuMatch::loose, [&](const Gpu& gpu) {
        for (const std::string& k : stripped_keys(gpu)) {
          if (loose(k) == loose_key) return true;
        }
        return false;
      });
    }
    if (found) found->generic = !alternatives(*found->gpu).empty();
    return found;
  }

  template <typename Pred>
  [[nodiscard]] std::optional<GpuRef> first_where(GpuMatch how, Pred pred) const {
    for (auto it = gpus_.rbegin(); it != gpus_.rend(); ++it) {
      if (pred(*it)) return GpuRef{&*it, how};
    }
    return std::nullopt;
  }

  // "a100 40g", "v100-32gb": the name without its size, then the card of that name (or of its
  // family) with that size.
  [[nodiscard]] std::optional<GpuRef> by_size(const std::string& key) const {
    const std::optional<SizeSuffix> size = size_suffix(key);
    if (!size) return std::nullopt;
    const std::string base = key.substr(0, size->name_end);
    std::optional<GpuRef> ref = by_name(base);
    if (!ref) ref = by_variant(strip_vendor(base), size->gb);
    if (!ref) return std::nullopt;
    std::vector<const Gpu*> candidates{ref->gpu};
    for (const Gpu* sibling : siblings(*ref->gpu)) add_unique(candidates, sibling);
    for (const Gpu* gpu : candidates) {
      if (gpu->memory_gb && std::abs(*gpu->memory_gb - size->gb) < 0.5) {
        return GpuRef{gpu, GpuMatch::size, !alternatives(*gpu).empty()};
      }
    }
    return std::nullopt;
  }

  // Cards with a spelling that is `stripped` plus variant words only.
  [[nodiscard]] std::vector<const Gpu*> variants_of(const std::string& stripped) const {
    std::vector<const Gpu*> out;
    if (stripped.empty()) return out;
    const std::string prefix = stripped + ' ';
    for (const Gpu& gpu : gpus_) {
      for (const std::string& k : stripped_keys(gpu)) {
        if (k.starts_with(prefix) &&
            only_variant_words(std::string_view(k).substr(prefix.size()))) {
          add_unique(out, &gpu);
        }
      }
    }
    return out;
  }

  // "h100 sxm5", "m3 max": the one card whose name adds only variant words; several are
  // ambiguous unless the memory total (or the size given, `gb`) decides.
  [[nodiscard]] std::optional<GpuRef> by_variant(const std::string& stripped, int gb = 0) const {
    std::vector<const Gpu*> found = variants_of(stripped);
    if (gb > 0) {
      std::erase_if(found, [&](const Gpu* gpu) {
        return !gpu->memory_gb || std::abs(*gpu->memory_gb - gb) >= 0.5;
      });
    }
    return one_of(found, GpuMatch::variant);
  }

  // Mesa and some ROCm tools print no product name, only the LLVM target:
  // "AMD Radeon Graphics (RADV GFX1201)".
  [[nodiscard]] std::optional<GpuRef> by_arch(const std::string& key) const {
    const std::size_t at = key.find("gfx");
    if (at == std::string::npos) return std::nullopt;
    std::size_t end = at + 3;
    while (end < key.size() && is_alnum(key[end])) ++end;
    if (end == at + 3) return std::nullopt;
    const std::string arch = key.substr(at, end - at);
    std::vector<const Gpu*> found;
    for (const Gpu& gpu : gpus_) {
      if (iequals(gpu.arch, arch)) found.push_back(&gpu);
    }
    return one_of(found, GpuMatch::arch);
  }

  [[nodiscard]] std::optional<GpuRef> one_of(const std::vector<const Gpu*>& found,
                                             GpuMatch how) const {
    if (found.empty()) return std::nullopt;
    if (found.size() == 1) return GpuRef{found.front(), how};
    if (const Gpu* gpu = closest_in_memory(found)) return GpuRef{gpu, how, false, true};
    std::string ids;
    for (const Gpu* gpu : found) ids += (ids.empty() ? "" : ", ") + gpu->id;
    throw Error(ErrorKind::bad_input,
                fmt::format("GPU name '{}' fits {} cards: {}; name one of them", trim(typed_),
                            found.size(), ids));
  }

  // Cards of the same family (same name but for the size), other than `gpu`.
  [[nodiscard]] std::vector<const Gpu*> siblings(const Gpu& gpu) const {
    std::vector<const Gpu*> out;
    const std::string own = family(gpu);
    for (const Gpu& other : gpus_) {
      if (&other != &gpu && family(other) == own) out.push_back(&other);
    }
    return out;
  }

  // The candidate whose memory is nearest the detected total, if it is within 10 % of it.
  [[nodiscard]] const Gpu* closest_in_memory(const std::vector<const Gpu*>& candidates) const {
    if (!memory_ || *memory_ <= 0) return nullptr;
    const Gpu* best = nullptr;
    Bytes best_gap = 0;
    bool tie = false;
    for (const Gpu* gpu : candidates) {
      if (!gpu->memory_bytes) continue;
      const Bytes gap = *gpu->memory_bytes > *memory_ ? *gpu->memory_bytes - *memory_
                                                      : *memory_ - *gpu->memory_bytes;
      if (best == nullptr || gap < best_gap) {
        best = gpu;
        best_gap = gap;
        tie = false;
      } else if (gap == best_gap && gpu->memory_bytes != best->memory_bytes) {
        tie = true;
      }
    }
    if (best == nullptr || tie || best_gap > *memory_ / 10) return nullptr;
    return best;
  }

  [[nodiscard]] GpuRef pick_sibling_by_memory(GpuRef ref) const {
    std::vector<const Gpu*> candidates{ref.gpu};
    for (const Gpu* sibling : siblings(*ref.gpu)) candidates.push_back(sibling);
    if (candidates.size() < 2) return ref;
    const Gpu* best = closest_in_memory(candidates);
    if (best == nullptr || best == ref.gpu) return ref;
    return GpuRef{best, ref.how, false, true};
  }

  const std::vector<Gpu>& gpus_;
  std::string_view typed_;
  std::optional<Bytes> memory_;
};

// "x8" / "X8" / "*8" / " x 8" at the end of a --gpu item: the count and the name before it.
struct Counted {
  std::string_view name;
  std::string_view count;
};

[[nodiscard]] std::optional<Counted> split_count(std::string_view item) {
  std::size_t digits = item.size();
  while (digits > 0 && is_digit(item[digits - 1])) --digits;
  if (digits == item.size() || digits == 0) return std::nullopt;
  std::size_t at = digits;  // "4090 x 2": a sign with spaces on both sides, or none
  while (at > 0 && is_space(item[at - 1])) --at;
  if (at == 0) return std::nullopt;
  const char times = item[at - 1];
  if (times != 'x' && times != 'X' && times != '*') return std::nullopt;
  if (at != digits && (at < 2 || !is_space(item[at - 2]))) return std::nullopt;  // "rtx 4909"
  const std::string_view name = trim(item.substr(0, at - 1));
  if (name.empty()) return std::nullopt;
  return Counted{name, item.substr(digits)};
}

}  // namespace

std::string_view to_string(GpuVendor vendor) {
  switch (vendor) {
    case GpuVendor::nvidia:
      return "nvidia";
    case GpuVendor::amd:
      return "amd";
    case GpuVendor::intel:
      return "intel";
    case GpuVendor::apple:
      return "apple";
  }
  return "?";
}

std::optional<GpuVendor> parse_gpu_vendor(std::string_view text) {
  for (const GpuVendor v :
       {GpuVendor::nvidia, GpuVendor::amd, GpuVendor::intel, GpuVendor::apple}) {
    if (text == to_string(v)) return v;
  }
  return std::nullopt;
}

std::string_view to_string(MemorySource source) {
  switch (source) {
    case MemorySource::nvidia_smi:
      return "nvidia-smi";
    case MemorySource::rocm_log:
      return "rocm-log";
    case MemorySource::ggml_log:
      return "ggml-log";
    case MemorySource::driver_bytes:
      return "driver-bytes";
    case MemorySource::spec:
      return "spec";
    case MemorySource::unified:
      return "unified";
  }
  return "?";
}

std::optional<MemorySource> parse_memory_source(std::string_view text) {
  for (const MemorySource s :
       {MemorySource::nvidia_smi, MemorySource::rocm_log, MemorySource::ggml_log,
        MemorySource::driver_bytes, MemorySource::spec, MemorySource::unified}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

std::string to_string(ComputeCapability cc) { return fmt::format("{}.{}", cc.major, cc.minor); }

std::optional<ComputeCapability> parse_compute_capability(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 2 || text.size() != dot + 2) {
    return std::nullopt;
  }
  ComputeCapability cc;
  for (std::size_t i = 0; i < dot; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    cc.major = cc.major * 10 + (text[i] - '0');
  }
  if (!is_digit(text[dot + 1])) return std::nullopt;
  cc.minor = text[dot + 1] - '0';
  return cc;
}

std::string_view to_string(GpuFeature feature) {
  switch (feature) {
    case GpuFeature::bf16:
      return "bf16";
    case GpuFeature::fp8:
      return "fp8";
    case GpuFeature::flash_attention:
      return "flash_attention";
    case GpuFeature::flash_attn2:
      return "flash_attn2";
    case GpuFeature::vllm:
      return "vllm";
  }
  return "?";
}

std::string_view to_string(Support support) {
  switch (support) {
    case Support::yes:
      return "yes";
    case Support::no:
      return "no";
    case Support::unknown:
      return "unknown";
  }
  return "?";
}

Support supports(const Gpu& gpu, GpuFeature feature) {
  std::optional<bool> value;
  switch (feature) {
    case GpuFeature::bf16:
      value = gpu.bf16;
      break;
    case GpuFeature::fp8:
      value = gpu.fp8;
      break;
    case GpuFeature::flash_attention:
      value = gpu.flash_attention;
      break;
    case GpuFeature::flash_attn2:
      value = gpu.flash_attn2;
      break;
    case GpuFeature::vllm:
      value = gpu.vllm;
      break;
  }
  if (!value) return Support::unknown;
  return *value ? Support::yes : Support::no;
}

Support supports_all(std::span<const Gpu* const> gpus, GpuFeature feature) {
  if (gpus.empty()) return Support::unknown;
  Support out = Support::yes;
  for (const Gpu* gpu : gpus) {
    const Support s = supports(*gpu, feature);
    if (s == Support::no) return Support::no;
    if (s == Support::unknown) out = Support::unknown;
  }
  return out;
}

std::string_view to_string(GpuMatch match) {
  switch (match) {
    case GpuMatch::id:
      return "id";
    case GpuMatch::name:
      return "name";
    case GpuMatch::vendor_prefix:
      return "vendor_prefix";
    case GpuMatch::loose:
      return "loose";
    case GpuMatch::size:
      return "size";
    case GpuMatch::variant:
      return "variant";
    case GpuMatch::arch:
      return "arch";
  }
  return "?";
}

void GpuCatalog::add(Gpu gpu) { put_by_id(gpus_, std::move(gpu)); }

const Gpu* GpuCatalog::find_id(std::string_view id) const { return find_by_id(gpus_, id); }

std::optional<GpuRef> GpuCatalog::resolve(std::string_view name,
                                          std::optional<Bytes> memory_total) const {
  return Resolver(gpus_, name, memory_total).run();
}

std::vector<std::string> GpuCatalog::suggest(std::string_view name, std::size_t max) const {
  const std::string typed = normalize(name);
  // A typo is short; the bound also keeps the edit distance cheap on hostile input.
  if (typed.empty() || typed.size() > 64 || max == 0) return {};
  const std::string stripped = strip_vendor(typed);
  std::vector<std::size_t> distances;
  distances.reserve(gpus_.size());
  for (const Gpu& gpu : gpus_) {
    std::size_t best = edit_distance(typed, normalize(gpu.id));
    for (const std::string& key : stripped_keys(gpu)) {
      best = std::min(best, edit_distance(stripped, key));
    }
    distances.push_back(best);
  }
  std::vector<std::string> out;
  for (const std::size_t i : typo_candidates(distances, stripped.size())) {
    if (out.size() >= max) break;
    out.push_back(gpus_[i].id);
  }
  return out;
}

SettingText GpuCatalog::unknown_message(std::string_view name) const {
  const std::string_view typed = trim(name);
  return {fmt::format("unknown GPU '{}'{} (run 'vramplan gpus' to list known GPUs, or give ", typed,
                      did_you_mean(suggest(typed))),
          Setting::vram, ")"};
}

std::string GpuCatalog::describe(const GpuRef& ref, std::string_view typed) const {
  if (ref.gpu == nullptr) return {};
  const std::string_view shown = trim(typed);
  if (ref.by_memory) {
    return fmt::format("'{}' is {} ({}), told apart by its memory", shown, ref.gpu->name,
                       ref.gpu->id);
  }
  if (!ref.generic) return {};
  const std::vector<const Gpu*> others =
      Resolver(gpus_, typed, std::nullopt).alternatives(*ref.gpu);
  std::string ids;
  for (std::size_t i = 0; i < others.size() && i < 4; ++i) ids += (i ? ", " : "") + others[i]->id;
  return fmt::format("'{}' is taken as {} ({}); name the card for another, e.g. {}", shown,
                     ref.gpu->name, ref.gpu->id, ids);
}

std::vector<const Gpu*> GpuCatalog::search(std::string_view query) const {
  const std::string q = normalize(query);
  const auto contains = [&](std::string_view text) {
    return normalize(text).find(q) != std::string::npos;
  };
  std::vector<const Gpu*> out;
  for (const Gpu& gpu : gpus_) {
    const bool hit = q.empty() || contains(gpu.id) || contains(gpu.name) ||
                     contains(to_string(gpu.vendor)) || contains(gpu.arch) ||
                     std::any_of(gpu.aliases.begin(), gpu.aliases.end(), contains);
    if (hit) out.push_back(&gpu);
  }
  return out;
}

std::vector<GpuRef> GpuCatalog::select(std::string_view list, std::string_view what) const {
  if (list.size() > max_gpu_list_bytes) {
    throw Error(ErrorKind::invalid_setting,
                fmt::format("{}: the GPU list is {} bytes, more than the limit of {}", what,
                            list.size(), max_gpu_list_bytes));
  }
  std::vector<GpuRef> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string_view item =
        trim(list.substr(start, comma == std::string_view::npos ? comma : comma - start));
    start = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) {
      throw Error(ErrorKind::invalid_setting,
                  fmt::format("{}: empty GPU name in '{}' (examples: 4090, 4090x2, a100-80g,t4)",
                              what, list));
    }
    std::size_t count = 1;
    std::optional<GpuRef> ref;
    try {
      ref = resolve(item);
      const std::optional<Counted> counted = ref ? std::nullopt : split_count(item);
      // "4090x2": only when the name before the count is a card ("rtx4099" stays one name).
      if (counted) ref = resolve(counted->name);
      if (counted && ref) {
        if (counted->count.size() > 4) {
          count = max_selected_gpus + 1;
        } else {
          count = 0;
          for (const char c : counted->count)
            count = count * 10 + static_cast<std::size_t>(c - '0');
        }
        if (count == 0 || count > max_selected_gpus) {
          throw Error(ErrorKind::invalid_setting,
                      fmt::format("{}: the count in '{}' must be between 1 and {}", what, item,
                                  max_selected_gpus));
        }
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::invalid_setting) throw;
      throw Error(e.kind(), fmt::format("{}: {}", what, e.what()));
    }
    if (!ref) {
      SettingText message = unknown_message(item);
      message.before = fmt::format("{}: {}", what, message.before);
      throw Error(ErrorKind::bad_input, std::move(message));
    }
    // A board the driver shows as several devices (MI250: two) is that many GPUs to plan.
    const std::size_t devices = count * static_cast<std::size_t>(ref->gpu->devices_per_board);
    if (out.size() + devices > max_selected_gpus) {
      throw Error(ErrorKind::invalid_setting,
                  fmt::format("{}: more than {} GPUs in '{}'", what, max_selected_gpus, list));
    }
    out.insert(out.end(), devices, *ref);
  }
  return out;
}

std::vector<Bytes> selected_memory(std::span<const GpuRef> gpus, std::string_view what) {
  std::vector<Bytes> out;
  for (const GpuRef& ref : gpus) {
    if (ref.gpu->memory_bytes) {
      out.push_back(*ref.gpu->memory_bytes / ref.gpu->devices_per_board);
      continue;
    }
    throw Error(ErrorKind::invalid_setting,
                ref.gpu->unified_memory
                    ? SettingText{fmt::format("{}: {} ({}) shares the machine's memory; give ",
                                              what, ref.gpu->name, ref.gpu->id),
                                  Setting::vram, " SIZE or auto"}
                    : SettingText{fmt::format("{}: the catalog has no memory size for {} ({}); "
                                              "give ",
                                              what, ref.gpu->name, ref.gpu->id),
                                  Setting::vram, " SIZE"});
  }
  return out;
}

AppleGpuMemory apple_gpu_memory(Bytes unified_total, std::optional<std::int64_t> wired_limit_mb) {
  AppleGpuMemory out;
  if (unified_total <= 0) return out;
  if (wired_limit_mb && *wired_limit_mb > 0) {
    // sysctl's value is untrusted text: a limit past the RAM means the RAM.
    const Bytes limit =
        *wired_limit_mb > unified_total / mib ? unified_total : *wired_limit_mb * mib;
    out.bytes = limit;
    out.from_wired_limit = true;
    out.rule = fmt::format("iogpu.wired_limit_mb = {}", *wired_limit_mb);
    return out;
  }
  const bool small = unified_total <= 32 * gib;
  out.bytes = small ? unified_total / 3 * 2 : unified_total / 4 * 3;
  out.rule = fmt::format("{} of {} (macOS default recommendedMaxWorkingSetSize)",
                         small ? "2/3" : "3/4", format_bytes(unified_total));
  return out;
}

}  // namespace vramplan
