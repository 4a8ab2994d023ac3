#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/hf_model.hpp>
#include <vramplan/tensors.hpp>

#include "json_bounded.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::int64_t max_layers = 1024;  // as validate()
constexpr std::int64_t int32_max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t big = std::int64_t{1} << 40;  // caps sizes before validate() does
constexpr int max_json_depth = 64;
constexpr std::uintmax_t max_config_bytes = 16u << 20;

[[noreturn]] void bad_input(const std::string& origin, const std::string& what) {
  throw Error(ErrorKind::bad_input, fmt::format("{}: {}", origin, what));
}

// Limits of what a JSON input keeps in memory (docs/reliability.md §6); far above real files.
// config.json: ~100 keys; an id2label map of a classifier head can hold tens of thousands.
constexpr JsonLimits config_limits{
    .max_depth = max_json_depth, .max_values = 1u << 16, .max_string = 1u << 20};
// model.safetensors.index.json: one value per tensor (DeepSeek-V3 lists about 92k).
constexpr JsonLimits index_limits{
    .max_depth = max_json_depth, .max_values = 1u << 19, .max_string = 4096};
// A safetensors header, per entry (one tensor, or __metadata__); names are checked apart.
constexpr JsonLimits header_limits{
    .max_depth = max_json_depth, .max_values = 4096, .max_string = 1u << 20};
constexpr std::size_t max_tensor_name = 4096;

// The message of a JSON input's failure; `member` names the entry of a split parse.
[[noreturn]] void json_failed(const std::string& origin, const JsonFailure& f,
                              const JsonLimits& limits, std::string_view member = {}) {
  using Kind = JsonFailure::Kind;
  switch (f.kind) {
    case Kind::ends_early:
      bad_input(origin, "invalid JSON: ends early");
    case Kind::number_range:  // a number beyond double's range: 1E400
      bad_input(origin, "invalid JSON: a number is out of range");
    case Kind::too_deep:
      bad_input(origin, fmt::format("JSON nested deeper than {} levels", limits.max_depth));
    case Kind::too_many_values:
      if (!member.empty()) {
        bad_input(origin,
                  fmt::format("'{}': more than {} JSON values", member, limits.max_values));
      }
      bad_input(origin, fmt::format("JSON has more than {} values", limits.max_values));
    case Kind::string_too_long:
      bad_input(origin, fmt::format("JSON string of {} bytes exceeds the limit of {}", f.length,
                                    limits.max_string));
    case Kind::not_object:
      bad_input(origin, "expected a JSON object");
    case Kind::syntax:
      break;
  }
  bad_input(origin, fmt::format("invalid JSON at byte {}", f.byte));
}

// Parses JSON in one pass within `limits` (json_bounded.hpp).
Json parse_json(std::string_view text, const std::string& origin, const JsonLimits& limits) {
  try {
    return parse_json_bounded(text, limits);
  } catch (const JsonFailure& f) {
    if (f.kind == JsonFailure::Kind::ends_early) {
      bad_input(origin, fmt::format("invalid JSON: ends early, after {} bytes", text.size()));
    }
    json_failed(origin, f, limits);
  }
}

bool is_one_of(std::string_view value, std::initializer_list<std::string_view> values) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// --- config.json ----------------------------------------------------------------------------

struct ArchRule {
  std::string_view hf_class;    // architectures[0]
  std::string_view model_type;  // config model_type
  std::string_view arch;        // llama.cpp general.architecture
};

