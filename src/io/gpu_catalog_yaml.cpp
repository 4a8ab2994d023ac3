// GPU catalog YAML -> Gpu values (format: docs/sizing-data.md §1). Every error names the
// file, the 1-based line and column, and the card it is about; null is "not known" and stays
// an empty optional.
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>

#include "yaml_bounded.hpp"

namespace vramplan::io {
namespace {

using Keys = std::set<std::string, std::less<>>;

const Keys top_keys{"schema_version", "checked", "gpus", "apple_gpu_working_set"};
const Keys gpu_keys{"id",
                    "name",
                    "vendor",
                    "aliases",
                    "memory_gb",
                    "memory_mib",
                    "memory_source",
                    "cuda_total_mib",
                    "memory_type",
                    "bandwidth_gbps",
                    "fp16_tensor_tflops",
                    "compute_capability",
                    "arch",
                    "bf16",
                    "fp8",
                    "flash_attention",
                    "vllm",
                    "devices_per_board",
                    "unified_memory",
                    "gpu_cores",
                    "memory_configs_gb_seen",
                    "sources",
                    "notes"};
const Keys flash_keys{"llama_cpp", "flash_attn2"};
const Keys apple_keys{"what", "sysctl_source", "observed", "rule_of_thumb"};
const Keys observed_keys{"unified_gb", "recommended_max_working_set_mib", "source", "machine"};

// Longest kept value per key, and most items per list.
std::size_t max_length(std::string_view key) {
  if (key == "id" || key == "arch" || key == "memory_type" || key == "checked") return 64;
  if (key == "name" || key == "aliases") return 128;
  if (key == "notes" || key == "what" || key == "rule_of_thumb") return 4096;
  if (key == "sources" || key == "source" || key == "sysctl_source") return 1024;
  return 256;
}
constexpr std::size_t max_list_items = 64;
constexpr std::size_t max_gpus = 4096;
constexpr std::size_t max_observed = 256;
constexpr std::int64_t max_memory_mib = std::int64_t{1} << 24;  // 16 TiB per device

struct Field {
  YAML::Node key;
  YAML::Node value;
  [[nodiscard]] bool null() const { return !value || value.IsNull(); }
};
using Fields = std::map<std::string, Field, std::less<>>;

class Reader {
 public:
  explicit Reader(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    const std::string origin = escape_controls(origin_);
    const std::string text = escape_controls(message);
    if (mark.is_null()) throw Error(ErrorKind::bad_input, fmt::format("{}: {}", origin, text));
    throw Error(ErrorKind::bad_input,
                fmt::format("{}:{}:{}: {}", origin, mark.line + 1, mark.column + 1, text));
  }

  [[nodiscard]] GpuCatalogFile document(std::string_view text) {
    if (text.size() > catalog_max_bytes) {
      fail(YAML::Mark::null_mark(),
           fmt::format("GPU catalog is {} bytes, more than the limit of {}", text.size(),
                       catalog_max_bytes));
    }
    YAML::Node root;
    try {
      root = load_bounded_yaml(text);
    } catch (const YamlLimit& limit) {
      fail(limit.mark, limit.what);
    } catch (const YAML::Exception& e) {
      fail(e.mark, yaml_message(e.msg));
    }
    if (!root.IsMap()) fail(root.Mark(), "expected a map with the key 'gpus'");
    GpuCatalogFile out;
    const Fields top = fields(root, top_keys);
    const auto gpus = top.find("gpus");
    if (gpus == top.end()) fail(root.Mark(), "missing the key 'gpus'");
    if (const auto v = top.find("schema_version"); v != top.end()) {
      const std::int64_t version = integer(v->second, "schema_version", 1, 1000);
      if (version != 1) {
        fail(v->second.value.Mark(),
             fmt::format("schema_version {} is not supported (this vramplan reads 1)", version));
      }
    }
    if (const auto v = top.find("checked"); v != top.end()) {
      out.checked = date(v->second, "checked");
    }
    if (const auto v = top.find("apple_gpu_working_set"); v != top.end()) {
      out.apple_working_set = apple(v->second);
    }
    if (gpus->second.null()) return out;
    const YAML::Node& list = sequence(gpus->second, "gpus", max_gpus);
    std::map<std::string, int, std::less<>> first_line;  // id -> 1-based line
    for (std::size_t i = 0; i < list.size(); ++i) {
      index_ = i;
      id_.clear();
      const YAML::Node node = list[i];
      Gpu gpu = card(node, mark_of(node, list));
      const YAML::Mark id_mark = mark_of(node["id"], node);
      if (const auto found = first_line.find(gpu.id); found != first_line.end()) {
        fail(id_mark,
             fmt::format("duplicate id '{}' (first defined on line {})", gpu.id, found->second));
      }
      first_line.emplace(gpu.id, id_mark.line + 1);
      out.gpus.push_back(std::move(gpu));
    }
    return out;
  }

