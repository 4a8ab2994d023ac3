// libFuzzer target: arbitrary bytes as a size argument ("16G", "1.5GiB") into parse_size
// (src/core). An accepted size is positive and at most 1 PiB (include/vramplan/bytes.hpp).
// Its message quotes the argument as given; cli::run makes every message one line
// (src/cli/app.cpp one_line, checked by the cli target), so only emptiness is checked here.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vramplan::Bytes bytes = vramplan::parse_size(text, "--vram");
    if (bytes <= 0 || bytes > (vramplan::Bytes{1} << 50)) std::abort();
  } catch (const vramplan::Error& e) {
    if (*e.what() == '\0') std::abort();
  }
  return 0;
}
