// GGUF metadata -> ModelSpec, following how llama.cpp's loader reads the keys
// (llama.cpp src/llama-model.cpp load_hparams; docs/gguf.md "From metadata to ModelSpec").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <vramplan/ggml_type.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/model.hpp>
#include <vramplan/vision_encoder.hpp>

namespace vramplan::io {

// The architecture of the model in `file`: layers, heads (per-layer kv heads), head sizes,
// sliding window per llama.cpp's per-architecture rules, MLA, experts, recurrent layers,
// causal attention, tied embeddings, vocabulary. The result has passed validate().
// Unknown architectures work when the generic keys are there (plain full attention).
// Throws Error{bad_input, "<origin>: ..."} for a missing required key
// (general.architecture, {arch}.block_count, .context_length, .embedding_length,
// .attention.head_count), a value of the wrong type or out of range, or a spec that fails
// validate().
[[nodiscard]] ModelSpec spec_from_gguf(const GgufFile& file, const std::string& origin);

// general.file_type (the "guessed" flag 1024 masked off); nullopt when absent or not a file
// type vramplan knows. A label only: sizes come from the tensors.
[[nodiscard]] std::optional<FileType> file_type_from_gguf(const GgufFile& file,
                                                          const std::string& origin);

// Vocabulary size: {arch}.vocab_size, else the length of tokenizer.ggml.tokens, else
// ne[1] of token_embd.weight; nullopt when none is there.
[[nodiscard]] std::optional<std::int64_t> vocab_size_from_gguf(const GgufFile& file,
                                                               const std::string& origin);

// The tensors of the file(s) as TensorInfo, in file order.
[[nodiscard]] std::vector<TensorInfo> tensors_from_gguf(const GgufFile& file);

// The image encoder of an mmproj file when it is one whose graph vramplan rebuilds
// (clip_graph.cpp, clip_qwenvl.cpp): clip.projector_type gemma3, mlp, qwen2.5vl_merger or
// qwen3vl_merger, with the tensors that builder assumes (llama.cpp tools/mtmd/clip.cpp reads
// the same keys; a Qwen-VL shape's image is clip's 46 x 46-token warm-up); nullopt for any other
// file, whose encoder buffer the projector's note then says is not included. Never throws for a
// malformed file: a shape the builder does not take is nullopt too.
[[nodiscard]] std::optional<VisionEncoder> vision_encoder_from_gguf(const GgufFile& file);

// A Model ready to plan from the files of one model (read_gguf_model_files). The file type
// falls back to the type holding most tensor bytes when general.file_type is missing.
[[nodiscard]] Model model_from_gguf(const GgufModelFiles& files, std::string name);

}  // namespace vramplan::io
