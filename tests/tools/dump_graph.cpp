// vramplan_dump_graph (test-only): prints the worst-case graph vramplan rebuilds for a catalog
// model (src/core/reserve_graph.cpp), in the format of the ggml-alloc dump patch in
// scripts/oracle/graph/, so the two can be compared node by node and replayed by compare.py.
//
//   vramplan_dump_graph --model llama3.2:3b-q4_0 --ctx 8192 --parallel 2 --ubatch 512
//                       --flash-attn on --type-k q8_0 --type-v q8_0 > mine.txt
//   vramplan_dump_graph --catalog bench/accuracy/vulkan/shapes.yaml --model vkqwen3:tiny-q8_0 ...
#include <cstdio>
#include <iterator>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vramplan/catalog.hpp>
#include <vramplan/ggml_type.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/reserve_graph.hpp>

namespace {

using namespace vramplan;

const char* op_name(graph::Op op) {
  static constexpr const char* names[] = {"NONE",
                                          "EXT",
                                          "VIEW",
                                          "GET_ROWS",
                                          "RMS_NORM",
                                          "NORM",
                                          "MUL",
                                          "ADD",
                                          "SCALE",
                                          "UNARY",
                                          "GLU",
                                          "MUL_MAT",
                                          "MUL_MAT_ID",
                                          "ADD_ID",
                                          "ROPE",
                                          "SOFT_MAX",
                                          "FLASH_ATTN_EXT",
                                          "CONT",
                                          "CONCAT",
                                          "ARGSORT",
                                          "SUM_ROWS",
                                          "DIV",
                                          "CLAMP",
                                          "SSM_CONV",
                                          "SSM_SCAN",
                                          "SQR",
                                          "SQRT",
                                          "SUB",
                                          "REPEAT",
                                          "MEAN",
                                          "GATED_DELTA_NET",
                                          "PAD"};
  // One name per graph::Op, in its order (pad is the last).
  static_assert(std::size(names) == static_cast<std::size_t>(graph::Op::pad) + 1);
  return names[static_cast<int>(op)];
}

GgmlType cache_type(const std::string& name) {
  const std::optional<GgmlType> t = parse_ggml_type(name);
  if (!t) throw std::runtime_error("unknown cache type " + name);
  return *t;
}

int run(int argc, char** argv) {
  CLI::App app("prints vramplan's rebuilt worst-case graph (ggml-alloc dump format)");
  std::string model, fa = "on", tk = "f16", tv = "f16", extra_catalog;
  std::int64_t ctx = 4096, ubatch = 512, outputs = 0;
  std::int32_t parallel = 1;
  app.add_option("--model", model)->required();
  app.add_option("--ctx", ctx);
  app.add_option("--parallel", parallel);
  app.add_option("--ubatch", ubatch);
  app.add_option("--flash-attn", fa);
  app.add_option("--outputs", outputs, "reserved outputs (default: the ubatch)");
  app.add_option("--type-k", tk);
  app.add_option("--type-v", tv);
  app.add_option("--catalog", extra_catalog,
                 "an extra catalog file (e.g. bench/accuracy/vulkan/shapes.yaml)");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> extra;
  if (!extra_catalog.empty()) extra.emplace_back(extra_catalog);
  const Catalog catalog = io::load_catalog(extra, "");
  const std::optional<ModelRef> ref = catalog.resolve(model);
  if (!ref || ref->entry == nullptr) throw std::runtime_error("not in the catalog: " + model);
  const ModelSpec& spec = ref->entry->spec;
  if (!graph_modelled(spec)) throw std::runtime_error(spec.arch + "'s graph is not rebuilt");
  const ContextParams cp{.n_ctx = ctx,
                         .n_seq = parallel,
                         .n_batch = ubatch,
                         .n_ubatch = ubatch,
                         .type_k = cache_type(tk),
                         .type_v = cache_type(tv),
                         .flash_attn = fa == "on"};
  const ComputeParams p{.shape = context_shape(spec, cp),
                        .n_outputs = outputs > 0 ? outputs : ubatch,
                        .flash_attn = cp.flash_attn,
                        .type_k = cp.type_k,
                        .type_v = cp.type_v,
                        .n_seq = parallel};
  const graph::Graph g = reserve_graph(spec, p, true);
  // The allocator's replay of this graph on the CPU (32-byte alignment), for a quick check
  // against a log; stderr keeps the dump format.
  std::fprintf(stderr, "compute buffer of this graph: %.4f MiB\n",
               static_cast<double>(graph::allocated_size(g, 32).total) / (1 << 20));

  // Ids print as 0x<id+1> pointers; srcs that are weights or caches are left out.
  std::printf("GRAPH %zu %zu\n", g.inputs().size(), g.nodes().size());
  std::size_t i = 0;
  for (graph::TensorId id : g.inputs()) {
    const graph::Tensor& t = g.at(id);
    std::printf(
        "L %zu 0x%x in%d op=NONE type=0 ne=%lld,%lld,%lld,%lld bytes=%lld view=(nil) "
        "ext=0 flags=1 src=\n",
        i++, id + 1, id, static_cast<long long>(t.ne[0]), static_cast<long long>(t.ne[1]),
        static_cast<long long>(t.ne[2]), static_cast<long long>(t.ne[3]),
        static_cast<long long>(t.bytes()));
  }
  i = 0;
  // A weight or cache view, or a view node of one (as llama.cpp's dump flags them).
  const auto external = [&](const graph::Tensor& t) {
    return t.op == graph::Op::external ||
           (t.is_view() && g.at(t.view_src).op == graph::Op::external);
  };
  for (graph::TensorId id : g.nodes()) {
    const graph::Tensor& t = g.at(id);
    const std::string view = t.is_view() ? fmt::format("0x{:x}", t.view_src + 1) : "(nil)";
    std::printf(
        "N %zu 0x%x n%d op=%s type=%d ne=%lld,%lld,%lld,%lld bytes=%lld view=%s ext=%d "
        "flags=%d src=",
        i++, id + 1, id, op_name(t.op), t.contiguous ? 0 : 99, static_cast<long long>(t.ne[0]),
        static_cast<long long>(t.ne[1]), static_cast<long long>(t.ne[2]),
        static_cast<long long>(t.ne[3]), static_cast<long long>(t.bytes()), view.c_str(),
        external(t) ? 1 : 0, t.output ? 2 : 0);
    for (graph::TensorId s : t.src) {
      if (s >= 0 && g.at(s).op != graph::Op::external) std::printf("0x%x,", s + 1);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vramplan_dump_graph: %s\n", e.what());
    return 1;
  }
}
