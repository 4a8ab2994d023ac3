#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/ollama_store.hpp>
#include <vramplan/text.hpp>

#include "json_bounded.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Far deeper than any manifest or .params file; bounds the recursion of Json::dump().
constexpr std::size_t json_max_depth = 64;
constexpr std::size_t ollama_max_host_length = 350;
constexpr std::size_t ollama_max_part_length = 80;
constexpr std::string_view sha256_prefix = "sha256:";
constexpr std::size_t sha256_hex_length = 64;

enum class PartKind { host, namespace_, model, tag };

// --- names ---

bool is_alnum_or_underscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// types/model/name.go isValidPart.
bool is_valid_part(PartKind kind, std::string_view s) {
  const std::size_t max = kind == PartKind::host ? ollama_max_host_length : ollama_max_part_length;
  if (s.empty() || s.size() > max) return false;
  if (!is_alnum_or_underscore(s.front())) return false;
  for (const char c : s.substr(1)) {
    if (is_alnum_or_underscore(c) || c == '-') continue;
    if (c == '.' && kind != PartKind::namespace_) continue;
    if (c == ':' && kind == PartKind::host) continue;
    return false;
  }
  return true;
}

bool is_valid_name(const OllamaName& n) {
  return is_valid_part(PartKind::host, n.host) &&
         is_valid_part(PartKind::namespace_, n.namespace_) &&
         is_valid_part(PartKind::model, n.model) && is_valid_part(PartKind::tag, n.tag);
}

// Splits at the last `sep`: {before, after}; nullopt when `sep` is absent.
std::optional<std::pair<std::string_view, std::string_view>> cut_last(std::string_view s,
                                                                      char sep) {
  const std::size_t i = s.rfind(sep);
  if (i == std::string_view::npos) return std::nullopt;
  return std::pair{s.substr(0, i), s.substr(i + 1)};
}

// --- messages ---

// A value from a file, safe to put in a one-line message: control and non-ASCII bytes become
// '?', and long values are cut.
std::string printable(std::string_view s) {
  constexpr std::size_t max = 80;
  std::string out;
  for (const char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f) ? '?' : c;
  }
  if (s.size() > max) out += "...";
  return out;
}

[[noreturn]] void fail(const std::string& origin, std::string_view what) {
  throw Error(ErrorKind::bad_input, fmt::format("{}: {}", origin, what));
}

// --- JSON ---

// Limits of what a manifest, .params or config blob keeps (docs/reliability.md §6): real
// ones hold a few dozen values and short strings.
constexpr JsonLimits json_limits{
    .max_depth = json_max_depth, .max_values = 1u << 14, .max_string = 1u << 16};

// Parses in one pass (json_bounded.hpp): nlohmann's depth-limiting callback made a 1 MiB
// manifest of keys holding objects take 37 s.
Json parse_json(std::string_view text, const std::string& origin) {
  try {
    return parse_json_bounded(text, json_limits);
  } catch (const JsonFailure& f) {
    using Kind = JsonFailure::Kind;
    switch (f.kind) {
      case Kind::ends_early:
        fail(origin, "malformed JSON: unexpected end of input");
      case Kind::number_range:
        // 406: a number too large for a double ("1e999"); found by tests/fuzz/manifest_fuzz.cpp
        fail(origin, "malformed JSON: number out of range");
      case Kind::too_deep:
        fail(origin, fmt::format("JSON nested deeper than {} levels", json_max_depth));
      case Kind::too_many_values:
        fail(origin, fmt::format("JSON has more than {} values", json_limits.max_values));
      case Kind::string_too_long:
        fail(origin, fmt::format("JSON string of {} bytes exceeds the limit of {}", f.length,
                                 json_limits.max_string));
      case Kind::syntax:
      case Kind::not_object:
        break;
    }
    fail(origin, fmt::format("malformed JSON at byte {}", f.byte));
  }
}