// transformers class / model_type -> llama.cpp architecture (convert_hf_to_gguf.py's
// @ModelBase.register lists; shared/reference/models.md "arch").
constexpr auto arch_rules = std::to_array<ArchRule>({
    {"LlamaForCausalLM", "llama", "llama"},
    {"MistralForCausalLM", "mistral", "llama"},
    {"MixtralForCausalLM", "mixtral", "llama"},
    {"Qwen2ForCausalLM", "qwen2", "qwen2"},
    {"Qwen2MoeForCausalLM", "qwen2_moe", "qwen2moe"},
    {"Qwen3ForCausalLM", "qwen3", "qwen3"},
    {"Qwen3MoeForCausalLM", "qwen3_moe", "qwen3moe"},
    {"GemmaForCausalLM", "gemma", "gemma"},
    {"Gemma2ForCausalLM", "gemma2", "gemma2"},
    {"Gemma3ForCausalLM", "gemma3_text", "gemma3"},
    {"Gemma3ForConditionalGeneration", "gemma3", "gemma3"},
    {"Phi3ForCausalLM", "phi3", "phi3"},
    {"DeepseekV2ForCausalLM", "deepseek_v2", "deepseek2"},
    {"DeepseekV3ForCausalLM", "deepseek_v3", "deepseek2"},
    {"GptOssForCausalLM", "gpt_oss", "gpt-oss"},
    {"Starcoder2ForCausalLM", "starcoder2", "starcoder2"},
    {"CohereForCausalLM", "cohere", "command-r"},
    {"Cohere2ForCausalLM", "cohere2", "cohere2"},
    {"Olmo2ForCausalLM", "olmo2", "olmo2"},
    {"GraniteForCausalLM", "granite", "granite"},
    {"InternLM2ForCausalLM", "internlm2", "internlm2"},
});

const ArchRule* rule_by_class(std::string_view hf_class) {
  if (hf_class.empty()) return nullptr;
  for (const ArchRule& r : arch_rules) {
    if (r.hf_class == hf_class) return &r;
  }
  return nullptr;
}

const ArchRule* rule_by_type(std::string_view model_type) {
  if (model_type.empty()) return nullptr;
  for (const ArchRule& r : arch_rules) {
    if (r.model_type == model_type) return &r;
  }
  return nullptr;
}

struct Default {
  std::string_view key;
  std::int64_t value;
};

// transformers' Gemma2Config / Gemma3TextConfig defaults: the text_config of the multimodal
// Gemma 3 checkpoints leaves most of these out.
constexpr auto gemma3_defaults = std::to_array<Default>({{"vocab_size", 262208},
                                                         {"hidden_size", 2304},
                                                         {"intermediate_size", 9216},
                                                         {"num_hidden_layers", 26},
                                                         {"num_attention_heads", 8},
                                                         {"num_key_value_heads", 4},
                                                         {"head_dim", 256},
                                                         {"max_position_embeddings", 131072},
                                                         {"sliding_window", 4096}});
constexpr auto gemma2_defaults = std::to_array<Default>({{"vocab_size", 256000},
                                                         {"hidden_size", 2304},
                                                         {"intermediate_size", 9216},
                                                         {"num_hidden_layers", 26},
                                                         {"num_attention_heads", 8},
                                                         {"num_key_value_heads", 4},
                                                         {"head_dim", 256},
                                                         {"max_position_embeddings", 8192},
                                                         {"sliding_window", 4096}});

// Typed access to one JSON object, with messages that name the key ("text_config.x").
class Fields {
 public:
  Fields(const Json& object, std::string prefix, const std::string& origin)
      : object_(object), prefix_(std::move(prefix)), origin_(origin) {}

  void set_defaults(std::span<const Default> defaults) { defaults_ = defaults; }

