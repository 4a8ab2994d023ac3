// Catalog lookup: name resolution the way people type model names (docs/catalog.md,
// "Resolution"). Pure: no I/O, no environment.
#include <vramplan/catalog.hpp>

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <vramplan/error.hpp>
#include <vramplan/text.hpp>

#include "by_id.hpp"

namespace vramplan {
namespace {

[[nodiscard]] std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  return text;
}

bool strip_prefix(std::string& text, std::string_view prefix) {
  if (text.size() < prefix.size() || lower_ascii(text.substr(0, prefix.size())) != prefix)
    return false;
  text.erase(0, prefix.size());
  return true;
}

// "Q4_K_M" -> "q4_K_M", "F16" -> "fp16": Ollama's tag spelling of a file type.
[[nodiscard]] std::string ollama_quant_spelling(FileType type) {
  if (type == FileType::mostly_f16) return "fp16";
  if (type == FileType::all_f32) return "fp32";
  std::string out = lower_ascii(to_string(type));
  const std::size_t k = out.find("_k");
  if (k != std::string::npos) {  // "q4_K_M", "q3_K_S", "q6_K"
    for (std::size_t i = k + 1; i < out.size(); ++i) {
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

// Does a tag part look like a quantization ("q9", "iq5_xx", "fp8", "f64", "bf8", "mxfp9")?
// Such a part that parse_file_type rejects is an error rather than a variant name.
[[nodiscard]] bool looks_like_quant(std::string_view part) {
  const std::string p = lower_ascii(part);
  auto digit_after = [&](std::size_t n) {
    return p.size() > n && std::isdigit(static_cast<unsigned char>(p[n])) != 0;
  };
  if (p.starts_with("q") || p.starts_with("f")) return digit_after(1);
  if (p.starts_with("iq") || p.starts_with("tq") || p.starts_with("bf") || p.starts_with("fp")) {
    return digit_after(2);
  }
  if (p.starts_with("mxfp")) return digit_after(4);
  return false;
}

// What one part of a tag says about the quantization: nothing (a variant such as
// "instruct"), a file type ("q8_0", "8bit", "int8"), "4-bit" (whose file type depends on the
// model: see four_bit_type), or a word that names something the catalog does not model.
struct QuantWord {
  enum class Kind { none, type, four_bit, refused };
  Kind kind = Kind::none;
  FileType type = FileType::mostly_q4_k_m;
  std::string_view why;  // for refused: what the word names and what to do instead
};

// Its message ends with the model setting (the command line's flag) and " DIR)".
constexpr std::string_view not_gguf =
    "names a Hugging Face checkpoint format (for transformers, vLLM or MLX), not a GGUF file "
    "type that Ollama or llama.cpp loads; name a GGUF type such as q4_K_M or q8_0, or plan the "
    "checkpoint itself from its folder (config.json and *.safetensors: ";

[[nodiscard]] QuantWord quant_word(std::string_view part) {
  using Kind = QuantWord::Kind;
  if (auto type = parse_file_type(part)) return {Kind::type, *type, {}};
  const std::string p = lower_ascii(part);
  if (p == "4bit" || p == "int4" || p == "4bits") return {Kind::four_bit, {}, {}};
  struct Word {
    std::string_view text;
    FileType type;
  };
  static constexpr Word words[] = {
      {"2bit", FileType::mostly_q2_k},   {"3bit", FileType::mostly_q3_k_m},
      {"5bit", FileType::mostly_q5_k_m}, {"6bit", FileType::mostly_q6_k},
      {"8bit", FileType::mostly_q8_0},   {"int8", FileType::mostly_q8_0},
      {"8bits", FileType::mostly_q8_0},  {"16bit", FileType::mostly_f16},
      {"half", FileType::mostly_f16},    {"32bit", FileType::all_f32},
  };
  for (const Word& w : words) {
    if (p == w.text) return {Kind::type, w.type, {}};
  }
  static constexpr std::string_view formats[] = {"awq",  "gptq",  "exl2", "exl3", "mlx",
                                                 "nf4",  "bnb",   "bnb4", "hqq",  "fp8",
                                                 "int3", "w4a16", "w8a8", "fp4",  "nvfp4"};
  for (std::string_view f : formats) {
    if (p == f) return {Kind::refused, {}, not_gguf};
  }
  if (p == "qat") {
    return {Kind::refused,
            {},
            "names a quantization-aware-trained build (Q4_0 with some tensors kept at higher "
            "precision) whose tensor mix the catalog does not model; pull it and plan the file "
            "(vramplan reads the Ollama store and GGUF files), or name q4_0 for a lower bound"};
  }
  return {};
}

// Whether a part of an Ollama tag that names no quantization is one of the variant words the
// library's tags use (tests/data/ollama-tags.tsv): a tuning ("instruct", "text", "chat",
// "code", "python", "it", "base", "vision", "distill", "uncensored"), a stage ("alpha", "beta",
// "preview", "long"), a size ("xs", "m", "l6": snowflake-arctic-embed's and all-minilm's), a
// version ("v0.2", "v2.5"), a date or release number ("2407", "08"),
// active parameters ("a3b", "e2b") or a base model ("mistral", "llama3.1"). Anything else still
// resolves without it, but the caller is told (ModelRef::unknown_parts).
[[nodiscard]] bool known_variant(std::string_view part) {
  const std::string p = lower_ascii(part);
  static constexpr std::string_view words[] = {
      "instruct", "text",    "chat",       "code",  "python", "it",       "base",
      "vision",   "distill", "uncensored", "alpha", "beta",   "preview",  "long",
      "mistral",  "mixtral", "llama",      "qwen",  "tools",  "thinking", "math",
      "coder",    "latest",  "xs",         "s",     "m",      "l"};
  if (std::find(std::begin(words), std::end(words), p) != std::end(words)) return true;
  const auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (digits(p)) return true;  // 2407, 0528, 08
  if (p.size() > 1 && p[0] == 'l' && digits(std::string_view(p).substr(1))) return true;  // l6
  // v0.2, v2.5, v1
  if (p.size() > 1 && p[0] == 'v') {
    std::string_view rest = std::string_view(p).substr(1);
    bool ok = true;
    for (std::size_t start = 0; ok && start <= rest.size();) {
      const std::size_t dot = rest.find('.', start);
      const std::string_view piece =
          rest.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      ok = digits(piece);
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    if (ok) return true;
  }
  // a3b, a22b, e2b: active or effective parameters
  if (p.size() > 2 && (p[0] == 'a' || p[0] == 'e') && p.back() == 'b' &&
      digits(std::string_view(p).substr(1, p.size() - 2))) {
    return true;
  }
  // llama3, llama3.1, qwen2.5: a base model's name with its version
  for (std::string_view family : {std::string_view("llama"), std::string_view("qwen")}) {
    if (p.starts_with(family) && p.size() > family.size()) {
      const std::string_view version = std::string_view(p).substr(family.size());
      if (std::all_of(version.begin(), version.end(),
                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
        return true;
      }
    }
  }
  return false;
}

// What "4-bit" means for a model: its default when that is a 4-bit type (what Ollama's
// default tag serves), else the first 4-bit type it is offered in, else Q4_K_M.
[[nodiscard]] bool is_four_bit(FileType type) {
  switch (type) {
    case FileType::mostly_q4_0:
    case FileType::mostly_q4_1:
    case FileType::mostly_q4_k_s:
    case FileType::mostly_q4_k_m:
    case FileType::mostly_iq4_nl:
    case FileType::mostly_iq4_xs:
    case FileType::mostly_mxfp4_moe:
      return true;
    default:
      return false;
  }
}

[[nodiscard]] FileType four_bit_type(const CatalogEntry& entry) {
  if (is_four_bit(entry.default_quant)) return entry.default_quant;
  for (const FileType type : entry.quants) {
    if (is_four_bit(type)) return type;
  }
  return FileType::mostly_q4_k_m;
}

[[nodiscard]] std::vector<std::string> split_dashes(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = text.find('-', start);
    parts.emplace_back(text.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) return parts;
    start = dash + 1;
  }
}

// Splits "model:tag" into its parts; the tag is "latest" when absent.
struct OllamaName {
  std::string model;
  std::string tag;
};

[[nodiscard]] OllamaName split_ollama(std::string_view name) {
  const std::size_t colon = name.find(':');
  if (colon == std::string_view::npos) return {lower_ascii(name), "latest"};
  return {lower_ascii(name.substr(0, colon)), lower_ascii(name.substr(colon + 1))};
}

// The part of an HF repo id after the owner: "meta-llama/Llama-3.1-8B" -> "llama-3.1-8b".
[[nodiscard]] std::string repo_name(std::string_view repo) {
  const std::size_t slash = repo.rfind('/');
  return lower_ascii(slash == std::string_view::npos ? repo : repo.substr(slash + 1));
}

class Resolver {
 public:
  Resolver(const std::vector<CatalogEntry>& entries, std::string_view typed)
      : entries_(entries), typed_(typed) {}

  [[nodiscard]] std::optional<ModelRef> run() const {
    std::string name(trim(typed_));
    if (name.empty()) return std::nullopt;

    if (auto ref = by_id_or_alias(name)) return ref;

    // Registry prefixes Ollama accepts: registry.ollama.ai/library/llama3.1:8b.
    std::string bare = name;
    static_cast<void>(strip_prefix(bare, "registry.ollama.ai/"));
    static_cast<void>(strip_prefix(bare, "library/"));

    std::string hf = name;
    const bool hf_host = strip_prefix(hf, "hf.co/") || strip_prefix(hf, "huggingface.co/") ||
                         strip_prefix(hf, "https://huggingface.co/");
    if (hf_host || bare.find('/') != std::string::npos) return by_hf(hf_host ? hf : bare);
    return by_ollama(bare);
  }

 private:
  [[nodiscard]] ModelRef make(const CatalogEntry& entry, std::optional<FileType> quant,
                              std::string base, bool ollama_style) const {
    ModelRef ref;
    ref.entry = &entry;
    ref.quant = quant.value_or(entry.default_quant);
    ref.quant_explicit = quant.has_value();
    ref.matched = std::move(base);
    if (quant) {
      ref.matched += ollama_style ? fmt::format("-{}", ollama_quant_spelling(*quant))
                                  : fmt::format(":{}", to_string(*quant));
    }
    return ref;
  }

  // Canonical spelling for an entry: its first Ollama name, else its id.
  [[nodiscard]] static std::string canonical(const CatalogEntry& entry) {
    return entry.ollama.empty() ? entry.id : entry.ollama.front();
  }

  [[noreturn]] void unknown_quant(std::string_view part) const {
    throw Error(ErrorKind::bad_input,
                fmt::format("unknown quantization '{}' in '{}'", part, trim(typed_)));
  }

  // Reads one tag part as a quantization. A refused word throws with its reason; so does an
  // unknown part when `must` or when it looks like a quantization ("q9", "iq9_xx").
  [[nodiscard]] QuantWord read_quant(std::string_view part, bool must) const {
    const QuantWord word = quant_word(part);
    if (word.kind == QuantWord::Kind::refused) {
      const std::string message = fmt::format("'{}' in '{}' {}", part, trim(typed_), word.why);
      if (word.why == not_gguf) throw Error(ErrorKind::bad_input, message, Setting::model, " DIR)");
      throw Error(ErrorKind::bad_input, message);
    }
    if (word.kind == QuantWord::Kind::none && (must || looks_like_quant(part))) {
      unknown_quant(part);
    }
    return word;
  }

  // The quantization named by the parts of a tag ("instruct", "q8_0"), variants skipped.
  // Two different quantizations in one tag are an error.
  [[nodiscard]] QuantWord quant_of(const std::vector<std::string>& parts) const {
    QuantWord found;
    std::string_view found_part;
    for (const std::string& part : parts) {
      const QuantWord word = read_quant(part, false);
      if (word.kind == QuantWord::Kind::none) continue;
      if (found.kind != QuantWord::Kind::none &&
          (found.kind != word.kind || found.type != word.type)) {
        throw Error(ErrorKind::bad_input, fmt::format("two quantizations, '{}' and '{}', in '{}'",
                                                      found_part, part, trim(typed_)));
      }
      found = word;
      found_part = part;
    }
    return found;
  }

  // The file type a quantization word stands for in `entry`.
  [[nodiscard]] static std::optional<FileType> apply(const QuantWord& word,
                                                     const CatalogEntry& entry) {
    switch (word.kind) {
      case QuantWord::Kind::type:
        return word.type;
      case QuantWord::Kind::four_bit:
        return four_bit_type(entry);
      default:
        return std::nullopt;
    }
  }

  // The entry `ollama pull <model>` gives: the last one marked latest listing that model.
  [[nodiscard]] const CatalogEntry* latest(std::string_view model) const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (!it->ollama_latest) continue;
      for (const std::string& known : it->ollama) {
        if (split_ollama(known).model == model) return &*it;
      }
    }
    return nullptr;
  }

  // Catalog ids ("llama3.1-8b", "llama3.1-8b-q8_0") and aliases. Later entries win, as in add().
  [[nodiscard]] std::optional<ModelRef> by_id_or_alias(std::string_view name) const {
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (iequals(it->id, name)) return make(*it, std::nullopt, canonical(*it), true);
      for (const std::string& alias : it->aliases) {
        if (iequals(alias, name)) return make(*it, std::nullopt, canonical(*it), true);
      }
    }
    // "<id>-<quant>": the longest id that is a prefix followed by a dash.
    const CatalogEntry* best = nullptr;
    const std::string lowered = lower_ascii(name);
    for (const CatalogEntry& entry : entries_) {
      const std::string id = lower_ascii(entry.id);
      if (lowered.size() > id.size() + 1 && lowered.starts_with(id) && lowered[id.size()] == '-' &&
          (best == nullptr || id.size() >= best->id.size())) {
        best = &entry;
      }
    }
    if (best == nullptr) return std::nullopt;
    const std::string rest = lowered.substr(best->id.size() + 1);
    if (rest.find('-') != std::string::npos) return std::nullopt;
    const std::optional<FileType> quant = apply(read_quant(rest, false), *best);
    if (!quant) return std::nullopt;
    return make(*best, quant, canonical(*best), true);
  }

  // "meta-llama/Llama-3.1-8B-Instruct", "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q8_0".
  [[nodiscard]] std::optional<ModelRef> by_hf(std::string_view text) const {
    std::string_view repo = text;
    QuantWord word;
    const std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      repo = text.substr(0, colon);
      const std::string_view tag = text.substr(colon + 1);
      if (!iequals(tag, "latest")) word = read_quant(tag, true);
    }
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      for (const std::string& id : it->hf) {
        if (iequals(id, repo)) return make(*it, apply(word, *it), id, false);
      }
    }
    // A GGUF conversion repo of a known model: match the repo name without its owner and
    // without a trailing "-GGUF".
    std::string name = repo_name(repo);
    if (name.ends_with("-gguf")) name.resize(name.size() - 5);
    if (name.empty()) return std::nullopt;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      for (const std::string& id : it->hf) {
        if (repo_name(id) == name) {
          return make(*it, apply(word, *it), std::string(repo), false);
        }
      }
    }
    return std::nullopt;
  }

  // "llama3.1", "llama3.1:latest", "llama3.1:8b", "llama3.1:8b-instruct-q8_0", "llama3.1:8b-q4".
  [[nodiscard]] std::optional<ModelRef> by_ollama(std::string_view text) const {
    const OllamaName typed = split_ollama(text);
    if (typed.model.empty() || typed.tag.empty()) return std::nullopt;
    if (typed.tag == "latest") {
      const CatalogEntry* entry = latest(typed.model);
      if (entry == nullptr) return std::nullopt;
      return make(*entry, std::nullopt, canonical(*entry), true);
    }

    // The entry whose Ollama tag is the longest dash-bounded prefix of the typed tag.
    const CatalogEntry* best = nullptr;
    std::size_t best_length = 0;
    std::string best_name;
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      for (const std::string& known : it->ollama) {
        const OllamaName k = split_ollama(known);
        if (k.model != typed.model || !typed.tag.starts_with(k.tag)) continue;
        if (typed.tag.size() != k.tag.size() && typed.tag[k.tag.size()] != '-') continue;
        if (best == nullptr || k.tag.size() > best_length) {
          best = &*it;
          best_length = k.tag.size();
          best_name = known;
        }
      }
    }
    if (best == nullptr) {
      // A tag without a size that starts with a quantization ("4bit", "q8_0", "fp16"):
      // the model's latest entry in that quantization.
      const std::vector<std::string> parts = split_dashes(typed.tag);
      if (quant_word(parts.front()).kind == QuantWord::Kind::none) return std::nullopt;
      const CatalogEntry* entry = latest(typed.model);
      if (entry == nullptr) return std::nullopt;
      return make(*entry, apply(quant_of(parts), *entry), canonical(*entry), true);
    }
    if (typed.tag.size() == best_length) return make(*best, std::nullopt, best_name, true);

    // The rest is "-<variant>...[-<quant>]": variants (instruct, text, it, ...) are ignored
    // for the shape; a quantization may be any part ("1b-4bit", "8b-instruct-q8_0").
    const std::string rest = typed.tag.substr(best_length + 1);
    const std::vector<std::string> parts = split_dashes(rest);
    if (parts.back().empty()) return std::nullopt;
    ModelRef ref = make(*best, apply(quant_of(parts), *best), best_name, true);
    for (const std::string& part : parts) {
      if (quant_word(part).kind == QuantWord::Kind::none && !known_variant(part)) {
        ref.unknown_parts.push_back(part);
      }
    }
    return ref;
  }

  const std::vector<CatalogEntry>& entries_;
  std::string_view typed_;
};

}  // namespace

