// A model of ggml's graph allocator (ggml-alloc.c, ggml_gallocr): the compute buffer llama.cpp
// reserves is the high-water mark of a best-fit allocator replayed over the worst-case graph,
// so its size depends on the order of the nodes, on which ops may write into their input
// (in place) and on where freed blocks fall — not only on the largest tensors. Graph holds just
// what that replay needs: each tensor's size and layout, its sources, whether it is a view,
// a graph input or an output. docs/memory-model.md ("Compute buffer") describes the rules.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include <vramplan/bytes.hpp>

namespace vramplan::graph {

using TensorId = std::int32_t;

// The ggml ops the builders use. Only can_inplace() distinguishes them; the names keep the
// builders readable next to llama.cpp's graph code.
enum class Op : std::uint8_t {
  input,     // a graph input (ggml_set_input): allocated before every node, never in place
  external,  // weights and KV cache views: memory the graph allocator does not own
  view,      // reshape / view / permute / transpose: shares its source's memory
  get_rows,
  rms_norm,
  norm,
  mul,
  add,
  scale,
  unary,
  glu,
  mul_mat,
  mul_mat_id,
  add_id,
  rope,
  soft_max,
  flash_attn,
  cont,
  concat,
  argsort,
  sum_rows,
  div,
  clamp,
  ssm_conv,  // Mamba2's causal convolution (ggml_ssm_conv)
  ssm_scan,  // Mamba2's selective scan (ggml_ssm_scan): y and the new states in one tensor
  // Gemma 3n's AltUp magnitudes, activation sparsity and stream copies (src/models/gemma3n.cpp).
  sqr,
  sqrt,
  sub,
  repeat,
  mean,
  // Qwen3-Next's fused Gated DeltaNet (ggml_gated_delta_net): the outputs and the final states
  // in one tensor.
  gated_delta_net,
  // ggml_pad: zero columns appended (build_inp_embd widens the token embeddings of a model with
  // DeepStack inputs, Qwen3-VL). Never in place.
  pad,
};

// ggml_op_can_inplace: ops whose result may take over the memory of a source that has no
// other user.
[[nodiscard]] bool can_inplace(Op op);

// Which ggml view op a view node is (only the Vulkan backend's reordering tells them apart,
// sched.cpp): ggml_reshape_*, ggml_view_*, ggml_permute / ggml_transpose.
enum class ViewOp : std::uint8_t { reshape, view, permute };

// Element types as far as sizes and layouts go.
enum class Elem : std::uint8_t { f32, f16, i32, i64, i8 };  // i8: raw bytes (copies of weights)

// What an external tensor is (the allocator ignores all of them).
enum class Memory : std::uint8_t { none, weight, cache };

// The one-byte fields come first and vec_kernel beside layer_norm: with eight sources the
// struct stays 128 bytes (the replays copy and walk thousands of them).
struct Tensor {
  Op op = Op::input;
  Elem elem = Elem::f32;
  bool contiguous = true;            // false for permuted views (their strides differ from ne's)
  ViewOp view_op = ViewOp::reshape;  // for Op::view
  bool output = false;               // GGML_TENSOR_FLAG_OUTPUT: never freed, never reused in place
  std::array<std::int64_t, 4> ne{1, 1, 1, 1};
  TensorId view_src = -1;  // root tensor whose memory a view uses
  // Sources in ggml's order. Most ops have at most four; ggml_ssm_scan has seven (the state,
  // x, dt, A, B, C and the state ids), ggml_gated_delta_net six (q, k, v, the gate, beta and
  // the state): each is kept alive until the node ran and read by the scheduler replay.
  std::array<TensorId, 8> src{-1, -1, -1, -1, -1, -1, -1, -1};
  // For externals, the memory they stand for, which the scheduler replay (sched.hpp) places
  // on a device: a weight or a KV-cache view of block `layer` (-1: the input layer, n_layer:
  // the output layer), its size, and whether it is a routed-expert tensor (--n-cpu-moe).
  Memory memory = Memory::none;
  bool expert = false;
  std::int32_t layer = -1;
  // A node llama.cpp's graph callback names "norm" in block `layer` (build_norm's rms_norm or
  // norm, before its weight): for a batch under 32 tokens or with every layer offloaded,
  // llama_context::graph_get_cb puts it on the block's device (the scheduler replay, sched.hpp).
  bool layer_norm = false;
  bool vec_kernel = false;  // see f16_k
  // The sources to look at: src[n_src..] are all -1 (Graph::op and the views set it).
  std::uint8_t n_src = 8;
  Bytes memory_bytes = 0;
  // A flash-attention node over a cache that is not f16: the bytes of f16 copies of its K and
  // V views (0 for one already f16, or for V when it is a view of K's memory), and whether a
  // vector kernel reads the cache's types as they are (CUDA's default build: q4_0, q8_0, f16,
  // bf16 with V of K's type and a head of 64, 128 or 256). Only a backend's rules read them
  // (sched.hpp's GpuRules::fattn_f16_copies).
  Bytes f16_k = 0;
  Bytes f16_v = 0;
  // Bytes the backend allocates after the tensor (ggml_backend_buft_get_alloc_size beyond
  // ggml_nbytes); the allocator reserves them with the tensor.
  Bytes alloc_extra = 0;
  // A view with gaps between its rows (ggml_view_* of every k-th row, or of part of each row):
  // ggml_nbytes over its strides, which exceeds bytes(). Allocates nothing itself; a copy of it
  // into another backend's buffer keeps the layout and so takes this many bytes (sched.hpp).
  Bytes span = 0;