bool is_valid_digest(std::string_view digest) {
  if (digest.size() != sha256_prefix.size() + sha256_hex_length) return false;
  if (digest.substr(0, sha256_prefix.size()) != sha256_prefix) return false;
  return std::all_of(digest.begin() + static_cast<std::ptrdiff_t>(sha256_prefix.size()),
                     digest.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::uint64_t> as_size(const Json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i >= 0) return static_cast<std::uint64_t>(i);
  }
  return std::nullopt;
}

// `where` is "config" or "layers[N]".
OllamaLayer parse_layer(const Json& j, const std::string& origin, const std::string& where,
                        bool media_type_required) {
  if (!j.is_object()) fail(origin, fmt::format("{}: not a JSON object", where));
  OllamaLayer layer;

  const auto media = j.find("mediaType");
  if (media == j.end()) {
    if (media_type_required) fail(origin, fmt::format("{}: missing 'mediaType'", where));
  } else if (!media->is_string()) {
    fail(origin, fmt::format("{}: 'mediaType' is not a string", where));
  } else {
    layer.media_type = media->get<std::string>();
  }

  const auto digest = j.find("digest");
  if (digest == j.end()) fail(origin, fmt::format("{}: missing 'digest'", where));
  if (!digest->is_string()) fail(origin, fmt::format("{}: 'digest' is not a string", where));
  layer.digest = digest->get<std::string>();
  if (!is_valid_digest(layer.digest)) {
    fail(origin, fmt::format("{}: invalid digest '{}' (expected 'sha256:' and 64 lowercase "
                             "hex digits)",
                             where, printable(layer.digest)));
  }

  const auto size = j.find("size");
  if (size == j.end()) fail(origin, fmt::format("{}: missing 'size'", where));
  const std::optional<std::uint64_t> bytes = as_size(*size);
  if (!bytes) {
    fail(origin, fmt::format("{}: 'size' is '{}', not a non-negative integer", where,
                             printable(size->dump())));
  }
  layer.size = *bytes;
  return layer;
}

// --- .params ---

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// A JSON number or a string holding an integer, within [min, max].
template <typename Int>
Int param_int(const Json& v, std::string_view key, Int min, const std::string& origin) {
  std::optional<std::int64_t> value;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      value = static_cast<std::int64_t>(u);
    }
  } else if (v.is_number_integer()) {
    value = v.get<std::int64_t>();
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    // 2^53: every integer below is exact in a double.
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9007199254740992.0) {
      value = static_cast<std::int64_t>(d);
    }
  } else if (v.is_string()) {
    value = parse_int(v.get_ref<const std::string&>());
  }
  if (!value || *value < min || *value > std::numeric_limits<Int>::max()) {
    fail(origin, fmt::format("'{}' is '{}', not an integer{}", key, printable(v.dump()),
                             min == 0 ? " >= 0" : ""));
  }
  return static_cast<Int>(*value);
}

bool param_bool(const Json& v, std::string_view key, const std::string& origin) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (iequals(s, "true")) return true;
    if (iequals(s, "false")) return false;
  }
  fail(origin, fmt::format("'{}' is '{}', not a boolean", key, printable(v.dump())));
}

}  // namespace

OllamaParams parse_params(std::string_view text, const std::string& origin) {
  const Json j = parse_json(text, origin);
  if (!j.is_object()) fail(origin, "not a JSON object");
  OllamaParams params;
  for (const auto& [key, value] : j.items()) {
    if (key == "num_ctx") {
      params.num_ctx = param_int<std::int64_t>(value, key, 0, origin);
    } else if (key == "num_batch") {
      params.num_batch = param_int<std::int64_t>(value, key, 0, origin);
    } else if (key == "num_gpu") {
      params.num_gpu =
          param_int<std::int32_t>(value, key, std::numeric_limits<std::int32_t>::min(), origin);
    } else if (key == "num_thread") {
      params.num_thread = param_int<std::int32_t>(value, key, 0, origin);
    } else if (key == "use_mmap") {
      params.use_mmap = param_bool(value, key, origin);
    } else {
      params.other[key] = value.is_string() ? value.get<std::string>() : value.dump();
    }
  }
  return params;
}

