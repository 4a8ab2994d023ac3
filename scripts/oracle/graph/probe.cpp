// Creates one llama.cpp context on the CPU, as node-llama-cpp does (non-unified KV, batch =
// ubatch, swa_full off), and exits. llama.cpp logs its buffers; with the ggml-alloc dump patch
// and VP_DUMP=file it also writes every reserve graph (scripts/oracle/graph/README.md).
//
//   probe MODEL.gguf N_CTX N_SEQ N_UBATCH FA(0|1) TYPE_K TYPE_V [EMBD(0|1)]
//                                            (types as ggml_type ids: 1 f16, 2 q4_0, 8 q8_0;
//                                             EMBD 1: an embedding context, pooling as the file
//                                             says, as llama-server --embedding creates)
#include <cstdio>
#include <cstdlib>

#include "llama.h"

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: probe MODEL N_CTX N_SEQ N_UBATCH FA TYPE_K TYPE_V [EMBD]\n");
    return 2;
  }
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (model == nullptr) return 1;
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(std::atoi(argv[2]));
  cp.n_seq_max = static_cast<uint32_t>(std::atoi(argv[3]));
  cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(std::atoi(argv[4]));
  cp.flash_attn_type =
      std::atoi(argv[5]) != 0 ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.type_k = static_cast<ggml_type>(std::atoi(argv[6]));
  cp.type_v = static_cast<ggml_type>(std::atoi(argv[7]));
  cp.swa_full = false;
  cp.kv_unified = false;
  cp.no_perf = true;
  // Optional 8th argument: an embedding context (llama-server --embedding, Ollama's embedding
  // models): embeddings on, the pooling the file names.
  if (argc > 8 && std::atoi(argv[8]) != 0) cp.embeddings = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) return 1;
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
