#include <vramplan/estimate.hpp>

#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <vramplan/report/findings.hpp>
#include <vramplan/vision_encoder.hpp>
#include <vramplan/error.hpp>
#include <vramplan/sched.hpp>
#include <vramplan/tensors.hpp>

#include "support/simple_model.hpp"
#include "support/specs.hpp"

namespace vramplan {
namespace {

// The bytes of a note of `kind` (0 without one).
Bytes note_bytes(const Estimate& e, FindingKind kind) {
  for (const Finding& note : e.notes) {
    if (note.kind == kind) return note.number("bytes");
  }
  return 0;
}

// Every device's total and the estimate's total are the sums of their components, and the
// components are the pieces computed elsewhere: the weights are the model's tensors (with the
// projector and the CPU_REPACK copies the notes report), the KV cache is kv_cache()'s total, and
// each GPU carries the backend's runtime overhead. `exact_weights` false: a model whose tensors
// each backend pads its own way (gpt-oss's MXFP4 experts), so the devices' weights are not the
// file's bytes; its test checks the weights moved between devices instead.
void expect_components_add_up(const Model& m, const Estimate& e, bool exact_weights = true) {
  Bytes weights = 0;
  Bytes kv = 0;
  Bytes compute = 0;
  Bytes output = 0;
  Bytes overhead = 0;
  for (const DeviceUsage& d : e.devices) {
    EXPECT_EQ(d.total(), d.weights + d.kv_cache + d.compute + d.output + d.overhead) << d.name;
    EXPECT_EQ(d.overhead, d.kind == DeviceKind::gpu ? gpu_runtime_overhead(e.backend) : 0);
    weights += d.weights;
    kv += d.kv_cache;
    compute += d.compute;
    output += d.output;
    overhead += d.overhead;
  }
  if (exact_weights) {
    EXPECT_EQ(weights,
              m.weights.file_tensor_bytes + m.projector + note_bytes(e, FindingKind::cpu_repack));
  }
  EXPECT_EQ(kv, e.kv.total());
  EXPECT_EQ(e.total(), weights + kv + compute + output + overhead);
  EXPECT_EQ(e.total(), e.weights() + e.kv_cache() + e.compute() + e.output() + e.overhead());
}

Config config(std::int64_t ctx, std::int32_t parallel, std::int32_t gpu_layers) {
  return Config{
      .ctx = ctx, .parallel = parallel, .gpu_layers = gpu_layers, .n_batch = 512, .n_ubatch = 512};
}

TEST(Estimate, CpuOnlyPutsEverythingOnTheHost) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e =
      estimate(m, engine(EngineId::llamacpp_lib), Backend::cpu, config(8192, 1, 0), {});
  ASSERT_EQ(e.devices.size(), 1u);
  const DeviceUsage& cpu = e.host();
  EXPECT_EQ(cpu.weights, m.weights.file_tensor_bytes);
  EXPECT_EQ(cpu.kv_cache, 1 * gib);
  EXPECT_NEAR(static_cast<double>(cpu.compute) / mib, 266.50, 0.05);
  EXPECT_EQ(cpu.output, 4 * 128256);
  EXPECT_EQ(cpu.overhead, 0);
  expect_components_add_up(m, e);
}

TEST(Estimate, OllamaContextIsPerSlot) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e = estimate(m, engine(EngineId::ollama), Backend::cpu, config(4096, 2, 0), {});
  EXPECT_EQ(e.context.n_ctx, 8192);
  EXPECT_EQ(e.kv.total(), 1 * gib);
  EXPECT_EQ(e.host().output, 2 * 4 * 128256);
}

TEST(Estimate, LlamaServerSplitsTheContextOverSlots) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e = estimate(m, engine(EngineId::llamacpp), Backend::cpu, config(8192, 2, 0), {});
  EXPECT_EQ(e.context.n_ctx, 8192);
  EXPECT_EQ(e.shape.n_ctx_seq, 4096);
  EXPECT_EQ(e.kv.total(), 1 * gib);
  EXPECT_EQ(e.n_outputs, 2);  // llama-server reserves one output per sequence
}