namespace {

OllamaConfig parse_config(std::string_view text, const std::string& origin) {
  OllamaConfig config;
  Json j;
  try {
    j = parse_json(text, origin);
  } catch (const Error&) {
    return config;  // "if readable": a config blob only labels the model
  }
  if (!j.is_object()) return config;
  const auto text_of = [&j](const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  config.model_format = text_of("model_format");
  config.model_family = text_of("model_family");
  config.model_type = text_of("model_type");
  config.file_type = text_of("file_type");
  config.remote_host = text_of("remote_host");
  return config;
}

// --- files ---

// `dir`/`name`, or the entry of `dir` equal to `name` ignoring ASCII case (the first in byte
// order when several are).
std::optional<fs::path> find_entry(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  fs::path exact = dir / name;
  if (fs::exists(exact, ec)) return exact;
  std::optional<std::string> best;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string entry = it->path().filename().string();
    if (iequals(entry, name) && (!best || entry < *best)) best = std::move(entry);
  }
  if (!best) return std::nullopt;
  return dir / *best;
}

// Reads a small JSON file after checking its size against the cap.
std::string read_capped(const std::string& path, const std::string& origin, std::string_view what) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > ollama_max_manifest_bytes) {
    fail(origin, fmt::format("{} is {} bytes, more than the limit of {}", what, size,
                             ollama_max_manifest_bytes));
  }
  return read_text_file(path, ollama_max_manifest_bytes);
}

// The blob of `layer`, checked to exist with the size the manifest gives.
OllamaBlob checked_blob(const OllamaLayer& layer, const std::string& dir, const std::string& origin,
                        std::string_view kind) {
  OllamaBlob blob{.digest = layer.digest, .path = blob_path(dir, layer.digest), .size = layer.size};
  std::error_code ec;
  const fs::file_status status = fs::status(blob.path, ec);
  if (!fs::exists(status)) {
    fail(origin, fmt::format("{} blob '{}' is missing", kind, blob.path));
  }
  if (!fs::is_regular_file(status)) {
    fail(origin, fmt::format("{} blob '{}' is not a regular file", kind, blob.path));
  }
  const std::uintmax_t size = fs::file_size(blob.path, ec);
  if (ec) throw Error(ErrorKind::io, fmt::format("cannot stat '{}': {}", blob.path, ec.message()));
  if (size != layer.size) {
    fail(origin, fmt::format("{} blob '{}' is {} bytes, the manifest says {}", kind, blob.path,
                             size, layer.size));
  }
  return blob;
}

std::string trim_env(std::string_view s) {
  constexpr std::string_view spaces = " \t\n\r\v\f";
  const std::size_t b = s.find_first_not_of(spaces);
  if (b == std::string_view::npos) return {};
  s = s.substr(b, s.find_last_not_of(spaces) - b + 1);
  // then quotes, as Ollama's envconfig.Var: strings.Trim(strings.TrimSpace(v), "\"'")
  constexpr std::string_view quotes = "\"'";
  const std::size_t qb = s.find_first_not_of(quotes);
  if (qb == std::string_view::npos) return {};
  return std::string(s.substr(qb, s.find_last_not_of(quotes) - qb + 1));
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

}  // namespace

