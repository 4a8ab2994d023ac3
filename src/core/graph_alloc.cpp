#include <vramplan/graph_alloc.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace vramplan::graph {

bool can_inplace(Op op) {
  switch (op) {
    case Op::rms_norm:
    case Op::mul:
    case Op::add:
    case Op::add_id:
    case Op::scale:
    case Op::unary:
    case Op::rope:
    case Op::soft_max:
    case Op::div:
    case Op::clamp:
    case Op::sqr:
    case Op::sqrt:
    case Op::sub:
      return true;
    default:
      return false;
  }
}

namespace {

Bytes elem_bytes(Elem e) {
  switch (e) {
    case Elem::f16:
      return 2;
    case Elem::i64:
      return 8;
    case Elem::i8:
      return 1;
    case Elem::f32:
    case Elem::i32:
      break;
  }
  return 4;
}

// Graph tensor sizes are products of file values and settings: checked (docs/reliability.md §4).
constexpr std::string_view compute_what = "the compute buffer";

Bytes align_up(Bytes n, Bytes alignment) {
  const Bytes padded = checked_add(n, alignment - 1, compute_what);
  // Backend alignments are powers of two: a mask, not a division (the same value).
  if ((alignment & (alignment - 1)) == 0) return padded & ~(alignment - 1);
  return padded / alignment * alignment;
}

// ggml_dyn_tallocr with one chunk: free blocks sorted by offset, the last one open-ended.
// A request takes the smallest free block that fits, not counting the last; failing that the
// last block, which grows the buffer. Freed ranges merge with their neighbours.
class Allocator {
 public:
  explicit Allocator(Bytes alignment) : alignment_(alignment) {}

  [[nodiscard]] Bytes alignment() const { return alignment_; }

  // `size` is already aligned (align_up with this allocator's alignment).
  Bytes alloc(Bytes size) {
    std::size_t best = blocks_.size() - 1;
    Bytes best_size = std::numeric_limits<Bytes>::max();
    for (std::size_t i = 0; i + 1 < blocks_.size(); ++i) {
      if (blocks_[i].size >= size && blocks_[i].size <= best_size) {
        best = i;
        best_size = blocks_[i].size;
      }
    }
    Block& b = blocks_[best];
    // The last block is open-ended up to 2^62: a buffer beyond that is an overflow.
    if (b.size < size) throw_size_overflow(compute_what);
    const Bytes offset = b.offset;
    b.offset += size;
    b.size -= size;
    if (b.size == 0) blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
    high_ = std::max(high_, offset + size);
    return offset;
  }

  // `size` is already aligned, as alloc() got it.
  void free(Bytes offset, Bytes size) {
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      Block& b = blocks_[i];
      if (b.offset + b.size == offset) {  // the freed range follows block i
        b.size += size;
        if (i + 1 < blocks_.size() && b.offset + b.size == blocks_[i + 1].offset) {
          b.size += blocks_[i + 1].size;
          blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        }
        return;
      }
      if (offset + size == b.offset) {  // the freed range precedes block i
        b.offset = offset;
        b.size += size;
        if (i > 0 && blocks_[i - 1].offset + blocks_[i - 1].size == b.offset) {
          blocks_[i - 1].size += b.size;
          blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
        }
        return;
      }
    }
    std::size_t at = 0;
    while (at < blocks_.size() && blocks_[at].offset < offset) ++at;
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(at), Block{offset, size});
  }

  [[nodiscard]] Bytes high_water() const { return high_; }

 private:
  struct Block {
    Bytes offset;
    Bytes size;
  };
  Bytes alignment_;
  std::vector<Block> blocks_{{0, std::numeric_limits<Bytes>::max() / 2}};
  Bytes high_ = 0;
};

bool same_layout(const Tensor& a, const Tensor& b) {
  return a.elem == b.elem && a.ne == b.ne && a.contiguous == b.contiguous;
}

struct State {
  int children = 0;
  int views = 0;
  bool owned = false;  // holds memory from the allocator
  std::uint8_t buffer = 0;
  Bytes offset = 0;
  Bytes size = 0;  // what it holds while owned: its bytes aligned to its buffer's alignment
};

}  // namespace

Bytes Tensor::bytes() const {
  return checked_mul(checked_mul(checked_mul(checked_mul(elem_bytes(elem), ne[0], compute_what),
                                             ne[1], compute_what),
                                 ne[2], compute_what),
                     ne[3], compute_what);
}

