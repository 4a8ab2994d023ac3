// A model ready to plan: its name and source, its spec (model_spec.hpp), its tensors
// (tensor_info.hpp) grouped by layer (weights.hpp), and what only a model file can tell.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/vision_encoder.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>
#include <vramplan/weights.hpp>

namespace vramplan {

// What only a model file can tell (absent for catalog models): shown by `vramplan inspect`.
struct ModelFileFacts {
  std::string path;
  std::string format;              // "GGUF v3", "safetensors"
  std::uint64_t file_size = 0;     // all parts together
  std::uint64_t header_bytes = 0;  // up to the end of the tensor infos (first part)
  std::uint64_t bytes_read = 0;    // what vramplan read to plan it
  std::size_t parts = 1;
  std::size_t metadata_keys = 0;
  std::string general_name;
  std::string tokenizer_model;  // tokenizer.ggml.model
  std::int64_t tokenizer_tokens = 0;
};

// A model ready to plan: its spec, its tensors and where they came from.
struct Model {
  std::string name;      // what the user asked for, canonical ("llama3.1:8b-q8_0")
  std::string source;    // "catalog (<embedded>/llama.yaml)", "GGUF ./x.gguf", ...
  std::string entry_id;  // catalog id when from the catalog
  ModelSpec spec;
  FileType file_type = FileType::mostly_q4_k_m;
  std::vector<TensorInfo> tensors;
  WeightLayout weights;  // layout_weights(tensors)
  Bytes projector = 0;   // vision projector (mmproj) weights, 0 = none
  // The projector's encoder when its shape is known (catalog projector.encoder): its compute
  // buffer is counted next to the weights (estimate.cpp).
  std::optional<VisionEncoder> projector_encoder;
  // The projector file has an audio encoder (clip.has_audio_encoder): its weights are in
  // `projector`, its compute buffer is not modelled (the projector's note says so).
  bool projector_audio = false;
  std::int64_t n_params = 0;
  std::optional<ModelFileFacts> file;  // set when read from a file
};

// Builds a Model from a spec and tensors (computes the layout and the parameter count).
[[nodiscard]] Model make_model(std::string name, std::string source, ModelSpec spec,
                               FileType file_type, std::vector<TensorInfo> tensors,
                               Bytes projector = 0);
// The same with each tensor's weight_slot worked out beforehand (slots[i] must be
// weight_slot(tensors[i].name); a TensorLayout's weight_slots() for its typed lists): the
// names are not read again. Equal to make_model without them.
[[nodiscard]] Model make_model(std::string name, std::string source, ModelSpec spec,
                               FileType file_type, std::vector<TensorInfo> tensors,
                               const std::vector<WeightSlot>& slots, Bytes projector = 0);

}  // namespace vramplan
