// libFuzzer target: arbitrary bytes as the output of nvidia-smi, rocm-smi, sysctl,
// /proc/meminfo and a cgroup limit file (src/io/detect.cpp). Sizes read are never negative and
// never above detect_max_bytes; GPU lists stay within detect_max_gpus.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <vramplan/io/detect.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace vramplan;

void check(const std::vector<io::DetectedGpu>& gpus) {
  if (gpus.size() > io::detect_max_gpus) std::abort();
  for (const io::DetectedGpu& g : gpus) {
    for (const std::optional<Bytes>& size : {g.total_bytes, g.used_bytes, g.free_bytes()}) {
      if (size && (*size < 0 || *size > io::detect_max_bytes)) std::abort();
    }
  }
}

template <typename Fn>
void guarded(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    fuzz::check_message(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  guarded([&] { check(io::parse_nvidia_smi_csv(text)); });
  guarded([&] { check(io::parse_rocm_smi_csv(text)); });
  guarded([&] {
    const io::SysctlValues v = io::parse_sysctl(text);
    if (v.memsize && (*v.memsize < 0 || *v.memsize > io::detect_max_bytes)) std::abort();
  });
  guarded([&] {
    const io::MemInfo m = io::parse_meminfo(text);
    if (m.total < 0 || m.total > io::detect_max_bytes) std::abort();
  });
  guarded([&] {
    const std::optional<Bytes> limit = io::parse_cgroup_limit(text);
    if (limit && *limit < 0) std::abort();
  });
  return 0;
}