// The projector's encoder: its compute buffer goes where the projector's weights go (the first
// GPU for llama-server; the host where Ollama keeps a partly offloaded model's projector), sized
// by the rebuilt graph with the plan's flash attention (vision_encoder.hpp).
TEST(Estimate, ProjectorEncoderComputeGoesWithTheProjector) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 624'437'248;
  const VisionEncoder clip{VisionEncoderKind::mlp, 23, 1024, 4096, 16, 14, 336, 4};
  // The same plan with and without the encoder's shape.
  const auto pair = [&](EngineId id, Config c) {
    m.projector_encoder = clip;
    const Estimate with = estimate(m, engine(id), Backend::cuda, c, {16 * gib});
    expect_components_add_up(m, with);
    m.projector_encoder.reset();
    return std::pair{with, estimate(m, engine(id), Backend::cuda, c, {16 * gib})};
  };
  for (const bool fa : {true, false}) {
    Config c = config(8192, 1, 33);
    c.flash_attn = fa;
    const auto [with, plain] = pair(EngineId::llamacpp, c);
    EXPECT_EQ(with.devices[0].compute,
              plain.devices[0].compute + clip_compute_buffer(clip, m.spec.n_embd, fa, 128))
        << fa;
    EXPECT_EQ(with.host().compute, plain.host().compute) << fa;
    EXPECT_EQ(with.devices[0].weights, plain.devices[0].weights);
  }
  // Ollama with a partial offload keeps the projector, and so its encoder, on the host.
  const auto [with, plain] = pair(EngineId::ollama, config(8192, 1, 20));
  EXPECT_EQ(with.devices[0].compute, plain.devices[0].compute);
  EXPECT_EQ(with.host().compute,
            plain.host().compute + clip_compute_buffer(clip, m.spec.n_embd, true, 32));
}

// Where the projector goes: Config::projector_offload pins it; the engine's rule puts it on the
// first GPU when layers are offloaded, with Ollama only when every layer is and each GPU holds
// the projector and 1 GiB (llm/llama_server.go shouldDisableMMProjOffload).
TEST(Estimate, ProjectorOffloadPlacesTheProjector) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 900 * mib;
  const auto gpu_weights = [&](EngineId id, Config c, std::vector<Bytes> gpus) {
    const Estimate e = estimate(m, engine(id), Backend::cuda, c, gpus);
    expect_components_add_up(m, e);
    return std::pair{e.devices[0].weights, e.projector_on_gpu};
  };
  for (const EngineId id : {EngineId::llamacpp, EngineId::ollama}) {
    for (const std::int32_t layers : {0, 20, 33}) {
      Config c = config(8192, 1, layers);
      c.projector_offload = ProjectorOffload::cpu;
      const auto [host_side, none] = gpu_weights(id, c, {16 * gib});
      EXPECT_EQ(none, 0);
      c.projector_offload = ProjectorOffload::gpu;
      const auto [gpu_side, counted] = gpu_weights(id, c, {16 * gib});
      EXPECT_EQ(gpu_side, host_side + m.projector) << layers;
      EXPECT_EQ(counted, m.projector);  // no encoder shape: weights only
      c.projector_offload = ProjectorOffload::engine;
      const bool offloaded = id == EngineId::ollama ? layers == 33 : layers > 0;
      EXPECT_EQ(gpu_weights(id, c, {16 * gib}).first, offloaded ? gpu_side : host_side)
          << static_cast<int>(id) << " " << layers;
    }
  }
  // Ollama's "limited-vram": a GPU with less than the projector and 1 GiB keeps it on the host.
  const Config all = config(2048, 1, 33);
  Config cpu = all;
  cpu.projector_offload = ProjectorOffload::cpu;
  const Bytes tight = m.projector + gib - 1;
  EXPECT_EQ(gpu_weights(EngineId::ollama, all, {tight}).second, 0);
  EXPECT_EQ(gpu_weights(EngineId::ollama, all, {tight + 1}).second, m.projector);
  EXPECT_EQ(gpu_weights(EngineId::ollama, all, {16 * gib, tight}).second, 0);
  EXPECT_EQ(gpu_weights(EngineId::llamacpp, all, {tight}).second, m.projector);
  EXPECT_EQ(gpu_weights(EngineId::ollama, cpu, {tight}).first,
            gpu_weights(EngineId::ollama, all, {tight}).first);
}