 private:
  [[nodiscard]] static YAML::Mark mark_of(const YAML::Node& node, const YAML::Node& parent) {
    if (node && !node.Mark().is_null()) return node.Mark();
    return parent.Mark();
  }

  [[nodiscard]] std::string where() const {
    if (!in_card_) return "the file";
    return id_.empty() ? fmt::format("GPU #{}", index_ + 1) : fmt::format("GPU '{}'", id_);
  }
  [[nodiscard]] std::string key_where(std::string_view key) const {
    return section_.empty() ? fmt::format("key '{}' in {}", key, where())
                            : fmt::format("key '{}' of '{}' in {}", key, section_, where());
  }

  [[nodiscard]] Fields fields(const YAML::Node& map, const Keys& allowed) const {
    Fields out;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) fail(key.Mark(), fmt::format("keys must be names in {}", where()));
      const std::string name = key.Scalar();
      if (!allowed.contains(name)) {
        fail(key.Mark(), section_.empty() ? fmt::format("unknown key '{}' in {}", name, where())
                                          : fmt::format("unknown key '{}' in '{}' of {}", name,
                                                        section_, where()));
      }
      if (out.contains(name)) fail(key.Mark(), fmt::format("duplicate {}", key_where(name)));
      out.emplace(name, Field{key, it->second});
    }
    return out;
  }

  [[nodiscard]] const std::string& scalar(const Field& f, std::string_view key,
                                          const char* what) const {
    if (f.null()) fail(f.key.Mark(), fmt::format("{} has no value", key_where(key)));
    if (!f.value.IsScalar()) {
      fail(mark_of(f.value, f.key), fmt::format("{} must be {}", key_where(key), what));
    }
    return f.value.Scalar();
  }

  [[nodiscard]] std::string string(const Field& f, std::string_view key) const {
    std::string value = scalar(f, key, "a string");
    if (value.empty()) fail(mark_of(f.value, f.key), fmt::format("{} is empty", key_where(key)));
    if (value.size() > max_length(key)) {
      fail(mark_of(f.value, f.key), fmt::format("{} is {} bytes, more than the limit of {}",
                                                key_where(key), value.size(), max_length(key)));
    }
    return value;
  }

  [[nodiscard]] std::optional<std::string> optional_string(const Field& f,
                                                           std::string_view key) const {
    if (f.null()) return std::nullopt;
    return string(f, key);
  }

  [[nodiscard]] std::string date(const Field& f, std::string_view key) const {
    std::string text = string(f, key);
    const auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    const bool ok = text.size() == 10 && text[4] == '-' && text[7] == '-' && digit(0) && digit(1) &&
                    digit(2) && digit(3) && digit(5) && digit(6) && digit(8) && digit(9);
    if (!ok) {
      fail(f.value.Mark(),
           fmt::format("{} must be a date YYYY-MM-DD, got '{}'", key_where(key), text));
    }
    return text;
  }

