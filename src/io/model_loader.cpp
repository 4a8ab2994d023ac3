#include <vramplan/io/model_loader.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/io/file.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/gguf_model.hpp>
#include <vramplan/io/hf_model.hpp>
#include <vramplan/io/ollama_store.hpp>
#include <vramplan/limits.hpp>
#include <vramplan/tensors.hpp>

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

LoadedModel from_gguf(const std::string& path) {
  const GgufModelFiles files = read_gguf_model_files(path);
  LoadedModel loaded;
  loaded.kind = SourceKind::gguf;
  loaded.model = model_from_gguf(files, fs::path(path).filename().string());
  loaded.model.source = files.paths.size() > 1
                            ? fmt::format("GGUF {} ({} parts)", path, files.paths.size())
                            : fmt::format("GGUF {}", path);
  loaded.bytes_read = files.bytes_read;

  ModelFileFacts facts;
  facts.path = path;
  facts.format = fmt::format("GGUF v{}", files.file.version);
  facts.file_size = files.total_size;
  facts.header_bytes = files.file.header_size;
  facts.bytes_read = files.bytes_read;
  facts.parts = files.paths.size();
  facts.metadata_keys = files.file.metadata.size();
  if (const GgufValue* v = files.file.find("general.name"); v && v->as_string()) {
    facts.general_name = *v->as_string();
  }
  if (const GgufValue* v = files.file.find("tokenizer.ggml.model"); v && v->as_string()) {
    facts.tokenizer_model = *v->as_string();
  }
  if (const GgufValue* v = files.file.find("tokenizer.ggml.tokens"); v && v->as_array()) {
    facts.tokenizer_tokens = static_cast<std::int64_t>(v->as_array()->count);
  }
  loaded.model.file = std::move(facts);
  return loaded;
}

// A Hugging Face model directory or config.json: its config and its safetensors headers.
LoadedModel from_huggingface(const std::string& path) {
  const HfModel hf = load_hf_model(path);
  LoadedModel loaded;
  loaded.kind = SourceKind::huggingface;
  const fs::path p(path);
  const std::string name =
      p.filename() == "config.json" ? p.parent_path().filename().string() : p.filename().string();
  loaded.model = model_from_hf(hf, name.empty() ? path : name);
  loaded.bytes_read = hf.bytes_read;
  if (hf.weights_known) {
    loaded.model.source =
        fmt::format("Hugging Face: {} ({} safetensors file{}, headers only)", hf.config_path,
                    hf.files.size(), hf.files.size() == 1 ? "" : "s");
    ModelFileFacts facts;
    facts.path = path;
    facts.format = "safetensors";
    for (const HfWeightFile& f : hf.files) facts.file_size += f.file_size;
    facts.bytes_read = hf.bytes_read;
    facts.parts = hf.files.size();
    loaded.model.file = std::move(facts);
  } else {
    loaded.model.source = fmt::format("Hugging Face: {} (config only)", hf.config_path);
    loaded.notes.push_back(
        fmt::format("no *.safetensors beside {}: weights computed from the "
                    "config at {}",
                    hf.config_path, to_string(loaded.model.file_type)));
  }
  return loaded;
}

