// The local Ollama model store: model names, manifests and blobs
// (Ollama v0.33: types/model/name.go, manifest/, server/images.go; docs/model-sources.md
// "Ollama model store").
//
//   <models>/manifests/<host>/<namespace>/<model>/<tag>   Docker v2 manifest (JSON)
//   <models>/blobs/sha256-<64 hex>                         config, GGUF weights, params, ...
//
// Nothing here reads a GGUF: find_ollama_model() only says which blob holds the weights, the
// projector and the adapters, and which defaults the model's .params layer sets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan::io {

// Environment lookup: nullopt when the variable is unset. (Same type as in model_loader.hpp.)
using Getenv = std::function<std::optional<std::string>(const std::string&)>;

inline constexpr std::string_view ollama_default_host = "registry.ollama.ai";
inline constexpr std::string_view ollama_default_namespace = "library";
inline constexpr std::string_view ollama_default_tag = "latest";
// Where the Linux package's service (user `ollama`, home /usr/share/ollama) keeps its models.
inline constexpr std::string_view ollama_service_models_dir = "/usr/share/ollama/.ollama/models";
// Manifests, .params and config blobs larger than this are refused: real ones are < 10 KiB.
inline constexpr std::uint64_t ollama_max_manifest_bytes = 1u << 20;

inline constexpr std::string_view ollama_media_model = "application/vnd.ollama.image.model";
inline constexpr std::string_view ollama_media_projector = "application/vnd.ollama.image.projector";
inline constexpr std::string_view ollama_media_adapter = "application/vnd.ollama.image.adapter";
inline constexpr std::string_view ollama_media_params = "application/vnd.ollama.image.params";
inline constexpr std::string_view ollama_media_draft = "application/vnd.ollama.image.draft";

// A fully qualified Ollama name, with the spelling it was given (matching is case-insensitive).
struct OllamaName {
  std::string host;        // "registry.ollama.ai", "hf.co"
  std::string namespace_;  // "library", "user", the Hugging Face org
  std::string model;       // "llama3.1"
  std::string tag;         // "latest", "8b-instruct-q8_0"

  bool operator==(const OllamaName&) const = default;
};

// Parses `[scheme://][host/][namespace/]model[:tag]` as Ollama does (types/model/name.go
// ParseName) and fills the defaults: "llama3.1" -> registry.ollama.ai/library/llama3.1:latest,
// "user/m:t" -> namespace "user", "hf.co/org/repo:Q4_K_M" -> host "hf.co". Each part starts
// with a letter, digit or '_' and continues with those or '-', '.' (not in the namespace) and
// ':' (host only, for a port); host <= 350 characters, the others <= 80. Anything else (empty,
// a path, "..", a digest "@sha256-..."): nullopt, so the caller can try the catalog.
[[nodiscard]] std::optional<OllamaName> parse_ollama_name(std::string_view text);

// The shortest form Ollama displays: default host/namespace and ":latest" left out
// ("llama3.1", "user/m:t", "hf.co/org/repo:Q4_K_M"); compared case-insensitively.
[[nodiscard]] std::string display_name(const OllamaName& name);

// The store to read: $OLLAMA_MODELS when set and not empty (trimmed of spaces and quotes, as
// Ollama's envconfig does; used even if it does not exist); else $HOME/.ollama/models when it
// exists; else `service_dir` when it exists; else $HOME/.ollama/models. nullopt only when
// neither variable is set and `service_dir` does not exist.
[[nodiscard]] std::optional<std::string> models_dir(
    const Getenv& getenv, const std::string& service_dir = std::string(ollama_service_models_dir));

// --- manifests -------------------------------------------------------------------------------

struct OllamaLayer {
  std::string media_type;  // empty only for a config without one
  std::string digest;      // "sha256:<64 lowercase hex>", checked
  std::uint64_t size = 0;  // bytes, as the manifest says

  bool operator==(const OllamaLayer&) const = default;
};

struct OllamaManifest {
  std::int64_t schema_version = 0;  // always 2
  std::string media_type;           // may be empty
  OllamaLayer config;
  std::vector<OllamaLayer> layers;  // in manifest order

  bool operator==(const OllamaManifest&) const = default;
};

