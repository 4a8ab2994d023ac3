// A Hugging Face model directory: config.json (hf_config.hpp) and the headers of its
// *.safetensors files (safetensors.hpp), with the tensors renamed to llama.cpp's names so
// that they plan like a GGUF's (docs/model-sources.md, "Hugging Face models").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/io/hf_config.hpp>
#include <vramplan/io/safetensors.hpp>
#include <vramplan/model.hpp>

namespace vramplan::io {

// Tensors all the files of one model directory may list together.
inline constexpr std::size_t hf_max_tensors = 1u << 19;

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
// output.weight; per-expert tensors (experts.E.*) are merged into one *_exps tensor per block;
// rope_freqs.weight first where the spec says the converter writes it (ModelSpec::rope_freqs).
// Types: same_size_ggml_type (safetensors.hpp): bytes stay exact, element counts of packed
// formats (MXFP4 blocks in U8) do not.
[[nodiscard]] HfTensorInfos hf_tensor_infos(const std::vector<SafetensorsTensor>& tensors,
                                            const ModelSpec& spec);

// A Model ready to plan. With weights: their tensors (projector bytes as `projector`), file
// type from the dtype holding most bytes. Without: tensors generated from the spec at the
// config's torch_dtype (Error{bad_input} when vramplan has no tensor layout for the arch).
[[nodiscard]] Model model_from_hf(const HfModel& model, std::string name);

}  // namespace vramplan::io
