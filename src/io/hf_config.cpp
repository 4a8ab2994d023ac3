#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/architecture.hpp>
#include <vramplan/io/hf_config.hpp>

#include "json_input.hpp"

namespace vramplan::io {
namespace {

using Json = nlohmann::json;

constexpr std::int64_t max_layers = 1024;  // as validate()
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t big = std::int64_t{1} << 40;  // caps sizes before validate() does

// Limits of what a JSON input keeps in memory (docs/reliability.md §6); far above real files.
// config.json: ~100 keys; an id2label map of a classifier head can hold tens of thousands.
constexpr JsonLimits config_limits{
    .max_depth = max_json_depth, .max_values = 1u << 16, .max_string = 1u << 20};

// --- config.json ----------------------------------------------------------------------------

// Typed access to one JSON object, with messages that name the key ("text_config.x").
class Fields {
 public:
  Fields(const Json& object, std::string prefix, const std::string& origin)
      : object_(object), prefix_(std::move(prefix)), origin_(origin) {}

  void set_defaults(std::span<const HfDefault> defaults) { defaults_ = defaults; }

  [[nodiscard]] std::string name(std::string_view key) const {
    return fmt::format("{}{}", prefix_, key);
  }
  [[nodiscard]] const std::string& origin() const { return origin_; }
  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    bad_input(origin_, fmt::format("'{}' {}", name(key), what));
  }