// A projector with an audio encoder: its bytes count where the projector goes, and its note
// says the audio encoder's compute buffer is not (nothing of it is modelled), with or without a
// rebuilt image encoder beside it.
TEST(Estimate, AnAudioEncoderIsCountedAndSaidNotModelled) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 700 * mib;
  const auto note = [&](const Model& model) {
    const Estimate e =
        estimate(model, engine(EngineId::llamacpp), Backend::cuda, config(8192, 1, 33), {16 * gib});
    expect_components_add_up(model, e);
    for (const Finding& f : e.notes) {
      if (f.kind == FindingKind::projector) return std::pair{e, f};
    }
    ADD_FAILURE() << "no projector note";
    return std::pair{e, Finding{}};
  };
  const auto [vision, vision_note] = note(m);
  m.projector_audio = true;
  const auto [audio, audio_note] = note(m);
  EXPECT_EQ(audio.devices[0].weights, vision.devices[0].weights);
  EXPECT_EQ(audio.devices[0].compute, vision.devices[0].compute);
  EXPECT_EQ(report::describe(vision_note),
            "vision projector 700.00 MiB counted on CUDA0; its image-encoding compute buffer is "
            "not included");
  EXPECT_EQ(report::describe(audio_note),
            "multimodal projector 700.00 MiB counted on CUDA0; its encoders' compute buffers "
            "(image, audio) are not included");
  m.projector_encoder = VisionEncoder{VisionEncoderKind::gemma3, 27, 1152, 4304, 16, 14, 896, 4};
  const auto [both, both_note] = note(m);
  EXPECT_GT(both.devices[0].compute, audio.devices[0].compute);  // the image encoder's buffer
  const std::string text = report::describe(both_note);
  EXPECT_EQ(text.rfind("multimodal projector 700.00 MiB counted on CUDA0, with its image "
                       "encoder's compute buffer ",
                       0),
            0u)
      << text;
  EXPECT_TRUE(text.ends_with("; its audio encoder's compute buffer is not included")) << text;
}

// Llama 4's encoder heads are 88 wide, a size CUDA's flash attention lacks: clip's warm-up
// falls back to none there (flash attention "auto"), and to nothing on the CPU.
TEST(Estimate, Llama4EncoderRunsWithoutFlashAttentionOnCuda) {
  Model m = test::simple_model(test::llama31_8b());
  m.projector = 1'746'748'416;
  VisionEncoder vit{VisionEncoderKind::llama4, 34, 1408, 5632, 16, 14, 336, 2};
  vit.adapter = 4096;
  EXPECT_FALSE(cuda_flash_attn_takes(vit));
  m.projector_encoder = vit;
  const Estimate gpu =
      estimate(m, engine(EngineId::llamacpp), Backend::cuda, config(8192, 1, 33), {16 * gib});
  m.projector_encoder.reset();
  const Estimate plain =
      estimate(m, engine(EngineId::llamacpp), Backend::cuda, config(8192, 1, 33), {16 * gib});
  EXPECT_EQ(gpu.devices[0].compute,
            plain.devices[0].compute + clip_compute_buffer(vit, m.spec.n_embd, false, 128));
  EXPECT_LT(clip_compute_buffer(vit, m.spec.n_embd, true, 128),
            clip_compute_buffer(vit, m.spec.n_embd, false, 128));
  // The same tower with 64-wide heads keeps flash attention.
  vit.heads = 22;
  EXPECT_TRUE(cuda_flash_attn_takes(vit));
}

TEST(Estimate, FullOffloadKeepsOnlyTheInputLayerOnTheHost) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e =
      estimate(m, engine(EngineId::ollama), Backend::cuda, config(8192, 1, 33), {16 * gib});
  ASSERT_EQ(e.devices.size(), 2u);
  const DeviceUsage& gpu = e.devices[0];
  EXPECT_EQ(gpu.name, "CUDA0");
  EXPECT_EQ(gpu.layers, 33);
  EXPECT_EQ(gpu.kv_cache, 1 * gib);
  EXPECT_EQ(gpu.overhead, gpu_runtime_overhead(Backend::cuda));
  EXPECT_EQ(e.host().weights, m.weights.input.host);
  Bytes gpu_weights = m.weights.output.cuda;
  for (const WeightGroup& b : m.weights.blocks) gpu_weights += b.cuda;
  EXPECT_EQ(gpu.weights, gpu_weights);
  EXPECT_GE(gpu.weights, m.weights.file_tensor_bytes - m.weights.input.host);
  expect_components_add_up(m, e);
}

