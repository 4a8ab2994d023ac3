#include <vramplan/sched.hpp>

#include <algorithm>
#include <unordered_map>

#include "cuda_fusion.hpp"
#include "vk_reorder.hpp"

// Every pass below follows ggml_backend_sched_split_graph and
// ggml_backend_sched_backend_id_from_cur (ggml/src/ggml-backend.cpp, llama.cpp
// de3ff815ea7d559ee917f063901b8986f038abc6): backends 0 .. n_gpus-1 are the GPUs in device
// order, backend n_gpus the CPU (the lowest priority, llama_context puts it last). Each backend
// has one buffer type: its GPU's device memory, and for the CPU the first GPU's host buffer type
// (llama_context swaps it in). A GPU supports only its own device's buffer type
// (ggml_backend_vk_device_supports_buft, ggml_backend_cuda_device_supports_buft: a CUDA buffer
// of the same device), the CPU only host memory.

namespace vramplan::sched {
namespace {

using graph::Graph;
using graph::Memory;
using graph::Op;
using graph::Tensor;
using graph::TensorId;

constexpr int kGpu = 0;  // the first GPU

// ggml_is_view_op: our views (reshape, view, permute, transpose).
bool is_view(const Tensor& t) { return t.op == Op::view; }
// A write into the KV cache or a recurrent state (Graph::store): its result is a view of the
// memory written, its last source. Three sources: a set_rows into the KV cache (the rows, their
// indices, the cache); two: a cpy into a recurrent state (llm_graph_context::build_rs's extra
// states, the new conv and SSM states); one: build_rs's scale_inplace of the state's zeroed
// cell.
bool is_store(const Tensor& t) { return t.op == Op::external && t.src[0] >= 0; }
TensorId store_dst(const Tensor& t) {
  TensorId d = -1;
  for (TensorId s : t.src) d = s >= 0 ? s : d;
  return d;
}
int n_srcs(const Tensor& t) {
  int n = 0;
  for (TensorId s : t.src) n += s >= 0 ? 1 : 0;
  return n;
}

// The batch size offload_op compares (ggml_vk_get_op_batch_size,
// ggml/src/ggml-vulkan/ggml-vulkan-debug.cpp): get_rows never, mul_mat its rows, mul_mat_id
// and rope their third dimension, anything else its row count.
std::int64_t batch_size(const Tensor& t) {
  switch (t.op) {
    case Op::get_rows:
      return 0;
    case Op::mul_mat:
      return t.ne[1];
    case Op::mul_mat_id:
    case Op::rope:
      return t.ne[2];
    default:
      break;
  }
  return t.ne[1] * t.ne[2] * t.ne[3];
}

class Scheduler {
 public:
  Scheduler(const Graph& g, const Placement& p, const GpuRules& gpu)
      : g_(g), p_(p), gpu_(gpu), cpu_(std::max(1, p.n_gpus)), backend_(g.tensors().size(), -1) {}

  Result run() {
    assign();
    return split_and_allocate();
  }

 private:
  const Tensor& at(TensorId id) const { return g_.at(id); }
  int& backend(TensorId id) { return backend_[static_cast<std::size_t>(id)]; }

  Bytes bytes(TensorId id) const {
    const Tensor& t = at(id);
    return t.op == Op::external ? t.memory_bytes : t.bytes();
  }

  // The tensor whose memory a view or a KV store (set_rows) uses; a tensor's own id otherwise.
  TensorId base_of(TensorId id) const {
    const Tensor& t = at(id);
    if (t.is_view()) return t.view_src;
    if (is_store(t)) {
      const TensorId d = store_dst(t);
      const Tensor& dst = at(d);
      return dst.is_view() ? dst.view_src : d;
    }
    return id;
  }

