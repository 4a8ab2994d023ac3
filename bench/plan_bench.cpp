// Latency of the calculator and the planner (Google Benchmark). Build with
// -DVRAMPLAN_BUILD_BENCH=ON and run build/bin/vramplan_bench.
#include <benchmark/benchmark.h>

#include <vramplan/estimate.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/tensors.hpp>

namespace {

vramplan::ModelSpec llama31_8b() {
  vramplan::ModelSpec s;
  s.arch = "llama";
  s.n_layer = 32;
  s.n_embd = 4096;
  s.n_ff = 14336;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.n_vocab = 128256;
  s.n_ctx_train = 131072;
  return s;
}

vramplan::ModelSpec llama31_70b() {
  vramplan::ModelSpec s = llama31_8b();
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_ff = 28672;
  s.n_head = 64;
  return s;
}

vramplan::Model make(const vramplan::ModelSpec& spec, vramplan::FileType ftype) {
  return vramplan::make_model("bench", "bench", spec, ftype,
                              vramplan::generate_tensors(spec, ftype));
}

void BM_GenerateTensors70B(benchmark::State& state) {
  const vramplan::ModelSpec spec = llama31_70b();
  for (auto _ : state) {
    benchmark::DoNotOptimize(vramplan::generate_tensors(spec, vramplan::FileType::mostly_q4_k_m));
  }
}
BENCHMARK(BM_GenerateTensors70B)->Unit(benchmark::kMicrosecond);

void BM_Estimate8B(benchmark::State& state) {
  const vramplan::Model model = make(llama31_8b(), vramplan::FileType::mostly_q8_0);
  const vramplan::Config config{.ctx = 8192, .parallel = 1, .gpu_layers = 33};
  const auto& engine = vramplan::engine(vramplan::EngineId::ollama);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        vramplan::estimate(model, engine, vramplan::Backend::cuda, config, {16 * vramplan::gib}));
  }
}
BENCHMARK(BM_Estimate8B)->Unit(benchmark::kMicrosecond);

// The worst case for the planner: a context search and then a layer scan.
void BM_FitPartial70B(benchmark::State& state) {
  const vramplan::Model model = make(llama31_70b(), vramplan::FileType::mostly_q4_k_m);
  vramplan::FitRequest request;
  request.engine = &vramplan::engine(vramplan::EngineId::llamacpp);
  request.vram = {24 * vramplan::gib};
  request.ram = 64 * vramplan::gib;
  request.headroom = vramplan::Headroom{.profile = "fit", .fixed = 1024 * vramplan::mib};
  for (auto _ : state) benchmark::DoNotOptimize(vramplan::fit(model, request, {}));
}
BENCHMARK(BM_FitPartial70B)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