TensorId Graph::input(Elem elem, Shape ne) {
  Tensor t;
  t.op = Op::input;
  t.elem = elem;
  t.ne = ne;
  tensors_.push_back(t);
  inputs_.push_back(static_cast<TensorId>(tensors_.size() - 1));
  return inputs_.back();
}

TensorId Graph::external() {
  Tensor t;
  t.op = Op::external;
  tensors_.push_back(t);
  return static_cast<TensorId>(tensors_.size() - 1);
}

TensorId Graph::external(Memory memory, std::int32_t layer, Bytes bytes, bool expert) {
  const TensorId id = external();
  Tensor& t = tensors_.back();
  t.memory = memory;
  t.layer = layer;
  t.memory_bytes = bytes;
  t.expert = expert;
  return id;
}

TensorId Graph::op(Op op, Elem elem, Shape ne, std::initializer_list<TensorId> srcs) {
  if (srcs.size() > 8) throw std::logic_error("graph::op: more than eight sources");
  Tensor t;
  t.op = op;
  t.elem = elem;
  t.ne = ne;
  std::size_t i = 0;
  for (TensorId s : srcs) t.src[i++] = s;
  t.n_src = static_cast<std::uint8_t>(i);
  tensors_.push_back(t);
  nodes_.push_back(static_cast<TensorId>(tensors_.size() - 1));
  return nodes_.back();
}

TensorId Graph::store(std::initializer_list<TensorId> srcs) {
  return op(Op::external, Elem::f32, {1, 1, 1, 1}, srcs);
}

TensorId Graph::view(TensorId parent, Shape ne, bool contiguous) {
  const Tensor& p = at(parent);
  if (p.op == Op::external) return parent;  // views of weights and caches own nothing either
  Tensor t;
  t.op = Op::view;
  t.elem = p.elem;
  t.ne = ne;
  t.contiguous = contiguous;
  t.view_op = contiguous ? ViewOp::reshape : ViewOp::permute;
  t.view_src = p.is_view() ? p.view_src : parent;
  t.src[0] = parent;
  t.n_src = 1;
  tensors_.push_back(t);
  nodes_.push_back(static_cast<TensorId>(tensors_.size() - 1));
  return nodes_.back();
}

TensorId Graph::view_of(TensorId parent, Shape ne, bool contiguous, Shape nb) {
  const TensorId v = view(parent, ne, contiguous);
  if (v == parent) return v;
  Tensor& t = tensors_[static_cast<std::size_t>(v)];
  t.view_op = ViewOp::view;
  if (nb[1] > 0) {
    // ggml_nbytes: the first element, then (ne[i] - 1) strides along each dimension.
    Bytes span = elem_bytes(t.elem);
    span =
        checked_add(span, checked_mul(ne[0] - 1, elem_bytes(t.elem), compute_what), compute_what);
    for (std::size_t i = 1; i < 4; ++i) {
      span = checked_add(span, checked_mul(ne[i] - 1, nb[i], compute_what), compute_what);
    }
    if (span > t.bytes()) t.span = span;
  }
  return v;
}

TensorId Graph::external_view(TensorId parent, ViewOp view_op) {
  const Tensor& p = at(parent);
  const TensorId root = p.is_view() ? p.view_src : parent;
  const Tensor& r = at(root);
  if (r.op != Op::external)
    throw std::logic_error("external_view of a tensor that is not external");
  Tensor t;
  t.op = Op::view;
  t.view_op = view_op;
  t.elem = Elem::i8;
  t.ne = {std::max<std::int64_t>(1, static_cast<std::int64_t>(r.memory_bytes)), 1, 1, 1};
  t.view_src = root;
  t.src[0] = parent;
  t.n_src = 1;
  tensors_.push_back(t);
  nodes_.push_back(static_cast<TensorId>(tensors_.size() - 1));
  return nodes_.back();
}