// A model from the local Ollama store: its GGUF blob (header only), the projector layer or
// inline vision tensors, and the Modelfile defaults of its .params layer.
LoadedModel from_ollama_store(const OllamaModel& found) {
  LoadedModel loaded = from_gguf(found.model.path);
  loaded.kind = SourceKind::ollama_store;
  const std::string shown = display_name(found.name);
  Model& m = loaded.model;
  m.name = shown;
  m.source = fmt::format("Ollama store: {}", found.manifest_path);
  // Older Ollama-format vision models keep v.*/mm.* tensors inside the model blob; llama-server
  // loads them as the projector (docs/model-sources.md "Vision tensors inside the model blob").
  std::vector<TensorInfo> tensors = m.tensors;
  Bytes projector = split_projector_tensors(tensors);
  if (projector > 0) {
    loaded.notes.push_back(
        fmt::format("{} of vision tensors inside the model blob counted as "
                    "the projector",
                    format_bytes(projector)));
  }
  if (!found.projectors.empty()) {
    projector += projector_bytes(found.projectors.front().path);
  }
  if (projector > 0 || tensors.size() != m.tensors.size()) {
    std::optional<ModelFileFacts> file = m.file;
    m = make_model(m.name, m.source, m.spec, m.file_type, std::move(tensors), projector);
    m.file = std::move(file);
  }
  const OllamaParams& p = found.params;
  // The Modelfile's values stand for flags and get their ranges (docs/reliability.md §9); out
  // of range is bad input in the .params blob, not a usage error about a flag never given.
  const auto checked = [&](const std::optional<std::int64_t>& value, std::string_view key,
                           std::int64_t max, std::string_view flag) {
    if (value && (*value < 1 || *value > max)) {
      throw Error(ErrorKind::bad_input,
                  fmt::format("{}: params blob '{}': '{}' is {}, must be between 1 and {} (as {})",
                              found.manifest_path,
                              found.params_blob ? found.params_blob->path : std::string(), key,
                              *value, max, flag));
    }
    return value;
  };
  loaded.defaults.num_ctx = checked(p.num_ctx, "num_ctx", max_ctx_setting, "--ctx");
  loaded.defaults.num_batch = checked(p.num_batch, "num_batch", max_batch_setting, "--batch");
  if (p.num_gpu && *p.num_gpu >= 0) loaded.defaults.num_gpu = p.num_gpu;
  loaded.defaults.origin = fmt::format("the Modelfile of {} (.params layer)", shown);
  return loaded;
}

Model build_catalog_model(const CatalogEntry& entry, FileType quant, const std::string& name,
                          const TensorLayout& layout) {
  const Bytes projector = entry.projector ? entry.projector->bytes : 0;
  Model m = make_model(name, fmt::format("catalog: {}", entry.source), entry.spec, quant,
                       layout.typed(quant), layout.weight_slots(), projector);
  if (entry.projector) m.projector_encoder = entry.projector->encoder;
  return m;
}

// The entry's other quantizations that a plan which does not fit can suggest, and only those:
// the planner (core planner.cpp fit(), max_alternatives) tries the files smaller than the
// model's, at most the 4 largest of them, in the entry's order. Building every quantization's
// Model cost a third of a 70B `fit` (docs/performance.md); the entry's tensor layout is typed
// once per quantization to size them, and only the (at most 4) kept ones become Models. Test
// ModelLoader.CatalogAlternativesAreWhatThePlannerTries checks that the suggestions stay the
// same as with every quantization.
constexpr std::size_t planner_alternatives = 4;

std::vector<Model> smaller_quantizations(const CatalogEntry& entry, FileType quant,
                                         const Model& model, const TensorLayout& layout) {
  struct Sized {
    FileType quant;
    Bytes bytes;
    std::vector<TensorInfo> tensors;
  };
  std::vector<Sized> smaller;
  for (const FileType other : entry.quants) {
    if (other == quant) continue;
    std::vector<TensorInfo> tensors = layout.typed(other);
    Bytes bytes = 0;
    for (const TensorInfo& t : tensors) bytes = checked_add(bytes, t.bytes(), "a file's tensors");
    if (bytes < model.weights.file_tensor_bytes) {
      smaller.push_back({other, bytes, std::move(tensors)});
    }
  }
  if (smaller.size() > planner_alternatives) {
    // The largest ones, ties in the entry's order (the planner's stable sort).
    std::vector<Bytes> sizes;
    for (const Sized& s : smaller) sizes.push_back(s.bytes);
    std::stable_sort(sizes.begin(), sizes.end(), std::greater<>());
    const Bytes cut = sizes[planner_alternatives - 1];
    std::size_t above = 0;
    for (const Sized& s : smaller) above += s.bytes > cut ? 1 : 0;
    std::size_t at_cut = planner_alternatives - above;  // ties at the cut: the first ones
    std::erase_if(smaller, [&](const Sized& s) {
      if (s.bytes > cut) return false;
      if (s.bytes == cut && at_cut > 0) {
        --at_cut;
        return false;
      }
      return true;
    });
  }
  std::vector<Model> out;
  const Bytes projector = entry.projector ? entry.projector->bytes : 0;
  for (Sized& s : smaller) {
    out.push_back(make_model(entry.id, fmt::format("catalog: {}", entry.source), entry.spec,
                             s.quant, std::move(s.tensors), projector));
    if (entry.projector) out.back().projector_encoder = entry.projector->encoder;
  }
  return out;
}

