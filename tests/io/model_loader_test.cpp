#include <vramplan/io/model_loader.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/engine.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/tensors.hpp>

#include "support/fake_ollama_store.hpp"
#include "support/fifo.hpp"
#include "support/model_gguf.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

const Catalog& catalog() {
  static const Catalog c = load_catalog({}, "");
  return c;
}

LoadOptions options() {
  LoadOptions o;
  o.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return o;
}

class ModelLoader : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vramplan-loader-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes the catalog model `name` as a sparse GGUF (its generated tensors, llama.cpp's keys).
  std::string write(const std::string& name) {
    const auto ref = catalog().resolve(name);
    EXPECT_TRUE(ref.has_value()) << name;
    const std::string path = (dir_ / (ref->entry->id + ".gguf")).string();
    test::write_catalog_gguf(catalog(), name, path);
    return path;
  }

  fs::path dir_;
};

// Issue 4: "weights computed from a generated file equal the sum of its tensor sizes exactly";
// and the file plans exactly like the catalog entry it was generated from.
TEST_F(ModelLoader, GgufWeightsEqualTheSumOfItsTensorsAndTheCatalogModel) {
  for (const std::string name :
       {"llama3.1:8b-q4_K_M", "gemma3:27b-q4_K_M", "deepseek-coder-v2:16b-q4_K_M",
        "gpt-oss:20b-mxfp4", "qwen3:30b-q4_K_M", "phi3:3.8b-q4_0"}) {
    const LoadedModel from_file = load_model(write(name), catalog(), options());
    const LoadedModel from_catalog = load_model(name, catalog(), options());
    EXPECT_EQ(from_file.kind, SourceKind::gguf);
    Bytes sum = 0;
    for (const TensorInfo& t : from_file.model.tensors) sum += t.bytes();
    EXPECT_EQ(from_file.model.weights.file_tensor_bytes, sum) << name;
    EXPECT_EQ(from_file.model.weights, from_catalog.model.weights) << name;
    EXPECT_EQ(from_file.model.n_params, from_catalog.model.n_params) << name;
    const ContextParams ctx{.n_ctx = 8192, .n_seq = 2};
    EXPECT_EQ(kv_cache(from_file.model.spec, ctx).total(),
              kv_cache(from_catalog.model.spec, ctx).total())
        << name;
  }
}

// Qwen3-VL's text model: the file carries n_deepstack_layers (3, one per DeepStack merger of
// the tower, as convert_hf_to_gguf.py and Ollama's converter write it), the reader reads it
// back, and the catalog entry has the same count from its projector's DeepStack list.
TEST_F(ModelLoader, Qwen3VlFileCarriesItsDeepStackLayers) {
  const std::string name = "qwen3-vl:2b-f16";
  const LoadedModel from_file = load_model(write(name), catalog(), options());
  const LoadedModel from_catalog = load_model(name, catalog(), options());
  EXPECT_EQ(from_catalog.model.spec.n_deepstack, 3);
  EXPECT_EQ(from_file.model.spec.n_deepstack, 3);
  EXPECT_EQ(from_file.model.spec, from_catalog.model.spec);
}

