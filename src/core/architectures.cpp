// The architecture table. Each entry cites the llama.cpp code it reproduces (release b10309):
// tensors from src/models/<arch>.cpp (load_arch_tensors) and src/llama-arch.cpp
// (LLM_TENSOR_NAMES), hyperparameters from load_hparams (src/llama-model.cpp), Hugging Face
// names from convert_hf_to_gguf.py (@ModelBase.register) and gguf-py's tensor_mapping.py.
#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>

#include <vramplan/architecture.hpp>
#include <vramplan/error.hpp>

namespace vramplan {
namespace {

constexpr auto llama_hf = std::to_array<HfName>({{"LlamaForCausalLM", "llama"},
                                                 {"MistralForCausalLM", "mistral"},
                                                 {"MixtralForCausalLM", "mixtral"}});
constexpr auto granite_hf = std::to_array<HfName>({{"GraniteForCausalLM", "granite"}});
constexpr auto internlm2_hf = std::to_array<HfName>({{"InternLM2ForCausalLM", "internlm2"}});
constexpr auto qwen2_hf = std::to_array<HfName>({{"Qwen2ForCausalLM", "qwen2"}});
constexpr auto qwen2moe_hf = std::to_array<HfName>({{"Qwen2MoeForCausalLM", "qwen2_moe"}});
constexpr auto qwen3_hf = std::to_array<HfName>({{"Qwen3ForCausalLM", "qwen3"}});
constexpr auto qwen3moe_hf = std::to_array<HfName>({{"Qwen3MoeForCausalLM", "qwen3_moe"}});
constexpr auto gemma_hf = std::to_array<HfName>({{"GemmaForCausalLM", "gemma"}});
constexpr auto gemma2_hf = std::to_array<HfName>({{"Gemma2ForCausalLM", "gemma2"}});
constexpr auto gemma3_hf = std::to_array<HfName>(
    {{"Gemma3ForCausalLM", "gemma3_text"}, {"Gemma3ForConditionalGeneration", "gemma3"}});
constexpr auto phi3_hf = std::to_array<HfName>({{"Phi3ForCausalLM", "phi3"}});
constexpr auto phi2_hf = std::to_array<HfName>({{"PhiForCausalLM", "phi"}});
constexpr auto deepseek2_hf = std::to_array<HfName>(
    {{"DeepseekV2ForCausalLM", "deepseek_v2"}, {"DeepseekV3ForCausalLM", "deepseek_v3"}});
constexpr auto gpt_oss_hf = std::to_array<HfName>({{"GptOssForCausalLM", "gpt_oss"}});
constexpr auto starcoder2_hf = std::to_array<HfName>({{"Starcoder2ForCausalLM", "starcoder2"}});
constexpr auto command_r_hf = std::to_array<HfName>({{"CohereForCausalLM", "cohere"}});
constexpr auto cohere2_hf = std::to_array<HfName>({{"Cohere2ForCausalLM", "cohere2"}});
constexpr auto olmo2_hf = std::to_array<HfName>({{"Olmo2ForCausalLM", "olmo2"}});

// transformers' Gemma2Config / Gemma3TextConfig defaults: the text_config of the multimodal
// Gemma 3 checkpoints leaves most of these out. The two differ in vocabulary and context.
constexpr std::array<HfDefault, 9> gemma_defaults(std::int64_t vocab, std::int64_t context) {
  return {{{"vocab_size", vocab},
           {"hidden_size", 2304},
           {"intermediate_size", 9216},
           {"num_hidden_layers", 26},
           {"num_attention_heads", 8},
           {"num_key_value_heads", 4},
           {"head_dim", 256},
           {"max_position_embeddings", context},
           {"sliding_window", 4096}}};
}
constexpr auto gemma2_defaults = gemma_defaults(256000, 8192);
constexpr auto gemma3_defaults = gemma_defaults(262208, 131072);

// A fixed set_swa_pattern(period) whenever the window key is non-zero.
constexpr SlidingWindowRule fixed_period(std::int32_t period) {
  return SlidingWindowRule{.pattern_from_file = false, .period = period};
}
// Period (or per-layer flags) from the pattern key, else `period`; dense_first.
constexpr SlidingWindowRule dense_first_pattern() {
  return SlidingWindowRule{.needs_pattern = false, .period = 4, .dense_first = true};
}
constexpr Architecture encoder(std::string_view name) {
  return Architecture{.name = name, .encoder = true};
}

// BERT-style encoders (src/models/bert.cpp): token types, an embedding layer norm, post-norms
// with bias, no output head.
constexpr Architecture bert_family(std::string_view name, bool learned_positions, Qkv qkv,
                                   bool bias, Ffn ffn) {
  return Architecture{.name = name,
                      .tensor_layout = true,
                      .encoder = true,
                      .learned_positions = learned_positions,
                      .norm = Norm::layer,
                      .attn_norm = false,
                      .ffn_norm = "",
                      .post_attn_norm = "attn_output_norm",
                      .post_ffn_norm = "layer_output_norm",
                      .qkv = qkv,
                      .qkv_bias = bias,
                      .out_bias = bias,
                      .ffn = ffn,
                      // graph_encoder.cpp, checked against llama.cpp's graph
                      .graph = {.dense = true}};
}

// qwen3 and qwen3moe: per-head Q/K RMS norms, no biases (src/models/qwen3.cpp, qwen3moe.cpp).
// Qwen configs carry a sliding_window that only counts with use_sliding_window.
constexpr Architecture qwen3_family(std::string_view name, GraphRules graph,
                                    std::span<const HfName> hf) {
  return Architecture{.name = name,
                      .tensor_layout = true,
                      .qk_norm = QkNorm::per_head,
                      .moe = true,
                      .graph = graph,
                      .hf_names = hf,
                      .hf_swa_opt_in = true};
}

// Qwen3-VL's text models: qwen3's, with the DeepStack layer count read from the file.
constexpr Architecture qwen3vl_family(std::string_view name, GraphRules graph) {
  Architecture a = qwen3_family(name, graph, {});
  a.deepstack_layers = true;
  return a;
}

// gemma2 and gemma3 (src/models/gemma2*.cpp, gemma3*.cpp): gemma's scaled embeddings
// and Q, post-attention and post-FFN norms, sliding-window layers, V projected after K; gemma2
// soft-caps the scores and logits, gemma3 adds per-head Q/K norms.
constexpr Architecture gemma_post_norms(std::string_view name, QkNorm qk_norm, GraphRules softcap,
                                        SlidingWindowRule swa, std::span<const HfName> hf,
                                        std::span<const HfDefault> defaults) {
  return Architecture{.name = name,
                      .tensor_layout = true,
                      .post_attn_norm = "post_attention_norm",
                      .post_ffn_norm = "post_ffw_norm",
                      .qk_norm = qk_norm,
                      .graph = {.dense = true,
                                .swa = true,
                                .scale_embd = true,
                                .scale_q = true,
                                .attn_softcap = softcap.attn_softcap,
                                .logit_softcap = softcap.logit_softcap,
                                .v_before_k = false},
                      .swa = swa,
                      .hf_names = hf,
                      .hf_defaults = defaults,
                      .hf_tied_default = true};
}

constexpr Architecture gemma_embedding() {
  Architecture a =
      gemma_post_norms("gemma-embedding", QkNorm::per_head, {}, fixed_period(6), {}, {});
  a.bidirectional = true;
  a.dense_head = true;
  // gemma3's graph rules; the blocks over the no-cache attention are graph_encoder.cpp's.
  return a;
}

// Gemma 3n (src/models/gemma3n.cpp): gemma3's blocks (per-head Q/K norms, post norms, a
// weightless V norm) plus per-layer embeddings, AltUp and LAuReL (Architecture::altup); the
// window pattern from the file (a per-layer bool array), else period 5; only the first 20
// blocks keep a KV cache (n_layer_kv_from_start, the same for E2B's 30 and E4B's 35 blocks).
// The graph (AltUp's four streams, LAuReL, the per-layer inputs, the blocks reading an
// earlier block's cache) has a builder of its own (graph_gemma3n.cpp), not the shared one's
// rules: a.graph stays empty.
constexpr Architecture gemma3n() {
  Architecture a = gemma_post_norms(
      "gemma3n", QkNorm::per_head, {},
      SlidingWindowRule{.pattern_from_file = true, .needs_pattern = false, .period = 5}, {}, {});
  a.graph = {};
  a.altup = true;
  a.kv_layers_from_start = 20;
  return a;
}

const auto& table() {
  static const auto archs = std::to_array<Architecture>({
      // Llama 2/3.x, Mistral, Mixtral (experts on every block), Granite-MoE-shared
      // (src/models/llama.cpp). rope_freqs.weight ({head_dim/2} F32) where the spec says the
      // file has it (Llama 3.1-style rope scaling, ModelSpec::rope_freqs): the third source of
      // the replay's ROPE nodes (reserve_graph.cpp).
      {.name = "llama",
       .tensor_layout = true,
       .moe = true,
       .graph = {.dense = true, .moe = true},
       .quant_70b_at_80_blocks = true,
       .hf_names = llama_hf,
       .hf_llama3_rope_freqs = true},
      // A llama block with granite's multipliers (src/models/granite.cpp): the embeddings
      // (build_inp_embd's f_embedding_scale), the attention and FFN outputs before their
      // residual adds (f_residual_scale), the logits (1 / f_logit_scale), each a SCALE node.
      {.name = "granite",
       .tensor_layout = true,
       .moe = true,
       .graph = {.dense = true, .scale_embd = true, .scale_residual = true, .scale_logits = true},
       .hf_names = granite_hf},
      {.name = "internlm2",
       .tensor_layout = true,
       .moe = true,
       .graph = {.dense = true},
       .hf_names = internlm2_hf},
      // Q/K/V biases (src/models/qwen2.cpp). Qwen configs carry a sliding_window that only
      // counts with use_sliding_window (transformers' default false).
      {.name = "qwen2",
       .tensor_layout = true,
       .qkv_bias = true,
       .graph = {.dense = true},
       .quant_70b_at_80_blocks = true,
       .hf_names = qwen2_hf,
       .hf_swa_opt_in = true},
      {.name = "qwen2moe", .hf_names = qwen2moe_hf, .hf_swa_opt_in = true},
      qwen3_family("qwen3", {.dense = true}, qwen3_hf),
      qwen3_family("qwen3moe", {.moe = true}, qwen3moe_hf),
      // Qwen3-VL text models (src/models/qwen3vl.cpp, qwen3vlmoe.cpp): qwen3's tensors; the
      // vision tower (Ollama: inline v.* tensors or a separate projector) is the catalog's
      // projector. M-RoPE (four positions per token); build_inp_embd pads the token embeddings
      // to n_embd * (1 + n_deepstack_layers) and the first n_deepstack_layers blocks add a
      // slice of them to their outputs (the DeepStack features).
      qwen3vl_family("qwen3vl", {.dense = true, .mrope = true, .deepstack = true}),
      qwen3vl_family("qwen3vlmoe", {.moe = true, .mrope = true, .deepstack = true}),
      // Gemma: scaled embeddings and Q, a tied head by default (src/models/gemma.cpp).
      {.name = "gemma",
       .tensor_layout = true,
       .graph = {.dense = true, .scale_embd = true, .scale_q = true},
       .hf_names = gemma_hf,
       .hf_tied_default = true},
      gemma_post_norms("gemma2", QkNorm::none, {.attn_softcap = true, .logit_softcap = true},
                       {.pattern_from_file = false, .period = 2, .default_window = 4096}, gemma2_hf,
                       gemma2_defaults),
      gemma_post_norms("gemma3", QkNorm::per_head, {}, fixed_period(6), gemma3_hf, gemma3_defaults),
      // EmbeddingGemma (src/models/gemma-embedding.cpp): gemma3's blocks with bidirectional
      // attention and no KV cache (load_hparams sets causal_attn false and a symmetric window,
      // period 6), mean pooling, and the sentence-transformers dense_2/dense_3 projections in
      // place of the output head (convert_hf_to_gguf.py --sentence-transformers-dense-modules;
      // Ollama's convert_embeddinggemma.go always writes them).
      gemma_embedding(),
      gemma3n(),
      {.name = "gemma4", .hf_tied_default = true},
      // Fused QKV and fused gate+up written as ffn_up {n_embd, 2 n_ff}; Q scaled after rope
      // (src/models/phi3.cpp); llama.cpp disables SWA for phi3 even when the key is there.
      // rope_factors_long/short.weight ({rope_dim/2} F32 each) where the spec says the file has
      // them (LongRoPE: the 128k models, Phi-3.5, Phi-4-mini; ModelSpec::rope_factors).
      {.name = "phi3",
       .tensor_layout = true,
       .qkv = Qkv::fused,
       .ffn = Ffn::fused_gated,
       .graph = {.dense = true, .residual_first = true},
       .swa = {.applies = false},
       .hf_names = phi3_hf,
       .hf_longrope_factors = true},
      // Phi-2 and Phi-1.5 (src/models/phi2.cpp): LayerNorm with bias, attention and a GELU FFN
      // in parallel off one norm, biases on every projection and on the output head
      // (output.bias). Q/K/V fused as convert_hf_to_gguf.py wrote the original Wqkv
      // checkpoints (Ollama's phi files); llama.cpp loads separate Q/K/V as well
      // (create_tensor_qkv), the same elements.
      {.name = "phi2",
       .tensor_layout = true,
       .norm = Norm::layer,
       .ffn_norm = "",
       .qkv = Qkv::fused,
       .qkv_bias = true,
       .out_bias = true,
       .ffn = Ffn::plain,
       .output_bias = true,
       .graph = {.dense = true, .parallel = true},
       .hf_names = phi2_hf},
      // Mistral Small 3.1/3.2 as Ollama converts them (convert/convert_mistral.go:
      // general.architecture "mistral3", the Pixtral vision tower's v.* and mm.* tensors in
      // the same file, which the catalog counts as its projector). The text model is llama's
      // layout, and src/models/mistral3.cpp builds llama's graph: its one extra op, a Q
      // temperature scale, exists only when the file has attention.temperature_scale
      // (Ministral 3 / Mistral Large 3), which Mistral Small 3.1/3.2 files do not.
      {.name = "mistral3", .tensor_layout = true, .graph = {.dense = true}},
      // Qwen2-VL / Qwen2.5-VL text models: qwen2's layout (Q/K/V biases; llama-model.cpp
      // loads QWEN2VL with QWEN2). llama.cpp's converter writes "qwen2vl" with the vision
      // tower in a separate mmproj file; Ollama writes "qwen25vl" with the tower inline
      // (convert/convert_qwen25vl.go), counted as the projector. Ollama 0.30+'s llama-server
      // loads that file as qwen2vl (llama/compat/llama-ollama-compat.cpp, handle_qwen25vl:
      // qwen25vl.* keys renamed, rope.mrope_section padded to rope.dimension_sections, v.* and
      // mm.* tensors skipped). src/models/qwen2vl.cpp is qwen2's graph with M-RoPE
      // (ggml_rope_multi, 4 positions per token): rebuilt.
      {.name = "qwen2vl",
       .tensor_layout = true,
       .qkv_bias = true,
       .graph = {.dense = true, .mrope = true},
       .hf_swa_opt_in = true},
      {.name = "qwen25vl",
       .tensor_layout = true,
       .qkv_bias = true,
       .graph = {.dense = true, .mrope = true},
       .hf_swa_opt_in = true},
      // Llama 3.2 Vision as Ollama converts and runs it (convert/convert_mllama.go, model/
      // models/mllama, v0.24.0): llama's self-attention blocks plus cross-attention blocks
      // (spec.cross: tensors in tensors.cpp, an image cache in kv_cache.cpp). The vision
      // tower's v.* and the projector's mm.* tensors sit in the same file and are the
      // catalog's projector. rope_freqs.weight is not emitted (the spec does not say it). llama.cpp
      // has no
      // loader for it and Ollama 0.30 removed its own engine: planned for Ollama's engine only.
      // The graph (cross-attention over the image tokens) is not rebuilt: closed forms.
      {.name = "mllama", .tensor_layout = true, .ollama_engine_only = true},
      // DeepSeek-V2/V3/R1, Kimi-K2, GLM-4.7-Flash: MLA with kv_b split into attn_k_b /
      // attn_v_b as the current converter writes it, shared experts, leading dense blocks,
      // NextN blocks (src/models/deepseek2.cpp). The graph is rebuilt for V2-Lite-style
      // models: no Q LoRA, softmax routing with the k weights used as they are.
      {.name = "deepseek2",
       .tensor_layout = true,
       .qkv = Qkv::mla,
       .moe = true,
       .routing = Routing::softmax,
       .shared_expert = true,
       .selection_bias_from_experts = 256,
       .graph = {.moe = true, .moe_extras = true},
       .hf_names = deepseek2_hf},
      // gpt-oss: attention sinks, biases everywhere, a post-attention norm that feeds the MoE
      // (no ffn_norm), biased experts in MXFP4 (src/models/openai-moe.cpp).
      {.name = "gpt-oss",
       .tensor_layout = true,
       .ffn_norm = "post_attention_norm",
       .qkv_bias = true,
       .out_bias = true,
       .attn_sinks = true,
       .moe = true,
       .routing = Routing::oai,
       .expert_biases = true,
       .native_mxfp4_experts = true,
       .graph = {.moe = true,
                 .moe_extras = true,
                 .swa = true,
                 .v_before_k = false,
                 .outputs_after_layer = true,
                 .hidden_output = true},
       .swa = fixed_period(2),
       .hf_names = gpt_oss_hf,
       .hf_layer_pattern_first = true},
      // Command-R: weight-only LayerNorms, attention and FFN in parallel off one norm, a tied
      // head, the logits scaled by logit_scale; Command-R+ (64 blocks) adds 2-D per-head Q/K
      // layer norms (src/models/command-r.cpp).
      {.name = "command-r",
       .tensor_layout = true,
       .norm = Norm::layer_no_bias,
       .ffn_norm = "",
       .qk_norm = QkNorm::per_head_2d,
       .qk_norm_from_layers = 64,
       .graph = {.dense = true, .scale_logits = true, .parallel = true, .parallel_ffn_first = true},
       .hf_names = command_r_hf,
       .hf_tied_default = true},
      {.name = "cohere2", .swa = fixed_period(4), .hf_names = cohere2_hf, .hf_tied_default = true},
      // LayerNorm with bias, biases on every projection, a GELU FFN (src/models/starcoder2.cpp).
      {.name = "starcoder2",
       .tensor_layout = true,
       .norm = Norm::layer,
       .qkv_bias = true,
       .out_bias = true,
       .ffn = Ffn::plain,
       .graph = {.dense = true},
       .hf_names = starcoder2_hf},
      // Post-norms only, Q/K norms over the whole projection (src/models/olmo2.cpp).
      {.name = "olmo2",
       .tensor_layout = true,
       .attn_norm = false,
       .ffn_norm = "",
       .post_attn_norm = "post_attention_norm",
       .post_ffn_norm = "post_ffw_norm",
       .qk_norm = QkNorm::whole,
       .graph = {.dense = true},
       .swa = fixed_period(4),
       .hf_names = olmo2_hf},
      // MoE on every interleave_moe_layer_step-th block with one shared expert of the expert
      // width, dense FFN elsewhere; chunked attention, window 8192 unless the key is 0
      // (src/models/llama4.cpp). The graph is rebuilt for MoE on every block with Q/K norms
      // (Scout) and on every second one without (Maverick; reserve_graph.cpp traits()), K
      // expanded before V.
      {.name = "llama4",
       .tensor_layout = true,
       .moe = true,
       .shared_expert = true,
       .graph = {.moe = true,
                 .moe_extras = true,
                 .moe_interleaved = true,
                 .swa = true,
                 .v_before_k = false,
                 .llama4 = true},
       .swa =
           {.pattern_from_file = false, .period = 4, .default_window = 8192, .fixed_window = 8192},
       .hf_llama3_rope_freqs = true},
      // bert has learned positions and biased Q/K/V; nomic-bert has rope, a fused bias-free
      // QKV and a gated FFN.
      bert_family("bert", true, Qkv::separate, true, Ffn::plain),
      bert_family("nomic-bert", false, Qkv::fused, false, Ffn::gated),
      encoder("nomic-bert-moe"),
      encoder("jina-bert-v2"),
      encoder("jina-bert-v3"),
      encoder("neo-bert"),
      encoder("eurobert"),
      encoder("t5encoder"),
      // TODO: the period of these dense-first architectures is taken from the pattern key
      // (else 4); not checked against their llama.cpp loaders.
      {.name = "modern-bert", .encoder = true, .swa = dense_first_pattern()},
      {.name = "cohere2moe", .swa = dense_first_pattern()},
      {.name = "laguna", .swa = dense_first_pattern()},
      {.name = "exaone4",
       .swa =
           {.pattern_from_file = false, .period = 4, .default_window = 4096, .only_n_layer = 64}},
      {.name = "smallthinker",
       .swa = {.pattern_from_file = false, .period = 4, .dense_first = true, .fixed_window = 4096}},
      // Hybrid and recurrent models (src/llama-memory-recurrent.cpp); lfm2's attention
      // layers all slide.
      {.name = "lfm2", .swa = fixed_period(0), .recurrence = Recurrence::where_no_kv},
      {.name = "lfm2moe", .swa = fixed_period(0), .recurrence = Recurrence::where_no_kv},
      // Qwen3-Next (src/models/qwen3next.cpp, load_arch_tensors): every block has a norm
      // before its mixer and a post-attention norm before the FFN (no ffn_norm); the recurrent
      // blocks (every one but each 4th) hold a Gated DeltaNet, the others gated attention (Q
      // and its gate in one attn_q) with per-head Q/K norms; every FFN is routed experts
      // plus a shared expert with a sigmoid gate. The graph is rebuilt (reserve_graph.cpp,
      // graph_qwen3next.inc: the fused Gated DeltaNet op a CPU backend runs, hybrid memory,
      // files of the ssm_in layout). No Hugging Face names: config.json's
      // linear_* keys are not read, so such a config is not planned as this family.
      {.name = "qwen3next",
       .tensor_layout = true,
       .ffn_norm = "",
       .post_attn_norm = "post_attention_norm",
       .qk_norm = QkNorm::per_head,
       .gated_q = true,
       .moe = true,
       .shared_expert = true,
       .shared_expert_gate = true,
       .gated_delta_net = true,
       .graph = {.moe = true, .moe_extras = true},
       .recurrence = Recurrence::interval},
      {.name = "qwen35", .recurrence = Recurrence::interval},
      {.name = "qwen35moe", .recurrence = Recurrence::interval},
      // Granite 4.0 -h (src/models/granite-hybrid.cpp; tensors in llama-model.cpp's
      // LLM_ARCH_GRANITE_HYBRID case): blocks with no KV heads hold a Mamba2 mixer, the
      // others llama-style attention without biases; every block has a norm before the FFN,
      // which is routed experts plus a shared expert (Tiny, Small) or dense (Micro, 350M,
      // 1B); the head is tied. The graph is rebuilt (Mamba2 blocks, roped attention, dense
      // or routed-plus-shared FFNs; reserve_graph.cpp) as llama.cpp builds it for the
      // Ollama library's files, which carry none of granite's multipliers (their SCALE nodes
      // run in place: no memory) and no rope.scaling.finetuned (so has_rope is true; a file
      // of convert_hf_to_gguf.py sets it false and gets no rope nodes and no positions);
      // checked on the Nano models and on Tiny (scripts/oracle/grid-granite-*.json). No
      // Hugging Face names: config.json's layer_types and mamba_* keys are not read, so such
      // a config is not planned as this family.
      {.name = "granitehybrid",
       .tensor_layout = true,
       .moe = true,
       .mamba2_mixer = true,
       .graph = {.dense = true, .moe = true, .moe_extras = true},
       .recurrence = Recurrence::where_no_kv},
      {.name = "jamba", .recurrence = Recurrence::where_no_kv},
      {.name = "kimi-linear", .recurrence = Recurrence::where_no_kv},
      {.name = "nemotron_h", .recurrence = Recurrence::where_no_kv_ffn},
      {.name = "nemotron_h_moe", .recurrence = Recurrence::where_no_kv_ffn},
      {.name = "falcon-h1", .recurrence = Recurrence::all},
      {.name = "mamba", .recurrence = Recurrence::all_without_kv},
      {.name = "mamba2", .recurrence = Recurrence::all_without_kv},
      // Families whose only difference vramplan models is in llama-quant.cpp.
      {.name = "deci", .quant_70b_at_80_blocks = true},
      {.name = "olmoe", .quant_70b_at_80_blocks = true},
      {.name = "falcon", .quant_falcon_rules = true},
  });
  return archs;
}

const Architecture* find(std::string_view name) {
  const auto& archs = table();
  const auto it = std::find_if(archs.begin(), archs.end(),
                               [&](const Architecture& a) { return a.name == name; });
  return it == archs.end() ? nullptr : &*it;
}

template <typename Match>
const Architecture* find_hf(Match match) {
  for (const Architecture& a : table()) {
    for (const HfName& n : a.hf_names) {
      if (match(n)) return &a;
    }
  }
  return nullptr;
}

}  // namespace

const Architecture& architecture(std::string_view name) {
  static constexpr Architecture generic{};
  const Architecture* a = find(name);
  return a != nullptr ? *a : generic;
}

std::span<const Architecture> architectures() { return table(); }

void refuse_ollama_engine_only(std::string_view arch) {
  throw Error(ErrorKind::bad_input,
              fmt::format("no engine release vramplan follows loads architecture '{}': llama.cpp "
                          "(so Ollama 0.30 and later) and vLLM have no loader for it, and only "
                          "Ollama's own engine ran it, up to Ollama 0.24",
                          arch));
}

bool known_architecture(std::string_view name) { return find(name) != nullptr; }

const Architecture* architecture_by_hf_class(std::string_view hf_class) {
  if (hf_class.empty()) return nullptr;
  return find_hf([&](const HfName& n) { return n.hf_class == hf_class; });
}

const Architecture* architecture_by_model_type(std::string_view model_type) {
  if (model_type.empty()) return nullptr;
  return find_hf([&](const HfName& n) { return n.model_type == model_type; });
}

}  // namespace vramplan
