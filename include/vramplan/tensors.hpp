// The tensor list of a model, generated from its spec and a file type the way
// convert_hf_to_gguf.py + llama-quantize would produce it: names and shapes per
// architecture (llama.cpp src/llama-arch.cpp, src/models/*.cpp) and each tensor's type per
// llama.cpp's quantization mix (src/llama-quant.cpp, llama_tensor_get_type).
//
// Used for catalog models (no file present) and to write test/oracle GGUFs with the exact
// shapes llama.cpp expects.
#pragma once

#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/model_spec.hpp>
#include <vramplan/tensor_info.hpp>

namespace vramplan {

// All tensors of the text model, in GGUF order (token_embd, blocks, output_norm, output).
// Throws Error{bad_input} for an architecture it has no layout for.
[[nodiscard]] std::vector<TensorInfo> generate_tensors(const ModelSpec& spec, FileType ftype);

// True when generate_tensors knows the architecture.
[[nodiscard]] bool has_tensor_layout(const std::string& arch);

// Total parameter count (elements) of a tensor list.
[[nodiscard]] std::int64_t parameter_count(const std::vector<TensorInfo>& tensors);

}  // namespace vramplan
