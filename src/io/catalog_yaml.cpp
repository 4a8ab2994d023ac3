// Catalog YAML -> CatalogEntry (schema: docs/catalog.md). Every error names the file, the
// 1-based line and column, and the model it is about.
#include <vramplan/io/catalog_yaml.hpp>

#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/ggml_type.hpp>

#include "yaml_bounded.hpp"
#include "yaml_fields.hpp"

namespace vramplan::io {
namespace {

// Keys of one model entry, and of its nested maps.
const YamlKeys model_keys{
    "id",
    "name",
    "ollama",
    "latest",
    "hf",
    "aliases",
    "params",
    "quants",
    "notes",
    "source",
    "checked",
    "arch",
    "layers",
    "embd",
    "ffn",
    "heads",
    "kv_heads",
    "head_dim",
    "head_dim_k",
    "head_dim_v",
    "vocab",
    "context",
    "tied_embeddings",
    "stored_output",
    "causal",
    "rope_freqs",
    "rope_factors",
    "sliding_window",
    "mla",
    "moe",
    "nextn_layers",
    "projector",
    "kv_heads_per_layer",
    "ffn_per_layer",
    "recurrent",
    "cross_attention",
    "quantizer",
    "token_embd_type",
};
const YamlKeys swa_keys{"window", "period", "dense_first", "layers"};
const YamlKeys mla_keys{"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim",
                        "v_head_dim"};
const YamlKeys moe_keys{"experts",   "experts_used",  "ffn_exp", "shared_experts",
                        "ffn_shexp", "leading_dense", "every"};
const YamlKeys projector_keys{"bytes",  "description", "encoder",   "layers",  "width",
                              "ffn",    "heads",       "patch",     "image",   "merge",
                              "window", "positions",   "deepstack", "queries", "adapter"};
const YamlKeys recurrent_keys{"conv_kernel", "inner_size",     "state_size",
                              "group_count", "time_step_rank", "layers"};
const YamlKeys cross_attention_keys{"layers", "tokens"};
const char* const required_keys[] = {"id",    "name",  "arch",    "layers", "embd",
                                     "heads", "vocab", "context", "quants"};

// Reads one document; remembers the model being read for messages.
class Reader final : public YamlFieldReader {
 public:
  explicit Reader(const std::string& origin) : YamlFieldReader(origin, IntegerWording::separate) {}

  [[nodiscard]] std::vector<CatalogEntry> document(std::string_view text) {
    const YAML::Node root = load(text, "catalog");
    if (!root.IsMap()) fail(root.Mark(), "expected a map with the key 'models'");
    YAML::Node models;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key != "models") fail(it->first.Mark(), fmt::format("unknown top-level key '{}'", key));
      models = it->second;
    }
    if (!models) fail(root.Mark(), "missing the key 'models'");
    if (models.IsNull()) return {};
    if (!models.IsSequence()) fail(mark_of(models, root), "'models' must be a list of models");

    std::vector<CatalogEntry> entries;
    each_entry(
        models,
        [&](std::size_t i, const YAML::Node& node, const YAML::Mark& mark) -> const std::string& {
          model_index_ = i;
          model_id_.clear();
          entries.push_back(model(node, mark));
          return entries.back().id;
        });
    return entries;
  }

 private:
  // "in model 'foo'" or, before the id is known, "in model #3".
  [[nodiscard]] std::string where() const override {
    return model_id_.empty() ? fmt::format("model #{}", model_index_ + 1)
                             : fmt::format("model '{}'", model_id_);
  }

  // Longest kept value per key (a name pads every row of `vramplan models`).
  [[nodiscard]] std::size_t max_length(std::string_view key) const override {
    if (key == "id" || key == "arch") return 64;
    if (key == "name" || key == "aliases") return 128;
    if (key == "notes") return 4096;
    if (key == "source" || key == "description") return 1024;
    return 256;
  }