  [[nodiscard]] std::string name(std::string_view key) const {
    return fmt::format("{}{}", prefix_, key);
  }
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
      for (const Default& d : defaults_) {
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
  std::span<const Default> defaults_;
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

bool is_qwen(std::string_view arch) {
  return is_one_of(arch, {"qwen2", "qwen2moe", "qwen3", "qwen3moe"});
}

// Sliding window per config, with llama.cpp's fixed periods where it has one
// (shared/reference/models.md §2; llama-model.cpp set_swa_pattern).
SlidingWindow sliding_window(const Fields& f, const std::string& arch, std::int64_t n_layer,
                             std::int64_t n_ctx) {
  const std::int64_t window = f.opt_int("sliding_window", 0, big).value_or(0);
  // Qwen configs carry a sliding_window that only counts with use_sliding_window true
  // (transformers' default false).
  const std::optional<bool> use = f.opt_bool("use_sliding_window");
  if (use == false || (is_qwen(arch) && !use)) return {};
  // llama.cpp never applies phi3's sliding_window (2047 in the 4k variants).
  if (arch == "phi3" || window <= 0 || window >= n_ctx) return {};
  if (arch == "gemma2") return SlidingWindow{.window = window, .period = 2};
  if (arch == "gemma3") return SlidingWindow{.window = window, .period = 6};
  if (arch == "cohere2") return SlidingWindow{.window = window, .period = 4};

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
  } else if (is_qwen(arch)) {
    // Qwen2: layers from max_window_layers on use the window.
    const std::int64_t first = f.opt_int("max_window_layers", 0, big).value_or(0);
    for (std::size_t il = 0; il < n; ++il) flags[il] = static_cast<std::int64_t>(il) >= first;
  } else if (arch == "gpt-oss") {
    return SlidingWindow{.window = window, .period = 2};
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
  const ArchRule* rule = rule_by_class(out.architecture);
  if (rule == nullptr) rule = rule_by_type(text_type);
  if (rule == nullptr) rule = rule_by_type(top_type);
  ModelSpec& s = out.spec;
  if (rule != nullptr) {
    s.arch = std::string(rule->arch);
  } else {
    if (out.model_type.empty()) bad_input(origin, "missing 'model_type'");
    s.arch = out.model_type;
    out.known_architecture = false;
  }
  if (s.arch == "gemma3") f.set_defaults(gemma3_defaults);
  if (s.arch == "gemma2") f.set_defaults(gemma2_defaults);

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
  s.swa = sliding_window(f, s.arch, n_layer, s.n_ctx_train);

  std::optional<bool> tie = f.opt_bool("tie_word_embeddings");
  if (!tie && text != nullptr) tie = top.opt_bool("tie_word_embeddings");
  out.tie_explicit = tie.has_value();
  // transformers' per-model defaults: Gemma and Cohere configs tie unless told otherwise.
  const bool tie_default =
      s.arch.rfind("gemma", 0) == 0 || is_one_of(s.arch, {"command-r", "cohere2"});
  s.tied_embeddings = tie.value_or(tie_default);

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

// --- safetensors ----------------------------------------------------------------------------

namespace {

struct DtypeInfo {
  SafetensorsDtype dtype;
  std::string_view name;
  std::int64_t size;
  GgmlType ggml;  // same bytes per element
};

constexpr auto dtypes = std::to_array<DtypeInfo>({
    {SafetensorsDtype::f64, "F64", 8, GgmlType::f64},
    {SafetensorsDtype::f32, "F32", 4, GgmlType::f32},
    {SafetensorsDtype::f16, "F16", 2, GgmlType::f16},
    {SafetensorsDtype::bf16, "BF16", 2, GgmlType::bf16},
    {SafetensorsDtype::i64, "I64", 8, GgmlType::i64},
    {SafetensorsDtype::i32, "I32", 4, GgmlType::i32},
    {SafetensorsDtype::i16, "I16", 2, GgmlType::i16},
    {SafetensorsDtype::i8, "I8", 1, GgmlType::i8},
    {SafetensorsDtype::u8, "U8", 1, GgmlType::i8},
    {SafetensorsDtype::boolean, "BOOL", 1, GgmlType::i8},
    {SafetensorsDtype::f8_e4m3, "F8_E4M3", 1, GgmlType::i8},
    {SafetensorsDtype::f8_e5m2, "F8_E5M2", 1, GgmlType::i8},
});

const DtypeInfo& dtype_info(SafetensorsDtype dtype) {
  return dtypes[static_cast<std::size_t>(dtype)];
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

SafetensorsTensor parse_tensor(const std::string& name, const Json& entry, std::uint64_t data_size,
                               const std::string& origin) {
  auto fail = [&](const std::string& what) {
    bad_input(origin, fmt::format("tensor '{}': {}", name, what));
  };
  if (!entry.is_object()) fail("entry must be an object");
  SafetensorsTensor t;
  t.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail("'dtype' must be a string");
  const auto& dtype_name = dtype_it->get_ref<const std::string&>();
  const std::optional<SafetensorsDtype> dtype = parse_safetensors_dtype(dtype_name);
  if (!dtype) fail(fmt::format("unknown dtype '{}'", dtype_name));
  t.dtype = *dtype;

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    fail("'shape' must be an array of non-negative integers");
  }
  // Bytes the shape needs, saturating at the data size + 1 (anything larger lies anyway).
  const std::uint64_t cap = data_size + 1;
  std::uint64_t needed = static_cast<std::uint64_t>(dtype_size(t.dtype));
  for (const Json& dim : *shape_it) {
    if (!dim.is_number_unsigned() && !(dim.is_number_integer() && dim.get<std::int64_t>() >= 0)) {
      fail("'shape' must be an array of non-negative integers");
    }
    const auto d = dim.get<std::uint64_t>();
    if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(fmt::format("shape entry {} is too large", d));
    }
    t.shape.push_back(static_cast<std::int64_t>(d));
    needed = (d != 0 && needed > cap / d) ? cap : std::min(cap, needed * d);
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
      !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned()) {
    fail("'data_offsets' must be two non-negative integers");
  }
  t.data_offsets = {(*offsets_it)[0].get<std::uint64_t>(), (*offsets_it)[1].get<std::uint64_t>()};
  const auto [begin, end] = t.data_offsets;
  if (end < begin) fail(fmt::format("data_offsets [{}, {}] are reversed", begin, end));
  if (end > data_size) {
    fail(fmt::format("data_offsets [{}, {}] end past the data section ({} bytes)", begin, end,
                     data_size));
  }
  if (needed != end - begin) {
    fail(fmt::format(
        "shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}", shape_text(t.shape),
        to_string(t.dtype),
        needed >= cap ? fmt::format("more than {}", data_size) : fmt::format("{}", needed), begin,
        end, end - begin));
  }
  return t;
}

}  // namespace

std::string_view to_string(SafetensorsDtype dtype) { return dtype_info(dtype).name; }

std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name) {
  for (const DtypeInfo& d : dtypes) {
    if (d.name == name) return d.dtype;
  }
  return std::nullopt;
}

std::int64_t dtype_size(SafetensorsDtype dtype) { return dtype_info(dtype).size; }

std::int64_t SafetensorsTensor::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

SafetensorsHeader read_safetensors_header(ByteSource& source, const std::string& origin) {
  SafetensorsHeader out;
  out.file_size = source.size();
  if (out.file_size < 8) {
    bad_input(origin,
              fmt::format("file is {} bytes, too short for a safetensors header", out.file_size));
  }
  std::array<std::byte, 8> length{};
  source.read(0, length);
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < length.size(); ++i) {
    n |= static_cast<std::uint64_t>(length[i]) << (8 * i);
  }
  if (n > out.file_size - 8) {
    bad_input(origin, fmt::format("header length {} is past the end of the file ({} bytes)", n,
                                  out.file_size));
  }
  if (n > safetensors_header_limit) {
    bad_input(origin, fmt::format("header length {} exceeds the limit of {} bytes", n,
                                  safetensors_header_limit));
  }
  out.header_size = n;
  std::string text(static_cast<std::size_t>(n), '\0');
  source.read(8, std::as_writable_bytes(std::span<char>(text)));

