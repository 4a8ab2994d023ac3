// libFuzzer target: arbitrary bytes as a Hugging Face config.json into spec_from_hf_config
// (src/io/hf_config.cpp). Any Error is an expected outcome; a crash, a sanitizer report, a
// timeout or an allocation beyond the limits of scripts/fuzz.sh is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <vramplan/io/hf_config.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)vramplan::io::spec_from_hf_config(text, "fuzz/config.json");
  } catch (const vramplan::Error& e) {
    vramplan::fuzz::check_message(e);
  }
  return 0;
}
