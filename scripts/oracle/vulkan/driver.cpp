// Loads one model and creates one context with node-llama-cpp's prebuilt libllama (Vulkan
// build) through llama.cpp's C API, printing llama.cpp's whole log on stdout. It exists for the
// settings node-llama-cpp 3.22.1 cannot pass: tensor buffer-type overrides (--n-cpu-moe) and
// op_offload off; for the others it gives node-llama-cpp's figures exactly (crosscheck.mjs). Built
// and run by measure.py (scripts/oracle/vulkan/README.md). Only load and reserve are exercised: no
// token is decoded.
//
//   driver --model FILE [--ngl N] [--ctx N] [--seqs N] [--ubatch N] [--fa on|off]
//          [--mmap on|off] [--op-offload on|off] [--n-cpu-moe N] [--type-k T] [--type-v T]
//          [--split A,B,...] [--backends DIR] [--decode N] [--hold-ms MS]
//
// --split sets the layer split's proportions per GPU (llama-server's --tensor-split); without it
// llama.cpp splits by each device's free memory.
//
// --decode N decodes one batch of N tokens and then one token (the weights are zeros: only the
// memory a real first request allocates matters, e.g. CUDA's pool and cuBLAS workspace);
// --hold-ms keeps the process, its context and its memory alive that long after printing
// "vramplan_driver: holding", for a device-memory reading from outside (nvidia-smi).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <string>
#include <thread>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"

// libllama-common's build info (common/build-info.h: C++ linkage). A build of libllama from the
// source without its common library (the CUDA oracle, scripts/oracle/cuda/README.md) names the
// source commit at compile time instead.
#ifndef VRAMPLAN_LLAMA_SOURCE
int llama_build_number(void);
const char* llama_commit(void);
#endif

namespace {

void on_log(ggml_log_level /*level*/, const char* text, void* /*user*/) {
  std::fputs(text, stdout);
}

bool flag(const std::string& v) {
  if (v == "on" || v == "1" || v == "true") return true;
  if (v == "off" || v == "0" || v == "false") return false;
  std::fprintf(stderr, "driver: expected on/off, got %s\n", v.c_str());
  std::exit(2);
}

ggml_type cache_type(const std::string& name) {
  for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
    const char* n = ggml_type_name(static_cast<ggml_type>(t));
    if (n != nullptr && strcasecmp(n, name.c_str()) == 0) return static_cast<ggml_type>(t);
  }
  std::fprintf(stderr, "driver: unknown cache type %s\n", name.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, backends, split, type_k = "f16", type_v = "f16";
  int ngl = -1, seqs = 1, n_cpu_moe = 0, decode = 0, hold_ms = 0;
  long ctx = 4096, ubatch = 512;
  bool fa = true, mmap = true, op_offload = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "driver: %s needs a value\n", a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    if (a == "--model")
      model_path = v;
    else if (a == "--ngl")
      ngl = std::atoi(v.c_str());
    else if (a == "--ctx")
      ctx = std::atol(v.c_str());
    else if (a == "--seqs")
      seqs = std::atoi(v.c_str());
    else if (a == "--ubatch")
      ubatch = std::atol(v.c_str());
    else if (a == "--fa")
      fa = flag(v);
    else if (a == "--mmap")
      mmap = flag(v);
    else if (a == "--op-offload")
      op_offload = flag(v);
    else if (a == "--n-cpu-moe")
      n_cpu_moe = std::atoi(v.c_str());
    else if (a == "--type-k")
      type_k = v;
    else if (a == "--type-v")
      type_v = v;
    else if (a == "--backends")
      backends = v;
    else if (a == "--split")
      split = v;
    else if (a == "--decode")
      decode = std::atoi(v.c_str());
    else if (a == "--hold-ms")
      hold_ms = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "driver: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (model_path.empty()) {
    std::fprintf(stderr, "driver: --model is required\n");
    return 2;
  }