// rope_freqs.weight (Llama 3.1-style rope scaling) is a repeating-layer tensor without a block
// number: llama.cpp's create_tensor loads it for block 0 and returns the tensor already made in
// the same buffer type for the others (TENSOR_DUPLICATED), so each device holding a block has
// one copy (64 F32 values: 256 bytes, a multiple of every GPU alignment) and a device holding
// only the output layer none. With mmap the host's copy is in the mapped range where block 0 is.
TEST(Estimate, RopeFreqsHasOneCopyOnEachDeviceThatHoldsABlock) {
  ModelSpec spec = test::llama31_8b();
  spec.rope_freqs = true;
  const std::vector<TensorInfo> tensors = generate_tensors(spec, FileType::mostly_q8_0);
  ASSERT_EQ(tensors.front().name, "rope_freqs.weight");  // the converters write it first
  EXPECT_EQ(tensors.front().type, GgmlType::f32);
  EXPECT_EQ(tensors.front().ne[0], 64);
  const Model with = make_model("with", "unit test", spec, FileType::mostly_q8_0, tensors);
  ModelSpec plain_spec = spec;
  plain_spec.rope_freqs = false;
  const Model plain = make_model("plain", "unit test", plain_spec, FileType::mostly_q8_0,
                                 generate_tensors(plain_spec, FileType::mostly_q8_0));
  ASSERT_EQ(with.weights.file_tensor_bytes, plain.weights.file_tensor_bytes + 256);
  EXPECT_EQ(with.weights.input, plain.weights.input);  // not the input layer's CPU

  const auto weights = [](const Model& m, Backend backend, std::int32_t gpu_layers,
                          std::vector<Bytes> gpus) {
    const Estimate e =
        estimate(m, engine(EngineId::llamacpp), backend, config(4096, 1, gpu_layers), gpus);
    std::vector<Bytes> out;
    for (const DeviceUsage& d : e.devices) out.push_back(d.weights);
    return out;
  };
  const auto copies = [&](Backend backend, std::int32_t gpu_layers, std::vector<Bytes> gpus) {
    const std::vector<Bytes> a = weights(with, backend, gpu_layers, gpus);
    const std::vector<Bytes> b = weights(plain, backend, gpu_layers, gpus);
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < a.size(); ++i) out.push_back(a[i] - b[i]);
    return out;
  };
  for (const Backend backend : {Backend::cuda, Backend::vulkan, Backend::metal}) {
    SCOPED_TRACE(to_string(backend));
    EXPECT_EQ(copies(backend, 0, {16 * gib}), (std::vector<Bytes>{0, 256}));
    EXPECT_EQ(copies(backend, 1, {16 * gib}), (std::vector<Bytes>{0, 256}));  // output only
    EXPECT_EQ(copies(backend, 15, {16 * gib}), (std::vector<Bytes>{256, 256}));
    EXPECT_EQ(copies(backend, 33, {16 * gib}), (std::vector<Bytes>{256, 0}));
    EXPECT_EQ(copies(backend, 33, {16 * gib, 16 * gib}), (std::vector<Bytes>{256, 256, 0}));
  }
  EXPECT_EQ(copies(Backend::cpu, 0, {}), (std::vector<Bytes>{256}));

  // The mapped range: the tensor lies before token_embd, so a host holding block 0 maps from
  // it (256 bytes and token_embd's 32-byte alignment more); a host holding no block does not.
  const Config partial = config(4096, 1, 15);
  EXPECT_EQ(mapped_host_weights(with, partial), mapped_host_weights(plain, partial) + 256);
  const Config full = config(4096, 1, 33);
  EXPECT_EQ(mapped_host_weights(with, full), mapped_host_weights(plain, full));
}

TEST(Estimate, OneGpuLayerIsTheOutputLayer) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e =
      estimate(m, engine(EngineId::ollama), Backend::cuda, config(4096, 1, 1), {16 * gib});
  EXPECT_EQ(e.devices[0].layers, 1);
  EXPECT_EQ(e.devices[0].weights, m.weights.output.cuda);
  EXPECT_EQ(e.devices[0].kv_cache, 0);
  EXPECT_EQ(e.host().layers, 32);
  expect_components_add_up(m, e);
}