LoadedModel from_catalog(const std::string& name, const Catalog& catalog, bool alternatives) {
  const std::optional<ModelRef> ref = catalog.resolve(name);
  if (!ref || ref->entry == nullptr) {
    throw Error(ErrorKind::bad_input, catalog.unknown_message(name));
  }
  const CatalogEntry& entry = *ref->entry;
  LoadedModel loaded;
  loaded.kind = SourceKind::catalog;
  // Names, shapes and quantization order once; each quantization only types them.
  const TensorLayout layout(entry.spec);
  loaded.model = build_catalog_model(entry, ref->quant, ref->matched, layout);
  loaded.model.entry_id = entry.id;
  for (const std::string& part : ref->unknown_parts) {
    loaded.notes.push_back(fmt::format(
        "'{}' in '{}' is neither a quantization nor a variant vramplan knows: planned as {}", part,
        name, ref->matched));
  }
  if (alternatives) {
    loaded.alternatives = smaller_quantizations(entry, ref->quant, loaded.model, layout);
  }
  return loaded;
}

std::optional<OllamaModel> find_in_ollama_store(const std::string& name,
                                                const LoadOptions& options) {
  if (!options.getenv || !parse_ollama_name(name)) return std::nullopt;
  const std::optional<std::string> dir = models_dir(options.getenv);
  if (!dir) return std::nullopt;
  return find_ollama_model(name, *dir);
}

}  // namespace

Bytes projector_bytes(const std::string& path) {
  const GgufModelFiles files = read_gguf_model_files(path);
  Bytes total = 0;
  for (const TensorInfo& t : tensors_from_gguf(files.file)) total += t.bytes();
  return total;
}

Projector read_projector(const std::string& path) {
  const GgufModelFiles files = read_gguf_model_files(path);
  Projector p;
  for (const TensorInfo& t : tensors_from_gguf(files.file)) p.bytes += t.bytes();
  p.encoder = vision_encoder_from_gguf(files.file);
  if (const GgufValue* v = files.file.find("clip.has_audio_encoder")) {
    const bool* audio = std::get_if<bool>(&v->data);
    p.audio = audio != nullptr && *audio;
  }
  return p;
}

LoadedModel load_model(const std::string& name, const Catalog& catalog,
                       const LoadOptions& options) {
  LoadedModel loaded;
  std::error_code ec;
  // Something at that path (even a dangling symlink or a FIFO) is meant as a file: a FIFO,
  // a device or a symlink loop is refused with its reason rather than looked up as a name.
  const bool exists = fs::exists(fs::symlink_status(name, ec));
  if (exists && (fs::is_directory(name, ec) || name.ends_with(".json"))) {
    loaded = from_huggingface(name);
  } else if (exists) {
    if (const std::optional<std::string> problem = regular_file_problem(name)) {
      throw Error(ErrorKind::io, fmt::format("'{}': cannot open: {}", name, *problem));
    }
    loaded = from_gguf(name);
  } else if (name.ends_with(".gguf")) {
    // A path that does not exist: say so rather than "unknown model".
    throw Error(ErrorKind::io, fmt::format("'{}': cannot open: no such file", name));
  } else if (std::optional<OllamaModel> found = find_in_ollama_store(name, options)) {
    loaded = from_ollama_store(*found);
  } else {
    loaded = from_catalog(name, catalog, options.with_alternatives);
  }
  if (!options.mmproj.empty()) {
    const Projector p = read_projector(options.mmproj);
    loaded.model.projector = p.bytes;
    loaded.model.projector_encoder = p.encoder;
    loaded.model.projector_audio = p.audio;
    loaded.notes.push_back(fmt::format("{} projector from {} ({})",
                                       p.audio ? "multimodal" : "vision", options.mmproj,
                                       format_bytes(loaded.model.projector)));
  }
  return loaded;
}

}  // namespace vramplan::io