  // The ggml op the Vulkan reordering sees.
  static vk::GgmlOp ggml_op(const Tensor& t) {
    using vk::GgmlOp;
    switch (t.op) {
      case Op::input:
        return GgmlOp::none;
      case Op::external:
        if (!is_store(t)) return GgmlOp::none;
        return n_srcs(t) == 3 ? GgmlOp::set_rows : n_srcs(t) == 2 ? GgmlOp::cpy : GgmlOp::scale;
      case Op::view:
        return t.view_op == graph::ViewOp::view      ? GgmlOp::view
               : t.view_op == graph::ViewOp::permute ? GgmlOp::permute
                                                     : GgmlOp::reshape;
      case Op::get_rows:
        return GgmlOp::get_rows;
      case Op::rms_norm:
        return GgmlOp::rms_norm;
      case Op::norm:
        return GgmlOp::norm;
      case Op::mul:
        return GgmlOp::mul;
      case Op::add:
        return GgmlOp::add;
      case Op::scale:
        return GgmlOp::scale;
      case Op::unary:
        return GgmlOp::unary;
      case Op::glu:
        return GgmlOp::glu;
      case Op::mul_mat:
        return GgmlOp::mul_mat;
      case Op::mul_mat_id:
        return GgmlOp::mul_mat_id;
      case Op::add_id:
        return GgmlOp::add_id;
      case Op::rope:
        return GgmlOp::rope;
      case Op::soft_max:
        return GgmlOp::soft_max;
      case Op::flash_attn:
        return GgmlOp::flash_attn_ext;
      case Op::cont:
        return GgmlOp::cont;
      case Op::concat:
        return GgmlOp::concat;
      case Op::argsort:
        return GgmlOp::argsort;
      case Op::sum_rows:
        return GgmlOp::sum_rows;
      case Op::div:
        return GgmlOp::div;
      case Op::clamp:
        return GgmlOp::clamp;
      case Op::ssm_conv:
        return GgmlOp::ssm_conv;
      case Op::ssm_scan:
        return GgmlOp::ssm_scan;
      case Op::gated_delta_net:
        return GgmlOp::gated_delta_net;
      case Op::repeat:
        return GgmlOp::repeat;
      // Qwen3-VL's padded embeddings (build_inp_embd's ggml_pad): a node of its own, not a
      // leaf, to the reordering.
      case Op::pad:
        return GgmlOp::pad;
      case Op::sqr:
        return GgmlOp::sqr;
      case Op::sqrt:
        return GgmlOp::sqrt;
      case Op::sub:
        return GgmlOp::sub;
      case Op::mean:
        return GgmlOp::mean;
    }
    return GgmlOp::none;
  }

  // The device of an external's memory.
  int location(const Tensor& t) const {
    if (t.layer < 0) return cpu_;  // the input layer (token_embd) stays on the CPU
    if (t.layer >= p_.n_layer) return p_.output_on_gpu ? p_.output_gpu : cpu_;
    const auto il = static_cast<std::size_t>(t.layer);
    const bool block = p_.block_on_gpu[il];
    const int gpu = p_.block_gpu.empty() ? kGpu : p_.block_gpu[il];
    if (t.memory == Memory::cache) return block && p_.kv_offload ? gpu : cpu_;
    if (t.expert && t.layer < p_.cpu_moe) return cpu_;
    return block ? gpu : cpu_;
  }

  // supports_op's shape rules for the recurrent mixers' ops (GpuRules): Mamba2's scan reads
  // the state size from B (d_state x n_group x tokens) and the head size from x; the
  // convolution its channels from its input's ne[1]; the Gated DeltaNet its V head size from v.
  bool op_shape_supported(const Tensor& t) const {
    switch (t.op) {
      case Op::ssm_scan: {
        if (!gpu_.ssm_scan_state_128_256) return true;
        const std::int64_t d_state = at(t.src[4]).ne[0];
        const std::int64_t head = at(t.src[1]).ne[0];
        return (d_state == 128 || d_state == 256) && head % 16 == 0;
      }
      case Op::ssm_conv:
        return at(t.src[0]).ne[1] % gpu_.ssm_conv_channels_multiple == 0;
      case Op::gated_delta_net: {
        const std::int64_t head = at(t.src[2]).ne[0];
        if (head % gpu_.gdn_head_multiple != 0) return false;
        if (gpu_.gdn_max_head == 0) return true;
        return head >= 16 && head <= gpu_.gdn_max_head && (head & (head - 1)) == 0;
      }
      default:
        return true;
    }
  }

