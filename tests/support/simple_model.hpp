// A hand-built llama-style tensor list with one type everywhere (test-only), so estimate and
// planner tests do not depend on the quantization-mix tables.
#pragma once

#include <string>
#include <vector>

#include <vramplan/model.hpp>

namespace vramplan::test {

inline std::vector<TensorInfo> simple_llama_tensors(const ModelSpec& s, GgmlType type) {
  const std::int64_t q = s.n_embd;
  const std::int64_t kv = s.n_embd / s.n_head * s.n_head_kv;
  std::vector<TensorInfo> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab, 1, 1}, type});
  for (int il = 0; il < s.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    t.push_back({p + "attn_norm.weight", {s.n_embd, 1, 1, 1}, GgmlType::f32});
    t.push_back({p + "attn_q.weight", {s.n_embd, q, 1, 1}, type});
    t.push_back({p + "attn_k.weight", {s.n_embd, kv, 1, 1}, type});
    t.push_back({p + "attn_v.weight", {s.n_embd, kv, 1, 1}, type});
    t.push_back({p + "attn_output.weight", {q, s.n_embd, 1, 1}, type});
    t.push_back({p + "ffn_norm.weight", {s.n_embd, 1, 1, 1}, GgmlType::f32});
    t.push_back({p + "ffn_gate.weight", {s.n_embd, s.n_ff, 1, 1}, type});
    t.push_back({p + "ffn_up.weight", {s.n_embd, s.n_ff, 1, 1}, type});
    t.push_back({p + "ffn_down.weight", {s.n_ff, s.n_embd, 1, 1}, type});
  }
  t.push_back({"output_norm.weight", {s.n_embd, 1, 1, 1}, GgmlType::f32});
  if (!s.tied_embeddings) t.push_back({"output.weight", {s.n_embd, s.n_vocab, 1, 1}, type});
  return t;
}

inline Model simple_model(const ModelSpec& s, GgmlType type = GgmlType::q8_0,
                          FileType ftype = FileType::mostly_q8_0) {
  return make_model("test-model", "unit test", s, ftype, simple_llama_tensors(s, type));
}

}  // namespace vramplan::test