TEST_F(ModelLoader, PlanningALargeFileReadsOnlyItsHeader) {
  const std::string path = write("llama3.1:70b-q4_K_M");
  ASSERT_GT(fs::file_size(path), 40'000'000'000u);
  const LoadedModel loaded = load_model(path, catalog(), options());
  EXPECT_LT(loaded.bytes_read, 4u << 20);  // the header and tokenizer: a few MiB, not 40 GB
  ASSERT_TRUE(loaded.model.file.has_value());
  EXPECT_EQ(loaded.model.file->bytes_read, loaded.bytes_read);
  EXPECT_EQ(loaded.model.file->file_size, fs::file_size(path));
}

// A catalog model's alternatives are the quantizations fit() tries as suggestions (smaller
// files, at most the 4 largest of them): a plan that does not fit suggests exactly what it
// suggested when every other quantization was built.
TEST_F(ModelLoader, CatalogAlternativesAreWhatThePlannerTries) {
  LoadOptions o = options();
  o.with_alternatives = true;
  FitRequest request;
  request.engine = &engine(EngineId::ollama);
  request.vram = {8 * gib};
  request.ram = 8 * gib;  // too little for any of them: the plans suggest
  int smaller_suggested = 0;
  for (const char* name :
       {"llama3.1:70b-q4_k_m", "llama3.1:8b-fp16", "qwen2.5:72b-q8_0", "llama3.1:8b-q2_k"}) {
    SCOPED_TRACE(name);
    const LoadedModel loaded = load_model(name, catalog(), o);
    EXPECT_LE(loaded.alternatives.size(), 4U);
    for (const Model& m : loaded.alternatives) {
      EXPECT_LT(m.weights.file_tensor_bytes, loaded.model.weights.file_tensor_bytes);
    }
    // Every other quantization of the entry, as the loader built them before.
    const CatalogEntry& entry = *catalog().resolve(name)->entry;
    std::vector<Model> every;
    for (const FileType quant : entry.quants) {
      if (quant == loaded.model.file_type) continue;
      every.push_back(make_model(entry.id, "catalog", entry.spec, quant,
                                 generate_tensors(entry.spec, quant),
                                 entry.projector ? entry.projector->bytes : 0));
    }
    const LlamaPlan bounded = fit(loaded.model, request, loaded.alternatives);
    const LlamaPlan full = fit(loaded.model, request, every);
    for (const Suggestion& x : full.suggestions) {
      smaller_suggested += x.change.kind == FindingKind::smaller_quant ? 1 : 0;
    }
    ASSERT_EQ(bounded.suggestions.size(), full.suggestions.size());
    for (std::size_t i = 0; i < full.suggestions.size(); ++i) {
      EXPECT_EQ(bounded.suggestions[i].change, full.suggestions[i].change) << i;
      EXPECT_EQ(bounded.suggestions[i].total_gpu, full.suggestions[i].total_gpu) << i;
      EXPECT_EQ(bounded.suggestions[i].fits, full.suggestions[i].fits) << i;
    }
    EXPECT_EQ(bounded.estimates, full.estimates);
  }
  EXPECT_GE(smaller_suggested, 8);  // the 70B, the fp16 and the 72B each suggest 4
}

TEST_F(ModelLoader, MissingGgufIsAnIoError) {
  try {
    (void)load_model((dir_ / "nope.gguf").string(), catalog(), options());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
  }
}

// docs/reliability.md §2: a path that exists but is no regular file is refused as a file
// (not looked up as a model name), without blocking on a FIFO.
TEST_F(ModelLoader, PathsThatAreNotRegularFilesAreRefused) {
  const std::string fifo = (dir_ / "model.gguf").string();
  ASSERT_TRUE(test::make_fifo(fifo));
  const std::string loop = (dir_ / "loop").string();
  fs::create_symlink(loop, loop);
  const auto message = [&](const std::string& name, const LoadOptions& o) {
    std::string text;
    EXPECT_TRUE(test::bounded(fifo, [&] {
      try {
        (void)load_model(name, catalog(), o);
        ADD_FAILURE() << "loaded " << name;
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::io) << e.what();
        text = e.what();
      }
    }));
    return text;
  };
  EXPECT_EQ(message(fifo, options()), "'" + fifo + "': cannot open: is a FIFO");
  EXPECT_EQ(message(loop, options()), "'" + loop +
                                          "': cannot open: too many levels of symbolic "
                                          "links");
  EXPECT_EQ(message("/dev/zero", options()), "'/dev/zero': cannot open: is a character device");
  LoadOptions with_mmproj = options();
  with_mmproj.mmproj = fifo;
  EXPECT_EQ(message("llama3.1:8b", with_mmproj), "'" + fifo + "': cannot open: is a FIFO");
}

TEST_F(ModelLoader, UnknownNameSuggestsCatalogNames) {
  try {
    (void)load_model("llama3.1:8x", catalog(), options());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    EXPECT_NE(std::string(e.what()).find("did you mean 'llama3.1:8b'"), std::string::npos);
  }
}