// Parses manifest JSON (Docker v2: schemaVersion 2, config and layers with mediaType, digest,
// size; other keys ignored). Checks structure only; which layers a model needs is
// find_ollama_model's business. Throws Error{bad_input, "<origin>: <what>"}, one line, for
// malformed JSON, a missing or mistyped field, schemaVersion other than 2, a digest that is not
// "sha256:" + 64 lowercase hex digits, a negative size, or more than 1 MiB of text.
[[nodiscard]] OllamaManifest parse_manifest(std::string_view json, const std::string& origin);

// "sha256:<hex>" -> "<dir>/blobs/sha256-<hex>". Precondition: a digest parse_manifest accepted
// (throws Error{internal} otherwise), so the path never leaves blobs/.
[[nodiscard]] std::string blob_path(const std::string& models_dir, std::string_view digest);

// --- models ----------------------------------------------------------------------------------

// The Modelfile PARAMETERs that change memory use, from the .params layer. Numbers may be
// given as JSON numbers or strings ("8192"). Absent = not set by the model.
struct OllamaParams {
  std::optional<std::int64_t> num_ctx;
  std::optional<std::int64_t> num_batch;
  std::optional<std::int32_t> num_gpu;  // -1 = Ollama decides
  std::optional<std::int32_t> num_thread;
  std::optional<bool> use_mmap;
  // Every other key, for display: strings as they are, anything else as compact JSON
  // ("stop" -> "[\"<|eot_id|>\"]", "temperature" -> "0.6").
  std::map<std::string, std::string> other;

  bool operator==(const OllamaParams&) const = default;
};

// The .params blob's JSON. Throws Error{bad_input, "<origin>: ..."} when it is malformed, not
// an object, holds more than 16384 values or a string over 64 KiB, or a memory key has a
// value of the wrong kind.
[[nodiscard]] OllamaParams parse_params(std::string_view text, const std::string& origin);

// From the config blob (types/model/config.go ConfigV2), when it is readable JSON; else empty.
struct OllamaConfig {
  std::string model_format;  // "gguf"
  std::string model_family;  // "llama"
  std::string model_type;    // parameter size, "8.0B"
  std::string file_type;     // quantization, "Q8_0"
  std::string remote_host;   // set for cloud models, which have no local weights

  bool operator==(const OllamaConfig&) const = default;
};

struct OllamaBlob {
  std::string digest;  // "sha256:..."
  std::string path;    // "<dir>/blobs/sha256-..."
  std::uint64_t size = 0;

  bool operator==(const OllamaBlob&) const = default;
};

struct OllamaModel {
  OllamaName name;            // spelled as on disk (the spelling it was pulled with)
  std::string manifest_path;  // <dir>/manifests/<host>/<namespace>/<model>/<tag>
  OllamaBlob model;           // the GGUF weights (the last model layer, as Ollama takes it)
  std::vector<OllamaBlob> projectors;  // vision projectors (mmproj GGUF); usually 0 or 1
  std::vector<OllamaBlob> adapters;    // LoRA GGUFs
  std::optional<OllamaBlob> draft;     // draft / MTP model for speculative decoding
  OllamaParams params;
  std::optional<OllamaBlob> params_blob;  // where `params` was read, when there is one
  OllamaConfig config;
};

// Looks `name` up in the store at `models_dir`: the manifest at
// manifests/<host>/<namespace>/<model>/<tag>, each part spelled exactly or else matched
// case-insensitively against the directory entries (the first in byte order when several
// match). nullopt when `name` is no Ollama name or has no manifest there.
//
// Throws Error{bad_input, "<manifest path>: <what>"} when the manifest is malformed
// (parse_manifest), has no model layer, a model/projector/adapter/draft/params blob is missing
// or its size differs from the manifest's, or the .params JSON is malformed or gives a memory
// option a value that is not an integer (a boolean for use_mmap). Error{io} when a file that
// exists cannot be read. The GGUF blobs are not opened.
[[nodiscard]] std::optional<OllamaModel> find_ollama_model(std::string_view name,
                                                           const std::string& models_dir);
[[nodiscard]] std::optional<OllamaModel> find_ollama_model(const OllamaName& name,
                                                           const std::string& models_dir);

// --- inline vision tensors -------------------------------------------------------------------

// Ollama-format vision models (gemma3, mistral3, qwen2.5vl, ...) keep the projector inside the
// model blob. Removes the tensors named "v.*", "mm.*" and "a.*" (vision, multimodal projector,
// audio) from `tensors`, keeping the order of the rest, and returns their total bytes.
[[nodiscard]] Bytes split_projector_tensors(std::vector<TensorInfo>& tensors);

}  // namespace vramplan::io
