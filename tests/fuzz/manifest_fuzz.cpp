// libFuzzer target: arbitrary bytes into parse_manifest (the Ollama manifest parser). Any
// Error is an expected outcome; a crash, a sanitizer report, a timeout or an allocation beyond
// -rss_limit_mb is a bug. Messages must stay on one line (docs/model-sources.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <vramplan/error.hpp>
#include <vramplan/io/ollama_store.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vramplan::io::OllamaManifest manifest = vramplan::io::parse_manifest(text, "fuzz");
    // Every digest it accepts must map to a file directly inside blobs/.
    for (const vramplan::io::OllamaLayer& layer : manifest.layers) {
      const std::string path = vramplan::io::blob_path("/m", layer.digest);
      if (path.rfind("/m/blobs/sha256-", 0) != 0 || path.find("..") != std::string::npos) {
        std::abort();
      }
    }
  } catch (const vramplan::Error& e) {
    if (std::string_view(e.what()).find('\n') != std::string_view::npos) std::abort();
  }
  return 0;
}