  const std::uint64_t data_size = out.file_size - 8 - n;
  // One entry in memory at a time; a name given twice keeps its last entry, as a JSON
  // object would.
  std::unordered_map<std::string, std::size_t> index;
  const auto entry = [&](std::string&& name, Json&& value) {
    if (name == "__metadata__") {
      if (!value.is_object()) bad_input(origin, "'__metadata__' must be an object");
      for (auto& [key, v] : value.items()) {
        if (v.is_string()) out.metadata[key] = std::move(v.get_ref<std::string&>());
      }
      return;
    }
    if (name.size() > max_tensor_name) {
      bad_input(origin, fmt::format("tensor name of {} bytes exceeds the limit of {}", name.size(),
                                    max_tensor_name));
    }
    SafetensorsTensor t = parse_tensor(name, value, data_size, origin);
    const auto [it, inserted] = index.emplace(std::move(name), out.tensors.size());
    if (!inserted) {
      out.tensors[it->second] = std::move(t);
      return;
    }
    if (out.tensors.size() >= safetensors_max_tensors) {
      bad_input(origin, fmt::format("more than {} tensors", safetensors_max_tensors));
    }
    out.tensors.push_back(std::move(t));
  };
  try {
    parse_json_members(text, header_limits, [&](std::string&& name, Json&& value) {
      entry(std::move(name), std::move(value));
    });
  } catch (const JsonFailure& f) {
    if (f.kind == JsonFailure::Kind::not_object) {
      bad_input(origin, "header must be a JSON object");
    }
    if (f.kind == JsonFailure::Kind::ends_early) {
      bad_input(origin, fmt::format("invalid JSON: ends early, after {} bytes", text.size()));
    }
    json_failed(origin, f, header_limits, f.member);
  }
  std::sort(out.tensors.begin(), out.tensors.end(), [](const auto& a, const auto& b) {
    return a.data_offsets != b.data_offsets ? a.data_offsets < b.data_offsets : a.name < b.name;
  });
  const SafetensorsTensor* prev = nullptr;
  for (const SafetensorsTensor& t : out.tensors) {
    if (t.data_offsets[0] == t.data_offsets[1]) continue;  // empty: overlaps nothing
    if (prev != nullptr && t.data_offsets[0] < prev->data_offsets[1]) {
      bad_input(origin, fmt::format("tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", prev->name,
                                    prev->data_offsets[0], prev->data_offsets[1], t.name,
                                    t.data_offsets[0], t.data_offsets[1]));
    }
    if (prev == nullptr || t.data_offsets[1] > prev->data_offsets[1]) prev = &t;
  }
  return out;
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  FileSource source(path);
  return read_safetensors_header(source, path);
}