  [[nodiscard]] Bytes bytes() const;
  [[nodiscard]] bool is_view() const { return view_src >= 0; }
};

// The worst-case graph, in ggml's execution order. Inputs are allocated first, in the order
// they were added; nodes are then allocated (and their sources freed) in the order added.
class Graph {
 public:
  using Shape = std::array<std::int64_t, 4>;

  TensorId input(Elem elem, Shape ne);
  TensorId external();
  // An external weight or KV-cache view of block `layer` of `bytes` (see Tensor::memory).
  TensorId external(Memory memory, std::int32_t layer, Bytes bytes, bool expert = false);
  TensorId op(Op op, Elem elem, Shape ne, std::initializer_list<TensorId> srcs);
  // A view of `parent` with shape ne (a reshape when contiguous, a permute when not). A view
  // of an external is the external itself (it owns nothing either).
  TensorId view(TensorId parent, Shape ne, bool contiguous = true);
  // The same made by ggml_view_* (not a reshape or a permute). `nb`, when given, are the view's
  // strides in bytes (ggml's nb[1..3]; nb[0] is the element): they set Tensor::span.
  TensorId view_of(TensorId parent, Shape ne, bool contiguous = true, Shape nb = {0, 0, 0, 0});
  // A view node of a weight or KV-cache view (an external, or a view node of one), as ggml's
  // graph has it (llama_kv_cache::get_k, a permute of it): it allocates nothing and stands for
  // the external's bytes (an i8 row of memory_bytes), so a copy of it into another backend is
  // as large as the external. Only the node list changes (the Vulkan backend's reordering
  // looks at node positions); the allocator's result does not.
  TensorId external_view(TensorId parent, ViewOp view_op);
  // A node that writes into memory the allocator does not own (set_rows into the KV cache):
  // it allocates nothing but keeps its sources alive until it runs.
  TensorId store(std::initializer_list<TensorId> srcs);
  // Appends a prepared node (the scheduler's copy of a graph, sched.cpp).
  TensorId node(const Tensor& t) {
    tensors_.push_back(t);
    nodes_.push_back(static_cast<TensorId>(tensors_.size() - 1));
    return nodes_.back();
  }
  // Appends a prepared input or external tensor.
  TensorId leaf(const Tensor& t) {
    tensors_.push_back(t);
    const auto id = static_cast<TensorId>(tensors_.size() - 1);
    if (t.op == Op::input) inputs_.push_back(id);
    return id;
  }
  void mark_output(TensorId t) { tensors_[static_cast<std::size_t>(t)].output = true; }
  // Marks a node as block `layer`'s norm (Tensor::layer_norm).
  void mark_layer_norm(TensorId t, std::int32_t layer) {
    Tensor& x = tensors_[static_cast<std::size_t>(t)];
    x.layer = layer;
    x.layer_norm = true;
  }
  // Records a flash-attention node's f16 copy sizes (Tensor::f16_k, f16_v, vec_kernel).
  void set_f16_copies(TensorId t, Bytes f16_k, Bytes f16_v, bool vec_kernel) {
    Tensor& x = tensors_[static_cast<std::size_t>(t)];
    x.f16_k = f16_k;
    x.f16_v = f16_v;
    x.vec_kernel = vec_kernel;
  }
  // Marks where the output head starts: the nodes added from here on.
  void mark_head() { head_ = static_cast<std::int64_t>(nodes_.size()); }
  // Room for n tensors (a graph is built once, node by node).
  void reserve(std::size_t n) {
    tensors_.reserve(n);
    nodes_.reserve(n);
  }
  // Empties the graph and keeps its storage, for the next graph built in it (the compute
  // buffer's replays build one graph after another: graph_compute_buffer).
  void clear() {
    tensors_.clear();
    inputs_.clear();
    nodes_.clear();
    head_ = -1;
  }

  [[nodiscard]] const Tensor& at(TensorId t) const { return tensors_[static_cast<std::size_t>(t)]; }
  [[nodiscard]] const std::vector<Tensor>& tensors() const { return tensors_; }
  [[nodiscard]] const std::vector<TensorId>& inputs() const { return inputs_; }
  [[nodiscard]] const std::vector<TensorId>& nodes() const { return nodes_; }
  [[nodiscard]] std::int64_t head() const { return head_; }

 private:
  std::vector<Tensor> tensors_;
  std::vector<TensorId> inputs_;
  std::vector<TensorId> nodes_;
  std::int64_t head_ = -1;  // index in nodes_ of the output head's first node, -1: none
};

// Size of the one buffer ggml_gallocr reserves for `graph` on a backend with the given
// alignment (the CPU backend: 32): the allocator's high-water mark. `before_head` is the mark
// reached before the output head's first node (mark_head), which is the whole size of the
// same graph without the head; it equals `total` when no head is marked.
struct AllocatedSize {
  Bytes total = 0;
  Bytes before_head = 0;
};
[[nodiscard]] AllocatedSize allocated_size(const Graph& graph, Bytes alignment);

// ggml_gallocr with several buffers (ggml_gallocr_reserve_n): tensor t is allocated in buffer
// buffer_of[t] (an in-place result stays in its source's buffer); the high-water mark of each
// buffer, aligned to alignments[buffer].
[[nodiscard]] std::vector<Bytes> allocated_sizes(const Graph& graph,
                                                 const std::vector<std::uint8_t>& buffer_of,
                                                 const std::vector<Bytes>& alignments);

}  // namespace vramplan::graph