  // ggml_backend_*_device_supports_op: the recurrent ops' shape rules (above) and the size
  // check; otherwise every op of our graphs is
  // supported, by type and layout, on each backend replayed: the CPU backend runs every op, and
  // the GPU backends' supports_op accept what the graphs build, all of it f32 with contiguous
  // rows. For the ops gemma3n and llama4 add: REPEAT of an f32 (or f16) source, SUB of f32/f16
  // operands, SQR and SQRT of an f32/f16 source of the result's type, MEAN of an f32 source with
  // contiguous rows (ggml_backend_vk_device_supports_op in ggml/src/ggml-vulkan/ggml-vulkan.cpp,
  // ggml_backend_cuda_device_supports_op in ggml/src/ggml-cuda/ggml-cuda.cu, llama.cpp
  // de3ff815; CUDA's read from the source, not measured). offload_op compares their row count
  // (batch_size's default, ggml_vk_get_op_batch_size and the CUDA backend's get_op_batch_size).
  // Qwen3-VL's PAD among them: an f32 source, which build_inp_embd's always is, on Vulkan
  // (ggml-vulkan.cpp: GGML_OP_PAD, src[0] F32), any on CUDA (ggml-cuda.cu
  // ggml_backend_cuda_device_supports_op: GGML_OP_PAD true), any but circular padding on Metal
  // (ggml-metal-device.m), and the CPU runs every op.
  bool supports(int b, TensorId id) const {
    if (b == cpu_) return true;
    const Tensor& t = at(id);
    if (!op_shape_supported(t)) return false;
    if (gpu_.max_tensor == 0) return true;
    if (is_store(t)) {
      // The result is a view of the layer's cache or state.
      if (bytes(store_dst(t)) > gpu_.max_tensor) return false;
    } else if (t.op != Op::external && t.bytes() > gpu_.max_tensor) {
      return false;
    }
    for (TensorId s : t.src) {
      if (s >= 0 && bytes(s) > gpu_.max_tensor) return false;
    }
    return true;
  }

  // The buffer type a tensor is (or will be) in, as a backend index; -1 when unknown.
  int buft(TensorId id) {
    const Tensor& t = at(id);
    if (t.op == Op::external && !is_store(t)) return location(t);
    int b = backend(id);
    if (b < 0 && t.is_view()) b = backend(t.view_src);
    return b;
  }
  bool buffer_supported(TensorId id, int b) { return buft(id) == b; }

  // Pass 1 for one node (ggml_backend_sched_backend_id_from_cur).
  int from_cur(TensorId id) {
    const Tensor& t = at(id);
    if (is_store(t)) {
      // The cache, or a reshape of it (graph::Graph::external_view).
      const Tensor& cache = at(store_dst(t));
      const int b = location(cache.is_view() ? at(cache.view_src) : cache);
      return b != cpu_ && !supports(b, id) ? -1 : b;
    }
    if (t.op == Op::rope || t.op == Op::flash_attn) return -1;
    for (TensorId s : t.src) {
      if (s < 0) continue;
      const Tensor& src = at(s);
      if (src.op != Op::external || src.memory != Memory::weight) continue;
      const int where = location(src);
      // backend_from_buffer: the highest-priority backend supporting the buffer and the op.
      int b = where != cpu_ ? (supports(where, id) ? where : -1) : cpu_;
      // A host weight's op goes to the first GPU that supports and wants it.
      const bool offloadable =
          !gpu_.offload_matmul_only || t.op == Op::mul_mat || t.op == Op::mul_mat_id;
      if (p_.op_offload && b == cpu_ && offloadable && supports(kGpu, id) &&
          batch_size(t) >= gpu_.offload_min_batch) {
        b = kGpu;
      }
      return b;
    }
    return -1;
  }

  void expand(bool down, bool gpu_only) {
    int cur = -1;
    const std::vector<TensorId>& nodes = g_.nodes();
    const auto n = static_cast<std::ptrdiff_t>(nodes.size());
    for (std::ptrdiff_t k = 0; k < n; ++k) {
      const TensorId id = nodes[static_cast<std::size_t>(down ? k : n - 1 - k)];
      if (is_view(at(id))) continue;
      int& b = backend(id);
      if (b != -1) {
        cur = gpu_only && b == cpu_ ? -1 : b;
      } else if (cur != -1 && supports(cur, id)) {
        b = cur;
      }
    }
  }