TEST(Estimate, TwoGpusSplitByCapacityWithTheOutputOnTheLast) {
  const Model m = test::simple_model(test::llama31_8b());
  const Estimate e = estimate(m, engine(EngineId::ollama), Backend::cuda, config(4096, 1, 33),
                              {24 * gib, 24 * gib});
  ASSERT_EQ(e.devices.size(), 3u);
  EXPECT_EQ(e.devices[0].layers + e.devices[1].layers, 33);
  EXPECT_EQ(e.devices[0].layers, 17);                     // layers 0..16 land below the 0.5 cut
  EXPECT_GT(e.devices[1].weights, e.devices[0].weights);  // holds the output layer
  expect_components_add_up(m, e);
}

// Two CUDA GPUs with every layer offloaded: pipeline parallelism (llama_context's
// pipeline_parallel) makes the scheduler keep 4 copies of each graph input and split input. The
// KQ mask (f16 with flash attention, n_kv x n_ubatch: 8 MiB here; the other inputs are a few KiB)
// is one of them on the host and a copy of it on each GPU, so the host holds 3 more than with
// one GPU and each GPU at least 4. One layer on the host turns it off (not every layer offloaded).
TEST(Estimate, PipelineParallelKeepsFourCopiesOfTheInputsOnEachDevice) {
  const Model m = test::simple_model(test::llama31_8b());
  Config c = config(8192, 1, 33);
  c.flash_attn = true;
  const std::vector<Bytes> two = {24 * gib, 24 * gib};
  const Engine& llama = engine(EngineId::llamacpp);
  const Bytes mask = 8192 * 512 * 2;
  const Estimate single = estimate(m, llama, Backend::cuda, c, {48 * gib}, nullptr, &sched::cuda());
  const Estimate pp = estimate(m, llama, Backend::cuda, c, two, nullptr, &sched::cuda());
  ASSERT_EQ(pp.devices.size(), 3u);
  EXPECT_GE(pp.devices[0].compute, 4 * mask);
  EXPECT_GE(pp.devices[1].compute, 4 * mask);
  EXPECT_GE(pp.host().compute - single.host().compute, 3 * mask);
  EXPECT_LT(pp.host().compute - single.host().compute, 3 * mask + mib);
  expect_components_add_up(m, pp);

  c.gpu_layers = 32;  // the output layer on the host: no pipeline parallelism
  const Estimate partial = estimate(m, llama, Backend::cuda, c, two, nullptr, &sched::cuda());
  const Estimate partial_single =
      estimate(m, llama, Backend::cuda, c, {48 * gib}, nullptr, &sched::cuda());
  EXPECT_EQ(partial.host().compute, partial_single.host().compute);
}

// The planner searches on the closed forms and reports the scheduler replay; with pipeline
// parallelism the closed forms count the input copies too, so the configuration the search
// finds is one the replay confirms. With flash attention (the default) each device's closed
// form stays within 0.25 MiB below and 16 MiB above the replay; without it, within 64 MiB
// below (the planner then searches again on the replay's shortfall). Without the copies the
// closed forms of Llama 3.1 8B Q8_0 on two GPUs at 4096 tokens (flash attention on, 512-token
// batches) were 36, 68 and 16 MiB below the replay on CUDA0, CUDA1 and the host.
TEST(Estimate, PipelineParallelClosedFormFollowsTheReplay) {
  for (const ModelSpec& spec : {test::llama31_8b(), test::mistral_7b(), test::phi4_14b()}) {
    const Model m = test::simple_model(spec);
    for (const std::size_t n_gpus : {2u, 3u}) {
      for (const bool flash : {true, false}) {
        for (const std::int32_t parallel : {1, 4}) {
          Config c = config(8192 * parallel, parallel, spec.n_layer + 1);
          c.flash_attn = flash;
          c.kv_unified = true;
          const std::vector<Bytes> gpus(n_gpus, 80 * gib);
          const Engine& llama = engine(EngineId::llamacpp);
          const Estimate closed = estimate(m, llama, Backend::cuda, c, gpus);
          const Estimate replay =
              estimate(m, llama, Backend::cuda, c, gpus, nullptr, &sched::cuda());
          ASSERT_EQ(closed.devices.size(), replay.devices.size());
          for (std::size_t i = 0; i < closed.devices.size(); ++i) {
            SCOPED_TRACE(spec.arch + " " + closed.devices[i].name + " gpus " +
                         std::to_string(n_gpus) + (flash ? " fa" : " no fa") + " parallel " +
                         std::to_string(parallel));
            const Bytes error = closed.devices[i].compute - replay.devices[i].compute;
            EXPECT_GE(error, flash ? -mib / 4 : -64 * mib);
            EXPECT_LE(error, 16 * mib);
          }
        }
      }
    }
  }
}

