// Hand-written model specs for unit tests, from each model's config.json (so core tests do
// not depend on the catalog files).
#pragma once

#include <vramplan/model_spec.hpp>

namespace vramplan::test {

inline ModelSpec llama31_8b() {
  ModelSpec s;
  s.arch = "llama";
  s.n_layer = 32;
  s.n_embd = 4096;
  s.n_ff = 14336;
  s.n_head = 32;
  s.n_head_kv = 8;
  s.n_vocab = 128256;
  s.n_ctx_train = 131072;
  return s;
}

// Phi-2 (microsoft/phi-2 config.json): 32 blocks of 2560, FFN 10240, 32 heads of 80 (no GQA),
// vocab 51200, context 2048; biased projections and output head (arch phi2).
inline ModelSpec phi2_2b7() {
  ModelSpec s;
  s.arch = "phi2";
  s.n_layer = 32;
  s.n_embd = 2560;
  s.n_ff = 10240;
  s.n_head = 32;
  s.n_head_kv = 32;
  s.n_vocab = 51200;
  s.n_ctx_train = 2048;
  return s;
}

// Qwen3-VL 2B's text model (Qwen/Qwen3-VL-2B-Instruct config.json): 28 blocks of 2048, FFN
// 6144, 16 heads of 128, 8 KV heads, tied, vocab 151936, context 262144; the vision config's
// deepstack_visual_indexes [5, 11, 17] make n_deepstack_layers 3 (arch qwen3vl).
inline ModelSpec qwen3vl_2b() {
  ModelSpec s;
  s.arch = "qwen3vl";
  s.n_layer = 28;
  s.n_deepstack = 3;
  s.n_embd = 2048;
  s.n_ff = 6144;
  s.n_head = 16;
  s.n_head_kv = 8;
  s.key_length = 128;
  s.value_length = 128;
  s.n_vocab = 151936;
  s.n_ctx_train = 262144;
  s.tied_embeddings = true;
  return s;
}

// Not a real model: a small command-r with Command-R+'s 64 blocks, the count from which
// llama.cpp gives each block 2-D per-head Q/K layer norms (src/models/command-r.cpp); 8 heads
// of 128, 2 KV heads, a tied head.
inline ModelSpec command_r_plus_shape() {
  ModelSpec s;
  s.arch = "command-r";
  s.n_layer = 64;
  s.n_embd = 1024;
  s.n_ff = 2816;
  s.n_head = 8;
  s.n_head_kv = 2;
  s.n_vocab = 32000;
  s.n_ctx_train = 8192;
  s.tied_embeddings = true;
  return s;
}

inline ModelSpec llama32_3b() {
  ModelSpec s = llama31_8b();
  s.n_layer = 28;
  s.n_embd = 3072;
  s.n_ff = 8192;
  s.n_head = 24;
  s.tied_embeddings = true;
  return s;
}

inline ModelSpec phi4_14b() {
  ModelSpec s;
  s.arch = "phi3";
  s.n_layer = 40;
  s.n_embd = 5120;
  s.n_ff = 17920;
  s.n_head = 40;
  s.n_head_kv = 10;
  s.n_vocab = 100352;
  s.n_ctx_train = 16384;
  return s;
}

inline ModelSpec mistral_7b() {
  ModelSpec s = llama31_8b();
  s.n_vocab = 32768;
  s.n_ctx_train = 32768;
  return s;
}

inline ModelSpec gemma3_27b() {
  ModelSpec s;
  s.arch = "gemma3";
  s.n_layer = 62;
  s.n_embd = 5376;
  s.n_ff = 21504;
  s.n_head = 32;
  s.n_head_kv = 16;
  s.key_length = 128;
  s.value_length = 128;
  s.n_vocab = 262144;
  s.n_ctx_train = 131072;
  s.tied_embeddings = true;
  s.swa = SlidingWindow{.window = 1024, .period = 6};
  return s;
}

inline ModelSpec gpt_oss_20b() {
  ModelSpec s;
  s.arch = "gpt-oss";
  s.n_layer = 24;
  s.n_embd = 2880;
  s.n_ff = 0;
  s.n_head = 64;
  s.n_head_kv = 8;
  s.key_length = 64;
  s.value_length = 64;
  s.n_vocab = 201088;
  s.n_ctx_train = 131072;
  s.swa = SlidingWindow{.window = 128, .period = 2};
  s.moe = Moe{.n_expert = 32, .n_expert_used = 4, .n_ff_exp = 2880};
  return s;
}

inline ModelSpec deepseek_v3() {
  ModelSpec s;
  s.arch = "deepseek2";
  s.n_layer = 61;
  s.n_embd = 7168;
  s.n_ff = 18432;
  s.n_head = 128;
  s.n_head_kv = 128;
  s.key_length = 192;
  s.value_length = 128;
  s.n_vocab = 129280;
  s.n_ctx_train = 163840;
  s.mla = Mla{.q_lora_rank = 1536,
              .kv_lora_rank = 512,
              .qk_nope_head_dim = 128,
              .qk_rope_head_dim = 64,
              .v_head_dim = 128};
  s.moe = Moe{.n_expert = 256,
              .n_expert_used = 8,
              .n_ff_exp = 2048,
              .n_expert_shared = 1,
              .n_ff_shexp = 2048,
              .n_leading_dense = 3};
  return s;
}

// The qwen35/qwen3next layout (full_attention_interval 4): every 4th block keeps
// attention with the spec's n_head_kv KV heads, the others a recurrent Gated DeltaNet.
inline void every_4th_block_attends(ModelSpec& s) {
  const auto n = static_cast<std::size_t>(s.n_layer);
  s.n_head_kv_per_layer.assign(n, 0);
  s.recurrent.layers.assign(n, false);
  for (std::size_t il = 0; il < n; ++il) {
    const bool full = (il + 1) % 4 == 0;
    s.n_head_kv_per_layer[il] = full ? s.n_head_kv : 0;
    s.recurrent.layers[il] = !full;
  }
}

// Qwen3.6-27B (qwen35): 64 layers, every 4th full attention, Gated DeltaNet elsewhere
// (llama.cpp src/llama-memory-recurrent.cpp, checked against a published log).
inline ModelSpec qwen36_27b() {
  ModelSpec s;
  s.arch = "qwen35";
  s.n_layer = 64;
  s.n_embd = 5120;
  s.n_ff = 17408;
  s.n_head = 24;
  s.n_head_kv = 4;
  s.key_length = 256;
  s.value_length = 256;
  s.n_vocab = 248320;
  s.n_ctx_train = 262144;
  s.recurrent = Recurrent{.conv_kernel = 4,
                          .inner_size = 6144,
                          .state_size = 128,
                          .group_count = 16,
                          .time_step_rank = 48};
  every_4th_block_attends(s);
  return s;
}

// Granite-4.0-H-Tiny as its GGUF header has it (a gguf-dump of granite-4.0-h-tiny in
// danbev/learning-ai notes/granite-model.md @33b65916): 40 blocks, attention (4 KV heads)
// on blocks 5, 15, 25, 35 and Mamba2 elsewhere, 64 experts of 512 with a shared 1024,
// ssm conv 4, inner 3072, state 128, 1 group, 48 SSM heads, no output.weight.
inline ModelSpec granite4_tiny_h() {
  ModelSpec s;
  s.arch = "granitehybrid";
  s.n_layer = 40;
  s.n_embd = 1536;
  s.n_ff = 512;
  s.n_head = 12;
  s.n_head_kv = 4;
  s.n_vocab = 100352;
  s.n_ctx_train = 131072;
  s.tied_embeddings = true;
  s.moe = Moe{.n_expert = 64, .n_expert_used = 6, .n_ff_exp = 512, .n_ff_shexp = 1024};
  s.recurrent = Recurrent{.conv_kernel = 4,
                          .inner_size = 3072,
                          .state_size = 128,
                          .group_count = 1,
                          .time_step_rank = 48};
  s.n_head_kv_per_layer.assign(40, 0);
  s.recurrent.layers.assign(40, true);
  for (int il = 5; il < 40; il += 10) {
    s.n_head_kv_per_layer[static_cast<std::size_t>(il)] = 4;
    s.recurrent.layers[static_cast<std::size_t>(il)] = false;
  }
  return s;
}

// Granite-4.0-H-350M, the Nano hybrid without experts (the GGUF metadata of
// ollama.com/ibm/granite4:350m-h-base-q4_K_S, blob fe0b87f28220: expert_count 0, FFN 2048,
// ssm inner 1536, state 128, 1 group, 48 SSM heads; the KV heads and attention blocks from a copy
// of its config.json): 32 blocks, attention (4 KV heads) on blocks 10, 13, 17, 27.
inline ModelSpec granite4_h_350m() {
  ModelSpec s;
  s.arch = "granitehybrid";
  s.n_layer = 32;
  s.n_embd = 768;
  s.n_ff = 2048;
  s.n_head = 12;
  s.n_head_kv = 4;
  s.n_vocab = 100352;
  s.n_ctx_train = 32768;
  s.tied_embeddings = true;
  s.recurrent = Recurrent{.conv_kernel = 4,
                          .inner_size = 1536,
                          .state_size = 128,
                          .group_count = 1,
                          .time_step_rank = 48};
  s.n_head_kv_per_layer.assign(32, 0);
  s.recurrent.layers.assign(32, true);
  for (const std::size_t il : {10U, 13U, 17U, 27U}) {
    s.n_head_kv_per_layer[il] = 4;
    s.recurrent.layers[il] = false;
  }
  return s;
}

// Qwen3-Next 80B-A3B as llama.cpp loads it (print_info of a Q4_K_M file in
// lmstudio-ai/lmstudio-bug-tracker#1266 and ggml-org/llama.cpp#16095, the GGUF keys in
// ggml-org/llama.cpp#17578): 48 blocks, gated attention (16 heads, 2 KV heads of 256) on every
// 4th and a Gated DeltaNet elsewhere (ssm conv 4, inner 4096, state 128, 16 groups, 32 V
// heads), 512 experts of 512 (10 used) plus a shared expert of 512, untied, vocab 151936.
inline ModelSpec qwen3_next_80b() {
  ModelSpec s;
  s.arch = "qwen3next";
  s.n_layer = 48;
  s.n_embd = 2048;
  s.n_ff = 5120;
  s.n_head = 16;
  s.n_head_kv = 2;
  s.key_length = 256;
  s.value_length = 256;
  s.n_vocab = 151936;
  s.n_ctx_train = 262144;
  s.moe = Moe{.n_expert = 512, .n_expert_used = 10, .n_ff_exp = 512, .n_ff_shexp = 512};
  s.recurrent = Recurrent{.conv_kernel = 4,
                          .inner_size = 4096,
                          .state_size = 128,
                          .group_count = 16,
                          .time_step_rank = 32};
  every_4th_block_attends(s);
  return s;
}

// Gemma 3n E2B's text model (transformers' Gemma3nTextConfig with E2B's 30 blocks and FFN
// 8192; llama.cpp src/models/gemma3n.cpp): window 512 on 4 of every 5 blocks, KV only in
// blocks 0-19, vocab padded to 262400 by the converter.
inline ModelSpec gemma3n_e2b() {
  ModelSpec s;
  s.arch = "gemma3n";
  s.n_layer = 30;
  s.n_embd = 2048;
  s.n_ff = 8192;
  s.n_head = 8;
  s.n_head_kv = 2;
  s.key_length = 256;
  s.value_length = 256;
  s.n_vocab = 262400;
  s.n_ctx_train = 32768;
  s.tied_embeddings = true;
  s.swa = SlidingWindow{.window = 512, .period = 5};
  return s;
}

// BGE-M3 (bert, XLM-RoBERTa): 24 blocks, 1024 wide, FFN 4096, 16 heads, vocab 250002,
// 8192 positions; an encoder without KV cache (models/embedding.yaml, bge-m3).
inline ModelSpec bge_m3() {
  ModelSpec s;
  s.arch = "bert";
  s.n_layer = 24;
  s.n_embd = 1024;
  s.n_ff = 4096;
  s.n_head = 16;
  s.n_head_kv = 16;
  s.n_vocab = 250002;
  s.n_ctx_train = 8192;
  s.tied_embeddings = true;
  s.causal = false;
  return s;
}

// Nomic Embed Text v1.5 (nomic-bert: rope, fused QKV, SwiGLU): 12 blocks, 768 wide, FFN 3072,
// 12 heads, vocab 30528, 2048 positions (models/embedding.yaml, nomic-embed-text).
inline ModelSpec nomic_embed_text() {
  ModelSpec s;
  s.arch = "nomic-bert";
  s.n_layer = 12;
  s.n_embd = 768;
  s.n_ff = 3072;
  s.n_head = 12;
  s.n_head_kv = 12;
  s.n_vocab = 30528;
  s.n_ctx_train = 2048;
  s.tied_embeddings = true;
  s.causal = false;
  return s;
}

// EmbeddingGemma 300M (gemma-embedding: gemma3's blocks, bidirectional): 24 blocks, 768 wide,
// FFN 1152, 3 heads and 1 KV head of 256, vocab 262144, 2048 positions, a window of 512 on 5
// of every 6 blocks (models/embedding.yaml, embeddinggemma-300m).
inline ModelSpec embeddinggemma_300m() {
  ModelSpec s;
  s.arch = "gemma-embedding";
  s.n_layer = 24;
  s.n_embd = 768;
  s.n_ff = 1152;
  s.n_head = 3;
  s.n_head_kv = 1;
  s.key_length = 256;
  s.value_length = 256;
  s.n_vocab = 262144;
  s.n_ctx_train = 2048;
  s.tied_embeddings = true;
  s.causal = false;
  s.swa = SlidingWindow{.window = 512, .period = 6};
  return s;
}

// Llama 4 Scout 17B-16E's text model (the catalog's llama4-scout; src/models/llama4.cpp):
// chunked attention (window 8192) on 3 of every 4 blocks, 16 routed experts of 8192 with one
// used and a shared expert of the same width in every block.
inline ModelSpec llama4_scout() {
  ModelSpec s;
  s.arch = "llama4";
  s.n_layer = 48;
  s.n_embd = 5120;
  s.n_ff = 16384;
  s.n_head = 40;
  s.n_head_kv = 8;
  s.n_vocab = 202048;
  s.n_ctx_train = 10485760;
  s.moe = Moe{.n_expert = 16, .n_expert_used = 1, .n_ff_exp = 8192};
  s.swa = SlidingWindow{.window = 8192, .period = 4};
  return s;
}

// Llama 3.2 Vision 11B's text model as Ollama converts it (transformers' MllamaTextConfig
// defaults, which are 11B's; Ollama convert/convert_mllama.go): Llama 3.1 8B's shape with
// cross-attention blocks 3, 8, ..., 38 that cache one image of 4 tiles x 1601 tokens
// (Ollama fs/ggml/ggml.go GraphSize, mllama).
inline ModelSpec mllama_11b() {
  ModelSpec s = llama31_8b();
  s.arch = "mllama";
  s.n_layer = 40;
  s.cross = CrossAttention{.layers = {3, 8, 13, 18, 23, 28, 33, 38}, .tokens = 4 * 1601};
  return s;
}

}  // namespace vramplan::test