  void assign() {
    for (TensorId id : g_.inputs()) backend(id) = cpu_;  // graph inputs: the last backend
    for (TensorId id = 0; id < static_cast<TensorId>(g_.tensors().size()); ++id) {
      const Tensor& t = at(id);
      if (t.op == Op::external && !is_store(t)) backend(id) = location(t);
    }
    // A block's norm set on the block's device by llama.cpp's graph callback
    // (ggml_backend_sched_set_tensor_backend, which pass 1 keeps) where the device supports it.
    if (p_.pin_layer_norms) {
      for (TensorId id : g_.nodes()) {
        const Tensor& t = at(id);
        if (!t.layer_norm || t.layer < 0 || t.layer >= p_.n_layer) continue;
        const auto il = static_cast<std::size_t>(t.layer);
        const int b = !p_.block_on_gpu[il] ? cpu_ : p_.block_gpu.empty() ? kGpu : p_.block_gpu[il];
        if (supports(b, id)) backend(id) = b;
      }
    }
    for (TensorId id : g_.nodes()) {
      if (backend(id) == -1) backend(id) = from_cur(id);
    }
    // Pass 2: GPU backends down and up, then any backend down and up.
    expand(true, true);
    expand(false, true);
    expand(true, false);
    expand(false, false);
    // Pass 3: an unassigned node goes to the backend with the most supported inputs (the
    // upgrade to a higher-priority backend needs the same buffer type: never here).
    for (TensorId id : g_.nodes()) {
      const Tensor& t = at(id);
      if (is_view(t) || backend(id) != -1) continue;
      int best = -1;
      for (int b = kGpu; b <= cpu_; ++b) {
        if (!supports(b, id)) continue;
        int n = 0;
        for (TensorId s : t.src) {
          if (s >= 0 && buft(s) != -1 && buffer_supported(s, b)) ++n;
        }
        if (n > best) {
          best = n;
          backend(id) = b;
        }
      }
    }
    // Pass 4: views follow their source; unassigned sources their user.
    for (TensorId id : g_.nodes()) {
      const Tensor& t = at(id);
      if (t.is_view() && backend(id) == -1) backend(id) = backend(t.view_src);
      for (TensorId s : t.src) {
        if (s < 0 || backend(s) != -1) continue;
        backend(s) = at(s).is_view() ? backend(at(s).view_src) : backend(id);
      }
      if (backend(id) == -1) backend(id) = supports(kGpu, id) ? kGpu : cpu_;
    }
  }

  // ggml_cuda_flash_attn_ext_get_alloc_size (ggml/src/ggml-cuda/fattn.cu) beyond the
  // result's bytes: the f16 copies of K and V, each 128-byte aligned, that the chosen kernel
  // needs. ggml_cuda_get_best_fattn_kernel on an Ada or newer GPU with a cache that is not
  // f16: the vector kernel for at most 2 query tokens at a head size it supports (a multiple of
  // 64 up to 256 but 192; the cache's cells are a multiple of FATTN_KQ_STRIDE, 256), else the
  // tensor-core (or tile) kernel, which reads f16 only.
  Bytes fattn_f16_extra(const Tensor& fa) const {
    if (fa.f16_k == 0 && fa.f16_v == 0) return 0;
    const Tensor& q = at(fa.src[0]);
    const std::int64_t head = q.ne[0];
    const bool vec = head <= 256 && head % 64 == 0 && head != 192 && q.ne[1] <= 2;
    const bool convert = !vec || !fa.vec_kernel;
    if (!convert) return 0;
    constexpr Bytes kPad =
        128;  // GGML_PAD(end, 128) in ggml_cuda_flash_attn_ext_get_f16_extra_data
    const Bytes n = fa.bytes();
    Bytes end = n;
    for (Bytes part : {fa.f16_k, fa.f16_v}) {
      if (part == 0) continue;
      end = checked_add(end, (kPad - end % kPad) % kPad, "the compute buffer");
      end = checked_add(end, part, "the compute buffer");
    }
    return end - n;
  }

  // A copy of tensor `src` in another backend's buffer (ggml_dup_tensor_layout): an activation
  // keeps its type, shape and strides (so an op may later reuse it in place), a weight or cache
  // view is its bytes.
  Tensor copy_of(TensorId src) const {
    const Tensor& s = at(src);
    Tensor t;
    t.op = Op::cont;
    if (s.op == Op::external) {
      t.elem = graph::Elem::i8;
      t.ne = {static_cast<std::int64_t>(s.memory_bytes), 1, 1, 1};
    } else {
      t.elem = s.elem;
      t.ne = s.ne;
      t.contiguous = s.contiguous;
      // A strided view's copy has its strides too: ggml_nbytes of the view, gaps included.
      if (s.span > t.bytes()) t.alloc_extra = s.span - t.bytes();
    }
    return t;
  }

  // A ROPE node's frequency factors (its third source, llama_model::get_rope_factors): the
  // blocks after the first create them with TENSOR_DUPLICATED, and create_tensor returns the
  // tensor already made in the same buffer type's context (src/llama-model-loader.cpp), so
  // every block on one device reads one tensor, copied once into each other backend. The
  // factors of the first ROPE node on the device stand for them all.
  TensorId rope_factors(TensorId s) {
    const int where = location(at(s));
    if (factors_.empty()) {
      for (TensorId id : g_.nodes()) {
        const Tensor& t = at(id);
        if (t.op == Op::rope && t.src[2] >= 0) factors_.emplace(location(at(t.src[2])), t.src[2]);
      }
    }
    const auto it = factors_.find(where);
    return it != factors_.end() ? it->second : s;
  }