// Ollama loads some architectures with one slot whatever OLLAMA_NUM_PARALLEL says
// (server/sched.go): 4 slots of a Qwen3-VL shape cost the KV cache of one, with a note.
// llama-server has no such rule.
TEST(Estimate, OllamaRunsSomeArchitecturesWithOneSlot) {
  ModelSpec vl = test::llama31_8b();
  vl.arch = "qwen3vl";
  const Model m = test::simple_model(vl);
  const Estimate four = estimate(m, engine(EngineId::ollama), Backend::cpu, config(4096, 4, 0), {});
  const Estimate one = estimate(m, engine(EngineId::ollama), Backend::cpu, config(4096, 1, 0), {});
  EXPECT_EQ(four.config.parallel, 1);
  EXPECT_EQ(four.kv.total(), one.kv.total());
  EXPECT_EQ(four.kv.total(), gib / 2);
  EXPECT_NE(std::find(four.notes.begin(), four.notes.end(),
                      Finding(FindingKind::arch_one_slot, {{"parallel", 4}, {"arch", "qwen3vl"}})),
            four.notes.end());
  const Estimate server =
      estimate(m, engine(EngineId::llamacpp), Backend::cpu, config(4 * 4096, 4, 0), {});
  EXPECT_EQ(server.kv.total(), 4 * one.kv.total());
  // Another architecture keeps its slots on Ollama.
  const Model llama = test::simple_model(test::llama31_8b());
  EXPECT_EQ(
      estimate(llama, engine(EngineId::ollama), Backend::cpu, config(4096, 4, 0), {}).kv.total(),
      4 * one.kv.total());
}

TEST(Estimate, ContextAboveTheModelMaximumIsClampedWithANote) {
  const Model m = test::simple_model(test::mistral_7b());
  const Estimate e = estimate(m, engine(EngineId::ollama), Backend::cpu, config(65536, 1, 0), {});
  EXPECT_EQ(e.config.ctx, 32768);
  ASSERT_FALSE(e.notes.empty());
  EXPECT_EQ(e.notes[0], Finding(FindingKind::ctx_clamped, {{"ctx", 65536}, {"model_max", 32768}}));
}

TEST(Estimate, LlamaCppAllocatesAContextAboveTheMaximumWithAWarning) {
  const Model m = test::simple_model(test::mistral_7b());
  const Estimate e =
      estimate(m, engine(EngineId::llamacpp_lib), Backend::cpu, config(65536, 1, 0), {});
  EXPECT_EQ(e.config.ctx, 65536);
  EXPECT_EQ(e.kv.total(), 65536 * 128 * kib);
  ASSERT_EQ(e.notes.size(), 1u);
  EXPECT_EQ(e.notes[0],
            Finding(FindingKind::ctx_above_max,
                    {{"ctx", 65536}, {"model_max", 32768}, {"engine", "llama.cpp (library)"}}));
}

TEST(Estimate, RejectsImpossibleSettings) {
  const Model m = test::simple_model(test::llama31_8b());
  const Engine& ollama = engine(EngineId::ollama);
  EXPECT_THROW((void)estimate(m, ollama, Backend::cuda, config(4096, 1, 34), {}), Error);
  EXPECT_THROW((void)estimate(m, ollama, Backend::cuda, config(4096, 0, 33), {}), Error);
  EXPECT_THROW((void)estimate(m, ollama, Backend::cuda, config(0, 1, 33), {}), Error);
}