TEST_F(ModelLoader, OllamaNamesComeFromTheLocalStoreFirst) {
  test::FakeOllamaStore store(dir_ / "store");
  store.add(catalog(), "qwen2.5", "7b", "qwen2.5:7b-q4_K_M", {{"num_ctx", 8192}, {"stop", "x"}});
  LoadOptions o = options();
  const std::string models = store.dir().string();
  o.getenv = [models](const std::string& name) -> std::optional<std::string> {
    if (name == "OLLAMA_MODELS") return models;
    return std::nullopt;
  };
  const LoadedModel local = load_model("qwen2.5:7b", catalog(), o);
  EXPECT_EQ(local.kind, SourceKind::ollama_store);
  EXPECT_EQ(local.model.name, "qwen2.5:7b");
  EXPECT_EQ(local.model.source.rfind("Ollama store: ", 0), 0u);
  EXPECT_EQ(local.defaults.num_ctx, 8192);
  EXPECT_FALSE(local.defaults.num_gpu.has_value());
  EXPECT_EQ(local.model.weights,
            load_model("qwen2.5:7b-q4_K_M", catalog(), options()).model.weights);
  // Not in the store: the catalog answers.
  EXPECT_EQ(load_model("llama3.1:8b", catalog(), o).kind, SourceKind::catalog);
}

// docs/reliability.md §9: a .params value stands for a flag (num_ctx = --ctx, num_batch =
// --batch) and gets its range; out of it is bad input in that file (exit 3), naming the file
// and the key, not a flag the user never gave.
TEST_F(ModelLoader, ParamsValuesGetTheRangesOfTheirFlags) {
  const std::string models = (dir_ / "store").string();
  LoadOptions o = options();
  o.getenv = [models](const std::string& name) -> std::optional<std::string> {
    if (name == "OLLAMA_MODELS") return models;
    return std::nullopt;
  };
  const std::string manifest = models + "/manifests/registry.ollama.ai/library/m/latest";
  // The fake store's digests count up: the model blob is 1, the .params blob 2.
  const std::string params_blob = models + "/blobs/sha256-" + std::string(63, '0') + "2";
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"num_ctx", std::int64_t{1} << 62}},
       "'num_ctx' is 4611686018427387904, must be between 1 and 16777216 (as --ctx)"},
      {{{"num_ctx", 0}}, "'num_ctx' is 0, must be between 1 and 16777216 (as --ctx)"},
      {{{"num_batch", 0}}, "'num_batch' is 0, must be between 1 and 1048576 (as --batch)"},
      {{{"num_batch", 1 << 21}},
       "'num_batch' is 2097152, must be between 1 and 1048576 (as --batch)"},
  };
  for (const auto& [params, why] : cases) {
    fs::remove_all(models);
    test::FakeOllamaStore store(models);
    store.add(catalog(), "m", "latest", "qwen2.5:7b-q4_K_M", params);
    try {
      (void)load_model("m", catalog(), o);
      ADD_FAILURE() << params.dump();
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::bad_input);
      EXPECT_EQ(std::string(e.what()), manifest + ": params blob '" + params_blob + "': " + why);
    }
  }
  // At the edges of the ranges, and num_gpu above the layer count (Ollama: all layers).
  fs::remove_all(models);
  test::FakeOllamaStore store(models);
  store.add(catalog(), "m", "latest", "qwen2.5:7b-q4_K_M",
            {{"num_ctx", 16777216}, {"num_batch", 1}, {"num_gpu", 999}});
  const LoadedModel m = load_model("m", catalog(), o);
  EXPECT_EQ(m.defaults.num_ctx, 16777216);
  EXPECT_EQ(m.defaults.num_batch, 1);
  EXPECT_EQ(m.defaults.num_gpu, 999);
}