  // The value of `key`; nullptr when absent or null.
  [[nodiscard]] const Json* find(std::string_view key) const {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  // The first of `keys` present (for aliases); nullopt when none is.
  [[nodiscard]] std::optional<std::string_view> first_of(
      std::initializer_list<std::string_view> keys) const {
    for (std::string_view k : keys) {
      if (find(k) != nullptr) return k;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<std::int64_t> opt_int(std::string_view key, std::int64_t lo,
                                                    std::int64_t hi) const {
    const Json* v = find(key);
    if (v == nullptr) {
      for (const HfDefault& d : defaults_) {
        if (d.key == key) return d.value;
      }
      return std::nullopt;
    }
    if (!v->is_number_integer()) fail(key, fmt::format("must be an integer, got {}", type(*v)));
    if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      fail(key, fmt::format("is {}, outside [{}, {}]", v->get<std::uint64_t>(), lo, hi));
    }
    const auto value = v->get<std::int64_t>();
    if (value < lo || value > hi) fail(key, fmt::format("is {}, outside [{}, {}]", value, lo, hi));
    return value;
  }

  // The first alias present; a missing value is reported under the first alias.
  [[nodiscard]] std::optional<std::int64_t> opt_int(std::initializer_list<std::string_view> keys,
                                                    std::int64_t lo, std::int64_t hi) const {
    const std::optional<std::string_view> key = first_of(keys);
    return opt_int(key.value_or(*keys.begin()), lo, hi);
  }

  [[nodiscard]] std::int64_t req_int(std::initializer_list<std::string_view> keys, std::int64_t lo,
                                     std::int64_t hi) const {
    const std::optional<std::int64_t> value = opt_int(keys, lo, hi);
    if (!value) missing(*keys.begin());
    return *value;
  }

  [[noreturn]] void missing(std::string_view key) const {
    bad_input(origin_, fmt::format("missing '{}'", name(key)));
  }

  [[nodiscard]] std::optional<bool> opt_bool(std::string_view key) const {
    const Json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) fail(key, fmt::format("must be a boolean, got {}", type(*v)));
    return v->get<bool>();
  }

  [[nodiscard]] std::optional<std::string> opt_string(std::string_view key) const {
    const Json* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(key, fmt::format("must be a string, got {}", type(*v)));
    return v->get<std::string>();
  }

  [[nodiscard]] std::vector<std::int64_t> opt_int_array(std::string_view key, std::int64_t lo,
                                                        std::int64_t hi) const {
    const Json* v = find(key);
    if (v == nullptr) return {};
    if (!v->is_array()) fail(key, fmt::format("must be an array of integers, got {}", type(*v)));
    std::vector<std::int64_t> out;
    for (const Json& x : *v) {
      if (!x.is_number_integer()) fail(key, "must be an array of integers");
      const auto value = x.get<std::int64_t>();
      if (value < lo || value > hi || (x.is_number_unsigned() && value < 0)) {
        fail(key, fmt::format("has an entry {}, outside [{}, {}]", x.dump(), lo, hi));
      }
      out.push_back(value);
    }
    return out;
  }

  [[nodiscard]] static std::string_view type(const Json& v) {
    if (v.is_number_float()) return "a number with a fraction";
    return v.type_name();
  }

 private:
  const Json& object_;
  std::string prefix_;
  const std::string& origin_;
  std::span<const HfDefault> defaults_;
};

std::int32_t to_i32(std::int64_t v) { return static_cast<std::int32_t>(v); }  // range-checked

// Which layers slide, compressed to llama.cpp's set_swa_pattern(p) form when it fits (so
// the spec equals the catalog's), else kept as explicit per-layer flags.
SlidingWindow compress(std::int64_t window, const std::vector<bool>& flags) {
  if (std::find(flags.begin(), flags.end(), true) == flags.end()) return {};
  if (std::find(flags.begin(), flags.end(), false) == flags.end()) {
    return SlidingWindow{.window = window, .period = 0};
  }
  const auto n = static_cast<std::int32_t>(flags.size());
  for (std::int32_t p = 2; p <= n; ++p) {
    bool match = true;
    for (std::int32_t il = 0; il < n && match; ++il) {
      match = flags[static_cast<std::size_t>(il)] == (il % p < p - 1);
    }
    if (match) return SlidingWindow{.window = window, .period = p};
  }
  return SlidingWindow{.window = window, .layers = flags};
}

// Sliding window per config, with llama.cpp's fixed period where the architecture has one
// (its SlidingWindowRule; src/models/<arch>.cpp set_swa_pattern).
SlidingWindow sliding_window(const Fields& f, const Architecture& a, std::int64_t n_layer,
                             std::int64_t n_ctx) {
  const std::int64_t window = f.opt_int("sliding_window", 0, big).value_or(0);
  const std::optional<bool> use = f.opt_bool("use_sliding_window");
  if (use == false || (a.hf_swa_opt_in && !use)) return {};
  // llama.cpp never applies phi3's sliding_window (2047 in the 4k variants).
  if (!a.swa.applies || window <= 0 || window >= n_ctx) return {};
  // llama.cpp's own period, where the family has one.
  const bool fixed = !a.hf_names.empty() && !a.swa.pattern_from_file && a.swa.period > 0;
  const SlidingWindow fixed_swa{
      .window = window, .period = a.swa.period, .dense_first = a.swa.dense_first};
  if (fixed && !a.hf_layer_pattern_first) return fixed_swa;

  const auto n = static_cast<std::size_t>(n_layer);
  std::vector<bool> flags(n, true);
  if (const Json* types = f.find("layer_types")) {
    if (!types->is_array() || types->size() != n) {
      f.fail("layer_types", fmt::format("must be an array of {} strings", n_layer));
    }
    for (std::size_t il = 0; il < n; ++il) {
      const Json& t = (*types)[il];
      if (!t.is_string()) f.fail("layer_types", fmt::format("must be an array of {} strings", n));
      flags[il] = t.get<std::string>() == "sliding_attention";
    }
  } else if (const auto pattern = f.opt_int("sliding_window_pattern", 1, max_layers)) {
    // Gemma-style: every pattern-th layer is global.
    for (std::size_t il = 0; il < n; ++il) {
      flags[il] = static_cast<std::int64_t>(il) % *pattern < *pattern - 1;
    }
  } else if (a.hf_swa_opt_in) {
    // Qwen2: layers from max_window_layers on use the window.
    const std::int64_t first = f.opt_int("max_window_layers", 0, big).value_or(0);
    for (std::size_t il = 0; il < n; ++il) flags[il] = static_cast<std::int64_t>(il) >= first;
  } else if (fixed) {
    return fixed_swa;
  }
  return compress(window, flags);
}

Moe mixture_of_experts(const Fields& f, std::int64_t n_ff, std::int64_t n_layer) {
  Moe moe;
  const std::int64_t n_expert =
      f.opt_int({"num_local_experts", "num_experts", "n_routed_experts"}, 0, 4096).value_or(0);
  if (n_expert == 0) return moe;
  moe.n_expert = to_i32(n_expert);
  moe.n_expert_used = to_i32(f.req_int({"num_experts_per_tok", "experts_per_token"}, 1, n_expert));
  const std::optional<std::int64_t> n_ff_exp = f.opt_int("moe_intermediate_size", 1, big);
  if (!n_ff_exp && n_ff == 0) f.missing("moe_intermediate_size");
  moe.n_ff_exp = n_ff_exp.value_or(n_ff);
  if (const auto shared = f.opt_int("n_shared_experts", 0, 64); shared && *shared > 0) {
    moe.n_expert_shared = to_i32(*shared);  // deepseek: one block n_shared * moe width
    moe.n_ff_shexp = *shared * moe.n_ff_exp;
  } else if (const auto width = f.opt_int("shared_expert_intermediate_size", 0, big);
             width && *width > 0) {
    moe.n_expert_shared = 1;  // qwen2moe
    moe.n_ff_shexp = *width;
  }
  std::int64_t leading = f.opt_int("first_k_dense_replace", 0, n_layer).value_or(0);
  const std::vector<std::int64_t> dense = f.opt_int_array("mlp_only_layers", 0, n_layer - 1);
  for (std::size_t i = 0; i < dense.size(); ++i) {
    if (dense[i] != static_cast<std::int64_t>(i)) {
      f.fail("mlp_only_layers",
             "lists dense layers that are not the first ones; vramplan cannot plan that layout");
    }
  }
  leading = std::max(leading, static_cast<std::int64_t>(dense.size()));
  moe.n_leading_dense = to_i32(leading);
  moe.every_n = to_i32(f.opt_int("decoder_sparse_step", 1, n_layer).value_or(1));
  if (f.opt_int("moe_layer_freq", 1, n_layer).value_or(1) != 1) {
    f.fail("moe_layer_freq", "other than 1 is not supported");
  }
  return moe;
}

// Llama 3.1-style rope scaling: rope_scaling (or rope_parameters, which newer configs write,
// per layer type where it has a "full_attention" entry) with rope_type (older configs: type)
// "llama3", as llama.cpp's converter reads it (conversion/llama.py, generate_extra_tensors).
bool llama3_rope_scaling(const Fields& f) {
  for (const std::string_view key : {"rope_scaling", "rope_parameters"}) {
    const Json* value = f.find(key);
    if (value == nullptr) continue;
    if (!value->is_object()) {
      f.fail(key, fmt::format("must be an object, got {}", Fields::type(*value)));
    }
    std::string prefix = f.name(key) + ".";
    const Json* params = value;
    if (const auto full = value->find("full_attention");
        full != value->end() && full->is_object()) {
      params = &*full;
      prefix += "full_attention.";
    }
    const Fields rope(*params, prefix, f.origin());
    std::string type = rope.opt_string("rope_type").value_or(rope.opt_string("type").value_or(""));
    std::ranges::transform(type, type.begin(), [](unsigned char c) { return std::tolower(c); });
    if (type == "llama3") return true;
  }
  return false;
}

// LongRoPE: rope_scaling.long_factor, one value per rotated pair (n_rot / 2), which the
// converters write as rope_factors_long/short.weight (conversion/phi.py checks that both lists
// have that length); 0 without the list.
std::int32_t longrope_factors(const Fields& f) {
  const Json* value = f.find("rope_scaling");
  if (value == nullptr) return 0;
  if (!value->is_object()) {
    f.fail("rope_scaling", fmt::format("must be an object, got {}", Fields::type(*value)));
  }
  const Fields rope(*value, f.name("rope_scaling") + ".", f.origin());
  const Json* factors = rope.find("long_factor");
  if (factors == nullptr) return 0;
  if (!factors->is_array()) rope.fail("long_factor", "must be an array of numbers");
  if (factors->size() > (1U << 13)) rope.fail("long_factor", "has more than 8192 values");
  return static_cast<std::int32_t>(factors->size());
}

}  // namespace

HfConfig spec_from_hf_config(std::string_view json, const std::string& origin) {
  const Json root = parse_json(json, origin, config_limits);
  if (!root.is_object()) bad_input(origin, "expected a JSON object");
  const Fields top(root, "", origin);
  HfConfig out;

  if (const Json* a = top.find("architectures")) {
    if (!a->is_array() || (!a->empty() && !(*a)[0].is_string())) {
      top.fail("architectures", "must be an array of strings");
    }
    if (!a->empty()) out.architecture = (*a)[0].get<std::string>();
  }
  const Json* text = top.find("text_config");
  if (text != nullptr && !text->is_object()) {
    top.fail("text_config", fmt::format("must be an object, got {}", Fields::type(*text)));
  }
  out.from_text_config = text != nullptr;
  Fields f = text != nullptr ? Fields(*text, "text_config.", origin) : top;

  const std::string top_type = top.opt_string("model_type").value_or("");
  const std::string text_type = text != nullptr ? f.opt_string("model_type").value_or("") : "";
  out.model_type = text_type.empty() ? top_type : text_type;
  const Architecture* known = architecture_by_hf_class(out.architecture);
  if (known == nullptr) known = architecture_by_model_type(text_type);
  if (known == nullptr) known = architecture_by_model_type(top_type);
  ModelSpec& s = out.spec;
  if (known != nullptr) {
    s.arch = std::string(known->name);
  } else {
    if (out.model_type.empty()) bad_input(origin, "missing 'model_type'");
    s.arch = out.model_type;
    out.known_architecture = false;
  }
  const Architecture& arch = architecture(s.arch);
  f.set_defaults(arch.hf_defaults);

  const std::int64_t n_layer =
      f.req_int({"num_hidden_layers", "n_layer", "num_layers"}, 1, max_layers);
  s.n_layer = to_i32(n_layer);
  s.n_embd = f.req_int({"hidden_size", "n_embd", "d_model"}, 1, big);
  s.n_head = to_i32(f.req_int({"num_attention_heads", "n_head", "num_heads"}, 1, int32_max));
  s.n_head_kv = to_i32(f.opt_int("num_key_value_heads", 1, int32_max).value_or(s.n_head));
  s.n_vocab = f.req_int({"vocab_size"}, 1, big);
  s.n_ctx_train = f.req_int(
      {"max_position_embeddings", "n_positions", "seq_length", "max_sequence_length"}, 1, big);
  const std::optional<std::int64_t> n_ff =
      f.opt_int({"intermediate_size", "ffn_hidden_size", "n_inner"}, 0, big);
  s.n_ff = n_ff.value_or(0);
  if (const auto head_dim = f.opt_int("head_dim", 1, 1 << 20)) {
    s.key_length = to_i32(*head_dim);
    s.value_length = to_i32(*head_dim);
  }

  // MLA (deepseek2): per-head sizes decompressed, as the catalog states them.
  if (const auto kv_lora = f.opt_int("kv_lora_rank", 0, 1 << 20); kv_lora && *kv_lora > 0) {
    s.mla.kv_lora_rank = to_i32(*kv_lora);
    s.mla.q_lora_rank = to_i32(f.opt_int("q_lora_rank", 0, 1 << 20).value_or(0));
    s.mla.qk_nope_head_dim = to_i32(f.req_int({"qk_nope_head_dim"}, 0, 1 << 20));
    s.mla.qk_rope_head_dim = to_i32(f.req_int({"qk_rope_head_dim"}, 1, 1 << 20));
    s.mla.v_head_dim = to_i32(f.req_int({"v_head_dim"}, 1, 1 << 20));
    s.key_length = s.mla.qk_nope_head_dim + s.mla.qk_rope_head_dim;
    s.value_length = s.mla.v_head_dim;
  }

  s.moe = mixture_of_experts(f, s.n_ff, n_layer);
  if (!n_ff && !s.moe.present()) f.missing("intermediate_size");
  s.swa = sliding_window(f, arch, n_layer, s.n_ctx_train);

  s.rope_freqs = arch.hf_llama3_rope_freqs && llama3_rope_scaling(f);
  if (arch.hf_longrope_factors) s.rope_factors = longrope_factors(f);

  std::optional<bool> tie = f.opt_bool("tie_word_embeddings");
  if (!tie && text != nullptr) tie = top.opt_bool("tie_word_embeddings");
  out.tie_explicit = tie.has_value();
  // transformers' per-model defaults: Gemma and Cohere configs tie unless told otherwise.
  s.tied_embeddings = tie.value_or(arch.hf_tied_default);

  std::optional<std::string> dtype = top.opt_string("torch_dtype");
  if (!dtype) dtype = top.opt_string("dtype");
  if (!dtype && text != nullptr) dtype = f.opt_string("torch_dtype");
  out.torch_dtype = dtype.value_or("");
  if (const Json* q = top.find("quantization_config")) {
    if (!q->is_object()) top.fail("quantization_config", "must be an object");
    out.quant_method = Fields(*q, "quantization_config.", origin).opt_string("quant_method");
  }

  validate(s, origin);
  return out;
}

}  // namespace vramplan::io
