// clip_mem: prints the CLIP encoder's compute buffer as the pinned llama.cpp's tools/mtmd
// reserves it (clip_init with warm-up: clip.cpp warmup -> reserve_compute_meta ->
// ggml_backend_sched_reserve) on the CPU backend, with flash attention on and off.
// Usage: GGML_LIB_DIR=DIR clip_mem MMPROJ.gguf  -> one line per setting: "fa=<on|off> weights=<B>
// compute=<B>" Built by build.sh against the prebuilt ggml libraries of the same llama.cpp commit.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "clip.h"
#include "ggml-backend.h"
#include "gguf.h"

namespace {

// Tensor bytes of the file: what clip.cpp allocates as weights (ggml_nbytes per tensor).
size_t file_weight_bytes(const char* path) {
  gguf_init_params p{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path, p);
  if (g == nullptr) return 0;
  size_t total = 0;
  for (int64_t i = 0; i < gguf_get_n_tensors(g); ++i) total += gguf_get_tensor_size(g, i);
  gguf_free(g);
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: clip_mem MMPROJ.gguf\n");
    return 2;
  }
  // The CPU backend variants (libggml-cpu-*.so) live next to the prebuilt libraries.
  const char* dir = std::getenv("GGML_LIB_DIR");
  ggml_backend_load_all_from_path(dir);
  const size_t weights = file_weight_bytes(argv[1]);
  for (const clip_flash_attn_type fa :
       {CLIP_FLASH_ATTN_TYPE_ENABLED, CLIP_FLASH_ATTN_TYPE_DISABLED}) {
    clip_context_params cp{};
    cp.use_gpu = false;
    cp.device = nullptr;
    cp.flash_attn_type = fa;
    cp.image_min_tokens = -1;
    cp.image_max_tokens = -1;
    cp.warmup = true;
    cp.no_alloc = true;
    clip_init_result r = clip_init(argv[1], cp);
    if (r.ctx_v == nullptr && r.ctx_a == nullptr) {
      std::fprintf(stderr, "clip_init failed\n");
      return 1;
    }
    size_t total = 0;
    for (clip_ctx* c : {r.ctx_v, r.ctx_a}) {
      if (c == nullptr) continue;
      for (const auto& [dev, size] : clip_get_mem_usage(c)) total += size;
    }
    std::printf("fa=%s weights=%zu total=%zu compute=%zu\n",
                fa == CLIP_FLASH_ATTN_TYPE_ENABLED ? "on" : "off", weights, total, total - weights);
    clip_free(r.ctx_v);
    clip_free(r.ctx_a);
    clip_free(r.ctx_gen_a);
  }
  return 0;
}
