#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>
#include <vramplan/io/gguf_model.hpp>

namespace vramplan::io {
namespace {

// llama.cpp's LLAMA_MAX_LAYERS is 512; validate() allows 1024. Checked before any per-layer
// vector is built.
constexpr std::int64_t max_layers = 1024;

// Reads typed keys of one file, with messages that name the origin, offset and key.
class Keys {
 public:
  Keys(const GgufFile& file, const std::string& origin, std::string arch)
      : file_(file), origin_(origin), arch_(std::move(arch)) {}

  [[nodiscard]] const std::string& arch() const { return arch_; }
  [[nodiscard]] std::string key(std::string_view suffix) const {
    return fmt::format("{}.{}", arch_, suffix);
  }
  [[nodiscard]] const GgufValue* find(const std::string& key) const { return file_.find(key); }

  [[noreturn]] void fail(const GgufValue& v, const std::string& key,
                         const std::string& what) const {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: offset {}: key '{}' {}", origin_, v.offset, key, what));
  }
  [[noreturn]] void missing(const std::string& key) const {
    throw Error(ErrorKind::bad_input, fmt::format("{}: missing key '{}'", origin_, key));
  }

  // An integer scalar in [lo, hi]; nullopt when absent.
  [[nodiscard]] std::optional<std::int64_t> opt_int(
      const std::string& key, std::int64_t lo = 0,
      std::int64_t hi = std::numeric_limits<std::int32_t>::max()) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    const std::optional<std::int64_t> value = v->as_int();
    if (!value) fail(*v, key, fmt::format("must be an integer, got {}", to_string(v->type)));
    check_range(*v, key, *value, lo, hi);
    return value;
  }

  [[nodiscard]] std::int64_t req_int(
      const std::string& key, std::int64_t lo = 0,
      std::int64_t hi = std::numeric_limits<std::int32_t>::max()) const {
    const std::optional<std::int64_t> value = opt_int(key, lo, hi);
    if (!value) missing(key);
    return *value;
  }

  [[nodiscard]] std::optional<bool> opt_bool(const std::string& key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (const auto* b = std::get_if<bool>(&v->data)) return *b;
    fail(*v, key, fmt::format("must be a bool, got {}", to_string(v->type)));
  }

  // A key that is either a scalar (the same for every layer) or an integer array of
  // n_layer entries, as llama.cpp's get_key_or_arr reads it. Empty when absent.
  [[nodiscard]] std::vector<std::int64_t> per_layer(const std::string& key, std::int64_t n_layer,
                                                    std::int64_t lo = 0) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return {};
    const auto hi = std::int64_t{std::numeric_limits<std::int32_t>::max()};
    if (const GgufArray* a = v->as_array()) {
      if (a->count != static_cast<std::uint64_t>(n_layer)) {
        fail(*v, key, fmt::format("has {} entries for {} layers", a->count, n_layer));
      }
      std::vector<std::int64_t> out = integers(*v, key, *a);
      for (std::int64_t x : out) check_range(*v, key, x, lo, hi);
      return out;
    }
    const std::optional<std::int64_t> value = v->as_int();
    if (!value) {
      fail(*v, key,
           fmt::format("must be an integer or an integer array, got {}", to_string(v->type)));
    }
    check_range(*v, key, *value, lo, hi);
    return std::vector<std::int64_t>(static_cast<std::size_t>(n_layer), *value);
  }

  // Block indices: an integer array of at most n_layer entries, each in [0, n_layer). Empty
  // when absent.
  [[nodiscard]] std::vector<std::int32_t> layer_indices(const std::string& key,
                                                        std::int64_t n_layer) const {
    const GgufValue* v = find(key);
    if (v == nullptr) return {};
    const GgufArray* a = v->as_array();
    if (a == nullptr || a->count > static_cast<std::uint64_t>(n_layer)) {
      fail(*v, key, fmt::format("must be an array of at most {} block indices", n_layer));
    }
    std::vector<std::int32_t> out;
    for (std::int64_t x : integers(*v, key, *a)) {
      check_range(*v, key, x, 0, n_layer - 1);
      out.push_back(static_cast<std::int32_t>(x));
    }
    return out;
  }

  // Per-layer flags: a bool array, or an integer array (non-zero = true), of n_layer entries.
  [[nodiscard]] std::vector<bool> layer_flags(const GgufValue& v, const std::string& key,
                                              std::int64_t n_layer) const {
    const GgufArray* a = v.as_array();
    if (a == nullptr || a->count != static_cast<std::uint64_t>(n_layer)) {
      fail(v, key, fmt::format("must be an array of {} per-layer flags", n_layer));
    }
    if (const auto* b = std::get_if<std::vector<bool>>(&a->elements)) return *b;
    std::vector<bool> out;
    for (std::int64_t x : integers(v, key, *a)) out.push_back(x != 0);
    return out;
  }

