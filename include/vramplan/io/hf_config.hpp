// A Hugging Face config.json -> ModelSpec with llama.cpp's architecture names, as
// convert_hf_to_gguf.py maps it (docs/model-sources.md, "Hugging Face models").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <vramplan/model_spec.hpp>

namespace vramplan::io {

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

}  // namespace vramplan::io