// model.safetensors.index.json: {"metadata": {...}, "weight_map": {"tensor": "shard", ...}}.
SafetensorsIndex parse_safetensors_index(std::string_view text, const std::string& origin) {
  const Json root = parse_json(text, origin, index_limits);
  const auto map_it = root.is_object() ? root.find("weight_map") : root.end();
  if (map_it == root.end() || !map_it->is_object()) {
    bad_input(origin, "'weight_map' must be an object of tensor name -> file name");
  }
  SafetensorsIndex index;
  for (const auto& [tensor, file] : map_it->items()) {
    if (!file.is_string()) {
      bad_input(origin, fmt::format("'weight_map' entry '{}' must be a file name", tensor));
    }
    const auto& name = file.get_ref<const std::string&>();
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of("/\\") != std::string::npos) {
      bad_input(origin, fmt::format("'weight_map' entry '{}': '{}' is not a file name in the "
                                    "model's directory",
                                    tensor, name));
    }
    index.shards.insert(name);
    index.weight_map.emplace(tensor, name);
  }
  return index;
}

// --- a model directory ----------------------------------------------------------------------

namespace {

void add_file(HfModel& model, const std::string& path, FileSource& source,
              const SafetensorsHeader& header) {
  model.files.push_back(HfWeightFile{.path = path,
                                     .file_size = header.file_size,
                                     .header_size = header.header_size,
                                     .tensors = header.tensors.size()});
  if (model.tensors.size() + header.tensors.size() > hf_max_tensors) {
    bad_input(path, fmt::format("the model's files list more than {} tensors", hf_max_tensors));
  }
  model.bytes_read += source.bytes_read();
  for (const SafetensorsTensor& t : header.tensors) {
    model.weight_bytes += t.bytes();
    model.bytes_per_dtype[std::string(to_string(t.dtype))] += t.bytes();
    model.tensors.push_back(t);
  }
}

void read_index(HfModel& model, const fs::path& dir, const fs::path& index_path) {
  const std::string origin = index_path.string();
  const SafetensorsIndex index = parse_safetensors_index(read_text_file(origin), origin);
  std::map<std::string, std::string> owner;  // tensor -> shard holding it
  for (const std::string& shard : index.shards) {
    const std::string path = (dir / shard).string();
    FileSource source(path);
    const SafetensorsHeader header = read_safetensors_header(source, path);
    for (const SafetensorsTensor& t : header.tensors) {
      const auto [it, inserted] = owner.emplace(t.name, shard);
      if (!inserted) {
        bad_input(path, fmt::format("tensor '{}' is also in '{}'", t.name, it->second));
      }
    }
    add_file(model, path, source, header);
  }
  for (const auto& [tensor, file] : index.weight_map) {
    const auto it = owner.find(tensor);
    if (it == owner.end() || it->second != file) {
      bad_input(origin, fmt::format("'weight_map' puts tensor '{}' in '{}', which has no such "
                                    "tensor",
                                    tensor, file));
    }
  }
}

}  // namespace

