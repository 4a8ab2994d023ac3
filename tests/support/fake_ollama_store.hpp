// A fake local Ollama store for tests: manifests and blobs laid out as Ollama does
// (docs/model-sources.md "Ollama model store"), with a sparse GGUF model blob generated from a
// catalog model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/catalog.hpp>
#include <vramplan/tensors.hpp>

#include "support/model_gguf.hpp"

namespace vramplan::test {

class FakeOllamaStore {
 public:
  explicit FakeOllamaStore(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ / "blobs");
  }

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // Adds `library/<model>:<tag>` whose model blob is the catalog entry `catalog_name` as a
  // sparse GGUF, with a .params layer holding `params` (a JSON object; empty = none).
  void add(const Catalog& catalog, const std::string& model, const std::string& tag,
           const std::string& catalog_name, const nlohmann::json& params = {}) {
    const std::string digest = next_digest();
    const std::filesystem::path blob = blob_path(digest);
    write_catalog_gguf(catalog, catalog_name, blob.string());
    nlohmann::json layers = nlohmann::json::array();
    layers.push_back(
        layer("application/vnd.ollama.image.model", digest, std::filesystem::file_size(blob)));
    if (!params.empty())
      layers.push_back(text_blob("application/vnd.ollama.image.params", params.dump()));
    const nlohmann::json manifest = {
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
        {"config",
         text_blob("application/vnd.docker.container.image.v1+json", R"({"model_format":"gguf"})")},
        {"layers", layers}};
    const std::filesystem::path path =
        dir_ / "manifests" / "registry.ollama.ai" / "library" / model / tag;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << manifest.dump();
  }

 private:
  std::string next_digest() { return fmt::format("sha256:{:064x}", ++blobs_); }
  std::filesystem::path blob_path(const std::string& digest) const {
    return dir_ / "blobs" / ("sha256-" + digest.substr(7));
  }
  static nlohmann::json layer(const std::string& media, const std::string& digest,
                              std::uintmax_t size) {
    return {{"mediaType", media}, {"digest", digest}, {"size", size}};
  }
  nlohmann::json text_blob(const std::string& media, const std::string& text) {
    const std::string digest = next_digest();
    std::ofstream(blob_path(digest), std::ios::binary) << text;
    return layer(media, digest, text.size());
  }

  std::filesystem::path dir_;
  int blobs_ = 0;
};

}  // namespace vramplan::test