TEST_F(ModelLoader, HuggingFaceDirectoryOrConfigIsRead) {
  fs::create_directories(dir_ / "Llama-3.1-8B");
  std::ofstream(dir_ / "Llama-3.1-8B" / "config.json")
      << R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 14336, "num_attention_heads": 32, "num_hidden_layers": 32,
             "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 131072,
             "rope_scaling": {"rope_type": "llama3", "factor": 8.0},
             "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";
  for (const fs::path& path : {dir_ / "Llama-3.1-8B", dir_ / "Llama-3.1-8B" / "config.json"}) {
    const LoadedModel hf = load_model(path.string(), catalog(), options());
    EXPECT_EQ(hf.kind, SourceKind::huggingface);
    EXPECT_EQ(hf.model.name, "Llama-3.1-8B");
    // The checkpoint's 8,030,261,248 and the 64 rope factors the conversion adds.
    EXPECT_EQ(hf.model.n_params, 8'030'261'248 + 64);
    // No safetensors: the weights are the config's tensors at its dtype, as a BF16 GGUF
    // conversion would store them (norms and rope factors stay F32).
    EXPECT_EQ(hf.model.weights, load_model("llama3.1:8b-bf16", catalog(), options()).model.weights);
    ASSERT_EQ(hf.notes.size(), 1u);  // says the weights came from the config
  }
}

TEST_F(ModelLoader, ProjectorFileAddsItsTensorBytes) {
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.add_tensor(TensorInfo{"v.patch_embd.weight", {14, 14, 3, 1024}, GgmlType::f16});
  w.add_tensor(TensorInfo{"mm.0.weight", {1024, 4096, 1, 1}, GgmlType::f16});
  const std::string mmproj = (dir_ / "mmproj.gguf").string();
  w.write_sparse(mmproj);
  LoadOptions o = options();
  o.mmproj = mmproj;
  const LoadedModel loaded = load_model("llama3.1:8b", catalog(), o);
  EXPECT_EQ(loaded.model.projector, 2 * (14 * 14 * 3 * 1024 + 1024 * 4096));
  ASSERT_EQ(loaded.notes.size(), 1u);
}

// An mmproj with an audio encoder (clip.has_audio_encoder, as convert_hf_to_gguf.py writes
// Ultravox's or Voxtral's): its tensors count, the model says its encoder's buffer is not
// modelled, and the note names it a multimodal projector. The key false, or not a bool, is no
// audio encoder.
TEST_F(ModelLoader, ProjectorFileWithAnAudioEncoderSaysSo) {
  const std::string mmproj = (dir_ / "mmproj-audio.gguf").string();
  const auto load = [&](const test::GgufWriter& w) {
    w.write_sparse(mmproj);
    LoadOptions o = options();
    o.mmproj = mmproj;
    return load_model("llama3.1:8b", catalog(), o);
  };
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "ultravox");
  w.add_tensor(TensorInfo{"a.conv1d.1.weight", {3, 128, 1280, 1}, GgmlType::f16});
  w.add_tensor(TensorInfo{"mm.a.mlp.1.weight", {5120, 4096, 1, 1}, GgmlType::f16});
  test::GgufWriter audio = w;
  audio.set_bool("clip.has_audio_encoder", true);
  const LoadedModel loaded = load(audio);
  EXPECT_EQ(loaded.model.projector, 2 * (3 * 128 * 1280 + 5120 * 4096));
  EXPECT_TRUE(loaded.model.projector_audio);
  EXPECT_FALSE(loaded.model.projector_encoder.has_value());
  ASSERT_EQ(loaded.notes.size(), 1u);
  EXPECT_EQ(loaded.notes[0].rfind("multimodal projector from ", 0), 0u) << loaded.notes[0];

  test::GgufWriter no = w;
  no.set_bool("clip.has_audio_encoder", false);
  EXPECT_FALSE(load(no).model.projector_audio);
  test::GgufWriter odd = w;
  odd.set_u32("clip.has_audio_encoder", 1);
  EXPECT_FALSE(load(odd).model.projector_audio);
  const LoadedModel vision = load(w);
  EXPECT_FALSE(vision.model.projector_audio);
  EXPECT_EQ(vision.notes[0].rfind("vision projector from ", 0), 0u) << vision.notes[0];
}

// An mmproj whose encoder is one vramplan rebuilds (gemma3's SigLIP here) gives its shape, so
// the encoder's compute buffer is counted; one missing a tensor the graph assumes does not.
TEST_F(ModelLoader, ProjectorFileGivesItsEncoderShape) {
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "gemma3");
  w.set_u32("clip.vision.block_count", 27);
  w.set_u32("clip.vision.embedding_length", 1152);
  w.set_u32("clip.vision.feed_forward_length", 4304);
  w.set_u32("clip.vision.attention.head_count", 16);
  w.set_u32("clip.vision.patch_size", 14);
  w.set_u32("clip.vision.image_size", 896);
  w.add_tensor(TensorInfo{"v.patch_embd.weight", {14, 14, 3, 1152}, GgmlType::f16});
  w.add_tensor(TensorInfo{"v.patch_embd.bias", {1152, 1, 1, 1}, GgmlType::f32});
  w.add_tensor(TensorInfo{"v.post_ln.weight", {1152, 1, 1, 1}, GgmlType::f32});
  const std::string mmproj = (dir_ / "mmproj-gemma3.gguf").string();
  test::GgufWriter without_proj = w;
  w.add_tensor(TensorInfo{"mm.input_projection.weight", {2560, 1152, 1, 1}, GgmlType::f16});
  w.write_sparse(mmproj);
  LoadOptions o = options();
  o.mmproj = mmproj;
  const LoadedModel loaded = load_model("gemma3:4b", catalog(), o);
  EXPECT_EQ(loaded.model.projector_encoder,
            (VisionEncoder{VisionEncoderKind::gemma3, 27, 1152, 4304, 16, 14, 896, 4}));
  without_proj.write_sparse(mmproj);
  EXPECT_FALSE(load_model("gemma3:4b", catalog(), o).model.projector_encoder.has_value());
}