  [[nodiscard]] std::int64_t integer(const Field& f, std::string_view key, std::int64_t min,
                                     std::int64_t max) const {
    const std::string& text = scalar(f, key, "an integer");
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value < min || value > max) {
      fail(f.value.Mark(), fmt::format("{} must be an integer in [{}, {}], got '{}'",
                                       key_where(key), min, max, text));
    }
    return value;
  }

  [[nodiscard]] std::optional<std::int64_t> optional_integer(const Field& f, std::string_view key,
                                                             std::int64_t min,
                                                             std::int64_t max) const {
    if (f.null()) return std::nullopt;
    return integer(f, key, min, max);
  }

  // A positive, finite number up to `max`.
  [[nodiscard]] double number(const Field& f, std::string_view key, double max) const {
    const std::string& text = scalar(f, key, "a number");
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value <= 0 ||
        value > max) {
      fail(f.value.Mark(),
           fmt::format("{} must be a number in (0, {}], got '{}'", key_where(key), max, text));
    }
    return value;
  }

  [[nodiscard]] std::optional<double> optional_number(const Field& f, std::string_view key,
                                                      double max) const {
    if (f.null()) return std::nullopt;
    return number(f, key, max);
  }

  [[nodiscard]] std::optional<bool> optional_bool(const Field& f, std::string_view key) const {
    if (f.null()) return std::nullopt;
    const std::string& text = scalar(f, key, "true, false or null");
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    fail(f.value.Mark(),
         fmt::format("{} must be true, false or null, got '{}'", key_where(key), text));
  }

  [[nodiscard]] const YAML::Node& sequence(const Field& f, std::string_view key,
                                           std::size_t max_items) const {
    if (!f.value || !f.value.IsSequence()) {
      fail(mark_of(f.value, f.key), fmt::format("{} must be a list", key_where(key)));
    }
    if (f.value.size() > max_items) {
      fail(mark_of(f.value, f.key), fmt::format("{} has {} items, more than the limit of {}",
                                                key_where(key), f.value.size(), max_items));
    }
    return f.value;
  }

  [[nodiscard]] std::vector<std::string> strings(const Field& f, std::string_view key) const {
    std::vector<std::string> out;
    if (f.null()) return out;
    const YAML::Node& list = sequence(f, key, max_list_items);
    for (std::size_t i = 0; i < list.size(); ++i) out.push_back(string(Field{f.key, list[i]}, key));
    return out;
  }

  template <typename Fn>
  void section(const Field& f, const std::string& key, const Keys& allowed, Fn read) {
    if (!f.value || !f.value.IsMap()) {
      fail(mark_of(f.value, f.key), fmt::format("{} must be a map", key_where(key)));
    }
    section_ = key;
    read(fields(f.value, allowed));
    section_.clear();
  }

  [[nodiscard]] Gpu card(const YAML::Node& node, const YAML::Mark& mark) {
    in_card_ = true;
    if (!node.IsMap()) fail(mark, fmt::format("{} must be a map of keys", where()));
    if (const YAML::Node id = node["id"];
        id && id.IsScalar() && !id.Scalar().empty() && id.Scalar().size() <= max_length("id")) {
      id_ = id.Scalar();
    }
    const Fields f = fields(node, gpu_keys);
    for (const char* key : {"id", "name", "vendor"}) {
      if (!f.contains(key))
        fail(mark, fmt::format("missing required key '{}' in {}", key, where()));
    }
    Gpu g;
    g.origin = origin_;
    for (const auto& key_and_field : f) {
      const std::string& key = key_and_field.first;
      const Field& field = key_and_field.second;
      if (key == "id") {
        g.id = string(field, key);
        for (const char c : g.id) {
          if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            fail(field.value.Mark(), fmt::format("id '{}' must hold only a-z, 0-9 and '-'", g.id));
          }
        }
      } else if (key == "name") {
        g.name = string(field, key);
      } else if (key == "vendor") {
        const std::string text = string(field, key);
        const std::optional<GpuVendor> vendor = parse_gpu_vendor(text);
        if (!vendor) {
          fail(field.value.Mark(), fmt::format("{} must be nvidia, amd, intel or apple, got '{}'",
                                               key_where(key), text));
        }
        g.vendor = *vendor;
      } else if (key == "aliases") {
        g.aliases = strings(field, key);
      } else if (key == "memory_gb") {
        g.memory_gb = optional_number(field, key, 1e5);
      } else if (key == "memory_mib") {
        if (const auto v = optional_integer(field, key, 1, max_memory_mib))
          g.memory_bytes = *v * mib;
      } else if (key == "cuda_total_mib") {
        if (const auto v = optional_integer(field, key, 1, max_memory_mib)) {
          g.cuda_total_bytes = *v * mib;
        }
      } else if (key == "memory_source") {
        const std::string text = string(field, key);
        const std::optional<MemorySource> source = parse_memory_source(text);
        if (!source) {
          fail(field.value.Mark(),
               fmt::format("{} must be nvidia-smi, rocm-log, ggml-log, driver-bytes, spec or "
                           "unified, got '{}'",
                           key_where(key), text));
        }
        g.memory_source = *source;
      } else if (key == "memory_type") {
        g.memory_type = optional_string(field, key);
      } else if (key == "bandwidth_gbps") {
        g.bandwidth_gbps = optional_number(field, key, 1e6);
      } else if (key == "fp16_tensor_tflops") {
        g.fp16_tensor_tflops = optional_number(field, key, 1e7);
      } else if (key == "compute_capability") {
        if (const auto text = optional_string(field, key)) {
          g.compute_capability = parse_compute_capability(*text);
          if (!g.compute_capability) {
            fail(field.value.Mark(),
                 fmt::format("{} must be like '8.9', got '{}'", key_where(key), *text));
          }
        }
      } else if (key == "arch") {
        g.arch = optional_string(field, key).value_or("");
      } else if (key == "bf16") {
        g.bf16 = optional_bool(field, key);
      } else if (key == "fp8") {
        g.fp8 = optional_bool(field, key);
      } else if (key == "vllm") {
        g.vllm = optional_bool(field, key);
      } else if (key == "flash_attention") {
        section(field, key, flash_keys, [&](const Fields& s) {
          for (const auto& [k, v] : s) {
            if (k == "llama_cpp") g.flash_attention = optional_bool(v, k);
            if (k == "flash_attn2") g.flash_attn2 = optional_bool(v, k);
          }
        });
      } else if (key == "devices_per_board") {
        g.devices_per_board = static_cast<int>(integer(field, key, 1, 64));
      } else if (key == "unified_memory") {
        g.unified_memory = optional_bool(field, key).value_or(false);
      } else if (key == "gpu_cores") {
        if (!field.null()) {
          const YAML::Node& list = sequence(field, key, max_list_items);
          for (std::size_t i = 0; i < list.size(); ++i) {
            g.gpu_cores.push_back(
                static_cast<int>(integer(Field{field.key, list[i]}, key, 1, 65536)));
          }
        }
      } else if (key == "memory_configs_gb_seen") {
        if (!field.null()) {
          const YAML::Node& list = sequence(field, key, max_list_items);
          for (std::size_t i = 0; i < list.size(); ++i) {
            g.memory_configs_gb_seen.push_back(number(Field{field.key, list[i]}, key, 1e5));
          }
        }
      } else if (key == "sources") {
        g.sources = strings(field, key);
      } else if (key == "notes") {
        if (!field.null()) g.notes = string(field, key);
      }
    }
    if (g.memory_source == MemorySource::unified) g.unified_memory = true;
    in_card_ = false;
    return g;
  }

  [[nodiscard]] std::vector<AppleWorkingSetPoint> apple(const Field& field) {
    std::vector<AppleWorkingSetPoint> out;
    section(field, "apple_gpu_working_set", apple_keys, [&](const Fields& s) {
      for (const auto& [k, v] : s) {
        if (k == "what" || k == "rule_of_thumb" || k == "sysctl_source") {
          static_cast<void>(string(v, k));  // for people; checked, not kept
        } else if (k == "observed") {
          const YAML::Node& list = sequence(v, k, max_observed);
          for (std::size_t i = 0; i < list.size(); ++i) {
            const Field item{v.key, list[i]};
            if (!list[i].IsMap())
              fail(mark_of(list[i], v.value), "an observed point must be a map");
            section_ = "observed";
            const Fields p = fields(list[i], observed_keys);
            AppleWorkingSetPoint point;
            for (const char* need : {"unified_gb", "recommended_max_working_set_mib", "source"}) {
              if (!p.contains(need)) {
                fail(mark_of(list[i], v.value),
                     fmt::format("missing required key '{}' in an observed point", need));
              }
            }
            for (const auto& [pk, pv] : p) {
              if (pk == "unified_gb") point.unified_gb = number(pv, pk, 1e5);
              if (pk == "recommended_max_working_set_mib")
                point.recommended_mib = number(pv, pk, 1e8);
              if (pk == "source") point.source = string(pv, pk);
              if (pk == "machine") static_cast<void>(string(pv, pk));
            }
            section_ = "apple_gpu_working_set";
            out.push_back(std::move(point));
          }
        }
      }
    });
    return out;
  }

  const std::string& origin_;
  std::size_t index_ = 0;
  bool in_card_ = false;
  std::string id_;
  std::string section_;
};

}  // namespace

GpuCatalogFile parse_gpu_catalog(std::string_view text, const std::string& origin) {
  try {
    return Reader(origin).document(text);
  } catch (const YAML::Exception& e) {
    Reader(origin).fail(e.mark, yaml_message(e.msg));
  }
}

}  // namespace vramplan::io