  // Pass 5 and the graph copy sched_split_graph hands to ggml_gallocr_reserve_n.
  Result split_and_allocate() {
    // The graph copy is built in a per-thread storage kept from replay to replay (replays do
    // not nest), so it neither allocates nor first touches a new tensor array each time.
    thread_local Graph storage;
    Graph h = std::move(storage);
    h.clear();
    h.reserve(g_.tensors().size() * 2);
    std::vector<TensorId> map(g_.tensors().size(), -1);
    std::vector<std::uint8_t> buffer;
    auto push = [&](TensorId new_id, int b) {
      if (buffer.size() <= static_cast<std::size_t>(new_id)) {
        buffer.resize(static_cast<std::size_t>(new_id) + 1, 0);
      }
      buffer[static_cast<std::size_t>(new_id)] = static_cast<std::uint8_t>(b);
    };
    // Pipeline parallelism (n_copies > 1): every graph input a node reads, and every copy into
    // a split, exists n_copies times, each flagged input and output (ggml_set_input,
    // ggml_set_output in ggml_backend_sched_split_graph), and all of them are leafs of the graph
    // copy: ggml-alloc places them first and never frees or reuses them.
    const int n_copies = std::max(1, p_.n_copies);
    const bool parallel = n_copies > 1;
    std::vector<bool> read;  // graph inputs a node that is not a view reads (views are skipped)
    if (parallel) {
      read.assign(g_.tensors().size(), false);
      for (TensorId id : g_.nodes()) {
        if (is_view(at(id))) continue;
        for (TensorId s : at(id).src) {
          if (s >= 0) read[static_cast<std::size_t>(s)] = true;
        }
      }
    }
    for (TensorId id = 0; id < static_cast<TensorId>(g_.tensors().size()); ++id) {
      const Tensor& t = at(id);
      if (t.op == Op::input || (t.op == Op::external && !is_store(t))) {
        Tensor leaf = t;
        const bool copied = parallel && t.op == Op::input && read[static_cast<std::size_t>(id)];
        if (copied) leaf.output = true;
        map[static_cast<std::size_t>(id)] = h.leaf(leaf);
        push(map[static_cast<std::size_t>(id)], backend(id));
        for (int c = 1; copied && c < n_copies; ++c) push(h.leaf(leaf), backend(id));
      }
    }
    // One copy per (source, backend): backends are the GPUs, then the CPU (cpu_ + 1 of them).
    const auto key = [n_backends = std::int64_t{cpu_} + 1](TensorId s, int b) {
      return static_cast<std::int64_t>(s) * n_backends + b;
    };
    const std::vector<TensorId>& nodes = g_.nodes();
    int cur = -1;
    bool split_has_inputs = false;

    // ggml emits each split as: its inputs (a dependency on the source, then the copy), then
    // its nodes. Sources are remapped when a node is emitted, so nodes are emitted in order
    // as each split is closed; the copies a node needs are known when it is seen.
    struct Split {
      int backend;
      std::vector<std::pair<TensorId, TensorId>> inputs;  // (old source, copy index)
      std::vector<TensorId> nodes;                        // old ids, views included
    };
    std::vector<Split> all;
    std::vector<Tensor> copy_tensors;  // index -> tensor; placed into h when emitted
    std::unordered_map<std::int64_t, std::size_t> copy_index;
    constexpr std::size_t kSrcs = std::tuple_size_v<decltype(Tensor::src)>;
    std::vector<std::array<std::int32_t, kSrcs>> src_copy(g_.tensors().size());
    for (auto& c : src_copy) c.fill(-1);

    for (TensorId id : nodes) {
      const Tensor& t = at(id);
      if (is_view(t)) {
        if (all.empty()) all.push_back(Split{backend(id), {}, {}});
        all.back().nodes.push_back(id);
        continue;
      }
      const int b = backend(id);
      bool need_new = false;
      if (!all.empty() && b == cur && split_has_inputs) {
        for (TensorId s : t.src) {
          if (s < 0) continue;
          const Tensor& src = at(s);
          if (src.op == Op::external && src.memory == Memory::weight && location(src) != cur &&
              !buffer_supported(s, cur)) {
            need_new = true;
            break;
          }
        }
      }
      if (all.empty() || b != cur || need_new) {
        if (all.empty() || !all.back().nodes.empty() || b != all.back().backend) {
          all.push_back(Split{b, {}, {}});
        }
        all.back().backend = b;
        cur = b;
        split_has_inputs = false;
      }
      Split& sp = all.back();
      for (std::size_t j = 0; j < kSrcs; ++j) {
        const TensorId s = t.src[j];
        if (s < 0) continue;
        if (backend(s) == cur || buffer_supported(s, cur)) continue;
        const std::int64_t k = key(t.op == Op::rope && j == 2 ? rope_factors(s) : s, cur);
        auto it = copy_index.find(k);
        if (it == copy_index.end()) {
          it = copy_index.emplace(k, copy_tensors.size()).first;
          copy_tensors.push_back(copy_of(s));
          sp.inputs.emplace_back(s, static_cast<TensorId>(it->second));
          split_has_inputs = true;
        }
        src_copy[static_cast<std::size_t>(id)][j] = static_cast<std::int32_t>(it->second);
      }
      sp.nodes.push_back(id);
    }
    const int splits = static_cast<int>(all.size());

    // The GPU backend's reordering of each of its splits (ggml_backend_sched_split_graph runs
    // it after the copies are known, before the graph copy), with the tensors it keeps alive
    // until a node ran (emitted as dependency nodes after that node).
    std::unordered_map<TensorId, std::vector<std::int64_t>> keep_until;
    const auto copy_key = [&](std::size_t ci) {
      return static_cast<std::int64_t>(g_.tensors().size() + ci);
    };
    // A GPU split's nodes as the backend's graph_optimize sees them.
    std::vector<int> uses;
    const auto split_nodes = [&](const Split& sp) {
      if (uses.empty()) {
        uses.assign(g_.tensors().size(), 0);
        for (TensorId id : nodes) {
          for (TensorId s : at(id).src) {
            if (s >= 0) ++uses[static_cast<std::size_t>(s)];
          }
        }
      }
      std::vector<vk::Node> vn;
      vn.reserve(sp.nodes.size());
      for (TensorId id : sp.nodes) {
        const Tensor& t = at(id);
        vk::Node n;
        n.key = id;
        n.op = ggml_op(t);
        n.view_src = t.is_view() ? t.view_src : is_store(t) ? base_of(id) : -1;
        n.output = t.output;
        n.use_count = uses[static_cast<std::size_t>(id)];
        n.n_src = 0;
        for (std::size_t j = 0; j < kSrcs; ++j) {
          const TensorId s = t.src[j];
          if (s < 0) continue;
          n.n_src = static_cast<int>(j) + 1;
          const std::int64_t ci = src_copy[static_cast<std::size_t>(id)][j];
          if (ci >= 0) {
            n.src[j] = n.src_base[j] = copy_key(static_cast<std::size_t>(ci));
          } else {
            n.src[j] = s;
            n.src_op[j] = ggml_op(at(s));
            n.src_base[j] = base_of(s);
          }
        }
        vn.push_back(n);
      }
      return vn;
    };
    const auto add_deps = [&](const auto& deps) {
      for (const auto& [until, kept] : deps) {
        std::vector<std::int64_t>& k = keep_until[static_cast<TensorId>(until)];
        for (std::int64_t kept_key : kept) {
          if (std::find(k.begin(), k.end(), kept_key) == k.end()) k.push_back(kept_key);
        }
      }
    };
    // A tensor of the graph or a copy into a split, by the node keys split_nodes() gives.
    const auto tensor_of = [&](std::int64_t k) -> const Tensor& {
      const auto n_tensors = static_cast<std::int64_t>(g_.tensors().size());
      return k >= n_tensors ? copy_tensors[static_cast<std::size_t>(k - n_tensors)]
                            : at(static_cast<TensorId>(k));
    };
    for (Split& sp : all) {
      if (sp.backend == cpu_ || sp.nodes.empty()) continue;
      if (gpu_.reorders_nodes) {
        const auto layout = [&](std::int64_t k) {
          const Tensor& t = tensor_of(k);
          return vk::Layout{
              .ne = t.ne, .f32 = t.elem == graph::Elem::f32, .contiguous = t.contiguous};
        };
        const vk::Reordered r = vk::reorder(split_nodes(sp), layout);
        std::vector<TensorId> reordered;
        reordered.reserve(sp.nodes.size());
        for (int i : r.order) reordered.push_back(sp.nodes[static_cast<std::size_t>(i)]);
        sp.nodes = std::move(reordered);
        add_deps(r.deps);
      }
      if (gpu_.moe_fusion_deps) {
        // Shapes, types and layouts, of a tensor of the graph or of a copy into this split.
        const auto info = [&](std::int64_t k) {
          const Tensor& t = tensor_of(k);
          return cuda_fusion::Info{
              .ne = t.ne, .f32 = t.elem == graph::Elem::f32, .contiguous = t.contiguous};
        };
        add_deps(cuda_fusion::alloc_deps(split_nodes(sp), info));
      }
    }
    // The dependency nodes after `id`: one per 4 kept tensors (GGML_MAX_SRC).
    const auto deps_after = [&](TensorId id) -> const std::vector<std::int64_t>* {
      const auto it = keep_until.find(id);
      return it == keep_until.end() ? nullptr : &it->second;
    };

    // The new index of every copy and node, known before anything is emitted: a split's
    // dependencies may name a source that comes later in the same split (a view of an
    // activation made between two of its nodes), as ggml's graph_copy does with pointers.
    std::vector<TensorId> copy_new(copy_tensors.size(), -1);
    if (parallel) {
      // The copies are leafs (allocated first, kept): the current one stands in the graph.
      for (const Split& sp : all) {
        for (const auto& input : sp.inputs) {
          Tensor c = copy_tensors[static_cast<std::size_t>(input.second)];
          c.op = Op::input;
          c.output = true;
          copy_new[static_cast<std::size_t>(input.second)] = h.leaf(c);
          push(copy_new[static_cast<std::size_t>(input.second)], sp.backend);
          for (int k = 1; k < n_copies; ++k) push(h.leaf(c), sp.backend);
        }
      }
    }
    {
      auto next = static_cast<TensorId>(h.tensors().size());
      for (const Split& sp : all) {
        for (const auto& input : sp.inputs) {
          ++next;  // the dependency
          if (!parallel) copy_new[static_cast<std::size_t>(input.second)] = next++;
        }
        for (TensorId id : sp.nodes) {
          map[static_cast<std::size_t>(id)] = next++;
          if (const auto* kept = deps_after(id)) {
            next += static_cast<TensorId>((kept->size() + 3) / 4);
          }
        }
      }
    }
    for (const Split& sp : all) {
      for (const auto& [src, ci] : sp.inputs) {
        // A dependency that keeps the source alive until the copy, then the copy itself.
        Tensor dep;
        dep.op = Op::external;
        dep.src[0] = map[static_cast<std::size_t>(src)];
        push(h.node(dep), backend(src));
        if (parallel) continue;  // the copy is a leaf, already placed
        const TensorId c = h.node(copy_tensors[static_cast<std::size_t>(ci)]);
        push(c, sp.backend);
      }
      for (TensorId id : sp.nodes) {
        Tensor t = at(id);
        for (std::size_t j = 0; j < kSrcs; ++j) {
          if (t.src[j] < 0) continue;
          const std::int64_t ci = src_copy[static_cast<std::size_t>(id)][j];
          t.src[j] = ci >= 0 ? copy_new[static_cast<std::size_t>(ci)]
                             : map[static_cast<std::size_t>(t.src[j])];
        }
        if (t.is_view()) t.view_src = map[static_cast<std::size_t>(t.view_src)];
        if (t.op == Op::flash_attn && backend(id) != cpu_ && gpu_.fattn_f16_copies) {
          t.alloc_extra = fattn_f16_extra(at(id));  // the sources as they are in g_
        }
        push(h.node(t), backend(id));
        if (const auto* kept = deps_after(id)) {
          for (std::size_t k = 0; k < kept->size(); k += 4) {
            Tensor dep;  // keeps its sources alive until here (allocates nothing)
            dep.op = Op::external;
            for (std::size_t j = 0; j < 4 && k + j < kept->size(); ++j) {
              const std::int64_t kept_key = (*kept)[k + j];
              const auto n_tensors = static_cast<std::int64_t>(g_.tensors().size());
              dep.src[j] = kept_key >= n_tensors
                               ? copy_new[static_cast<std::size_t>(kept_key - n_tensors)]
                               : map[static_cast<std::size_t>(kept_key)];
            }
            push(h.node(dep), sp.backend);
          }
        }
      }
    }
    buffer.resize(h.tensors().size(), 0);
    std::vector<Bytes> alignments(static_cast<std::size_t>(cpu_), gpu_.alignment);
    alignments.push_back(gpu_.host_alignment);
    std::vector<Bytes> peaks = graph::allocated_sizes(h, buffer, alignments);
    storage = std::move(h);
    Result r{.gpu = peaks[0], .host = peaks.back(), .gpus = {}, .splits = splits};
    peaks.pop_back();
    r.gpus = std::move(peaks);
    return r;
  }