void Catalog::add(CatalogEntry entry) { put_by_id(entries_, std::move(entry)); }

const CatalogEntry* Catalog::find_id(std::string_view id) const { return find_by_id(entries_, id); }

std::optional<ModelRef> Catalog::resolve(std::string_view name) const {
  return Resolver(entries_, name).run();
}

std::vector<std::string> Catalog::suggest(std::string_view name, std::size_t max) const {
  const std::string typed = lower_ascii(trim(name));
  if (typed.empty() || max == 0) return {};
  // Score every spelling of every entry, but suggest each model once, by its canonical name
  // (its first Ollama tag, else its id): "llama3.1:8b" and "llama3.1-8b" are one model.
  std::vector<std::size_t> distances;
  distances.reserve(entries_.size());
  for (const CatalogEntry& entry : entries_) {
    std::size_t best = edit_distance(typed, lower_ascii(entry.id));
    for (const std::string& known : entry.ollama) {
      best = std::min(best, edit_distance(typed, lower_ascii(known)));
      // The model part alone ("mistral" of "mistral:7b"), for names typed without a tag.
      best = std::min(best, edit_distance(typed, lower_ascii(known.substr(0, known.find(':')))));
    }
    for (const std::string& repo : entry.hf)
      best = std::min(best, edit_distance(typed, lower_ascii(repo)));
    distances.push_back(best);
  }
  // Too far to be a typo: more than a third of the typed name changed (at least 2 edits).
  std::vector<std::string> out;
  for (const std::size_t i : typo_candidates(distances, typed.size())) {
    if (out.size() >= max) break;
    const CatalogEntry& entry = entries_[i];
    const std::string canonical = entry.ollama.empty() ? entry.id : entry.ollama.front();
    if (std::find(out.begin(), out.end(), canonical) == out.end()) out.push_back(canonical);
  }
  return out;
}

