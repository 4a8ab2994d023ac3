// One tensor of a model file: its name, shape and ggml type, as a GGUF header lists it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <vramplan/bytes.hpp>
#include <vramplan/ggml_type.hpp>

namespace vramplan {

// One tensor of a model file. ne[0] is the row length (elements), as in GGUF.
struct TensorInfo {
  std::string name;  // "token_embd.weight", "blk.3.attn_q.weight", "output.weight", ...
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  GgmlType type = GgmlType::f32;

  // Element count and byte size; Error{bad_input} naming the tensor when they overflow.
  [[nodiscard]] std::int64_t elements() const;
  [[nodiscard]] Bytes bytes() const;
  bool operator==(const TensorInfo&) const = default;
};

// Block index of "blk.N.*" tensors; -1 for anything else.
[[nodiscard]] std::int32_t tensor_block(const std::string& name);

}  // namespace vramplan
