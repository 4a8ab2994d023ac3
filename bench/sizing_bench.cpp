// Latency of the sizing commands' library calls over the shipped catalogs (Google Benchmark;
// docs/performance.md): `recommend` over the whole model catalog, `size` over the whole GPU
// catalog, and `fit` of a catalog model. Build with -DVRAMPLAN_BUILD_BENCHMARKS=ON and run
// build/bench/vramplan_sizing_bench.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

#include <vramplan/catalog.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/gpu_catalog.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/gpu_catalog_yaml.hpp>
#include <vramplan/io/model_loader.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/recommend.hpp>
#include <vramplan/tensors.hpp>
#include <vramplan/sizing.hpp>

namespace {

using namespace vramplan;

const Catalog& models() {
  static const Catalog catalog = io::load_catalog({}, "");
  return catalog;
}

const GpuCatalog& gpus() {
  static const GpuCatalog catalog = io::load_gpu_catalog();
  return catalog;
}

io::LoadedModel load(const std::string& name, bool with_alternatives) {
  io::LoadOptions options;
  options.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  options.with_alternatives = with_alternatives;
  return io::load_model(name, models(), options);
}

Model catalog_model(const std::string& name) { return load(name, false).model; }

// recommend: args {GiB of VRAM, limit per list (0 = every combination)}; with the RTX 4090 and
// 64 GiB of RAM when the VRAM is 24 GiB (the speed estimate and the offload list included).
void BM_Recommend(benchmark::State& state) {
  RecommendRequest request;
  request.vram = {state.range(0) * gib};
  request.limit = static_cast<std::size_t>(state.range(1));
  if (state.range(0) == 24) {
    request.gpu = gpus().find_id("rtx-4090");
    request.vram = {*request.gpu->memory_bytes};
    request.ram = 64 * gib;
    request.ram_bandwidth_gbps = 80;
  }
  RecommendResult result;
  for (auto _ : state) {
    result = recommend(models(), request);
    benchmark::DoNotOptimize(result);
  }
  // The work of one sweep: planner runs (fit()), and estimate() calls within them.
  state.counters["fits"] = static_cast<double>(result.fits);
  state.counters["estimates"] = static_cast<double>(result.estimates);
  state.counters["graphs"] = static_cast<double>(result.graphs);
  state.counters["listed"] = static_cast<double>(result.full_gpu.size() + result.offload.size());
}
BENCHMARK(BM_Recommend)
    ->Args({4, 20})
    ->Args({24, 20})
    ->Args({80, 20})
    ->Args({4, 0})
    ->Args({24, 0})
    ->Unit(benchmark::kMillisecond);

// size over the 72 cards: llama.cpp (Ollama) and vLLM.
void size_bench(benchmark::State& state, const char* name, SizeEngine family) {
  const Model model = catalog_model(name);
  SizeRequest request;
  request.family = family;
  request.engine = family == SizeEngine::vllm ? nullptr : &engine(EngineId::ollama);
  for (auto _ : state) benchmark::DoNotOptimize(size_model(model, gpus(), request));
}
BENCHMARK_CAPTURE(size_bench, llama8b_q4_llamacpp, "llama3.1:8b-q4_k_m", SizeEngine::llama_cpp)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(size_bench, llama70b_q4_llamacpp, "llama3.1:70b-q4_k_m", SizeEngine::llama_cpp)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(size_bench, llama405b_fp16_llamacpp, "llama3.1:405b-fp16", SizeEngine::llama_cpp)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(size_bench, llama70b_vllm, "llama3.1:70b", SizeEngine::vllm)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(size_bench, llama405b_vllm, "llama3.1:405b", SizeEngine::vllm)
    ->Unit(benchmark::kMillisecond);

// fit of a catalog model, as `vramplan fit --model NAME --vram ...` runs it: the catalog
// lookup, the tensor lists of the entry's quantizations (the alternatives a plan that does
// not fit suggests), then the planner.
// `alternatives`: also plan the alternatives of a plan that spills (issue 11), as `fit` does.
// `exact`: the reported configurations' CUDA compute buffers replayed (FitRequest::
// exact_compute), as `fit` does; off, the closed forms alone (as the sizing sweeps plan).
void fit_bench(benchmark::State& state, const char* name, Bytes vram, bool alternatives,
               bool exact) {
  FitRequest request;
  request.engine = &engine(EngineId::ollama);
  request.vram = {vram};
  request.alternatives = alternatives;
  request.exact_compute = exact;
  for (auto _ : state) {
    const io::LoadedModel loaded = load(name, true);
    benchmark::DoNotOptimize(fit(loaded.model, request, loaded.alternatives));
  }
}
// The same with every other quantization of the entry built as an alternative, as the loader
// did before it built only those the planner tries (docs/performance.md): the difference is
// the tensor lists a plan does not use.
void fit_every_quant_bench(benchmark::State& state, const char* name, Bytes vram) {
  FitRequest request;
  request.engine = &engine(EngineId::ollama);
  request.vram = {vram};
  for (auto _ : state) {
    const io::LoadedModel loaded = load(name, false);
    const CatalogEntry& entry = *models().resolve(name)->entry;
    std::vector<Model> every;
    for (const FileType quant : entry.quants) {
      if (quant == loaded.model.file_type) continue;
      every.push_back(make_model(entry.id, "catalog", entry.spec, quant,
                                 generate_tensors(entry.spec, quant),
                                 entry.projector ? entry.projector->bytes : 0));
    }
    benchmark::DoNotOptimize(fit(loaded.model, request, every));
  }
}
BENCHMARK_CAPTURE(fit_every_quant_bench, llama70b_q4_24g_partial, "llama3.1:70b-q4_k_m", 24 * gib)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(fit_bench, llama8b_q8_16g, "llama3.1:8b-q8_0", 16 * gib, true, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_bench, llama8b_q8_16g_closed_form, "llama3.1:8b-q8_0", 16 * gib, true, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_bench, llama70b_q4_24g_partial, "llama3.1:70b-q4_k_m", 24 * gib, true, true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_bench, llama70b_q4_24g_partial_closed_form, "llama3.1:70b-q4_k_m", 24 * gib,
                  true, false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_bench, llama70b_q4_24g_partial_no_alternatives, "llama3.1:70b-q4_k_m",
                  24 * gib, false, true)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
