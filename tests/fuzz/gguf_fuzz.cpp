// libFuzzer target: arbitrary bytes through MemorySource into read_gguf, then spec_from_gguf and,
// for a file read as an mmproj, the image encoder's shape and its rebuilt compute buffer.
// Any Error is an expected outcome; a crash, a sanitizer report, a timeout or an allocation
// beyond -rss_limit_mb is a bug. docs/gguf.md "Fuzzing" says how CI runs it.
#include <cstddef>
#include <cstdint>
#include <span>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/gguf_model.hpp>
#include <vramplan/vision_encoder.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vramplan::io::MemorySource source(std::span<const std::uint8_t>(data, size), "fuzz.gguf");
  try {
    const vramplan::io::GgufFile file = vramplan::io::read_gguf(source, "fuzz.gguf");
    // The encoder is read before the text model: an mmproj file has no text architecture.
    if (const auto encoder = vramplan::io::vision_encoder_from_gguf(file)) {
      (void)vramplan::clip_compute_buffer(*encoder, 4096, true, 32);
      (void)vramplan::clip_compute_buffer(*encoder, 4096, false, 128);
    }
    (void)vramplan::io::spec_from_gguf(file, "fuzz.gguf");
  } catch (const vramplan::Error&) {
    // Malformed input is reported, not crashed on.
  }
  return 0;
}
