// libFuzzer target: arbitrary bytes as an Ollama .params blob into parse_params
// (src/io/ollama_store.cpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <vramplan/io/ollama_store.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vramplan::io::OllamaParams params = vramplan::io::parse_params(text, "fuzz/params");
    if (params.num_ctx && *params.num_ctx < 0) std::abort();
    if (params.num_batch && *params.num_batch < 0) std::abort();
  } catch (const vramplan::Error& e) {
    vramplan::fuzz::check_message(e);
  }
  return 0;
}