 private:
  void check_range(const GgufValue& v, const std::string& key, std::int64_t value, std::int64_t lo,
                   std::int64_t hi) const {
    if (value < lo || value > hi) {
      fail(v, key, fmt::format("is {}, outside [{}, {}]", value, lo, hi));
    }
  }

  std::vector<std::int64_t> integers(const GgufValue& v, const std::string& key,
                                     const GgufArray& a) const {
    if (const auto* s = std::get_if<std::vector<std::int64_t>>(&a.elements)) return *s;
    if (const auto* u = std::get_if<std::vector<std::uint64_t>>(&a.elements)) {
      std::vector<std::int64_t> out;
      out.reserve(u->size());
      for (std::uint64_t x : *u) {
        if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          fail(v, key, fmt::format("has an entry {} that is out of range", x));
        }
        out.push_back(static_cast<std::int64_t>(x));
      }
      return out;
    }
    fail(v, key, fmt::format("must be an integer array, got an array of {}", to_string(a.type)));
  }

  const GgufFile& file_;
  const std::string& origin_;
  std::string arch_;
};

std::int32_t to_i32(std::int64_t v) { return static_cast<std::int32_t>(v); }  // range-checked

std::int64_t max_of(const std::vector<std::int64_t>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

bool uniform(const std::vector<std::int64_t>& v) {
  return std::adjacent_find(v.begin(), v.end(), std::not_equal_to<>()) == v.end();
}

// Sliding window per the architecture's rule (architecture.hpp, SlidingWindowRule; llama.cpp's
// load_hparams and set_swa_pattern).
SlidingWindow sliding_window(const Keys& k, const SlidingWindowRule& rule, std::int64_t n_layer) {
  if (!rule.applies || (rule.only_n_layer > 0 && n_layer != rule.only_n_layer)) return {};
  const std::string pattern_key = k.key("attention.sliding_window_pattern");
  const std::optional<std::int64_t> key_window =
      k.opt_int(k.key("attention.sliding_window"), 0, std::numeric_limits<std::int64_t>::max());
  std::int64_t window = rule.default_window;
  if (key_window)
    window = rule.fixed_window > 0 && *key_window > 0 ? rule.fixed_window : *key_window;
  if (window <= 0) return {};
  SlidingWindow swa{.window = window, .period = rule.period, .dense_first = rule.dense_first};
  if (!rule.pattern_from_file) return swa;
  const GgufValue* pattern = k.find(pattern_key);
  if (pattern == nullptr) {
    if (rule.needs_pattern) return {};
  } else if (pattern->as_array() != nullptr) {
    swa.period = 0;
    swa.layers = k.layer_flags(*pattern, pattern_key, n_layer);
  } else {
    swa.period = to_i32(k.req_int(pattern_key, 0, 1024));
  }
  return swa;
}

std::vector<bool> recurrent_layers(const Keys& k, Recurrence rule, std::int64_t n_layer,
                                   const std::vector<std::int64_t>& kv,
                                   const std::vector<std::int64_t>& ff) {
  const auto n = static_cast<std::size_t>(n_layer);
  std::vector<bool> layers;
  switch (rule) {
    case Recurrence::none:
      break;
    case Recurrence::interval: {
      const std::string layers_key = k.key("attention.recurrent_layers");
      if (const GgufValue* v = k.find(layers_key)) return k.layer_flags(*v, layers_key, n_layer);
      const std::int64_t interval =
          k.opt_int(k.key("full_attention_interval"), 1, max_layers).value_or(4);
      layers.resize(n);
      for (std::size_t il = 0; il < n; ++il) {
        layers[il] = (static_cast<std::int64_t>(il) + 1) % interval != 0;
      }
      break;
    }
    case Recurrence::where_no_kv:
      layers.resize(n);
      for (std::size_t il = 0; il < n; ++il) layers[il] = kv[il] == 0;
      break;
    case Recurrence::where_no_kv_ffn:
      layers.resize(n);
      for (std::size_t il = 0; il < n; ++il) {
        layers[il] = kv[il] == 0 && (ff.empty() || ff[il] == 0);
      }
      break;
    case Recurrence::all:
    case Recurrence::all_without_kv:
      layers.assign(n, true);
      break;
  }
  if (std::find(layers.begin(), layers.end(), true) == layers.end()) layers.clear();
  return layers;
}

}  // namespace

std::optional<std::int64_t> vocab_size_from_gguf(const GgufFile& file, const std::string& origin) {
  const GgufValue* arch_value = file.find("general.architecture");
  const std::string* arch = arch_value != nullptr ? arch_value->as_string() : nullptr;
  if (arch != nullptr) {
    const Keys k(file, origin, *arch);
    if (auto n = k.opt_int(k.key("vocab_size"), 1, std::numeric_limits<std::int64_t>::max())) {
      return n;
    }
  }
  if (const GgufValue* tokens = file.find("tokenizer.ggml.tokens")) {
    if (const GgufArray* a = tokens->as_array();
        a != nullptr && a->count > 0 &&
        a->count <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(a->count);
    }
  }
  if (const GgufTensor* embd = file.find_tensor("token_embd.weight")) {
    return embd->info.ne[1];
  }
  return std::nullopt;
}