  // Lists are bounded by the document's node count already.
  [[nodiscard]] std::vector<std::string> strings(const YamlField& f, const std::string& key) const {
    return YamlFieldReader::strings(f, key, catalog_max_nodes);
  }

  [[nodiscard]] std::int32_t int32(const YamlField& f, const std::string& key,
                                   std::int64_t min = 0) const {
    return static_cast<std::int32_t>(
        integer(f, key, min, std::numeric_limits<std::int32_t>::max()));
  }

  [[nodiscard]] bool boolean(const YamlField& f, const std::string& key) const {
    return YamlFieldReader::boolean(f, key, "true or false");
  }

  template <typename T>
  [[nodiscard]] std::vector<T> integers(const YamlField& f, const std::string& key) const {
    std::vector<T> out;
    const YAML::Node& list = sequence(f, key, catalog_max_nodes);
    for (std::size_t i = 0; i < list.size(); ++i) {
      out.push_back(static_cast<T>(
          integer(YamlField{f.key, list[i]}, key, 0, std::numeric_limits<std::int32_t>::max())));
    }
    return out;
  }

  [[nodiscard]] std::vector<bool> booleans(const YamlField& f, const std::string& key) const {
    std::vector<bool> out;
    const YAML::Node& list = sequence(f, key, catalog_max_nodes);
    for (std::size_t i = 0; i < list.size(); ++i) {
      out.push_back(boolean(YamlField{f.key, list[i]}, key));
    }
    return out;
  }

