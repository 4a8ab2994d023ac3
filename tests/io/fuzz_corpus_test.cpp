// Writes seed inputs for the manifest and safetensors fuzz targets (tests/fuzz/) into
// $VRAMPLAN_FUZZ_CORPUS_DIR/<target>/; skipped when the variable is unset. scripts/fuzz.sh runs
// it before fuzzing. The GGUF seeds come from GgufCorpus.WritesSeedFiles.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <vramplan/io/byte_source.hpp>
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
      digest + R"(","size":2},"layers":[{"mediaType":"application/vnd.ollama.image.model",)"
      R"("digest":"sha256:)" + digest + R"(","size":1024},{"mediaType":)"
      R"("application/vnd.ollama.image.params","digest":"sha256:)" + digest + R"(","size":17}]})";
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

}  // namespace
}  // namespace vramplan::io