HfModel load_hf_model(const std::string& path) {
  const fs::path p(path);
  std::error_code ec;
  fs::path dir;
  fs::path config;
  if (fs::is_directory(p, ec)) {
    dir = p;
    config = p / "config.json";
    if (!fs::exists(fs::symlink_status(config, ec))) {  // a FIFO is refused when read
      throw Error(ErrorKind::bad_input,
                  fmt::format("'{}': not a Hugging Face model directory (no config.json)", path));
    }
  } else {
    config = p;
    dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  }
  HfModel model;
  model.config_path = config.string();
  model.config =
      spec_from_hf_config(read_text_file(model.config_path, max_config_bytes), model.config_path);

  const fs::path index = dir / "model.safetensors.index.json";
  const fs::path single = dir / "model.safetensors";
  // Whatever carries a weights file's name is opened as one (FileSource), so a FIFO, a
  // directory or a dangling symlink named model.safetensors is an error, never skipped.
  const auto present = [&ec](const fs::path& file) {
    return fs::exists(fs::symlink_status(file, ec));
  };
  if (present(index)) {
    read_index(model, dir, index);
  } else {
    std::vector<std::string> files;
    if (present(single)) {
      files.push_back(single.string());
    } else {
      for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
    }
    for (const std::string& file : files) {
      FileSource source(file);
      add_file(model, file, source, read_safetensors_header(source, file));
    }
  }
  model.weights_known = !model.files.empty();
  if (model.weights_known) {
    const HfTensorInfos infos = hf_tensor_infos(model.tensors, model.config.spec);
    const auto has = [&](std::string_view name) {
      return std::any_of(infos.tensors.begin(), infos.tensors.end(),
                         [&](const TensorInfo& t) { return t.name == name; });
    };
    if (has("token_embd.weight")) model.config.spec.tied_embeddings = !has("output.weight");
  }
  return model;
}

// --- safetensors -> llama.cpp tensors -------------------------------------------------------

namespace {

// Vision/audio towers and projectors of multimodal checkpoints (llama.cpp puts them in the
// mmproj file).
bool is_projector(std::string_view name) {
  if (name.starts_with("model.")) name.remove_prefix(6);
  for (std::string_view p :
       {"vision_tower.", "vision_model.", "multi_modal_projector.", "mm_projector.", "visual.",
        "audio_tower.", "audio_model.", "embed_vision.", "embed_audio.", "vision_embed_tokens."}) {
    if (name.starts_with(p)) return true;
  }
  return false;
}

// The text model's name with the multimodal wrapper's prefix removed.
std::string strip_language_model(std::string_view name) {
  for (const auto& [from, to] :
       {std::pair<std::string_view, std::string_view>{"model.language_model.", "model."},
        {"language_model.model.", "model."},
        {"language_model.lm_head.", "lm_head."},
        {"language_model.", ""}}) {
    if (name.starts_with(from)) return fmt::format("{}{}", to, name.substr(from.size()));
  }
  return std::string(name);
}

struct Module {
  std::string_view hf;
  std::string_view gguf;
};

// HF module path inside a block -> llama.cpp tensor name (gguf-py tensor_mapping.py).
constexpr auto block_modules = std::to_array<Module>({
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.qkv_proj", "attn_qkv"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"self_attn.q_a_proj", "attn_q_a"},
    {"self_attn.q_a_layernorm", "attn_q_a_norm"},
    {"self_attn.q_b_proj", "attn_q_b"},
    {"self_attn.kv_a_proj_with_mqa", "attn_kv_a_mqa"},
    {"self_attn.kv_a_layernorm", "attn_kv_a_norm"},
    {"self_attn.kv_b_proj", "attn_kv_b"},
    {"attention.wqkv", "attn_qkv"},
    {"attention.wo", "attn_output"},
    {"attention_norm", "attn_norm"},
    {"ffn_norm", "ffn_norm"},
    {"feed_forward.w1", "ffn_gate"},
    {"feed_forward.w3", "ffn_up"},
    {"feed_forward.w2", "ffn_down"},
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"mlp.gate_up_proj", "ffn_up"},
    {"mlp.c_fc", "ffn_up"},
    {"mlp.c_proj", "ffn_down"},
    {"mlp.gate", "ffn_gate_inp"},
    {"mlp.router", "ffn_gate_inp"},
    {"block_sparse_moe.gate", "ffn_gate_inp"},
    {"mlp.shared_expert_gate", "ffn_gate_inp_shexp"},
    {"mlp.shared_experts.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_experts.up_proj", "ffn_up_shexp"},
    {"mlp.shared_experts.down_proj", "ffn_down_shexp"},
});