// ggml_gallocr_alloc_graph_impl: inputs first; then every node in order, reusing a source in
// place where allowed, and freeing each source whose last user (or last view's user) ran.
// One allocator per buffer; `mark` records buffer 0's high-water mark before the head.
namespace {

struct Replay {
  std::vector<Bytes> peaks;
  Bytes before_head = 0;
};

Replay replay(const Graph& graph, const std::vector<std::uint8_t>* buffer_of,
              const std::vector<Bytes>& alignments) {
  const std::vector<Tensor>& ts = graph.tensors();
  // One state array per thread, reused from replay to replay (replays do not nest).
  thread_local std::vector<State> st;
  st.assign(ts.size(), State{});
  std::vector<Allocator> allocators;
  allocators.reserve(alignments.size());
  for (Bytes a : alignments) allocators.emplace_back(a);
  auto state = [&](TensorId id) -> State& { return st[static_cast<std::size_t>(id)]; };
  auto buffer = [&](TensorId id) -> std::uint8_t {
    return buffer_of == nullptr ? 0 : (*buffer_of)[static_cast<std::size_t>(id)];
  };

  auto allocate = [&](TensorId id) {
    const Tensor& t = graph.at(id);
    State& s = state(id);
    if (s.owned || t.op == Op::external || t.is_view()) return;
    if (can_inplace(t.op)) {
      for (std::size_t k = 0; k < t.n_src; ++k) {
        const TensorId p = t.src[k];
        if (p < 0) continue;
        const Tensor& parent = graph.at(p);
        State& ps = state(p);
        // Views are never owned, so only a plain source with this node as its one user and
        // no views can be taken over (the view branch of ggml_gallocr_allocate_node needs an
        // owned view, which gallocr never produces).
        if (!ps.owned || parent.output || !same_layout(t, parent)) continue;
        if (ps.children != 1 || ps.views != 0) continue;
        s.owned = true;
        s.offset = ps.offset;
        s.buffer = ps.buffer;
        ps.owned = false;
        const Bytes have = ps.size;
        const Bytes need =
            align_up(checked_add(t.bytes(), t.alloc_extra, compute_what), alignments[ps.buffer]);
        s.size = need;
        if (have > need) allocators[ps.buffer].free(ps.offset + need, have - need);
        return;
      }
    }
    s.owned = true;
    s.buffer = buffer(id);
    Allocator& a = allocators[s.buffer];
    s.size = align_up(checked_add(t.bytes(), t.alloc_extra, compute_what), a.alignment());
    s.offset = a.alloc(s.size);
  };
  auto release = [&](TensorId id) {
    const Tensor& t = graph.at(id);
    State& s = state(id);
    if (t.output || !s.owned) return;
    allocators[s.buffer].free(s.offset, s.size);
    s.owned = false;
  };

  for (TensorId id : graph.inputs()) allocate(id);
  for (TensorId id : graph.nodes()) {
    const Tensor& t = graph.at(id);
    if (t.is_view()) ++state(t.view_src).views;
    for (std::size_t k = 0; k < t.n_src; ++k) {
      if (t.src[k] >= 0) ++state(t.src[k]).children;
    }
  }
  Replay out;
  const std::vector<TensorId>& nodes = graph.nodes();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const TensorId id = nodes[i];
    if (static_cast<std::int64_t>(i) == graph.head()) out.before_head = allocators[0].high_water();
    allocate(id);
    const Tensor& t = graph.at(id);
    for (std::size_t k = 0; k < t.n_src; ++k) {
      const TensorId p = t.src[k];
      if (p < 0) continue;
      State& ps = state(p);
      if (--ps.children != 0 || ps.views != 0) continue;
      const Tensor& parent = graph.at(p);
      if (parent.is_view()) {
        State& root = state(parent.view_src);
        if (--root.views == 0 && root.children == 0) release(parent.view_src);
      } else {
        release(p);
      }
    }
  }
  for (const Allocator& a : allocators) out.peaks.push_back(a.high_water());
  if (graph.head() < 0 || graph.head() >= static_cast<std::int64_t>(nodes.size())) {
    out.before_head = out.peaks[0];
  }
  return out;
}

}  // namespace

AllocatedSize allocated_size(const Graph& graph, Bytes alignment) {
  const Replay r = replay(graph, nullptr, {alignment});
  return AllocatedSize{.total = r.peaks[0], .before_head = r.before_head};
}

std::vector<Bytes> allocated_sizes(const Graph& graph, const std::vector<std::uint8_t>& buffer_of,
                                   const std::vector<Bytes>& alignments) {
  return replay(graph, &buffer_of, alignments).peaks;
}

}  // namespace vramplan::graph
