// GPU catalog YAML -> Gpu values (format: docs/sizing-data.md §1). Every error names the
// file, the 1-based line and column, and the card it is about; null is "not known" and stays
// an empty optional.
#include <map>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>

#include "yaml_bounded.hpp"
#include "yaml_fields.hpp"

namespace vramplan::io {
namespace {

using Keys = YamlKeys;

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

// Most items per list.
constexpr std::size_t max_list_items = 64;
constexpr std::size_t max_gpus = 4096;
constexpr std::size_t max_observed = 256;
constexpr std::int64_t max_memory_mib = std::int64_t{1} << 24;  // 16 TiB per device

using Field = YamlField;
using Fields = YamlFieldMap;

class Reader final : public YamlFieldReader {
 public:
  explicit Reader(const std::string& origin) : YamlFieldReader(origin, IntegerWording::combined) {}

  [[nodiscard]] GpuCatalogFile document(std::string_view text) {
    const YAML::Node root = load(text, "GPU catalog");
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
    each_entry(
        list,
        [&](std::size_t i, const YAML::Node& node, const YAML::Mark& mark) -> const std::string& {
          index_ = i;
          id_.clear();
          out.gpus.push_back(card(node, mark));
          return out.gpus.back().id;
        });
    return out;
  }

 private:
  [[nodiscard]] std::string where() const override {
    if (!in_card_) return "the file";
    return id_.empty() ? fmt::format("GPU #{}", index_ + 1) : fmt::format("GPU '{}'", id_);
  }

  // Longest kept value per key.
  [[nodiscard]] std::size_t max_length(std::string_view key) const override {
    if (key == "id" || key == "arch" || key == "memory_type" || key == "checked") return 64;
    if (key == "name" || key == "aliases") return 128;
    if (key == "notes" || key == "what" || key == "rule_of_thumb") return 4096;
    if (key == "sources" || key == "source" || key == "sysctl_source") return 1024;
    return 256;
  }

  // null is "not known": an empty optional, an empty list.
  [[nodiscard]] std::optional<std::string> optional_string(const Field& f,
                                                           std::string_view key) const {
    if (f.null()) return std::nullopt;
    return string(f, key);
  }

  [[nodiscard]] std::optional<std::int64_t> optional_integer(const Field& f, std::string_view key,
                                                             std::int64_t min,
                                                             std::int64_t max) const {
    if (f.null()) return std::nullopt;
    return integer(f, key, min, max);
  }

  // A positive, finite number up to `max`.
  [[nodiscard]] double number(const Field& f, std::string_view key, double max) const {
    return YamlFieldReader::number(f, key, 0, /*above_min=*/true, max);
  }

  [[nodiscard]] std::optional<double> optional_number(const Field& f, std::string_view key,
                                                      double max) const {
    if (f.null()) return std::nullopt;
    return number(f, key, max);
  }

  [[nodiscard]] std::optional<bool> optional_bool(const Field& f, std::string_view key) const {
    if (f.null()) return std::nullopt;
    return boolean(f, key, "true, false or null");
  }

  [[nodiscard]] std::vector<std::string> strings(const Field& f, std::string_view key) const {
    if (f.null()) return {};
    return YamlFieldReader::strings(f, key, max_list_items);
  }

  [[nodiscard]] Gpu card(const YAML::Node& node, const YAML::Mark& mark) {
    in_card_ = true;
    if (!node.IsMap()) fail(mark, fmt::format("{} must be a map of keys", where()));
    id_ = early_id(node);
    const Fields f = fields(node, gpu_keys);
    for (const char* key : {"id", "name", "vendor"}) {
      if (!f.contains(key))
        fail(mark, fmt::format("missing required key '{}' in {}", key, where()));
    }
    Gpu g;
    g.origin = origin();
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

  std::size_t index_ = 0;
  bool in_card_ = false;
  std::string id_;
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