constexpr auto shared_expert_modules = std::to_array<Module>({
    {"mlp.shared_expert.gate_proj", "ffn_gate_shexp"},
    {"mlp.shared_expert.up_proj", "ffn_up_shexp"},
    {"mlp.shared_expert.down_proj", "ffn_down_shexp"},
});

constexpr auto expert_projections = std::to_array<Module>({
    {"gate_proj", "ffn_gate_exps"},
    {"w1", "ffn_gate_exps"},
    {"up_proj", "ffn_up_exps"},
    {"w3", "ffn_up_exps"},
    {"down_proj", "ffn_down_exps"},
    {"w2", "ffn_down_exps"},
});

// Parses "<digits>." at the front of `text`; -1 when it is not there.
std::int64_t leading_index(std::string_view& text) {
  std::int64_t value = -1;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr == text.data() || ptr == text.data() + text.size() || *ptr != '.') {
    return -1;
  }
  text.remove_prefix(static_cast<std::size_t>(ptr - text.data()) + 1);
  return value;
}

struct BlockName {
  std::string name;
  bool expert = false;  // one expert of a per-expert list: merge into *_exps
};

// "self_attn.q_proj.weight" in block il -> "blk.il.attn_q.weight".
BlockName block_name(std::int64_t il, std::string_view rest, const std::string& arch) {
  const std::size_t dot = rest.rfind('.');
  const std::string_view module = dot == std::string_view::npos ? "" : rest.substr(0, dot);
  const std::string_view param = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
  // Gemma 2/3 and OLMo 2 norm after attention, not before the FFN (convert_hf_to_gguf.py).
  if (module == "post_attention_layernorm" && is_one_of(arch, {"gemma2", "gemma3", "olmo2"})) {
    return {fmt::format("blk.{}.post_attention_norm.{}", il, param)};
  }
  for (const auto& table :
       {std::span<const Module>(block_modules), std::span<const Module>(shared_expert_modules)}) {
    for (const Module& m : table) {
      if (m.hf == module) return {fmt::format("blk.{}.{}.{}", il, m.gguf, param)};
    }
  }
  for (std::string_view prefix : {"mlp.experts.", "block_sparse_moe.experts."}) {
    if (!module.starts_with(prefix)) continue;
    std::string_view tail = module.substr(prefix.size());
    if (leading_index(tail) < 0) break;
    for (const Module& m : expert_projections) {
      if (m.hf == tail) return {fmt::format("blk.{}.{}.{}", il, m.gguf, param), true};
    }
  }
  return {fmt::format("blk.{}.{}", il, rest)};
}

// Reversed shape (ne[0] = innermost); ranks above 4 fold into ne[3].
std::array<std::int64_t, 4> ne_of(const std::vector<std::int64_t>& shape) {
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  const std::size_t rank = shape.size();
  for (std::size_t i = 0; i < rank; ++i) {
    const std::size_t axis = std::min<std::size_t>(rank - 1 - i, 3);
    ne[axis] *= shape[i];
  }
  return ne;
}

}  // namespace