std::optional<OllamaName> parse_ollama_name(std::string_view text) {
  // types/model/name.go ParseNameBare, then Merge with DefaultName.
  OllamaName name;
  std::string_view s = text;
  std::optional<std::string_view> host;
  std::optional<std::string_view> namespace_;
  std::string_view tag = ollama_default_tag;

  // '/' cannot occur in a tag, so a ':' after the last '/' starts the tag (else it is a port).
  const std::size_t colon = s.rfind(':');
  const std::size_t slash = s.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = s.substr(colon + 1);
    s = s.substr(0, colon);
    if (tag.empty()) return std::nullopt;
  }
  std::string_view model = s;
  if (const auto m = cut_last(s, '/')) {
    model = m->second;
    if (const auto ns = cut_last(m->first, '/')) {
      namespace_ = ns->second;
      std::string_view h = ns->first;
      if (const std::size_t scheme = h.find("://"); scheme != std::string_view::npos) {
        h = h.substr(scheme + 3);
      }
      host = h;
    } else {
      namespace_ = m->first;
    }
  }
  name.host = std::string(host.value_or(ollama_default_host));
  name.namespace_ = std::string(namespace_.value_or(ollama_default_namespace));
  name.model = std::string(model);
  name.tag = std::string(tag);
  if (!is_valid_name(name)) return std::nullopt;
  return name;
}

std::string display_name(const OllamaName& name) {
  // Ollama's DisplayShortest with its default mask "registry.ollama.ai/library/?:latest".
  const bool default_host = iequals(name.host, ollama_default_host);
  const bool default_namespace = default_host && iequals(name.namespace_, ollama_default_namespace);
  std::string out;
  if (!default_host) out += name.host + "/";
  if (!default_namespace) out += name.namespace_ + "/";
  out += name.model;
  if (!iequals(name.tag, ollama_default_tag)) out += ":" + name.tag;
  return out;
}

std::optional<std::string> models_dir(const Getenv& getenv, const std::string& service_dir) {
  if (const std::optional<std::string> env = getenv("OLLAMA_MODELS")) {
    std::string dir = trim_env(*env);
    if (!dir.empty()) return dir;
  }
  std::optional<std::string> home_dir;
  if (const std::optional<std::string> home = getenv("HOME"); home && !home->empty()) {
    home_dir = (fs::path(*home) / ".ollama" / "models").string();
    if (is_directory(*home_dir)) return home_dir;
  }
  if (!service_dir.empty() && is_directory(service_dir)) return service_dir;
  return home_dir;
}

OllamaManifest parse_manifest(std::string_view json, const std::string& origin) {
  if (json.size() > ollama_max_manifest_bytes) {
    fail(origin, fmt::format("manifest is {} bytes, more than the limit of {}", json.size(),
                             ollama_max_manifest_bytes));
  }
  const Json j = parse_json(json, origin);
  if (!j.is_object()) fail(origin, "not a JSON object");

  OllamaManifest manifest;
  const auto version = j.find("schemaVersion");
  if (version == j.end()) fail(origin, "missing 'schemaVersion'");
  if (!version->is_number_integer() || version->get<std::int64_t>() != 2) {
    fail(origin,
         fmt::format("unsupported schemaVersion '{}' (expected 2)", printable(version->dump())));
  }
  manifest.schema_version = 2;

  if (const auto media = j.find("mediaType"); media != j.end()) {
    if (!media->is_string()) fail(origin, "'mediaType' is not a string");
    manifest.media_type = media->get<std::string>();
  }

  const auto config = j.find("config");
  if (config == j.end()) fail(origin, "missing 'config'");
  manifest.config = parse_layer(*config, origin, "config", false);

  const auto layers = j.find("layers");
  if (layers == j.end()) fail(origin, "missing 'layers'");
  if (!layers->is_array()) fail(origin, "'layers' is not an array");
  manifest.layers.reserve(layers->size());
  for (std::size_t i = 0; i < layers->size(); ++i) {
    manifest.layers.push_back(
        parse_layer((*layers)[i], origin, fmt::format("layers[{}]", i), true));
  }
  return manifest;
}

std::string blob_path(const std::string& models_dir, std::string_view digest) {
  if (!is_valid_digest(digest)) {
    throw Error(ErrorKind::internal,
                fmt::format("blob_path: invalid digest '{}'", printable(digest)));
  }
  std::string file = "sha256-";
  file += digest.substr(sha256_prefix.size());
  return (fs::path(models_dir) / "blobs" / file).string();
}

