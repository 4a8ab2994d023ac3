// libFuzzer target: arbitrary bytes as a model.safetensors.index.json into
// parse_safetensors_index (src/io/safetensors.cpp). Every shard it accepts must be a bare file
// name: the loader joins it to the model's directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <vramplan/io/safetensors.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vramplan::io::SafetensorsIndex index =
        vramplan::io::parse_safetensors_index(text, "fuzz/model.safetensors.index.json");
    for (const auto& shard : index.shards) {
      if (shard.empty() || shard == "." || shard == ".." ||
          shard.find_first_of("/\\") != std::string::npos) {
        std::abort();
      }
    }
    if (index.weight_map.size() < index.shards.size()) std::abort();
  } catch (const vramplan::Error& e) {
    vramplan::fuzz::check_message(e);
  }
  return 0;
}