TEST(Estimate, CpuMoeMovesTheExpertsOfTheFirstBlocksToTheHost) {
  const ModelSpec s = test::gpt_oss_20b();
  const Model m = make_model("gpt-oss", "unit test", s, FileType::mostly_mxfp4_moe,
                             generate_tensors(s, FileType::mostly_mxfp4_moe));
  Config c = config(8192, 1, s.n_layer + 1);
  c.cpu_repack = CpuRepack::off;
  const Estimate all = estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {80 * gib});
  c.cpu_moe = 10;
  const Estimate ten = estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {80 * gib});
  Bytes experts_cuda = 0;
  Bytes experts_host = 0;
  Bytes largest = 0;
  for (int il = 0; il < 10; ++il) {
    experts_cuda += m.weights.experts[static_cast<std::size_t>(il)].cuda;
    experts_host += m.weights.experts[static_cast<std::size_t>(il)].host;
    largest = std::max(largest, m.weights.experts[static_cast<std::size_t>(il)].largest_tensor);
  }
  EXPECT_EQ(ten.devices[0].weights, all.devices[0].weights - experts_cuda);
  EXPECT_EQ(ten.host().weights, all.host().weights + experts_host);
  EXPECT_EQ(ten.devices[0].kv_cache, all.devices[0].kv_cache);  // attention stays on the GPU
  EXPECT_EQ(ten.devices[0].layers, all.devices[0].layers);
  // Op offload stages the largest host expert tensor in the GPU's compute buffer.
  EXPECT_EQ(ten.devices[0].compute, all.devices[0].compute + largest);
  expect_components_add_up(m, ten, false);

  // Beside a CUDA GPU nothing is repacked, not even the experts overridden to the CPU:
  // llama.cpp's CPU buffer list puts CUDA_Host before CPU_REPACK (make_cpu_buft_list).
  c.cpu_repack = CpuRepack::avx2;
  const Estimate beside_gpu = estimate(m, engine(EngineId::llamacpp), Backend::cuda, c, {80 * gib});
  EXPECT_EQ(beside_gpu.host().weights, ten.host().weights);
  EXPECT_EQ(note_bytes(beside_gpu, FindingKind::cpu_repack), 0);
  // Without a GPU the CPU backend repacks them.
  c.cpu_moe = 0;
  c.gpu_layers = 0;
  const Estimate cpu_only = estimate(m, engine(EngineId::llamacpp), Backend::cpu, c, {});
  EXPECT_GT(note_bytes(cpu_only, FindingKind::cpu_repack), 0);
  expect_components_add_up(m, cpu_only, false);
}

TEST(Estimate, CpuMoeNeedsAMoeModelAndAnEngineThatCanDoIt) {
  const ModelSpec s = test::gpt_oss_20b();
  const Model moe = make_model("gpt-oss", "unit test", s, FileType::mostly_mxfp4_moe,
                               generate_tensors(s, FileType::mostly_mxfp4_moe));
  Config c = config(8192, 1, s.n_layer + 1);
  c.cpu_moe = 4;
  EXPECT_THROW((void)estimate(moe, engine(EngineId::ollama), Backend::cuda, c, {80 * gib}), Error);
  c.cpu_moe = s.n_layer + 1;
  EXPECT_THROW((void)estimate(moe, engine(EngineId::llamacpp), Backend::cuda, c, {80 * gib}),
               Error);
  Config dense_config = config(8192, 1, 33);
  dense_config.cpu_moe = 1;
  EXPECT_THROW((void)estimate(test::simple_model(test::llama31_8b()), engine(EngineId::llamacpp),
                              Backend::cuda, dense_config, {80 * gib}),
               Error);
}