HfTensorInfos hf_tensor_infos(const std::vector<SafetensorsTensor>& tensors,
                              const ModelSpec& spec) {
  HfTensorInfos out;
  std::map<std::string, std::size_t> merged;  // *_exps name -> index in out.tensors
  std::map<std::string, SafetensorsTensor> first_expert;
  for (const SafetensorsTensor& t : tensors) {
    if (is_projector(t.name)) {
      out.projector += t.bytes();
      continue;
    }
    const std::string name = strip_language_model(t.name);
    auto skip = [&] {
      out.skipped += t.bytes();
      ++out.skipped_tensors;
    };
    if (name.ends_with("rotary_emb.inv_freq") || name.starts_with("mtp.") ||
        name.starts_with("model.mtp.")) {
      skip();
      continue;
    }
    TensorInfo info{
        .name = name, .ne = ne_of(t.shape), .type = dtypes[static_cast<std::size_t>(t.dtype)].ggml};
    bool expert = false;
    if (name == "model.embed_tokens.weight" || name == "model.tok_embeddings.weight") {
      info.name = "token_embd.weight";
    } else if (name == "lm_head.weight") {
      info.name = "output.weight";
    } else if (name.starts_with("model.norm.") || name.starts_with("model.final_layernorm.")) {
      info.name = fmt::format("output_norm.{}", name.substr(name.rfind('.') + 1));
    } else if (name.starts_with("model.layers.")) {
      std::string_view rest = std::string_view(name).substr(13);
      const std::int64_t il = leading_index(rest);
      if (il >= spec.n_layer) {  // MTP / NextN blocks: not part of the text model
        skip();
        continue;
      }
      if (il >= 0) {
        BlockName b = block_name(il, rest, spec.arch);
        info.name = std::move(b.name);
        expert = b.expert;
      }
    }
    if (expert) {
      const auto it = merged.find(info.name);
      if (it == merged.end()) {
        merged.emplace(info.name, out.tensors.size());
        first_expert.emplace(info.name, t);
        out.tensors.push_back(info);
        continue;
      }
      TensorInfo& m = out.tensors[it->second];
      const SafetensorsTensor& first = first_expert.at(info.name);
      if (first.dtype == t.dtype && first.shape == t.shape) {
        // Experts stack along a new axis (ne[2] of the merged GGUF tensor).
        m.ne[2] += info.ne[2];
        continue;
      }
      info.name += fmt::format(".{}", t.name);  // unlike its siblings: keep it apart
    }
    out.tensors.push_back(std::move(info));
  }
  return out;
}

Model model_from_hf(const HfModel& model, std::string name) {
  const HfConfig& c = model.config;
  std::string source = fmt::format("safetensors {}", model.config_path);
  if (model.weights_known) {
    HfTensorInfos infos = hf_tensor_infos(model.tensors, c.spec);
    const auto top =
        std::max_element(model.bytes_per_dtype.begin(), model.bytes_per_dtype.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    FileType ftype = FileType::mostly_bf16;  // a label only: sizes come from the tensors
    if (top != model.bytes_per_dtype.end()) {
      if (top->first == "F16") ftype = FileType::mostly_f16;
      if (top->first == "F32") ftype = FileType::all_f32;
      if (dtype_size(*parse_safetensors_dtype(top->first)) == 1) ftype = FileType::mostly_q8_0;
    }
    return make_model(std::move(name), std::move(source), c.spec, ftype, std::move(infos.tensors),
                      infos.projector);
  }
  if (c.quant_method) {
    bad_input(model.config_path,
              fmt::format("quantized checkpoint (quant_method '{}') without *.safetensors "
                          "beside it: its weight size cannot be told from config.json alone",
                          *c.quant_method));
  }
  if (!has_tensor_layout(c.spec.arch)) {
    bad_input(model.config_path,
              fmt::format("no *.safetensors beside it, and vramplan has no tensor layout for "
                          "architecture '{}' to size the weights from config.json alone",
                          c.spec.arch));
  }
  FileType ftype = FileType::mostly_bf16;
  if (is_one_of(c.torch_dtype, {"float16", "half"})) ftype = FileType::mostly_f16;
  if (is_one_of(c.torch_dtype, {"float32", "float"})) ftype = FileType::all_f32;
  std::vector<TensorInfo> tensors = generate_tensors(c.spec, ftype);
  return make_model(std::move(name), std::move(source), c.spec, ftype, std::move(tensors));
}

}  // namespace vramplan::io
