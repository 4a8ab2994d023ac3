// libFuzzer target: arbitrary bytes through MemorySource into read_safetensors_header, the
// accepted tensor list into hf_tensor_infos, and the same bytes as a config.json into
// spec_from_hf_config. Any Error is an expected outcome; a crash, a sanitizer report, a
// timeout or an allocation beyond -rss_limit_mb is a bug (docs/model-sources.md).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/hf_model.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vramplan::io::MemorySource source(std::span<const std::uint8_t>(data, size), "fuzz.safetensors");
  try {
    const vramplan::io::SafetensorsHeader header =
        vramplan::io::read_safetensors_header(source, "fuzz.safetensors");
    vramplan::ModelSpec spec;
    spec.arch = "llama";
    spec.n_layer = 4;
    (void)vramplan::io::hf_tensor_infos(header.tensors, spec);
  } catch (const vramplan::Error&) {
    // Malformed input is reported, not crashed on.
  }
  try {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)vramplan::io::spec_from_hf_config(text, "fuzz.json");
  } catch (const vramplan::Error&) {
  }
  return 0;
}