ModelSpec spec_from_gguf(const GgufFile& file, const std::string& origin) {
  const GgufValue* arch_value = file.find("general.architecture");
  if (arch_value == nullptr) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: missing key 'general.architecture'", origin));
  }
  const std::string* arch = arch_value->as_string();
  if (arch == nullptr || arch->empty()) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: offset {}: key 'general.architecture' must be a non-empty "
                            "string",
                            origin, arch_value->offset));
  }
  if (*arch == "clip") {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: is a vision/audio projector (mmproj, architecture 'clip'), not "
                            "a text model",
                            origin));
  }
  const Keys k(file, origin, *arch);
  const Architecture& a = architecture(*arch);
  ModelSpec s;
  s.arch = *arch;

  const std::int64_t n_layer = k.req_int(k.key("block_count"), 1, max_layers);
  s.n_layer = to_i32(n_layer);
  s.n_nextn = to_i32(k.opt_int(k.key("nextn_predict_layers")).value_or(0));
  if (a.deepstack_layers) {
    s.n_deepstack = to_i32(k.opt_int(k.key("n_deepstack_layers"), 0, n_layer).value_or(0));
  }
  s.n_ctx_train = k.req_int(k.key("context_length"), 1, std::numeric_limits<std::int64_t>::max());
  s.n_embd = k.req_int(k.key("embedding_length"), 1, std::numeric_limits<std::int64_t>::max());

  // Per-layer arrays: head_count uses its max (ModelSpec has no per-layer query heads);
  // head_count_kv and feed_forward_length keep their per-layer values when they differ.
  const std::string head_key = k.key("attention.head_count");
  const std::vector<std::int64_t> heads = k.per_layer(head_key, n_layer);
  if (heads.empty()) k.missing(head_key);
  s.n_head = to_i32(max_of(heads));
  std::vector<std::int64_t> kv = k.per_layer(k.key("attention.head_count_kv"), n_layer);
  if (kv.empty()) kv = heads;  // llama.cpp: n_head_kv defaults to n_head
  const std::vector<std::int64_t> ff = k.per_layer(k.key("feed_forward_length"), n_layer);
  s.n_ff = max_of(ff);
  if (!uniform(ff)) s.n_ff_per_layer = ff;

  s.key_length = to_i32(k.opt_int(k.key("attention.key_length")).value_or(0));
  s.value_length = to_i32(k.opt_int(k.key("attention.value_length")).value_or(0));
  const auto key_swa = k.opt_int(k.key("attention.key_length_swa"));
  const auto value_swa = k.opt_int(k.key("attention.value_length_swa"));
  // TODO: gemma4 gives SWA layers their own head sizes; ModelSpec has one head size per
  // model, so the larger one is used (over-estimates the SWA cache of those files).
  if (key_swa && s.key_length > 0) s.key_length = std::max(s.key_length, to_i32(*key_swa));
  if (value_swa && s.value_length > 0)
    s.value_length = std::max(s.value_length, to_i32(*value_swa));

  // MLA (deepseek2 family, docs/memory-model.md §3): the file stores head_count_kv 1, key_length
  // kv_lora_rank + rope (576) and value_length kv_lora_rank; the decompressed head sizes are
  // in *_mla. layer_attention() derives the cached latent from spec.mla. Files without the
  // *_mla keys (converted before llama.cpp #12801) run as plain MHA and are read as such.
  const auto kv_lora = k.opt_int(k.key("attention.kv_lora_rank"));
  const auto key_mla = k.opt_int(k.key("attention.key_length_mla"));
  const auto value_mla = k.opt_int(k.key("attention.value_length_mla"));
  if (kv_lora.value_or(0) > 0 && key_mla.value_or(0) > 0 && value_mla.value_or(0) > 0) {
    const std::int64_t key_length = k.req_int(k.key("attention.key_length"));
    const std::int64_t rope = key_length - *kv_lora;
    if (rope <= 0 || rope >= *key_mla) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: MLA key_length {} minus kv_lora_rank {} must be a rope "
                              "dimension between 1 and key_length_mla {}",
                              origin, key_length, *kv_lora, *key_mla));
    }
    s.mla = Mla{.q_lora_rank = to_i32(k.opt_int(k.key("attention.q_lora_rank")).value_or(0)),
                .kv_lora_rank = to_i32(*kv_lora),
                .qk_nope_head_dim = to_i32(*key_mla - rope),
                .qk_rope_head_dim = to_i32(rope),
                .v_head_dim = to_i32(*value_mla)};
    // Per-head sizes as the catalog states them (decompressed); n_head_kv stays as stored.
    s.key_length = to_i32(*key_mla);
    s.value_length = to_i32(*value_mla);
  }

  const std::int64_t n_expert = k.opt_int(k.key("expert_count")).value_or(0);
  if (n_expert > 0) {
    s.moe.n_expert = to_i32(n_expert);
    s.moe.n_expert_used = to_i32(k.opt_int(k.key("expert_used_count")).value_or(0));
    s.moe.n_ff_exp = k.opt_int(k.key("expert_feed_forward_length")).value_or(s.n_ff);
    s.moe.n_expert_shared = to_i32(k.opt_int(k.key("expert_shared_count")).value_or(0));
    s.moe.n_ff_shexp = k.opt_int(k.key("expert_shared_feed_forward_length")).value_or(0);
    s.moe.n_leading_dense = to_i32(k.opt_int(k.key("leading_dense_block_count")).value_or(0));
    s.moe.every_n = std::max(1, to_i32(k.opt_int(k.key("interleave_moe_layer_step")).value_or(1)));
  }

  // Recurrent state (docs/memory-model.md §3). lfm2's short convolution maps onto the same formula:
  // n_embd_r = (l_cache - 1) * n_embd, no S state.
  s.recurrent.conv_kernel = to_i32(k.opt_int(k.key("ssm.conv_kernel")).value_or(0));
  s.recurrent.inner_size = k.opt_int(k.key("ssm.inner_size")).value_or(0);
  s.recurrent.state_size = k.opt_int(k.key("ssm.state_size")).value_or(0);
  s.recurrent.group_count = to_i32(k.opt_int(k.key("ssm.group_count")).value_or(0));
  s.recurrent.time_step_rank = to_i32(k.opt_int(k.key("ssm.time_step_rank")).value_or(0));
  if (const auto l_cache = k.opt_int(k.key("shortconv.l_cache"));
      l_cache && s.recurrent.conv_kernel == 0) {
    s.recurrent.conv_kernel = to_i32(*l_cache);
    s.recurrent.inner_size = s.n_embd;
  }
  // TODO: RWKV (wkv.head_size, token_shift_count) and Kimi KDA state are not in
  // ModelSpec::Recurrent; such files get recurrent layers with a zero-size state.
  s.recurrent.layers = recurrent_layers(k, a.recurrence, n_layer, kv, ff);
  if (a.recurrence == Recurrence::interval) {
    // Their recurrent layers have no KV, though head_count_kv is one scalar in the file.
    for (std::size_t il = 0; il < s.recurrent.layers.size(); ++il) {
      if (s.recurrent.layers[il]) kv[il] = 0;
    }
  } else if (a.recurrence == Recurrence::all_without_kv) {
    std::fill(kv.begin(), kv.end(), 0);
  }
  s.n_head_kv = to_i32(max_of(kv));
  // Per-layer values only when they differ, or when no layer has KV (pure recurrent models:
  // an all-zero list says "no KV" where a scalar 0 would be invalid).
  if (!uniform(kv) || (s.n_head_kv == 0 && !s.recurrent.layers.empty())) {
    s.n_head_kv_per_layer.assign(kv.begin(), kv.end());
  }

  s.swa = sliding_window(k, a.swa, n_layer);
  // mllama's cross-attention blocks (Ollama convert/convert_mllama.go writes the list) and the
  // vision tokens one image leaves in their cache: max_num_tiles x ((image_size / patch_size)^2
  // + 1), Ollama padding every image to the maximum tile count; without those keys the 4 x 1601
  // Ollama's own estimate assumes (fs/ggml/ggml.go GraphSize, v0.24.0).
  s.cross.layers = k.layer_indices(k.key("attention.cross_attention_layers"), n_layer);
  if (s.cross.present()) {
    const auto image = k.opt_int(k.key("vision.image_size"), 1, 1 << 14);
    const auto patch = k.opt_int(k.key("vision.patch_size"), 1, 1 << 14);
    const auto tiles = k.opt_int(k.key("vision.max_num_tiles"), 1, 64);
    s.cross.tokens = 4 * 1601;
    if (image && patch && tiles) {
      const std::int64_t side = *image / *patch;
      s.cross.tokens = *tiles * (side * side + 1);  // below 2^35: validate() caps it
    }
  }
  // Encoders get no KV cache (llama_model::create_memory returns none for them).
  s.causal = !a.encoder && !a.bidirectional && k.opt_bool(k.key("attention.causal")).value_or(true);
  s.tied_embeddings = file.find_tensor("output.weight") == nullptr;
  s.rope_freqs = file.find_tensor("rope_freqs.weight") != nullptr;
  if (const GgufTensor* longrope = file.find_tensor("rope_factors_long.weight")) {
    // validate() bounds it (a file's own tensors are what gets planned).
    s.rope_factors = static_cast<std::int32_t>(
        std::min<std::int64_t>(longrope->info.ne[0], std::numeric_limits<std::int32_t>::max()));
  }

  const std::optional<std::int64_t> vocab = vocab_size_from_gguf(file, origin);
  if (!vocab) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: cannot tell the vocabulary size: no '{}', no "
                            "'tokenizer.ggml.tokens' and no 'token_embd.weight'",
                            origin, k.key("vocab_size")));
  }
  s.n_vocab = *vocab;

  validate(s, origin);
  return s;
}

