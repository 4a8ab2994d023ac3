// The model catalog: known models, their architecture and the quantizations they are
// offered in, and name resolution the way people type names (Ollama tags, short forms,
// Hugging Face repo ids). Pure data and lookup; loading YAML is io/catalog_yaml.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/error.hpp>
#include <vramplan/bytes.hpp>
#include <vramplan/vision_encoder.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>

namespace vramplan {

// A vision projector (mmproj) that ships with a model (llava). Counted as extra weights on
// the first GPU when offloaded, with its encoder's compute buffer where the shape is known.
struct Projector {
  Bytes bytes = 0;          // total tensor bytes of the projector GGUF
  std::string description;  // e.g. "CLIP ViT-L/14-336 + MLP, F16"
  std::optional<VisionEncoder>
      encoder;  // shape of an encoder whose graph is rebuilt (vision_encoder.hpp)
  // An audio encoder in the file (clip.has_audio_encoder, tools/mtmd/clip-impl.h): counted in
  // `bytes`, its compute buffer not modelled. Read from --mmproj files; no catalog entry has one.
  bool audio = false;

  bool operator==(const Projector&) const = default;
};

struct CatalogEntry {
  std::string id;    // unique, e.g. "llama3.1-8b"
  std::string name;  // display name, e.g. "Llama 3.1 8B"
  // Ollama library names, "model:size" form, e.g. "llama3.1:8b". The first is canonical.
  std::vector<std::string> ollama;
  bool ollama_latest = false;        // this entry is what "<model>" / "<model>:latest" pulls
  std::vector<std::string> hf;       // Hugging Face repo ids (matched case-insensitively)
  std::vector<std::string> aliases;  // other accepted names
  double params_published = 0;       // published parameter count (0 = none known)
  std::vector<FileType> quants;      // file types it is offered in (first = default)
  // When what the Ollama library serves for this entry's tags (which entry, which default
  // quantization) was last checked against a source, "YYYY-MM-DD"; empty if never.
  std::string checked;
  FileType default_quant = FileType::mostly_q4_k_m;
  std::optional<Projector> projector;
  std::string notes;
  std::string source;  // file it was loaded from ("<embedded>/llama.yaml", a user path)
  ModelSpec spec;

  bool operator==(const CatalogEntry&) const = default;
};

// Result of resolving a user-typed name.
struct ModelRef {
  const CatalogEntry* entry = nullptr;
  FileType quant = FileType::mostly_q4_k_m;
  bool quant_explicit = false;  // the name carried a quantization
  std::string matched;          // canonical spelling, e.g. "llama3.1:8b-q8_0"
  // Parts of an Ollama tag that are neither a quantization nor a variant word the resolver
  // knows ("h" of "llama3.1:8b-h"): the name resolved without them, which the caller says.
  std::vector<std::string> unknown_parts;
};

class Catalog {
 public:
  // Adds entries; a later entry with an existing id replaces the earlier one (user
  // catalogs override the embedded one).
  void add(CatalogEntry entry);

  [[nodiscard]] const std::vector<CatalogEntry>& entries() const { return entries_; }
  [[nodiscard]] const CatalogEntry* find_id(std::string_view id) const;

  // Resolves "llama3.1:8b-instruct-q8_0", "llama3.1:8b-q8", "llama3.1", "llama3.1-8b",
  // "meta-llama/Llama-3.1-8B-Instruct", ... Returns nullopt when nothing matches.
  // Throws Error{bad_input} when a model matches but its quantization suffix is not a
  // known file type.
  [[nodiscard]] std::optional<ModelRef> resolve(std::string_view name) const;

  // Up to `max` known names closest to `name` (edit distance), for "did you mean".
  [[nodiscard]] std::vector<std::string> suggest(std::string_view name, std::size_t max = 3) const;

  // The one-line error for a name that resolve() does not know, saying what to do: the tags
  // the catalog has for a known Ollama model, how to plan an unknown Hugging Face repo offline
  // (its config.json), and the closest known names. The model setting is named as data
  // (SettingText), so that the command line spells it as its flag.
  [[nodiscard]] SettingText unknown_message(std::string_view name) const;

  // Entries whose id, names or family contain `query` (case-insensitive); all if empty.
  [[nodiscard]] std::vector<const CatalogEntry*> search(std::string_view query) const;

 private:
  std::vector<CatalogEntry> entries_;
};

}  // namespace vramplan
