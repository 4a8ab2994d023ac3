// One llama.cpp architecture as every part of vramplan sees it: the tensors of a block and
// their shapes (tensors.hpp), how its graph differs from the llama block (reserve_graph.hpp),
// which GGUF keys set its sliding window and recurrent layers (io/gguf_model.hpp) and which
// Hugging Face names map to it (io/hf_config.hpp, io/hf_model.hpp). A new llama.cpp family is
// one entry of the table in src/core/architectures.cpp, plus graph-builder code only for ops
// no family had (docs/architecture.md, "How to add…", "An architecture").
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace vramplan {

// Hugging Face names of an architecture: transformers' class (config.json architectures[0])
// and model_type, as convert_hf_to_gguf.py registers them.
struct HfName {
  std::string_view hf_class;
  std::string_view model_type;
};

// A default transformers' config class applies when config.json leaves the key out.
struct HfDefault {
  std::string_view key;
  std::int64_t value;
};

// The sliding window as llama.cpp's load_hparams sets it for the architecture (src/models/
// <arch>.cpp, set_swa_pattern): from {arch}.attention.sliding_window and, where the family
// takes it from the file, {arch}.attention.sliding_window_pattern.
struct SlidingWindowRule {
  bool applies = true;              // false: llama.cpp ignores the keys (phi3)
  bool pattern_from_file = true;    // the pattern key gives the period or per-layer flags
  bool needs_pattern = true;        // with pattern_from_file: no pattern key, no SWA
  std::int32_t period = 0;          // fixed period, or the default without the pattern key
  bool dense_first = false;         // set_swa_pattern(period, dense_first)
  std::int64_t default_window = 0;  // when the window key is absent (0: no SWA)
  std::int64_t fixed_window = 0;    // llama.cpp's own window whenever the key is non-zero
  std::int32_t only_n_layer = 0;    // SWA only for this block count (exaone4: 64)
};

// Which blocks carry recurrent state (llama.cpp's recurrent_layer_arr per load_hparams).
enum class Recurrence {
  none,
  interval,         // {arch}.attention.recurrent_layers, else every layer but each
                    // full_attention_interval-th (default 4); those layers have no KV
  where_no_kv,      // layers with head_count_kv 0
  where_no_kv_ffn,  // layers with head_count_kv 0 and feed_forward_length 0
  all,              // every layer (falcon-h1 keeps KV as well)
  all_without_kv,   // every layer, and no layer has KV (mamba)
};

// RMSNorm (weight), LayerNorm (weight and bias) or LayerNorm with a weight only (command-r's
// LLM_NORM without a bias tensor).
enum class Norm { rms, layer, layer_no_bias };
enum class Qkv { separate, fused, mla };
enum class QkNorm {
  none,
  per_head,     // {head_dim} weights, applied per head before rope (qwen3, gemma3)
  whole,        // {n_head * head_dim} weights over the whole projection (olmo2)
  per_head_2d,  // {head_dim, n_head} weights (Command-R+)
};
enum class Ffn {
  gated,        // ffn_gate, ffn_up, ffn_down; SwiGLU or GeGLU (same sizes)
  fused_gated,  // ffn_up {n_embd, 2 n_ff} split by the GLU, ffn_down (phi3)
  plain,        // ffn_up + bias, GELU, ffn_down + bias (starcoder2, bert)
};
enum class Routing {
  softmax_norm,  // softmax over all experts, top-k, the k weights divided by their sum
  softmax,       // the same, the k weights used as they are (DeepSeek-V2-Lite)
  oai,           // router bias, top-k of the logits, softmax over the k, biased experts
};

// How the rebuilt graph (reserve_graph.cpp) runs this family: which shapes were checked
// node by node against llama.cpp, and the order-of-ops details the allocator sees.
struct GraphRules {
  bool dense = false;                // checked without experts
  bool moe = false;                  // checked with routed experts in every block
  bool moe_extras = false;           // ... also with leading dense blocks and shared experts
  bool moe_interleaved = false;      // ... also with MoE on every every_n-th block only
  bool swa = false;                  // checked with a sliding window
  bool scale_embd = false;           // token embeddings scaled (gemma: sqrt(n_embd); granite)
  bool scale_residual = false;       // attention and FFN outputs scaled before their add (granite)
  bool scale_logits = false;         // the logits scaled (granite's 1 / logit_scale)
  bool scale_q = false;              // Q scaled after rope (gemma)
  bool attn_softcap = false;         // tanh soft-capping of the KQ scores without flash attention
  bool logit_softcap = false;        // tanh soft-capping of the logits
  bool v_before_k = true;            // Q, V, K order (build_attn's expands) rather than Q, K, V
  bool outputs_after_layer = false;  // out_ids selects after the last layer, not mid-layer
  bool hidden_output = false;        // the last layer's output is a graph output
  bool residual_first = false;       // the layer's last add takes the residual first (phi3)
  // Attention and FFN both read the block's one norm and are summed with the residual:
  // (attention + FFN) + residual (phi2), or with parallel_ffn_first (FFN + residual) +
  // attention, whose output projection ggml then reaches after the FFN (command-r).
  bool parallel = false;
  bool parallel_ffn_first = false;
  // M-RoPE (ggml_rope_multi): four position ids per token (llama_hparams::n_pos_per_embd).
  bool mrope = false;
  // Checked with DeepStack inputs (ModelSpec::n_deepstack > 0): build_inp_embd pads the token
  // embeddings to n_embd * (1 + n_deepstack) and the first blocks add a slice of them to their
  // outputs (src/models/qwen3vl.cpp).
  bool deepstack = false;
  // llama4 (src/models/llama4.cpp): every 4th block without rope, its Q times the temperature
  // input instead; weightless RMS norms of the roped Q and K (use_kq_norm, which
  // load_arch_hparams turns off for 128 experts: Maverick); sigmoid routing, the experts
  // picked by the router's logits and their weight applied to the input (build_moe_ffn's
  // weight_before_ffn).
  bool llama4 = false;
};

// Gemma 3n's widths, fixed in llama.cpp (llama-hparams.h: n_altup, n_embd_altup, laurel_rank;
// load_hparams does not read them from the file).
inline constexpr std::int64_t kAltupStreams = 4;
inline constexpr std::int64_t kAltupPerLayerEmbd = 256;  // per block and token
inline constexpr std::int64_t kLaurelRank = 64;

struct Architecture {
  std::string_view name;  // general.architecture

  // --- tensors of a block (src/models/<arch>.cpp load_arch_tensors) ----------------------
  bool tensor_layout = false;  // false: no generator (GGUF and safetensors files only)
  bool encoder = false;        // no KV cache, token types and an embedding norm, no output head
  // Bidirectional attention without the encoder's extra tensors: no KV cache, the decoder's
  // tensors (gemma-embedding: llama.cpp sets causal_attn false whatever the file says).
  bool bidirectional = false;
  // sentence-transformers projections after the output norm: dense_2 {n_embd, 4 n_embd} and
  // dense_3 {4 n_embd, n_embd} (EmbeddingGemma's 768 -> 3072 -> 768), and no output head.
  bool dense_head = false;
  bool learned_positions = false;  // position_embd.weight {n_embd, n_ctx_train} (bert)
  Norm norm = Norm::rms;
  bool attn_norm = true;                   // norm before attention
  std::string_view ffn_norm = "ffn_norm";  // norm before the FFN ("" = none)
  std::string_view post_attn_norm;         // norm after attention ("" = none)
  std::string_view post_ffn_norm;          // norm after the FFN ("" = none)
  Qkv qkv = Qkv::separate;
  bool qkv_bias = false;  // Q/K/V biases (one attn_qkv.bias with a fused QKV)
  bool out_bias = false;
  QkNorm qk_norm = QkNorm::none;
  std::int32_t qk_norm_from_layers = 0;  // Q/K norms only with at least this many blocks
  bool attn_sinks = false;               // attn_sinks.weight {n_head} (gpt-oss)
  // attn_q {n_embd, 2 n_head head_dim}: the query and a per-head output gate in one matrix
  // (qwen3next's gated attention; create_tensor_qkv with n_embd_head_k * n_head * 2).
  bool gated_q = false;
  Ffn ffn = Ffn::gated;
  bool moe = false;  // routed experts where the spec has them
  Routing routing = Routing::softmax_norm;
  bool expert_biases = false;  // router and expert biases (gpt-oss)
  bool shared_expert = false;  // every MoE block has a shared expert (else only a width)
  // ffn_gate_inp_shexp.weight {n_embd}: a sigmoid gate on the shared expert's output
  // (qwen3next). The checkpoint stores it as a {1, n_embd} matrix, so convert_hf_to_gguf.py
  // writes it in the float type (F16) and llama-quantize, seeing one dimension, keeps it.
  bool shared_expert_gate = false;
  // exp_probs_b.bias, V3-style sigmoid routing with a selection bias, from this many experts
  // up (DeepSeek-V3 has 256, V2 160; the spec has no gating field). 0 = never.
  std::int32_t selection_bias_from_experts = 0;
  bool native_mxfp4_experts = false;  // checkpoints ship MXFP4 experts; every file keeps them
  bool output_bias = false;           // output.bias {n_vocab} after the head (phi2)
  // Recurrent blocks (spec.recurrent.layers) carry a Mamba2 mixer (ssm_in, ssm_conv1d,
  // ssm_dt, ssm_a, ssm_d, ssm_norm, ssm_out) in place of attention (granitehybrid).
  bool mamba2_mixer = false;
  // Recurrent blocks carry a Gated DeltaNet mixer (qwen3next, src/models/qwen3next.cpp
  // load_arch_tensors) in place of attention: ssm_in {n_embd, 2 key_dim + 2 value_dim}
  // (Q, K, V and the output gate Z), ssm_conv1d {conv_kernel, 2 key_dim + value_dim},
  // ssm_dt.bias and ssm_a {V heads}, ssm_ba {n_embd, 2 V heads}, ssm_norm {head_v_dim},
  // ssm_out {value_dim, n_embd}; key_dim = state_size x group_count (K heads), value_dim =
  // state_size x time_step_rank (V heads). ssm_in is the layout of the files converted up to
  // early 2026 (807 tensors for the 80B); later converters split it into attn_qkv and
  // attn_gate, the same elements.
  bool gated_delta_net = false;
  // Gemma 3n's extra tensors (src/models/gemma3n.cpp, load_arch_tensors): per-layer token
  // embeddings {256 n_layer, n_vocab} with their projection and norm, AltUp's stream
  // projections (4 streams), and per block the per-layer input gate and projection, AltUp's
  // router and coefficients, and the LAuReL low-rank residual (the widths above).
  bool altup = false;
  // Only Ollama's own (Go) engine ran the family (mllama: Ollama model/models/mllama, up to
  // v0.24.0), which Ollama 0.30 removed; llama.cpp and vLLM have no loader for it. No engine
  // release vramplan follows loads it, so every plan of it is refused.
  bool ollama_engine_only = false;

  GraphRules graph;  // rebuilt when dense or moe is set

  // --- llama-quant.cpp (llama_tensor_get_type) -------------------------------------------
  // The one model size the quantization mix looks at, LLM_TYPE_70B, which load_hparams gives
  // the family's 80-block models with grouped-query attention and other than 8 experts.
  bool quant_70b_at_80_blocks = false;
  bool quant_falcon_rules = false;  // falcon's own output, attn_output and ffn_down rules

  // --- GGUF keys (llama_model::load_hparams) ---------------------------------------------
  SlidingWindowRule swa;
  Recurrence recurrence = Recurrence::none;
  // Only blocks below this index keep a KV cache of their own; later blocks read the cache of
  // the last block of the same kind (sliding or global) below it (llama.cpp's
  // n_layer_kv_from_start and the reuse callback in llama_model::create_memory). 0 = every
  // block keeps its own.
  std::int32_t kv_layers_from_start = 0;
  // load_hparams reads {arch}.n_deepstack_layers (ModelSpec::n_deepstack; src/models/qwen3vl.cpp,
  // qwen3vlmoe.cpp); the catalog takes it from the vision tower's DeepStack list.
  bool deepstack_layers = false;

  // --- Hugging Face config.json (convert_hf_to_gguf.py) -----------------------------------
  std::span<const HfName> hf_names;
  std::span<const HfDefault> hf_defaults;  // transformers' config defaults
  bool hf_tied_default = false;            // tie_word_embeddings defaults to true
  bool hf_swa_opt_in = false;  // sliding_window counts only with use_sliding_window (qwen)
  // config.json's layer_types / sliding_window_pattern say which layers slide, before the
  // fixed period of `swa` (gpt-oss); otherwise a fixed period wins over them.
  bool hf_layer_pattern_first = false;
  // A config whose rope_scaling (or rope_parameters) has rope_type "llama3" converts with
  // rope_freqs.weight (ModelSpec::rope_freqs): llama.cpp's LlamaModel.generate_extra_tensors
  // (conversion/llama.py; Llama4Model inherits it) and Ollama's llamaModel.ropeFactors
  // (convert/convert_llama.go; its llama4 converter reuses it for the text model).
  bool hf_llama3_rope_freqs = false;
  // A config whose rope_scaling has long_factor converts with rope_factors_long/short.weight
  // (ModelSpec::rope_factors): conversion/phi.py generate_extra_tensors; Ollama's
  // phi3Model.Tensors (convert/convert_phi3.go).
  bool hf_longrope_factors = false;
};

// Throws the one error line (bad_input) for a plan of an ollama_engine_only family, naming the
// architecture and saying why no followed engine release loads it.
[[noreturn]] void refuse_ollama_engine_only(std::string_view arch);

// The architecture named `name` (general.architecture); an unknown name gets the generic
// entry: no tensor layout, no rebuilt graph, the sliding window only where the file spells
// out window and pattern, no recurrent layers.
[[nodiscard]] const Architecture& architecture(std::string_view name);

// Every entry of the table.
[[nodiscard]] std::span<const Architecture> architectures();

// Whether `name` has an entry of its own.
[[nodiscard]] bool known_architecture(std::string_view name);

// The architecture a config.json names: by class first, then by model_type; nullptr when
// neither is known. Empty strings match nothing.
[[nodiscard]] const Architecture* architecture_by_hf_class(std::string_view hf_class);
[[nodiscard]] const Architecture* architecture_by_model_type(std::string_view model_type);

}  // namespace vramplan