// Measured: llama.cpp b10309 as a library aborts (GGML_ASSERT in output_reserve) when its
// batch is smaller than the sequences; llama-server reserves per sequence and does not.
TEST(Estimate, LibraryBatchSmallerThanTheSequencesIsRefused) {
  const Model m = test::simple_model(test::llama32_3b());
  Config c = config(4096, 4, 0);
  c.n_batch = c.n_ubatch = 2;
  try {
    (void)estimate(m, engine(EngineId::llamacpp_lib), Backend::cpu, c, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
    EXPECT_EQ(e.setting(), Setting::ubatch);  // the library passes one batch size as both
    EXPECT_EQ(e.message_with("-ub"),
              "batch 2 is smaller than parallel 4: llama.cpp (library) aborts on it (its output "
              "buffer holds one row per sequence at least); use -ub 4 or more");
  }
  c.n_batch = c.n_ubatch = 4;
  EXPECT_NO_THROW((void)estimate(m, engine(EngineId::llamacpp_lib), Backend::cpu, c, {}));
}

// llama_context::sched_reserve reserves the graph for min(n_ctx, n_ubatch) tokens. An encoder's
// batch is not capped at its context, so llama-embedding's ubatch of 2048 beside a BERT's
// 512-token context reserves 512 tokens: the same compute buffers as a ubatch of 512, on the
// CPU, with CUDA's closed form and with the CUDA scheduler replay (the ggml-org/ci V100 run of
// bge-small at build 4863 printed 16.00 MiB on CUDA0, bench/accuracy/cuda-published).
TEST(Estimate, AnEncoderReservesNoMoreTokensThanItsContext) {
  ModelSpec s;  // the snowflake-arctic-embed-m shape (models/embedding.yaml)
  s.arch = "bert";
  s.n_layer = 12;
  s.n_embd = 768;
  s.n_ff = 3072;
  s.n_head = 12;
  s.n_head_kv = 12;
  s.n_vocab = 30522;
  s.n_ctx_train = 512;
  s.tied_embeddings = true;
  s.causal = false;
  const Model m = make_model("m", "unit test", s, FileType::mostly_f16,
                             generate_tensors(s, FileType::mostly_f16));
  Config wide{.ctx = 512, .parallel = 1, .gpu_layers = 13, .n_batch = 2048, .n_ubatch = 2048};
  Config fitted = wide;
  fitted.n_batch = fitted.n_ubatch = 512;
  const Engine& eng = engine(EngineId::llamacpp_lib);
  for (const sched::GpuRules* rules :
       {static_cast<const sched::GpuRules*>(nullptr), &sched::cuda()}) {
    for (const Backend b : {Backend::cpu, Backend::cuda}) {
      SCOPED_TRACE(testing::Message() << to_string(b) << (rules != nullptr ? " replay" : ""));
      const std::vector<Bytes> gpus =
          b == Backend::cpu ? std::vector<Bytes>{} : std::vector<Bytes>{16 * gib};
      const Estimate a = estimate(m, eng, b, wide, gpus, nullptr, rules);
      const Estimate f = estimate(m, eng, b, fitted, gpus, nullptr, rules);
      ASSERT_EQ(a.devices.size(), f.devices.size());
      for (std::size_t i = 0; i < a.devices.size(); ++i) {
        EXPECT_EQ(a.devices[i].compute, f.devices[i].compute) << a.devices[i].name;
        EXPECT_GT(a.devices[i].compute, 0) << a.devices[i].name;
      }
      EXPECT_EQ(a.n_outputs, 512);
      // The ubatch the user asked for is still the one reported.
      EXPECT_EQ(a.shape.n_ubatch, 2048);
    }
  }
}

// One compute memo shared by the estimates of several models (three quantizations of two
// specs, as a `recommend` sweep shares it) and settings: every estimate equals the one made
// without a memo, device by device.
TEST(Estimate, ASharedComputeMemoChangesNoEstimate) {
  std::vector<Model> models;
  for (const ModelSpec& s : {test::llama31_8b(), test::gemma3_27b()}) {
    for (const FileType q :
         {FileType::mostly_q4_k_m, FileType::mostly_q8_0, FileType::mostly_q2_k}) {
      models.push_back(make_model("m", "unit test", s, q, generate_tensors(s, q)));
    }
  }
  ComputeCache memo;
  for (int round = 0; round < 2; ++round) {
    for (const Model& m : models) {
      const std::int32_t all = m.spec.n_layer + 1;
      for (const std::int64_t ctx : {std::int64_t{8192}, std::int64_t{32768}}) {
        for (const std::int32_t layers : {0, all / 2, all}) {
          for (const GgmlType kv : {GgmlType::f16, GgmlType::q8_0}) {
            Config c = config(ctx, 2, layers);
            c.type_k = c.type_v = kv;
            const Engine& eng = engine(EngineId::llamacpp);
            const Estimate fresh = estimate(m, eng, Backend::cuda, c, {24 * gib});
            const Estimate kept = estimate(m, eng, Backend::cuda, c, {24 * gib}, &memo);
            SCOPED_TRACE(testing::Message() << m.spec.arch << " " << to_string(m.file_type)
                                            << " ctx " << ctx << " layers " << layers);
            ASSERT_EQ(kept.devices.size(), fresh.devices.size());
            for (std::size_t i = 0; i < fresh.devices.size(); ++i) {
              EXPECT_EQ(kept.devices[i].compute, fresh.devices[i].compute);
              EXPECT_EQ(kept.devices[i].total(), fresh.devices[i].total());
            }
          }
        }
      }
    }
  }
  // One buffer per spec, context and cache type; the rest came from the memo.
  EXPECT_EQ(memo.misses(), 2 * 2 * 2);
  EXPECT_GT(memo.hits(), 100);
}

}  // namespace
}  // namespace vramplan