// A Qwen2.5-VL mmproj as convert_hf_to_gguf.py writes it gives the catalog entry's encoder
// shape: warmed up at 46 x 46 merged tokens (1288 px, not clip.vision.image_size), window
// pattern 8. Without the gated FFN it is not the tower the builder rebuilds.
TEST_F(ModelLoader, QwenVlProjectorFileGivesTheCatalogShape) {
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "qwen2.5vl_merger");
  w.set_u32("clip.vision.block_count", 32);
  w.set_u32("clip.vision.embedding_length", 1280);
  w.set_u32("clip.vision.feed_forward_length", 3420);
  w.set_u32("clip.vision.attention.head_count", 16);
  w.set_u32("clip.vision.patch_size", 14);
  w.set_u32("clip.vision.image_size", 560);
  w.set_u32("clip.vision.n_wa_pattern", 8);
  w.add_tensor(TensorInfo{"v.patch_embd.weight", {14, 14, 3, 1280}, GgmlType::f16});
  w.add_tensor(TensorInfo{"v.patch_embd.weight.1", {14, 14, 3, 1280}, GgmlType::f16});
  for (const char* t : {"v.post_ln.weight", "v.blk.0.attn_q.bias", "v.blk.0.attn_out.bias",
                        "v.blk.0.ffn_down.bias"}) {
    w.add_tensor(TensorInfo{t, {1280, 1, 1, 1}, GgmlType::f32});
  }
  w.add_tensor(TensorInfo{"v.blk.0.ffn_up.bias", {3420, 1, 1, 1}, GgmlType::f32});
  w.add_tensor(TensorInfo{"mm.0.weight", {5120, 5120, 1, 1}, GgmlType::f16});
  w.add_tensor(TensorInfo{"mm.0.bias", {5120, 1, 1, 1}, GgmlType::f32});
  w.add_tensor(TensorInfo{"mm.2.weight", {5120, 3584, 1, 1}, GgmlType::f16});
  w.add_tensor(TensorInfo{"mm.2.bias", {3584, 1, 1, 1}, GgmlType::f32});
  const std::string mmproj = (dir_ / "mmproj-qwen2.5vl.gguf").string();
  test::GgufWriter without_gate = w;
  w.add_tensor(TensorInfo{"v.blk.0.ffn_gate.weight", {1280, 3420, 1, 1}, GgmlType::f16});
  w.write_sparse(mmproj);
  LoadOptions o = options();
  o.mmproj = mmproj;
  const LoadedModel loaded = load_model("qwen2.5vl:7b", catalog(), o);
  ASSERT_TRUE(loaded.model.projector_encoder.has_value());
  VisionEncoder want{VisionEncoderKind::qwen25vl, 32, 1280, 3420, 16, 14, 1288, 2};
  want.window = 8;
  EXPECT_EQ(loaded.model.projector_encoder, want);
  EXPECT_EQ(load_model("qwen2.5vl:7b", catalog(), options()).model.projector_encoder, want);
  without_gate.write_sparse(mmproj);
  EXPECT_FALSE(load_model("qwen2.5vl:7b", catalog(), o).model.projector_encoder.has_value());
}