std::optional<FileType> file_type_from_gguf(const GgufFile& file, const std::string& origin) {
  const GgufValue* v = file.find("general.file_type");
  if (v == nullptr) return std::nullopt;
  const std::optional<std::int64_t> id = v->as_int();
  if (!id) {
    throw Error(ErrorKind::bad_input,
                fmt::format("{}: offset {}: key 'general.file_type' must be an integer, got {}",
                            origin, v->offset, to_string(v->type)));
  }
  constexpr std::int64_t guessed = 1024;  // LLAMA_FTYPE_GUESSED
  const FileTypeInfo* ft = find_file_type(*id & ~guessed);
  if (ft == nullptr) return std::nullopt;
  return ft->type;
}

std::vector<TensorInfo> tensors_from_gguf(const GgufFile& file) {
  std::vector<TensorInfo> out;
  out.reserve(file.tensors.size());
  for (const GgufTensor& t : file.tensors) out.push_back(t.info);
  return out;
}

Model model_from_gguf(const GgufModelFiles& files, std::string name) {
  const std::string& origin = files.paths.empty() ? name : files.paths.front();
  ModelSpec spec = spec_from_gguf(files.file, origin);
  std::optional<FileType> ftype = file_type_from_gguf(files.file, origin);
  std::vector<TensorInfo> tensors = tensors_from_gguf(files.file);
  if (!ftype) {
    // The ggml type holding the most bytes, mapped to the first preset based on it.
    std::map<GgmlType, Bytes> bytes;
    for (const TensorInfo& t : tensors) bytes[t.type] += t.bytes();
    const auto top = std::max_element(bytes.begin(), bytes.end(), [](const auto& a, const auto& b) {
      return a.second < b.second;
    });
    ftype = FileType::mostly_f16;
    if (top != bytes.end()) {
      for (const FileTypeInfo& ft : file_types()) {
        if (ft.base == top->first) {
          ftype = ft.type;
          break;
        }
      }
    }
  }
  std::string source = files.paths.size() > 1
                           ? fmt::format("GGUF {} ({} parts)", origin, files.paths.size())
                           : fmt::format("GGUF {}", origin);
  return make_model(std::move(name), std::move(source), std::move(spec), *ftype,
                    std::move(tensors));
}