SettingText Catalog::unknown_message(std::string_view name) const {
  const std::string_view typed = trim(name);
  const std::vector<std::string> close = suggest(typed);
  const std::string suggestion = did_you_mean(close);

  std::string bare(typed);
  static_cast<void>(strip_prefix(bare, "registry.ollama.ai/"));
  static_cast<void>(strip_prefix(bare, "library/"));
  std::string repo(typed);
  const bool hf_host = strip_prefix(repo, "hf.co/") || strip_prefix(repo, "huggingface.co/") ||
                       strip_prefix(repo, "https://huggingface.co/");
  if (hf_host || bare.find('/') != std::string::npos) {
    if (!hf_host) repo = bare;
    const std::size_t colon = repo.rfind(':');
    if (colon != std::string::npos) repo.resize(colon);
    const bool gguf = lower_ascii(repo).ends_with("-gguf");
    const std::string where =
        gguf ? std::string(
                   "the config.json of the model it converts (a few KB, from that "
                   "model's Hugging Face page)")
             : fmt::format(
                   "its config.json (a few KB: "
                   "https://huggingface.co/{}/resolve/main/config.json)",
                   repo);
    return {fmt::format("unknown model '{}': the catalog has no Hugging Face repo '{}'; to plan "
                        "it offline, download {} and pass ",
                        typed, repo, where),
            Setting::model, " path/to/config.json" + suggestion};
  }

  const OllamaName parts = split_ollama(bare);
  std::vector<std::string> tags;
  bool has_latest = false;
  for (const CatalogEntry& entry : entries_) {
    for (const std::string& known : entry.ollama) {
      const OllamaName k = split_ollama(known);
      if (k.model != parts.model) continue;
      has_latest = has_latest || entry.ollama_latest;
      if (std::find(tags.begin(), tags.end(), k.tag) == tags.end()) tags.push_back(k.tag);
    }
  }
  if (!tags.empty()) {
    if (has_latest) tags.emplace_back("latest");
    return {fmt::format(
        "unknown tag '{}' of '{}' (the catalog knows {}){} (run 'vramplan models {}' to list "
        "them)",
        parts.tag, parts.model, fmt::join(tags, ", "), suggestion, parts.model)};
  }
  return {fmt::format("unknown model '{}'{} (run 'vramplan models' to list known models)", typed,
                      suggestion)};
}

std::vector<const CatalogEntry*> Catalog::search(std::string_view query) const {
  const std::string q = lower_ascii(trim(query));
  std::vector<const CatalogEntry*> out;
  auto contains = [&](std::string_view text) {
    return lower_ascii(text).find(q) != std::string::npos;
  };
  for (const CatalogEntry& entry : entries_) {
    bool hit = q.empty() || contains(entry.id) || contains(entry.name) || contains(entry.spec.arch);
    for (const std::string& known : entry.ollama) hit = hit || contains(known);
    for (const std::string& repo : entry.hf) hit = hit || contains(repo);
    for (const std::string& alias : entry.aliases) hit = hit || contains(alias);
    if (hit) out.push_back(&entry);
  }
  // In the order people scan a list: by the name shown (the first Ollama tag, else the id).
  auto shown = [](const CatalogEntry* e) -> std::string_view {
    return e->ollama.empty() ? std::string_view(e->id) : std::string_view(e->ollama.front());
  };
  std::stable_sort(out.begin(), out.end(), [&](const CatalogEntry* x, const CatalogEntry* y) {
    return natural_less(shown(x), shown(y));
  });
  return out;
}

}  // namespace vramplan