// A Pixtral mmproj as llama.cpp's converter writes Mistral Small 3.1's: the shape with
// spatial_merge_size as the merger's side; without the merger the file no longer matches the
// key, and without [IMG_BREAK] clip.cpp would not load it.
TEST_F(ModelLoader, PixtralProjectorFileGivesItsEncoderShape) {
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "pixtral");
  w.set_u32("clip.vision.block_count", 24);
  w.set_u32("clip.vision.embedding_length", 1024);
  w.set_u32("clip.vision.feed_forward_length", 4096);
  w.set_u32("clip.vision.attention.head_count", 16);
  w.set_u32("clip.vision.patch_size", 14);
  w.set_u32("clip.vision.image_size", 1540);
  w.set_u32("clip.vision.spatial_merge_size", 2);
  for (const char* name : {"v.patch_embd.weight", "v.blk.0.attn_q.weight",
                           "v.blk.0.ffn_gate.weight", "mm.1.weight", "mm.2.weight"}) {
    w.add_tensor(TensorInfo{name, {14, 14, 3, 1024}, GgmlType::f16});
  }
  for (const char* name : {"v.pre_ln.weight", "mm.input_norm.weight"}) {
    w.add_tensor(TensorInfo{name, {1024, 1, 1, 1}, GgmlType::f32});
  }
  test::GgufWriter without_merger = w;
  test::GgufWriter without_break = w;
  w.add_tensor(TensorInfo{"v.token_embd.img_break", {5120, 1, 1, 1}, GgmlType::f32});
  without_merger.add_tensor(TensorInfo{"v.token_embd.img_break", {5120, 1, 1, 1}, GgmlType::f32});
  for (test::GgufWriter* x : {&w, &without_break}) {
    x->add_tensor(TensorInfo{"mm.patch_merger.weight", {4096, 1024, 1, 1}, GgmlType::f16});
  }
  const std::string mmproj = (dir_ / "mmproj-pixtral.gguf").string();
  w.write_sparse(mmproj);
  LoadOptions o = options();
  o.mmproj = mmproj;
  EXPECT_EQ(load_model("mistral-small3.1:24b", catalog(), o).model.projector_encoder,
            (VisionEncoder{VisionEncoderKind::pixtral, 24, 1024, 4096, 16, 14, 1540, 2}));
  without_merger.write_sparse(mmproj);
  EXPECT_FALSE(
      load_model("mistral-small3.1:24b", catalog(), o).model.projector_encoder.has_value());
  without_break.write_sparse(mmproj);
  EXPECT_FALSE(
      load_model("mistral-small3.1:24b", catalog(), o).model.projector_encoder.has_value());
}

// A MiniCPM-V 2.6 mmproj as llama.cpp's legacy converter writes it (version 3): 64 queries
// from the version when the file has no clip.minicpmv_query_num; a pre-LN is not its shape.
TEST_F(ModelLoader, ResamplerProjectorFileGivesItsEncoderShape) {
  test::GgufWriter w;
  w.set_string("general.architecture", "clip");
  w.set_string("clip.projector_type", "resampler");
  w.set_i32("clip.minicpmv_version", 3);
  w.set_u32("clip.vision.block_count", 27);
  w.set_u32("clip.vision.embedding_length", 1152);
  w.set_u32("clip.vision.feed_forward_length", 4304);
  w.set_u32("clip.vision.attention.head_count", 16);
  w.set_u32("clip.vision.patch_size", 14);
  w.set_u32("clip.vision.image_size", 448);
  w.add_tensor(TensorInfo{"v.patch_embd.weight", {14, 14, 3, 1152}, GgmlType::f16});
  w.add_tensor(TensorInfo{"v.position_embd.weight", {1152, 4900, 1, 1}, GgmlType::f16});
  w.add_tensor(TensorInfo{"v.blk.0.attn_q.weight", {1152, 1152, 1, 1}, GgmlType::f16});
  w.add_tensor(TensorInfo{"v.post_ln.weight", {1152, 1, 1, 1}, GgmlType::f32});
  w.add_tensor(TensorInfo{"resampler.query", {3584, 64, 1, 1}, GgmlType::f32});
  const std::string mmproj = (dir_ / "mmproj-minicpmv.gguf").string();
  test::GgufWriter with_pre_ln = w;
  w.write_sparse(mmproj);
  LoadOptions o = options();
  o.mmproj = mmproj;
  VisionEncoder want{VisionEncoderKind::minicpmv, 27, 1152, 4304, 16, 14, 448, 4};
  want.queries = 64;
  EXPECT_EQ(load_model("minicpm-v:8b", catalog(), o).model.projector_encoder, want);
  with_pre_ln.add_tensor(TensorInfo{"v.pre_ln.weight", {1152, 1, 1, 1}, GgmlType::f32});
  with_pre_ln.write_sparse(mmproj);
  EXPECT_FALSE(load_model("minicpm-v:8b", catalog(), o).model.projector_encoder.has_value());
}

