// Where a model comes from: a GGUF file, the local Ollama store, a Hugging Face directory, or
// the catalog, in that order. The adapter the CLI calls with whatever --model says.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/catalog.hpp>
#include <vramplan/model.hpp>
#include <vramplan/io/ollama_store.hpp>  // Getenv

namespace vramplan::io {

struct LoadOptions {
  Getenv getenv;                   // environment lookup (OLLAMA_MODELS, HOME)
  std::string mmproj;              // --mmproj FILE: a vision projector GGUF
  bool with_alternatives = false;  // also build the entry's other quantizations (catalog)
};

// Model defaults a source carries (an Ollama model's .params layer: its Modelfile PARAMETERs).
struct ModelDefaults {
  std::optional<std::int64_t> num_ctx;
  std::optional<std::int64_t> num_batch;
  std::optional<std::int32_t> num_gpu;
  std::string origin;  // where they were read, for the output

  [[nodiscard]] bool empty() const { return !num_ctx && !num_batch && !num_gpu; }
};

enum class SourceKind { gguf, ollama_store, huggingface, catalog };

struct LoadedModel {
  Model model;
  SourceKind kind = SourceKind::catalog;
  std::vector<Model> alternatives;  // other quantizations (catalog only)
  ModelDefaults defaults;
  std::vector<std::string> notes;  // what was read, and what was assumed
  std::uint64_t bytes_read = 0;    // header bytes read from model files
};

// Resolves `name`:
//  1. an existing path: a .gguf file (split files read as one model), a directory or
//     config.json of a Hugging Face model;
//  2. an Ollama name found in the local store ($OLLAMA_MODELS, ~/.ollama/models);
//  3. the catalog.
// Unknown names throw Error{bad_input} with "did you mean" suggestions; unreadable or
// malformed files throw Error{io} / Error{bad_input} from their readers.
[[nodiscard]] LoadedModel load_model(const std::string& name, const Catalog& catalog,
                                     const LoadOptions& options);

// Tensor bytes of a projector (mmproj) GGUF.
[[nodiscard]] Bytes projector_bytes(const std::string& path);
// Its tensor bytes and, when it is an encoder vramplan rebuilds (vision_encoder.hpp:
// clip.projector_type gemma3, mlp, qwen2.5vl_merger or qwen3vl_merger in the layout llama.cpp's
// converters write), the encoder's
// shape.
[[nodiscard]] Projector read_projector(const std::string& path);

}  // namespace vramplan::io
