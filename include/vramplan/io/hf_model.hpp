// Hugging Face models: config.json -> ModelSpec, and the tensor list of *.safetensors files,
// read from their headers only (docs/model-sources.md, "Hugging Face models").
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "BF16", "shape": [..], "data_offsets": [a, b]}, "__metadata__": {..}}),
// then the data section; offsets are relative to the start of the data section.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/model.hpp>

namespace vramplan::io {

class ByteSource;

// --- config.json ----------------------------------------------------------------------------

struct HfConfig {
  ModelSpec spec;            // passed validate()
  std::string architecture;  // architectures[0] as written ("LlamaForCausalLM"); may be ""
  std::string model_type;    // of the text model ("llama", "gemma3_text")
  std::string torch_dtype;   // "bfloat16", "float16", ... ("dtype" in newer files); may be ""
  std::optional<std::string> quant_method;  // quantization_config.quant_method ("fp8", "mxfp4")
  bool known_architecture = true;           // false: arch is model_type, planned as plain attention
  bool from_text_config = false;            // the text fields came from a nested "text_config"
  bool tie_explicit = false;  // tie_word_embeddings was in the file (else the type default)
};

// Maps a transformers config.json to a ModelSpec with llama.cpp's architecture names
// (docs/model-sources.md has the table). Multimodal configs are read from "text_config".
// Throws Error{bad_input, "<origin>: <what>"} naming the key for malformed JSON, a missing
// required key, a value of the wrong type or out of range, or a spec that fails validate().
[[nodiscard]] HfConfig spec_from_hf_config(std::string_view json, const std::string& origin);

// --- safetensors ----------------------------------------------------------------------------

enum class SafetensorsDtype {
  f64,
  f32,
  f16,
  bf16,
  i64,
  i32,
  i16,
  i8,
  u8,
  boolean,
  f8_e4m3,
  f8_e5m2
};

// The file's spelling: "F64", "BF16", "BOOL", "F8_E4M3", ...
[[nodiscard]] std::string_view to_string(SafetensorsDtype dtype);
[[nodiscard]] std::optional<SafetensorsDtype> parse_safetensors_dtype(std::string_view name);
[[nodiscard]] std::int64_t dtype_size(SafetensorsDtype dtype);  // bytes per element

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::f32;
  std::vector<std::int64_t> shape;              // outermost first, as in PyTorch
  std::array<std::uint64_t, 2> data_offsets{};  // [begin, end) in the data section

  [[nodiscard]] std::int64_t elements() const;  // product of shape (1 for a scalar)
  [[nodiscard]] Bytes bytes() const {
    return static_cast<Bytes>(data_offsets[1] - data_offsets[0]);
  }
  bool operator==(const SafetensorsTensor&) const = default;
};

// Headers larger than this are refused (real ones are a few MiB at most).
inline constexpr std::uint64_t safetensors_header_limit = 100ULL << 20;
// Tensors one header may list (a real shard lists a few thousand); each entry of a header may
// hold at most 4096 JSON values and a tensor name at most 4096 bytes (docs/reliability.md §6).
inline constexpr std::size_t safetensors_max_tensors = 1u << 18;
// Tensors all the files of one model directory may list together.
inline constexpr std::size_t hf_max_tensors = 1u << 19;

struct SafetensorsHeader {
  std::vector<SafetensorsTensor> tensors;       // sorted by data offset
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values only)
  std::uint64_t header_size = 0;                // N: the JSON's length
  std::uint64_t file_size = 0;
  [[nodiscard]] std::uint64_t data_offset() const { return 8 + header_size; }
};

// Reads bytes [0, 8 + N) of `source` and nothing else. Throws Error{bad_input,
// "<origin>: ..."} when N is past the end of the file or above safetensors_header_limit, the
// JSON is malformed, a dtype is unknown, a shape or data_offsets entry is malformed, a
// tensor's byte range disagrees with its shape and dtype, lies outside the data section, is
// reversed, or overlaps another tensor. Errors of the source itself are Error{io}.
[[nodiscard]] SafetensorsHeader read_safetensors_header(ByteSource& source,
                                                        const std::string& origin);
// Same, from a file (origin = path).
[[nodiscard]] SafetensorsHeader read_safetensors_header(const std::string& path);

// model.safetensors.index.json: which shard holds each tensor.
struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
  std::set<std::string> shards;                   // the shard file names
};

// Parses an index. Throws Error{bad_input, "<origin>: ..."} when the JSON is malformed or over
// its limits (524288 values, strings of 4096 bytes), 'weight_map' is not an object, or a
// shard is not a bare file name in the model's directory.
[[nodiscard]] SafetensorsIndex parse_safetensors_index(std::string_view text,
                                                       const std::string& origin);

// --- a model directory ----------------------------------------------------------------------

struct HfWeightFile {
  std::string path;
  std::uint64_t file_size = 0;
  std::uint64_t header_size = 0;  // N
  std::size_t tensors = 0;
};

struct HfModel {
  HfConfig config;
  std::vector<SafetensorsTensor> tensors;        // all files, in file order then offset order
  bool weights_known = false;                    // false: no *.safetensors beside config.json
  Bytes weight_bytes = 0;                        // sum of tensor bytes (0 when unknown)
  std::map<std::string, Bytes> bytes_per_dtype;  // "BF16" -> bytes
  std::vector<HfWeightFile> files;
  std::string config_path;
  std::uint64_t bytes_read = 0;  // header bytes read from the weight files
};

// `path` is a directory holding config.json, or a config.json file (its directory is
// searched for weights). Weights: model.safetensors.index.json (each shard named in its
// weight_map, each header read once), else model.safetensors, else every *.safetensors in
// the directory (sorted); none -> weights_known false. When weights are known,
// spec.tied_embeddings is set from the tensors (no lm_head.weight -> tied).
// Throws Error{io} for unreadable files, Error{bad_input} for malformed ones.
[[nodiscard]] HfModel load_hf_model(const std::string& path);

// --- safetensors -> llama.cpp tensors -------------------------------------------------------

struct HfTensorInfos {
  std::vector<TensorInfo> tensors;  // text model, llama.cpp names ("blk.3.attn_q.weight")
  Bytes projector = 0;              // vision/audio towers and multimodal projectors
  Bytes skipped = 0;                // not loaded for the text model: MTP/NextN blocks >= n_layer
  std::size_t skipped_tensors = 0;
};

// Renames HF tensors the way convert_hf_to_gguf.py does, so that layout_weights() groups
// their exact bytes per layer: model.embed_tokens.weight -> token_embd.weight,
// model.layers.N.* -> blk.N.*, model.norm.* -> output_norm.*, lm_head.weight ->
// output.weight; per-expert tensors (experts.E.*) are merged into one *_exps tensor per block.
// Types: BF16 -> bf16, F16 -> f16, F32 -> f32, F64 -> f64, I64/I32/I16 -> i64/i32/i16, and
// every 1-byte dtype (I8, U8, BOOL, F8_E4M3, F8_E5M2) -> i8, which has the same size: bytes
// stay exact, element counts of packed formats (MXFP4 blocks in U8) do not.
[[nodiscard]] HfTensorInfos hf_tensor_infos(const std::vector<SafetensorsTensor>& tensors,
                                            const ModelSpec& spec);

// A Model ready to plan. With weights: their tensors (projector bytes as `projector`), file
// type from the dtype holding most bytes. Without: tensors generated from the spec at the
// config's torch_dtype (Error{bad_input} when vramplan has no tensor layout for the arch).
[[nodiscard]] Model model_from_hf(const HfModel& model, std::string name);

}  // namespace vramplan::io