// Llama 4's mmproj as conversion/llama4.py writes it and moondream2's as its create_gguf.py
// does (an "mlp" file over SigLIP) give the catalog entries' encoder shapes, the MLP widths
// read from mm.model.mlp.1 and mm.0.
TEST_F(ModelLoader, Llama4AndMoondreamProjectorFilesGiveTheCatalogShapes) {
  const auto vec = [](test::GgufWriter& w, const char* t, std::int64_t n) {
    w.add_tensor(TensorInfo{t, {n, 1, 1, 1}, GgmlType::f32});
  };
  const auto mat = [](test::GgufWriter& w, const char* t, std::int64_t a, std::int64_t b) {
    w.add_tensor(TensorInfo{t, {a, b, 1, 1}, GgmlType::f16});
  };
  const auto keys = [](test::GgufWriter& w, const char* type, std::uint32_t layers,
                       std::uint32_t width, std::uint32_t ffn, std::uint32_t image) {
    w.set_string("general.architecture", "clip");
    w.set_string("clip.projector_type", type);
    w.set_u32("clip.vision.block_count", layers);
    w.set_u32("clip.vision.embedding_length", width);
    w.set_u32("clip.vision.feed_forward_length", ffn);
    w.set_u32("clip.vision.attention.head_count", 16);
    w.set_u32("clip.vision.patch_size", 14);
    w.set_u32("clip.vision.image_size", image);
  };
  LoadOptions o = options();
  test::GgufWriter l4;
  keys(l4, "llama4", 34, 1408, 5632, 336);
  l4.set_u32("clip.vision.projector.scale_factor", 2);
  mat(l4, "v.patch_embd.weight", 588, 1408);
  vec(l4, "v.class_embd", 1408);
  l4.add_tensor(TensorInfo{"v.position_embd.weight", {1408, 577, 1, 1}, GgmlType::f32});
  for (const char* t : {"v.pre_ln.weight", "v.post_ln.weight", "v.blk.0.attn_q.bias"}) {
    vec(l4, t, 1408);
  }
  vec(l4, "v.blk.0.ffn_up.bias", 5632);
  mat(l4, "mm.model.mlp.1.weight", 5632, 4096);
  mat(l4, "mm.model.mlp.2.weight", 4096, 4096);
  mat(l4, "mm.model.fc.weight", 4096, 5120);
  o.mmproj = (dir_ / "mmproj-llama4.gguf").string();
  l4.write_sparse(o.mmproj);
  const std::optional<VisionEncoder> scout =
      load_model("llama4:scout", catalog(), options()).model.projector_encoder;
  ASSERT_TRUE(scout.has_value());
  EXPECT_EQ(scout->kind, VisionEncoderKind::llama4);
  EXPECT_EQ(load_model("llama4:scout", catalog(), o).model.projector_encoder, scout);

  test::GgufWriter md;
  keys(md, "mlp", 28, 1152, 4304, 378);
  md.set_bool("clip.has_llava_projector", true);
  mat(md, "mm.0.weight", 1152, 8192);
  mat(md, "mm.2.weight", 8192, 2048);
  md.add_tensor(TensorInfo{"v.patch_embd.weight", {14, 14, 3, 1152}, GgmlType::f16});
  for (const char* t : {"v.patch_embd.bias", "v.post_ln.weight", "v.post_ln.bias"}) {
    vec(md, t, 1152);
  }
  o.mmproj = (dir_ / "mmproj-moondream2.gguf").string();
  md.write_sparse(o.mmproj);
  const std::optional<VisionEncoder> moondream =
      load_model("moondream:1.8b", catalog(), options()).model.projector_encoder;
  ASSERT_TRUE(moondream.has_value());
  EXPECT_EQ(moondream->kind, VisionEncoderKind::mlp_siglip);
  EXPECT_EQ(load_model("moondream:1.8b", catalog(), o).model.projector_encoder, moondream);
}

}  // namespace
}  // namespace vramplan::io