std::optional<OllamaModel> find_ollama_model(std::string_view name, const std::string& models_dir) {
  const std::optional<OllamaName> parsed = parse_ollama_name(name);
  if (!parsed) return std::nullopt;
  return find_ollama_model(*parsed, models_dir);
}

std::optional<OllamaModel> find_ollama_model(const OllamaName& name,
                                             const std::string& models_dir) {
  // Checked again: a hand-built name must not walk out of manifests/ either.
  if (!is_valid_name(name) || models_dir.empty()) return std::nullopt;

  fs::path path = fs::path(models_dir) / "manifests";
  OllamaName on_disk;
  for (auto [part, out] :
       {std::pair{&name.host, &on_disk.host}, std::pair{&name.namespace_, &on_disk.namespace_},
        std::pair{&name.model, &on_disk.model}, std::pair{&name.tag, &on_disk.tag}}) {
    const std::optional<fs::path> next = find_entry(path, *part);
    if (!next) return std::nullopt;
    path = *next;
    *out = path.filename().string();
  }
  std::error_code ec;
  // A directory is no manifest; anything else (a FIFO) is refused when read_text_file opens it.
  if (fs::is_directory(path, ec)) return std::nullopt;

  OllamaModel found;
  found.name = std::move(on_disk);
  found.manifest_path = path.string();
  const std::string& origin = found.manifest_path;
  const OllamaManifest manifest = parse_manifest(read_capped(origin, origin, "manifest"), origin);

  bool has_model = false;
  bool has_tensors = false;
  const OllamaLayer* params = nullptr;
  for (const OllamaLayer& layer : manifest.layers) {
    if (layer.media_type == ollama_media_model) {
      found.model = checked_blob(layer, models_dir, origin, "model");  // the last one wins
      has_model = true;
    } else if (layer.media_type == ollama_media_projector) {
      found.projectors.push_back(checked_blob(layer, models_dir, origin, "projector"));
    } else if (layer.media_type == ollama_media_adapter) {
      found.adapters.push_back(checked_blob(layer, models_dir, origin, "adapter"));
    } else if (layer.media_type == ollama_media_draft) {
      found.draft = checked_blob(layer, models_dir, origin, "draft");
    } else if (layer.media_type == ollama_media_params) {
      params = &layer;
    } else if (layer.media_type == "application/vnd.ollama.image.tensor") {
      has_tensors = true;
    }
  }

  // The config blob only labels the model: read it when it is there.
  const std::string config_path = blob_path(models_dir, manifest.config.digest);
  if (fs::exists(config_path, ec)) {
    (void)checked_blob(manifest.config, models_dir, origin, "config");
    try {
      found.config = parse_config(read_capped(config_path, origin, "config blob"), config_path);
    } catch (const Error&) {
      // unreadable or too large: leave the labels empty
    }
  }

  if (!has_model) {
    if (!found.config.remote_host.empty()) {
      fail(origin, fmt::format("cloud model on '{}' has no local weights",
                               printable(found.config.remote_host)));
    }
    fail(origin, fmt::format("no model layer ('{}'){}", ollama_media_model,
                             has_tensors ? "; safetensors models cannot be read" : ""));
  }
  if (params != nullptr) {
    const OllamaBlob blob = checked_blob(*params, models_dir, origin, "params");
    found.params = parse_params(read_capped(blob.path, origin, "params blob"),
                                fmt::format("{}: params blob '{}'", origin, blob.path));
    found.params_blob = blob;
  }
  return found;
}

Bytes split_projector_tensors(std::vector<TensorInfo>& tensors) {
  const auto is_projector = [](const TensorInfo& t) {
    const std::string_view n = t.name;
    return n.starts_with("v.") || n.starts_with("mm.") || n.starts_with("a.");
  };
  Bytes total = 0;
  for (const TensorInfo& t : tensors) {
    if (is_projector(t)) total += t.bytes();
  }
  std::erase_if(tensors, is_projector);
  return total;
}

}  // namespace vramplan::io
