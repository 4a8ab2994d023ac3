// libFuzzer target: arbitrary bytes through MemorySource into read_gguf, then spec_from_gguf.
// Any Error is an expected outcome; a crash, a sanitizer report, a timeout or an allocation
// beyond -rss_limit_mb is a bug. docs/gguf.md "Fuzzing" says how CI runs it.
#include <cstddef>
#include <cstdint>
#include <span>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/gguf_model.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vramplan::io::MemorySource source(std::span<const std::uint8_t>(data, size), "fuzz.gguf");
  try {
    const vramplan::io::GgufFile file = vramplan::io::read_gguf(source, "fuzz.gguf");
    (void)vramplan::io::spec_from_gguf(file, "fuzz.gguf");
  } catch (const vramplan::Error&) {
    // Malformed input is reported, not crashed on.
  }
  return 0;
}
