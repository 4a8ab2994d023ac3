// Writes seed inputs for the fuzz targets (tests/fuzz/) into $VRAMPLAN_FUZZ_CORPUS_DIR/<target>/;
// skipped when the variable is unset. scripts/fuzz.sh runs it before fuzzing. The GGUF seeds
// come from GgufCorpus.WritesSeedFiles; the command-line seeds are committed
// (tests/fuzz/corpus/cli). Each seed is checked to be accepted, so the fuzzers start from valid
// structure.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/io/embedded_catalog.hpp>
#include <vramplan/io/hf_model.hpp>
#include <vramplan/io/ollama_store.hpp>

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;

std::string safetensors(const std::string& header, std::size_t data_bytes) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(FuzzCorpus, WritesManifestAndSafetensorsSeeds) {
  const char* dir = std::getenv("VRAMPLAN_FUZZ_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "VRAMPLAN_FUZZ_CORPUS_DIR not set";
  const fs::path manifests = fs::path(dir) / "manifest";
  const fs::path tensors = fs::path(dir) / "safetensors";
  fs::create_directories(manifests);
  fs::create_directories(tensors);

  const std::string digest(64, 'a');
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:)" +
      digest +
      R"(","size":2},"layers":[{"mediaType":"application/vnd.ollama.image.model",)"
      R"("digest":"sha256:)" +
      digest +
      R"(","size":1024},{"mediaType":)"
      R"("application/vnd.ollama.image.params","digest":"sha256:)" +
      digest + R"(","size":17}]})";
  // Each seed must be what the parser accepts, so the fuzzer starts from valid structure.
  EXPECT_NO_THROW((void)parse_manifest(manifest, "seed"));
  write(manifests / "valid.json", manifest);
  write(manifests / "empty-layers.json", R"({"schemaVersion":2,"config":{},"layers":[]})");

  const std::string header =
      R"({"__metadata__":{"format":"pt"},"model.embed_tokens.weight":{"dtype":"BF16",)"
      R"("shape":[8,4],"data_offsets":[0,64]},"model.layers.0.self_attn.q_proj.weight":)"
      R"({"dtype":"F32","shape":[4,4],"data_offsets":[64,128]}})";
  const std::string file = safetensors(header, 128);
  MemorySource source(file, "seed.safetensors");
  EXPECT_EQ(read_safetensors_header(source, "seed").tensors.size(), 2u);
  write(tensors / "valid.safetensors", file);
  write(tensors / "config.json",
        R"({"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,)"
        R"("num_attention_heads":4,"num_hidden_layers":2,"vocab_size":256,)"
        R"("max_position_embeddings":2048})");
}

std::string corpus_dir(const char* target) {
  const char* dir = std::getenv("VRAMPLAN_FUZZ_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') return "";
  const fs::path path = fs::path(dir) / target;
  fs::create_directories(path);
  return path.string();
}

TEST(FuzzCorpus, WritesJsonSeeds) {
  const std::string config = corpus_dir("config");
  if (config.empty()) GTEST_SKIP() << "VRAMPLAN_FUZZ_CORPUS_DIR not set";
  const std::string llama =
      R"({"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,)"
      R"("intermediate_size":128,"num_attention_heads":4,"num_key_value_heads":2,)"
      R"("num_hidden_layers":2,"vocab_size":256,"max_position_embeddings":2048,)"
      R"("rope_scaling":{"factor":8.0,"rope_type":"llama3"},"torch_dtype":"bfloat16"})";
  EXPECT_NO_THROW((void)spec_from_hf_config(llama, "seed"));
  write(fs::path(config) / "llama.json", llama);
  const std::string moe =
      R"({"architectures":["Qwen3MoeForCausalLM"],"model_type":"qwen3_moe","hidden_size":64,)"
      R"("intermediate_size":128,"moe_intermediate_size":32,"num_experts":8,)"
      R"("num_experts_per_tok":2,"num_attention_heads":4,"num_hidden_layers":2,)"
      R"("vocab_size":256,"max_position_embeddings":2048,"sliding_window":null})";
  EXPECT_NO_THROW((void)spec_from_hf_config(moe, "seed"));
  write(fs::path(config) / "moe.json", moe);

  const std::string index =
      R"({"metadata":{"total_size":256},"weight_map":{"model.embed_tokens.weight":)"
      R"("model-00001-of-00002.safetensors","lm_head.weight":"model-00002-of-00002.safetensors"}})";
  EXPECT_EQ(parse_safetensors_index(index, "seed").shards.size(), 2U);
  write(fs::path(corpus_dir("index")) / "index.json", index);

  const std::string params =
      R"({"num_ctx":8192,"num_gpu":"-1","use_mmap":"true","stop":["<|eot_id|>"],)"
      R"("temperature":0.6})";
  EXPECT_EQ(parse_params(params, "seed").num_ctx, 8192);
  write(fs::path(corpus_dir("params")) / "params.json", params);
}

TEST(FuzzCorpus, WritesCatalogAndSizeSeeds) {
  const std::string catalog = corpus_dir("catalog");
  if (catalog.empty()) GTEST_SKIP() << "VRAMPLAN_FUZZ_CORPUS_DIR not set";
  for (const EmbeddedFile& file : embedded_catalog_files()) {
    EXPECT_FALSE(parse_catalog(file.text, std::string(file.name)).empty()) << file.name;
    write(fs::path(catalog) / file.name, std::string(file.text));
  }

  const std::string sizes = corpus_dir("size");
  for (const char* size : {"16G", "1.5GiB", "24GB", "512M", "80g", "1T"}) {
    EXPECT_GT(parse_size(size, "seed"), 0) << size;
    write(fs::path(sizes) / size, size);
  }
}

}  // namespace
}  // namespace vramplan::io