  llama_log_set(on_log, nullptr);
  // The prebuilt package loads its backends (Vulkan, CPU variants) as modules.
  if (!backends.empty())
    ggml_backend_load_all_from_path(backends.c_str());
  else
    ggml_backend_load_all();
  llama_backend_init();
#ifdef VRAMPLAN_LLAMA_SOURCE
  std::printf("vramplan_driver: llama.cpp source %s\n", VRAMPLAN_LLAMA_SOURCE);
#else
  std::printf("vramplan_driver: llama.cpp build %d, commit %s\n", llama_build_number(),
              llama_commit());
#endif
  std::printf("vramplan_driver: %s\n", llama_print_system_info());

  // llama.cpp's --n-cpu-moe N: the routed-expert tensors of blocks 0..N-1 in the CPU buffer
  // type (common/arg.cpp, common/common.h llm_add_n_cpu_ffn_overrides, LLM_FFN_EXPS_REGEX).
  std::list<std::string> patterns;
  std::vector<llama_model_tensor_buft_override> overrides;
  if (n_cpu_moe > 0) {
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (cpu == nullptr) {
      std::fprintf(stderr, "driver: no CPU backend device\n");
      return 1;
    }
    for (int il = 0; il < n_cpu_moe; ++il) {
      patterns.push_back("blk\\." + std::to_string(il) + "\\.ffn_(up|down|gate|gate_up)_(ch|)exps");
      overrides.push_back({patterns.back().c_str(), ggml_backend_dev_buffer_type(cpu)});
    }
    overrides.push_back({nullptr, nullptr});
  }

  // llama_model_params::tensor_split: one proportion per device, in llama.cpp's device order.
  std::vector<float> proportions(llama_max_devices(), 0.0f);
  if (!split.empty()) {
    std::size_t at = 0, device = 0;
    while (at <= split.size()) {
      const std::size_t comma = std::min(split.find(',', at), split.size());
      if (device >= proportions.size()) {
        std::fprintf(stderr, "driver: --split names more devices than %zu\n", proportions.size());
        return 2;
      }
      proportions[device++] = std::strtof(split.substr(at, comma - at).c_str(), nullptr);
      at = comma + 1;
    }
  }

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = ngl;
  if (!split.empty()) mp.tensor_split = proportions.data();
  mp.load_mode = mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
  if (!overrides.empty()) mp.tensor_buft_overrides = overrides.data();
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mp);
  if (model == nullptr) {
    std::printf("vramplan_driver: load failed\n");
    std::fflush(stdout);
    return 3;
  }

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(ctx);
  cp.n_seq_max = static_cast<uint32_t>(seqs);
  cp.n_batch = static_cast<uint32_t>(ubatch);
  cp.n_ubatch = static_cast<uint32_t>(ubatch);
  cp.flash_attn_type = fa ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.op_offload = op_offload;
  cp.type_k = cache_type(type_k);
  cp.type_v = cache_type(type_v);
  // As llama-server (common/common.h) and node-llama-cpp: a SWA cache of the window's size, one
  // KV stream per sequence. (llama_context_default_params has swa_full = true.)
  cp.swa_full = false;
  cp.kv_unified = false;
  cp.n_threads = 2;
  cp.n_threads_batch = 2;
  llama_context* lctx = llama_init_from_model(model, cp);
  if (lctx == nullptr) {
    std::printf("vramplan_driver: context failed\n");
    llama_model_free(model);
    std::fflush(stdout);
    return 4;
  }
  if (decode > 0) {
    const int n = std::min<long>(decode, ubatch);
    llama_batch batch = llama_batch_init(n, 0, 1);
    for (int pass = 0; pass < 2; ++pass) {
      const int count = pass == 0 ? n : 1;
      batch.n_tokens = count;
      for (int i = 0; i < count; ++i) {
        batch.token[i] = 1 + i;
        batch.pos[i] = pass == 0 ? i : n;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = i == count - 1;
      }
      if (llama_decode(lctx, batch) != 0) std::printf("vramplan_driver: decode failed\n");
    }
    llama_batch_free(batch);
    std::printf("vramplan_driver: decoded %d + 1 tokens\n", n);
  }
  if (hold_ms > 0) {
    std::printf("vramplan_driver: holding\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
  }
  llama_free(lctx);  // prints the compute buffers with 4 decimals
  llama_model_free(model);
  std::printf("vramplan_driver: done\n");
  std::fflush(stdout);
  return 0;
}