  const Graph& g_;
  const Placement& p_;
  const GpuRules& gpu_;
  const int cpu_;  // the CPU's backend index, after the GPUs
  std::vector<int> backend_;
  std::unordered_map<int, TensorId> factors_;  // rope_factors(): device -> its tensor
};

}  // namespace

const GpuRules& vulkan_lavapipe() {
  static const GpuRules rules{
      .name = "Vulkan (lavapipe)",
      .alignment = 16,
      .host_alignment = 64,
      .offload_min_batch = 32,
      .max_tensor = 128 * mib,
      .reorders_nodes = true,
      .async_events = true,
      .ssm_scan_state_128_256 = true,
      .gdn_max_head = 128,
      .source =
          "ggml-vulkan.cpp (buffer type and host buffer type get_alignment, "
          "supports_op, offload_op, device_get_props: async and events; supports_op's "
          "SSM_SCAN: Mamba2 with d_state 128 or 256 and a head of a multiple of 16, "
          "GATED_DELTA_NET: S_v 16, 32, 64 or 128); vulkaninfo on the oracle's llvmpipe "
          "device"};
  return rules;
}

const GpuRules& vulkan_generic() {
  static const GpuRules rules{
      .name = "Vulkan",
      .alignment = 16,
      .host_alignment = 64,
      .offload_min_batch = 32,
      .max_tensor = 4 * gib - 1,
      .reorders_nodes = true,
      .async_events = true,
      .ssm_scan_state_128_256 = true,
      .gdn_max_head = 128,
      .source = "ggml-vulkan.cpp; typical discrete-GPU limits (4 GiB storage-buffer range)"};
  return rules;
}

const GpuRules& cuda() {
  static const GpuRules rules{
      .name = "CUDA",
      .alignment = 128,
      .host_alignment = 32,
      .offload_min_batch = 32,
      .max_tensor = 0,
      .moe_fusion_deps = true,
      .fattn_f16_copies = true,
      .async_events = true,
      .ssm_scan_state_128_256 = true,
      .ssm_conv_channels_multiple = 128,
      .source =
          "ggml-cuda.cu (ggml_backend_cuda_buffer_type_get_alignment; the host buffer type "
          "takes the CPU buffer type's get_alignment, TENSOR_ALIGNMENT; "
          "ggml_backend_cuda_device_offload_op with GGML_OP_OFFLOAD_MIN_BATCH unset; "
          "ggml_backend_cuda_graph_optimize's add_alloc_dep; fattn.cu's "
          "ggml_cuda_flash_attn_ext_get_alloc_size; ggml_backend_cuda_device_get_props: "
          "caps.async and caps.events; ggml_backend_cuda_device_supports_op: SSM_SCAN of "
          "Mamba2 with d_state 128 or 256 and a head of a multiple of 16, SSM_CONV with "
          "channels a multiple of 128, GATED_DELTA_NET at any head size)"};
  return rules;
}

const GpuRules& metal() {
  static const GpuRules rules{
      .name = "Metal",
      .alignment = 32,
      .host_alignment = 32,
      .offload_min_batch = 32,
      .max_tensor = 0,
      .offload_matmul_only = true,
      .async_events = false,
      .gdn_head_multiple = 32,
      .source =
          "ggml-metal.cpp (ggml_backend_metal_buffer_type_{shared,private,mapped}_get_alignment: "
          "32; is_host false; get_host_buffer_type NULL, so the CPU backend keeps the CPU "
          "buffer type, TENSOR_ALIGNMENT 32; ggml_backend_metal_device_offload_op: MUL_MAT and "
          "MUL_MAT_ID at a batch of 32 or more; ggml_backend_metal_device_get_props: events "
          "false; ggml-metal-device.m supports_op: SSM_SCAN and SSM_CONV with simdgroup "
          "reduction, GATED_DELTA_NET with a V head of a multiple of 32)"};
  return rules;
}

Result replay(const graph::Graph& graph, const Placement& placement, const GpuRules& gpu) {
  return Scheduler(graph, placement, gpu).run();
}

}  // namespace vramplan::sched