  [[nodiscard]] CatalogEntry model(const YAML::Node& node, const YAML::Mark& mark) {
    if (!node.IsMap()) fail(mark, fmt::format("{} must be a map of keys", where()));
    model_id_ = early_id(node);
    const auto f = fields(node, model_keys);
    for (const char* key : required_keys) {
      if (!f.contains(key)) {
        fail(mark, fmt::format("missing required key '{}' in {}", key, where()));
      }
    }

    CatalogEntry e;
    ModelSpec& s = e.spec;
    e.source = origin();
    bool head_dim = false;
    bool head_dim_kv = false;
    bool kv_heads = false;
    for (const auto& key_and_field : f) {
      // Named references, not a structured binding: clang 14 cannot capture bindings in the
      // lambdas below.
      const auto& key = key_and_field.first;
      const auto& field = key_and_field.second;
      if (key == "id") {
        e.id = string(field, key);
        for (const char c : e.id) {
          if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '/') {
            fail(field.value.Mark(),
                 fmt::format("id '{}' must not contain spaces, ':' or '/'", e.id));
          }
        }
      } else if (key == "name") {
        e.name = string(field, key);
      } else if (key == "ollama") {
        e.ollama = strings(field, key);
        for (const std::string& tag : e.ollama) {
          const std::size_t colon = tag.find(':');
          if (colon == std::string::npos || colon == 0 || colon + 1 == tag.size() ||
              tag.find(':', colon + 1) != std::string::npos) {
            fail(field.value.Mark(),
                 fmt::format("Ollama name '{}' in {} must be 'model:tag'", tag, where()));
          }
        }
      } else if (key == "latest") {
        e.ollama_latest = boolean(field, key);
      } else if (key == "hf") {
        e.hf = strings(field, key);
      } else if (key == "aliases") {
        e.aliases = strings(field, key);
      } else if (key == "params") {
        e.params_published = number(field, key, 0, /*above_min=*/false);
      } else if (key == "quants") {
        const YAML::Node& list = sequence(field, key, catalog_max_nodes);
        if (list.size() == 0) {
          fail(mark_of(field.value, field.key),
               fmt::format("{} must list at least one quantization", key_where(key)));
        }
        for (std::size_t i = 0; i < list.size(); ++i) {
          const YamlField item{field.key, list[i]};
          const std::string name = string(item, key);
          const std::optional<FileType> type = parse_file_type(name);
          if (!type) {
            fail(mark_of(list[i], field.value),
                 fmt::format("unknown quantization '{}' in {}", name, where()));
          }
          e.quants.push_back(*type);
        }
        e.default_quant = e.quants.front();
      } else if (key == "notes") {
        e.notes = scalar(field, key, "a string");
        check_length(field, key, e.notes);
      } else if (key == "checked") {
        e.checked = date(field, key);
      } else if (key == "source") {
        static_cast<void>(string(field, key));  // a citation for people; not used at run time
      } else if (key == "arch") {
        s.arch = string(field, key);
      } else if (key == "layers") {
        s.n_layer = int32(field, key, 1);
      } else if (key == "embd") {
        s.n_embd = integer(field, key, 1, std::numeric_limits<std::int32_t>::max());
      } else if (key == "ffn") {
        s.n_ff = integer(field, key, 0, std::numeric_limits<std::int32_t>::max());
      } else if (key == "heads") {
        s.n_head = int32(field, key, 1);
      } else if (key == "kv_heads") {
        s.n_head_kv = int32(field, key);
        kv_heads = true;
      } else if (key == "head_dim") {
        s.key_length = s.value_length = int32(field, key, 1);
        head_dim = true;
      } else if (key == "head_dim_k") {
        s.key_length = int32(field, key, 1);
        head_dim_kv = true;
      } else if (key == "head_dim_v") {
        s.value_length = int32(field, key, 1);
        head_dim_kv = true;
      } else if (key == "vocab") {
        s.n_vocab = integer(field, key, 1, std::numeric_limits<std::int32_t>::max());
      } else if (key == "context") {
        s.n_ctx_train = integer(field, key, 1, std::numeric_limits<std::int32_t>::max());
      } else if (key == "tied_embeddings") {
        s.tied_embeddings = boolean(field, key);
      } else if (key == "stored_output") {
        s.stored_output = boolean(field, key);
      } else if (key == "causal") {
        s.causal = boolean(field, key);
      } else if (key == "rope_freqs") {
        s.rope_freqs = boolean(field, key);
      } else if (key == "rope_factors") {
        s.rope_factors = int32(field, key);
      } else if (key == "quantizer") {
        const std::string who = string(field, key);
        if (who == "ollama") {
          s.quantizer = Quantizer::ollama;
        } else if (who == "ollama-0.6.5") {
          s.quantizer = Quantizer::ollama_065;
        } else if (who == "llama-quantize") {
          s.quantizer = Quantizer::llama_quantize;
        } else {
          fail(mark_of(field.value, field.key),
               fmt::format("unknown quantizer '{}' in {} (expected 'llama-quantize', 'ollama' "
                           "or 'ollama-0.6.5')",
                           who, where()));
        }
      } else if (key == "token_embd_type") {
        const std::string name = string(field, key);
        const std::optional<GgmlType> type = parse_ggml_type(name);
        if (!type) {
          fail(mark_of(field.value, field.key),
               fmt::format("unknown tensor type '{}' for token_embd_type in {}", name, where()));
        }
        s.token_embd_type = type;
      } else if (key == "nextn_layers") {
        s.n_nextn = int32(field, key);
      } else if (key == "kv_heads_per_layer") {
        s.n_head_kv_per_layer = integers<std::int32_t>(field, key);
      } else if (key == "ffn_per_layer") {
        s.n_ff_per_layer = integers<std::int64_t>(field, key);
      } else if (key == "sliding_window") {
        section(field, key, swa_keys, [&](const auto& g) {
          for (const auto& [k, v] : g) {
            if (k == "window") s.swa.window = integer(v, k, 1, std::int64_t{1} << 27);
            if (k == "period") s.swa.period = int32(v, k);
            if (k == "dense_first") s.swa.dense_first = boolean(v, k);
            if (k == "layers") s.swa.layers = booleans(v, k);
          }
          if (!g.contains("window"))
            fail(field.value.Mark(),
                 fmt::format("missing required key 'window' in 'sliding_window' of {}", where()));
        });
      } else if (key == "mla") {
        section(field, key, mla_keys, [&](const auto& g) {
          for (const auto& [k, v] : g) {
            if (k == "q_lora_rank") s.mla.q_lora_rank = int32(v, k);
            if (k == "kv_lora_rank") s.mla.kv_lora_rank = int32(v, k, 1);
            if (k == "qk_nope_head_dim") s.mla.qk_nope_head_dim = int32(v, k);
            if (k == "qk_rope_head_dim") s.mla.qk_rope_head_dim = int32(v, k, 1);
            if (k == "v_head_dim") s.mla.v_head_dim = int32(v, k, 1);
          }
          for (const char* k :
               {"kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"}) {
            if (!g.contains(k))
              fail(field.value.Mark(),
                   fmt::format("missing required key '{}' in 'mla' of {}", k, where()));
          }
        });
      } else if (key == "moe") {
        section(field, key, moe_keys, [&](const auto& g) {
          for (const auto& [k, v] : g) {
            if (k == "experts") s.moe.n_expert = int32(v, k, 1);
            if (k == "experts_used") s.moe.n_expert_used = int32(v, k, 1);
            if (k == "ffn_exp") s.moe.n_ff_exp = integer(v, k, 1, 1 << 22);
            if (k == "shared_experts") s.moe.n_expert_shared = int32(v, k);
            if (k == "ffn_shexp") s.moe.n_ff_shexp = integer(v, k, 0, 1 << 22);
            if (k == "leading_dense") s.moe.n_leading_dense = int32(v, k);
            if (k == "every") s.moe.every_n = int32(v, k, 1);
          }
          for (const char* k : {"experts", "experts_used", "ffn_exp"}) {
            if (!g.contains(k))
              fail(field.value.Mark(),
                   fmt::format("missing required key '{}' in 'moe' of {}", k, where()));
          }
        });
      } else if (key == "projector") {
        section(field, key, projector_keys, [&](const auto& g) {
          Projector p;
          for (const auto& [k, v] : g) {
            if (k == "bytes") p.bytes = integer(v, k, 1, std::int64_t{1} << 40);
            if (k == "description") p.description = string(v, k);
          }
          if (!g.contains("bytes"))
            fail(field.value.Mark(),
                 fmt::format("missing required key 'bytes' in 'projector' of {}", where()));
          // The encoder's shape (its compute buffer, vision_encoder.hpp): all keys or none.
          if (g.contains("encoder")) {
            VisionEncoder enc;
            for (const auto& [k, v] : g) {
              if (k == "encoder" && !parse_vision_encoder_kind(string(v, k), enc.kind))
                fail(v.value.Mark(),
                     fmt::format("'encoder' in 'projector' of {} must be gemma3, mlp, "
                                 "qwen2.5vl_merger, qwen3vl_merger, pixtral, resampler, "
                                 "llama4, mlp_siglip, qwen2vl_merger, idefics3 or internvl",
                                 where()));
              if (k == "layers") enc.layers = int32(v, k, 1);
              if (k == "width") enc.width = int32(v, k, 1);
              if (k == "ffn") enc.ffn = int32(v, k, 1);
              if (k == "heads") enc.heads = int32(v, k, 1);
              if (k == "patch") enc.patch = int32(v, k, 1);
              if (k == "image") enc.image = int32(v, k, 1);
              if (k == "merge") enc.merge = int32(v, k, 1);
              if (k == "window") enc.window = int32(v, k);
              if (k == "positions") enc.positions = int32(v, k);
              if (k == "deepstack") enc.deepstack = integers<std::int32_t>(v, k);
              if (k == "queries") enc.queries = int32(v, k, 1);
              if (k == "adapter") enc.adapter = int32(v, k);
            }
            // merge defaults to gemma3's pool of 4; pixtral's merger and the llama4,
            // idefics3 and internvl pixel shuffles have no default.
            for (const char* k : {"layers", "width", "ffn", "heads", "patch", "image", "merge"}) {
              if (!g.contains(k) &&
                  (std::string_view(k) != "merge" || enc.kind == VisionEncoderKind::pixtral ||
                   enc.kind == VisionEncoderKind::llama4 ||
                   enc.kind == VisionEncoderKind::idefics3 ||
                   enc.kind == VisionEncoderKind::internvl))
                fail(field.value.Mark(),
                     fmt::format("missing required key '{}' in 'projector' of {}", k, where()));
            }
            try {
              validate(enc);
            } catch (const Error& err) {
              fail(field.value.Mark(), fmt::format("{} in 'projector' of {}", err.what(), where()));
            }
            p.encoder = enc;
          } else {
            for (const char* k : {"layers", "width", "ffn", "heads", "patch", "image", "merge",
                                  "window", "positions", "deepstack", "queries", "adapter"}) {
              if (g.contains(k))
                fail(field.value.Mark(),
                     fmt::format("'{}' in 'projector' of {} needs 'encoder'", k, where()));
            }
          }
          e.projector = std::move(p);
        });
      } else if (key == "cross_attention") {
        section(field, key, cross_attention_keys, [&](const auto& g) {
          for (const auto& [k, v] : g) {
            if (k == "layers") s.cross.layers = integers<std::int32_t>(v, k);
            if (k == "tokens") s.cross.tokens = integer(v, k, 1, 1 << 20);
          }
          for (const char* k : {"layers", "tokens"}) {
            if (!g.contains(k))
              fail(field.value.Mark(),
                   fmt::format("missing required key '{}' in 'cross_attention' of {}", k, where()));
          }
        });
      } else if (key == "recurrent") {
        section(field, key, recurrent_keys, [&](const auto& g) {
          for (const auto& [k, v] : g) {
            if (k == "conv_kernel") s.recurrent.conv_kernel = int32(v, k);
            if (k == "inner_size") s.recurrent.inner_size = integer(v, k, 0, 1 << 24);
            if (k == "state_size") s.recurrent.state_size = integer(v, k, 0, 1 << 24);
            if (k == "group_count") s.recurrent.group_count = int32(v, k);
            if (k == "time_step_rank") s.recurrent.time_step_rank = int32(v, k);
            if (k == "layers") s.recurrent.layers = booleans(v, k);
          }
        });
      }
    }
    if (head_dim && head_dim_kv) {
      fail(mark, fmt::format("{} gives both 'head_dim' and 'head_dim_k'/'head_dim_v'", where()));
    }
    if (!kv_heads) s.n_head_kv = s.n_head;  // GGUF's default: head_count_kv = head_count
    // Qwen3-VL: the text model's n_deepstack_layers is the tower's DeepStack count, as the
    // converters write it (convert_hf_to_gguf.py conversion/qwen3vl.py and Ollama's
    // convert/convert_qwen3vl.go: len(vision_config.deepstack_visual_indexes)).
    if (architecture(s.arch).deepstack_layers && e.projector && e.projector->encoder) {
      s.n_deepstack = static_cast<std::int32_t>(e.projector->encoder->deepstack.size());
    }

    validate(s, fmt::format("{}:{}:{}: {}", origin(), mark.line + 1, mark.column + 1, where()));
    return e;
  }

  std::size_t model_index_ = 0;
  std::string model_id_;
};

}  // namespace

std::vector<CatalogEntry> parse_catalog(std::string_view text, const std::string& origin) {
  try {
    return Reader(origin).document(text);
  } catch (const YAML::Exception& e) {
    // Conversions inside yaml-cpp (should not happen: scalars are read as text).
    Reader(origin).fail(e.mark, yaml_message(e.msg));
  }
}

}  // namespace vramplan::io