std::optional<VisionEncoder> vision_encoder_from_gguf(const GgufFile& f) {
  const auto text = [&](std::string_view key) -> std::string {
    const GgufValue* v = f.find(key);
    return v != nullptr && v->as_string() != nullptr ? *v->as_string() : std::string();
  };
  const auto number = [&](std::string_view key) -> std::optional<std::int64_t> {
    const GgufValue* v = f.find(key);
    return v != nullptr ? v->as_int() : std::nullopt;
  };
  const auto has = [&](std::string_view name) { return f.find_tensor(name) != nullptr; };
  std::string type = text("clip.projector_type");
  if (type.empty()) type = text("clip.vision.projector_type");
  VisionEncoder e;
  // mlp_siglip is vramplan's name for an "mlp" file of moondream2's layout, not a projector type.
  if (!parse_vision_encoder_kind(type, e.kind) || e.kind == VisionEncoderKind::mlp_siglip) {
    return std::nullopt;
  }
  const bool qwen = is_qwen_vl(e.kind);
  // The builder's layout: gemma3 (SigLIP) with a patch bias and a post-LN, and an F16 or
  // BF16 projection (its transposed copy is in the compute buffer); llava's CLIP with a class
  // embedding and a pre-LN, no post-LN, every block's output kept (no feature_layer list);
  // the Qwen-VL towers as convert_hf_to_gguf.py writes them (two F16 patch kernels, the im2col
  // copies being of the kernel's type); Pixtral and MiniCPM-V as llama.cpp's converter writes
  // them (below).
  const GgufTensor* patch = f.find_tensor("v.patch_embd.weight");
  if (patch == nullptr || patch->info.type == GgmlType::bf16 ||
      has("v.patch_embd.weight.1") != qwen || f.find("clip.vision.attention.head_dim") != nullptr ||
      f.find("clip.vision.attention.head_count_kv") != nullptr) {
    return std::nullopt;
  }
  if (e.kind == VisionEncoderKind::gemma3) {
    const GgufTensor* proj = f.find_tensor("mm.input_projection.weight");
    if (proj == nullptr ||
        (proj->info.type != GgmlType::f16 && proj->info.type != GgmlType::bf16) ||
        !has("v.patch_embd.bias") || !has("v.post_ln.weight")) {
      return std::nullopt;
    }
  } else if (e.kind == VisionEncoderKind::pixtral) {
    // Pixtral: a pre-LN and no post-LN, separate Q/K/V without norms, a gated FFN, the
    // [IMG_BREAK] embedding; the patch merger exactly when spatial_merge_size > 1.
    const std::optional<std::int64_t> merge = number("clip.vision.spatial_merge_size");
    if (merge && (*merge < 1 || *merge > 64)) return std::nullopt;
    e.merge = merge ? static_cast<std::int32_t>(*merge) : 1;
    const bool merger = has("mm.patch_merger.weight");
    if (!has("v.pre_ln.weight") || has("v.post_ln.weight") || !has("v.blk.0.attn_q.weight") ||
        has("v.blk.0.attn_q_norm.weight") || !has("v.blk.0.ffn_gate.weight") ||
        !has("v.token_embd.img_break") || !has("mm.1.weight") || !has("mm.2.weight") ||
        merger != (e.merge > 1) || (merger && !has("mm.input_norm.weight"))) {
      return std::nullopt;
    }
  } else if (e.kind == VisionEncoderKind::minicpmv) {
    // MiniCPM-V (clip_graph_minicpmv): learned positions, no class embedding, no pre-LN, a
    // post-LN, an ungated FFN; the query count from the file or, as clip.cpp does, from the
    // converter's version (3 to 6 and 100045: 64, else 96).
    const std::optional<std::int64_t> queries = number("clip.minicpmv_query_num");
    const std::int64_t version = number("clip.minicpmv_version").value_or(2);
    const bool v64 = (version >= 3 && version <= 6) || version == 100045;
    e.queries = static_cast<std::int32_t>(
        queries && *queries > 0 ? std::min<std::int64_t>(*queries, 1 << 20) : (v64 ? 64 : 96));
    if (!has("v.position_embd.weight") || has("v.class_embd") || has("v.pre_ln.weight") ||
        !has("v.post_ln.weight") || !has("v.blk.0.attn_q.weight") ||
        has("v.blk.0.ffn_gate.weight") || !has("resampler.query")) {
      return std::nullopt;
    }
  } else if (e.kind == VisionEncoderKind::mlp) {
    // llava's CLIP layout, or moondream2's SigLIP one (mlp_siglip: no class embedding or
    // pre-LN, a patch bias and a post-LN, the MLP's hidden width from mm.0).
    const GgufTensor* mm0 = f.find_tensor("mm.0.weight");
    if (!has("v.class_embd") && !has("v.pre_ln.weight") && has("v.post_ln.weight") &&
        has("v.patch_embd.bias") && mm0 != nullptr && has("mm.2.weight") &&
        f.find("clip.vision.feature_layer") == nullptr) {
      if (mm0->info.ne[1] < 1 || mm0->info.ne[1] > 262144) return std::nullopt;
      e.kind = VisionEncoderKind::mlp_siglip;
      e.adapter = static_cast<std::int32_t>(mm0->info.ne[1]);
    } else if (!has("v.class_embd") || !has("v.pre_ln.weight") || has("v.post_ln.weight") ||
               has("v.patch_embd.bias") || f.find("clip.vision.feature_layer") != nullptr) {
      return std::nullopt;
    }
  } else if (e.kind == VisionEncoderKind::idefics3) {
    // SmolVLM / Idefics3 as conversion/smolvlm.py writes it: the patch embedding F32 (the
    // builder's im2col copy is of its type), a patch bias, learned positions, no class
    // embedding or pre-LN, a post-LN, biased Q/K/V and an FFN without gate; the pixel shuffle's
    // side (projector.scale_factor, which build_patch_merge_permute wants above 1) and
    // mm.model.fc taking merge x merge patches (ggml_mul_mat asserts, checked below).
    const std::optional<std::int64_t> merge = number("clip.vision.projector.scale_factor");
    if (!merge || *merge < 2 || *merge > 64 || !has("mm.model.fc.weight") ||
        patch->info.type != GgmlType::f32 || !has("v.patch_embd.bias") ||
        !has("v.position_embd.weight") || has("v.class_embd") || has("v.pre_ln.weight") ||
        !has("v.post_ln.weight") || !has("v.blk.0.attn_q.bias") || has("v.blk.0.ffn_gate.weight")) {
      return std::nullopt;
    }
    e.merge = static_cast<std::int32_t>(*merge);
  } else if (e.kind == VisionEncoderKind::internvl) {
    // InternVL as conversion/internvl.py writes it: a patch bias, class embedding, learned
    // positions, no pre- or post-LN, split Q/K/V, layer scales, an FFN without gate; mlp1 as
    // mm.model.mlp.0 (the LayerNorm), .1 and .3. The 6B ViT's layout (no Q/K/V bias, Q/K
    // norms, RMS norms) is checked against its shape below.
    const std::optional<std::int64_t> merge = number("clip.vision.projector.scale_factor");
    if ((merge && (*merge < 1 || *merge > 64)) || !has("v.patch_embd.bias") ||
        !has("v.class_embd") || !has("v.position_embd.weight") || has("v.pre_ln.weight") ||
        has("v.post_ln.weight") || !has("v.blk.0.attn_q.weight") ||
        has("v.blk.0.attn_qkv.weight") || !has("v.blk.0.ls1.weight") ||
        !has("v.blk.0.ls2.weight") || has("v.blk.0.ffn_gate.weight") ||
        !has("mm.model.mlp.0.weight") || !has("mm.model.mlp.1.weight") ||
        !has("mm.model.mlp.3.weight")) {
      return std::nullopt;
    }
    e.merge = merge ? static_cast<std::int32_t>(*merge) : 1;  // clip.cpp's n_merge default
  } else if (e.kind == VisionEncoderKind::llama4) {
    // Llama 4 as conversion/llama4.py writes it: a linear (2-D) patch embedding, class
    // embedding, learned positions, pre- and post-LN, biased Q/K/V and FFN without gate or
    // norms; the pixel-shuffle MLP (its width from mm.model.mlp.1) and mm.model.fc.
    const GgufTensor* mlp1 = f.find_tensor("mm.model.mlp.1.weight");
    const std::optional<std::int64_t> merge = number("clip.vision.projector.scale_factor");
    if (!merge || *merge < 1 || *merge > 64 || mlp1 == nullptr || !has("mm.model.mlp.2.weight") ||
        !has("mm.model.fc.weight") || !has("v.class_embd") || !has("v.position_embd.weight") ||
        !has("v.pre_ln.weight") || !has("v.post_ln.weight") || !has("v.blk.0.attn_q.bias") ||
        has("v.blk.0.attn_q_norm.weight") || !has("v.blk.0.ffn_up.bias") ||
        has("v.blk.0.ffn_gate.weight") || mlp1->info.ne[1] < 1 || mlp1->info.ne[1] > 262144) {
      return std::nullopt;
    }
    e.merge = static_cast<std::int32_t>(*merge);
    e.adapter = static_cast<std::int32_t>(mlp1->info.ne[1]);
  } else {
    // Qwen2.5-VL: separate biased Q/K/V, a biased SwiGLU FFN, RMS norms without bias, no
    // patch bias or positions. Qwen2-VL: the same but LayerNorms with bias and an FFN without
    // gate. Qwen3-VL: fused biased QKV, a biased FFN without gate, LayerNorms, a patch bias
    // and a learned position grid. All: the merger's norm as v.post_ln, its MLP as mm.0 /
    // mm.2, no pre-LN or class embedding.
    const GgufTensor* patch1 = f.find_tensor("v.patch_embd.weight.1");
    const bool v25 = e.kind == VisionEncoderKind::qwen25vl;
    const bool v3 = e.kind == VisionEncoderKind::qwen3vl;
    if (patch->info.type != GgmlType::f16 || patch1->info.type != GgmlType::f16 ||
        has("v.pre_ln.weight") || has("v.class_embd") || !has("v.post_ln.weight") ||
        has("v.post_ln.bias") == v25 || !has("mm.0.weight") || !has("mm.0.bias") ||
        !has("mm.2.weight") || !has("mm.2.bias") || has("v.patch_embd.bias") != v3 ||
        has("v.position_embd.weight") != v3 || !has("v.blk.0.attn_out.bias") ||
        !has("v.blk.0.ffn_up.bias") || !has("v.blk.0.ffn_down.bias") ||
        has("v.blk.0.ffn_gate.weight") != v25 || has("v.blk.0.ln1.bias") == v25 ||
        has("v.blk.0.attn_qkv.bias") != v3 || has("v.blk.0.attn_q.bias") == v3) {
      return std::nullopt;
    }
    if (const std::optional<std::int64_t> merge = number("clip.vision.spatial_merge_size")) {
      if (*merge != 2) return std::nullopt;  // the graph merges 2 x 2 patches
    }
    e.merge = 2;
  }
  const std::pair<std::string_view, std::int32_t*> fields[] = {
      {"clip.vision.block_count", &e.layers},      {"clip.vision.embedding_length", &e.width},
      {"clip.vision.feed_forward_length", &e.ffn}, {"clip.vision.attention.head_count", &e.heads},
      {"clip.vision.patch_size", &e.patch},        {"clip.vision.image_size", &e.image}};
  for (const auto& [key, out] : fields) {
    // Qwen2-VL's FFN width comes from its tensors (below); files from the old surgery script
    // wrote feed_forward_length 0 (clip.cpp, is_ffn_swapped).
    if (out == &e.ffn && e.kind == VisionEncoderKind::qwen2vl) continue;
    const std::optional<std::int64_t> v = number(key);
    if (!v || *v < 1 || *v > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
    *out = static_cast<std::int32_t>(*v);
  }
  if (e.kind == VisionEncoderKind::gemma3) {
    if (const std::optional<std::int64_t> merge = number("clip.vision.projector.scale_factor")) {
      if (*merge < 1 || *merge > 64) return std::nullopt;
      e.merge = static_cast<std::int32_t>(*merge);
    }
  }
  if (qwen) {
    // clip.cpp warms Qwen-VL up with 46 x 46 merged tokens (set_warmup_n_tokens), not at
    // clip.vision.image_size.
    if (e.patch > 1024) return std::nullopt;
    e.image = 46 * e.patch * e.merge;
    if (e.layers > 256) return std::nullopt;
  }
  if (e.kind == VisionEncoderKind::llama4) {
    // The pixel shuffle feeds merge x merge patches to mm.model.mlp.1 (ggml_mul_mat asserts).
    const std::int64_t in = f.find_tensor("mm.model.mlp.1.weight")->info.ne[0];
    if (in != std::int64_t{e.width} * e.merge * e.merge) return std::nullopt;
  }
  if (e.kind == VisionEncoderKind::internvl) {
    // mlp1's norm and first layer take merge x merge patches; the 6B ViT (the shape clip.cpp
    // gives RMS norms) has Q/K norms and no biases, the 300M one biases and no norms.
    const std::int64_t wide = std::int64_t{e.width} * e.merge * e.merge;
    const bool big = is_internvit_6b(e);
    if (f.find_tensor("mm.model.mlp.0.weight")->info.ne[0] != wide ||
        f.find_tensor("mm.model.mlp.1.weight")->info.ne[0] != wide ||
        has("v.blk.0.attn_q_norm.weight") != big || has("v.blk.0.attn_k_norm.weight") != big ||
        has("v.blk.0.attn_q.bias") == big || has("v.blk.0.ln1.bias") == big) {
      return std::nullopt;
    }
  }
  if (e.kind == VisionEncoderKind::idefics3) {
    const std::int64_t in = f.find_tensor("mm.model.fc.weight")->info.ne[0];
    if (in != std::int64_t{e.width} * e.merge * e.merge) return std::nullopt;
  }
  if (e.kind == VisionEncoderKind::qwen25vl || e.kind == VisionEncoderKind::qwen2vl) {
    // clip.cpp requires n_wa_pattern of Qwen2.5-VL and takes it, if present, for Qwen2-VL
    // (whose converter writes none: no window attention).
    const std::optional<std::int64_t> window = number("clip.vision.n_wa_pattern");
    if (e.kind == VisionEncoderKind::qwen25vl && !window) return std::nullopt;
    if (window && (*window < 0 || *window > 256)) return std::nullopt;
    e.window = static_cast<std::int32_t>(window.value_or(0));
  }
  if (e.kind == VisionEncoderKind::qwen2vl) {
    // Qwen2-VL's converter writes vision_config.hidden_size (the text width) as
    // feed_forward_length (conversion/qwenvl.py, Qwen2VLVisionModel); the FFN's width is
    // ffn_up's other side (fc1: [width, width * mlp_ratio]; clip.cpp swaps up and down of old
    // files, whose up is [ffn, width]).
    const GgufTensor* up = f.find_tensor("v.blk.0.ffn_up.weight");
    if (up == nullptr) return std::nullopt;
    const std::int64_t ffn = up->info.ne[0] == e.width ? up->info.ne[1] : up->info.ne[0];
    if ((up->info.ne[0] != e.width && up->info.ne[1] != e.width) || ffn < 1 || ffn > 262144) {
      return std::nullopt;
    }
    e.ffn = static_cast<std::int32_t>(ffn);
  }
  if (e.kind == VisionEncoderKind::qwen3vl) {
    // The position grid is square: clip.cpp takes its side as sqrt(rows).
    const std::int64_t rows = f.find_tensor("v.position_embd.weight")->info.ne[1];
    if (rows < 1 || rows > std::int64_t{4096} * 4096) return std::nullopt;
    std::int64_t side = 1;
    while ((side + 1) * (side + 1) <= rows) ++side;
    if (side * side != rows) return std::nullopt;
    e.positions = static_cast<std::int32_t>(side);
    for (std::int32_t il = 0; il < e.layers; ++il) {
      if (has(fmt::format("v.deepstack.{}.fc1.weight", il))) e.deepstack.push_back(il);
    }
  }
  try {
    validate(e);
  } catch (const Error&) {
    return std::nullopt;  // a shape the builder does not take: the buffer is not counted
  }
  return e;
}

}  // namespace vramplan::io
