// vLLM (V1 engine) memory planning: how vLLM sizes its budget and KV cache on each GPU, and
// the recommender behind `vramplan fit --engine vllm`. Rules: vLLM's
// vllm/v1/worker/gpu_worker.py, vllm/v1/kv_cache_interface.py, vllm/v1/core/kv_cache_utils.py
// and vllm/engine/arg_utils.py; the fitted constants are checked against measured startups
// (docs/memory-model.md, "vLLM"; bench/accuracy/data/vllm-logs.jsonl). The rules are those of
// one vLLM release, from 0.10 to 0.21 (VllmRequest::release): the default utilisation, whether
// the CUDA-graph estimate is inside the budget, and the activation peak of the profiling run
// differ between releases.
//
// Every size is per GPU (per tensor-parallel rank); all ranks of a TP group are identical.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/bytes.hpp>
#include <vramplan/estimate.hpp>
#include <vramplan/finding.hpp>
#include <vramplan/model.hpp>

namespace vramplan {

// The releases whose rules are implemented, as minor numbers of 0.x: 0.10 ... 0.21. A later
// release is planned with the newest rules (0.21: nothing that changes memory was modelled past
// it).
inline constexpr std::int32_t vllm_oldest_release = 10;
inline constexpr std::int32_t vllm_newest_release = 21;

// What changes between releases (vllm_rules).
struct VllmRules {
  std::int32_t release = vllm_newest_release;   // 0.<release>
  std::int32_t default_util_x10000 = 9200;      // CacheConfig.gpu_memory_utilization
  bool cudagraph_in_budget = true;              // VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS default
  std::int64_t activation_per_logit_x10 = 138;  // profiling peak per max_num_seqs x vocab, x10
  Bytes non_torch_tp = 21 * gib / 10;           // non-torch forward increase at TP >= 2
};
[[nodiscard]] VllmRules vllm_rules(std::int32_t release);
// "0.11", "0.11.2", "v0.11": the release's minor number when it is one of the implemented ones.
[[nodiscard]] std::optional<std::int32_t> parse_vllm_release(std::string_view text);
// The release an image runs by its tag ("vllm/vllm-openai:v0.10.2" -> 10); nullopt for a tag
// that names none ("latest") or no tag.
[[nodiscard]] std::optional<std::int32_t> vllm_image_release(std::string_view image);
[[nodiscard]] std::string vllm_release_name(std::int32_t release);  // "0.11"
[[nodiscard]] std::string vllm_known_releases();                    // "0.10, 0.11, ..., 0.21"
inline constexpr std::int64_t vllm_block_size = 16;  // CacheConfig.DEFAULT_BLOCK_SIZE

// Fitted constants (measured startups; errors in docs/memory-model.md "vLLM").
inline constexpr Bytes vllm_pre_snapshot_tp1 = 512 * mib;  // CUDA context before the snapshot
inline constexpr Bytes vllm_pre_snapshot_tp = 1792 * mib;  // + NCCL / custom all-reduce, TP >= 2
inline constexpr Bytes vllm_weight_extra = gib / 20;       // buffers over the raw tensors (0.05)
// What the profiling peak holds besides the logits and the hidden states of the dummy batch
// (fitted: 0.2 GiB less the 64 MiB of hidden states an 8192 x 4096 bf16 batch holds).
inline constexpr Bytes vllm_activation_base = gib / 5 - 64 * mib;   // 0.1375 GiB
inline constexpr std::int64_t vllm_activation_per_logit_x10 = 138;  // 13.8 B per seq x vocab, 0.17+
inline constexpr std::int64_t vllm_activation_per_logit_old_x10 = 375;  // 37.5 B before 0.17
// MXFP4 MoE weights as vLLM holds them (swizzled for its Triton / Marlin kernels, fp32 biases)
// over the checkpoint's 4.25 bits per weight, x1000: logged gpt-oss loads are 1.06-1.09x.
inline constexpr std::int64_t vllm_mxfp4_layout_x1000 = 1095;
inline constexpr Bytes vllm_activation_moe = 2 * gib / 5;       // 0.4 GiB more for MoE models
inline constexpr Bytes vllm_activation_encoder = 7 * gib / 20;  // 0.35 GiB: vision encoder
inline constexpr Bytes vllm_non_torch_tp1 = gib / 4;            // 0.25 GiB
inline constexpr Bytes vllm_non_torch_tp = 21 * gib / 10;       // 2.1 GiB at TP >= 2 (0.19)
inline constexpr Bytes vllm_non_torch_tp_011 = 55 * gib / 100;  // 0.55 GiB at TP >= 2 on 0.11
inline constexpr Bytes vllm_cuda_graph = gib;                   // applied CUDA-graph estimate
inline constexpr Bytes vllm_sampler_margin = 150 * mib;         // vLLM's own "redundancy buffer"
inline constexpr std::int32_t vllm_default_util_x10000 = 9200;  // 0.92 since v0.21 (0.90 before)

// How the weights are held. `checkpoint`: the model's tensors as given (a GGUF or safetensors
// file); bf16/fp16: every parameter in 16 bits; fp8: `--quantization fp8`, linear weights in
// 1 byte, embeddings, output head and norms in bf16.
enum class VllmDtype { checkpoint, bf16, fp16, fp8 };
// "auto", "bf16", "fp16", "fp8"; parse also accepts bfloat16, float16, half.
[[nodiscard]] std::string_view to_string(VllmDtype dtype);
[[nodiscard]] std::optional<VllmDtype> parse_vllm_dtype(std::string_view text);
// What vLLM's --dtype gets for it: "bfloat16", "float16", "auto".
[[nodiscard]] std::string_view vllm_dtype_flag(VllmDtype dtype);

// --kv-cache-dtype: auto (= the model dtype, 2 bytes) or fp8 (1 byte).
enum class VllmKvDtype { model, fp8 };
[[nodiscard]] std::string_view to_string(VllmKvDtype dtype);  // "auto", "fp8"
[[nodiscard]] std::optional<VllmKvDtype> parse_vllm_kv_dtype(std::string_view text);

// EngineArgs.get_batch_defaults for `vllm serve` (vllm/engine/arg_utils.py): 1024 / 8192 on GPUs
// with
// >= 70 GiB whose name does not contain "a100", else 256 / 2048.
struct VllmBatchDefaults {
  std::int32_t max_num_seqs = 256;
  std::int64_t max_num_batched_tokens = 2048;
};
[[nodiscard]] VllmBatchDefaults vllm_batch_defaults(Bytes gpu_total, std::string_view gpu_name);

// A catalog model as vLLM would load its Hugging Face checkpoint: the tensor list regenerated
// in bf16 (fp16 for VllmDtype::fp16; bf16 for fp8, whose linears weights() then counts as one
// byte), every F32 tensor in the 16-bit type. Pre-quantized parts (gpt-oss's MXFP4 experts)
// stay as the catalog generates them. `checkpoint` returns the model unchanged.
[[nodiscard]] Model vllm_checkpoint_model(const Model& model, VllmDtype dtype);

// Linear layers held as group-quantized integers: GPTQ, AWQ and compressed-tensors W4A16 /
// W8A16 checkpoints, in the layout vLLM keeps after loading them for its Marlin kernels
// (vllm/model_executor/layers/quantization/gptq_marlin.py create_weights,
// kernels/mixed_precision/marlin.py process_weights_after_loading): the packed int32 weight
// (bits per element; the Marlin repack keeps its size), one 16-bit scale per group of
// `group_size` input elements and output channel, packed zero points only for asymmetric
// checkpoints (AWQ), and for GPTQ act-order the g_idx and its sort order (two int32 per input
// row); without act order both are dropped. With act order, the scales of a row-parallel
// layer (o_proj, down_proj) are repeated on every rank (marlin_repeat_scales_on_all_ranks).
// Embeddings, the output head and norms stay 16-bit (lm_head is not quantized by GPTQ/AWQ).
struct VllmIntQuant {
  std::int32_t bits = 4;          // 4 or 8
  std::int32_t group_size = 128;  // input elements per scale; -1: one group (per channel)
  bool zero_points = false;       // asymmetric: packed zero points per group kept (AWQ)
  bool act_order = false;         // GPTQ desc_act: g_idx + sort indices kept

  bool operator==(const VllmIntQuant&) const = default;
};
// The format as text: a method, then optionally "-g<N>" (the group size, 128 when absent;
// "-gchannel": one group per output channel) and "-act" (act order, not for AWQ). Methods:
// "gptq" / "w4a16" (4-bit, symmetric), "gptq-int8" / "w8a16" (8-bit, symmetric), "awq" (4-bit
// with zero points). nullopt for anything else (a group size outside 1..65536 included).
[[nodiscard]] std::optional<VllmIntQuant> parse_vllm_int_quant(std::string_view text);
// The canonical text parse_vllm_int_quant reads back: "gptq-g128", "awq-g64",
// "gptq-int8-gchannel-act".
[[nodiscard]] std::string to_string(const VllmIntQuant& quant);

// Per-rank weight bytes (without vllm_weight_extra): linears split by tp; vocab-parallel
// embedding and output head (vocab padded to 64) split by tp; norms and other 1-D tensors,
// the MoE router and MLA's replicated down-projections whole; KV projections per KV head
// (replicated when tp > kv heads); NextN/MTP blocks not loaded. `fp8_linear`: 16/32-bit
// linear weights count 1 byte per element.
[[nodiscard]] Bytes vllm_rank_weight_bytes(const Model& model, std::int32_t tp, bool fp8_linear);
// The same for an FP8 checkpoint that quantizes the FFN only: the attention projections and the
// first and last layers' FFN stay 16-bit (Meta's Llama-3.1-405B-Instruct-FP8, per the Llama 3
// paper §6.2; vLLM skips every linear the checkpoint's ignore list names).
[[nodiscard]] Bytes vllm_rank_weight_bytes_fp8_ffn(const Model& model, std::int32_t tp);
// The same with the linear layers of the 16-bit checkpoint model held as `quant` describes.
[[nodiscard]] Bytes vllm_rank_weight_bytes(const Model& model, std::int32_t tp,
                                           const VllmIntQuant& quant);

// KV bytes one token needs on one rank: sum over layers with KV of
// max(1, kv_heads / tp) * (head_dim_k + head_dim_v) * dtype_bytes, or for MLA
// (kv_lora_rank + qk_rope_head_dim) * dtype_bytes on every rank. Every layer counted at full
// length; how sliding-window layers are grouped and capped is VllmKvLayout.
[[nodiscard]] Bytes vllm_kv_bytes_per_token(const ModelSpec& spec, std::int32_t tp,
                                            std::int64_t dtype_bytes);

// How vLLM's KV cache manager lays out the layers (vllm/v1/core/kv_cache_utils.py,
// _get_kv_cache_groups_uniform_page_size and get_kv_cache_config_from_groups; specs in
// vllm/v1/kv_cache_interface.py). With full and sliding-window layers of one page size, the
// layers are split into groups of `group_size` layers (the smaller count of the two kinds, or
// the larger when it is under 1.5x the smaller), padded; each group has its own block table
// and all groups share one pool of `num_blocks` blocks per layer slot.
struct VllmKvLayout {
  Bytes page_bytes = 0;         // one block of one layer
  std::int32_t group_size = 0;  // layers per group (= the layer slots of the pool)
  std::int32_t full_groups = 0;
  std::int32_t swa_groups = 0;
  std::int64_t window = 0;  // sliding window of the SWA groups (tokens)
  bool hybrid = false;      // full and sliding groups both present
  bool uniform = true;      // false: page sizes differ, every layer counted as full attention
};
[[nodiscard]] VllmKvLayout vllm_kv_layout(const ModelSpec& spec, std::int32_t tp,
                                          std::int64_t dtype_bytes);
// Blocks one request of `len` tokens holds in one group of each kind (SlidingWindowSpec:
// ceil(min(window - 1 + max_num_batched_tokens, len) / block) + 1; full: ceil(len / block)).
[[nodiscard]] std::int64_t vllm_blocks_per_request(const VllmKvLayout& layout, std::int64_t len,
                                                   std::int64_t max_num_batched_tokens);

// Throws Error{usage} with vLLM's message when tp cannot split the attention heads.
void vllm_check_tensor_parallel(const ModelSpec& spec, std::int32_t tp);

// One vLLM deployment. Unset values take vLLM's defaults (estimate) or are chosen (fit).
struct VllmRequest {
  std::vector<Bytes> gpus;            // torch-visible memory per GPU; the count is the TP size
  std::string gpu_name;               // for the A100 rule of the batch defaults; "" = not an A100
  VllmDtype dtype = VllmDtype::bf16;  // what the weights are (the Model must match, above)
  // A GPTQ/AWQ/W4A16 checkpoint: its linear layers as integers (dtype: the 16-bit type of the
  // rest, the Model its 16-bit checkpoint model). Unset: dtype alone decides.
  std::optional<VllmIntQuant> int_quant;
  // With dtype fp8: only the FFN linears are fp8 (vllm_rank_weight_bytes_fp8_ffn).
  bool fp8_ffn_only = false;
  std::optional<std::int64_t> max_model_len;
  std::optional<std::int32_t> util_x10000;  // --gpu-memory-utilization x 10000
  std::optional<std::int32_t> max_num_seqs;
  std::optional<std::int64_t> max_num_batched_tokens;
  VllmKvDtype kv_cache_dtype = VllmKvDtype::model;
  bool enforce_eager = false;
  // The vLLM release whose rules apply (0.<release>, vllm_oldest_release..vllm_newest_release).
  std::int32_t release = vllm_newest_release;
  // VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS: true keeps the CUDA-graph estimate inside the
  // budget; false captures the graphs outside it. Unset: the release's default (true from 0.21).
  std::optional<bool> cudagraph_in_budget;
  std::int64_t min_model_len = 4096;  // fit: shortest unset max_model_len that counts as a fit
  // The GPUs run fp8 (weights and KV cache): false on cards before Ada/Hopper (a T4, an A100),
  // where fit suggests no fp8 change.
  bool fp8_supported = true;
};

// The breakdown of one rank. Invariant (tested): the seven parts add up to `total` exactly.
struct VllmDevice {
  std::string name;        // "GPU0", "GPU1", ...
  Bytes total = 0;         // torch-visible memory (--vram)
  Bytes pre_snapshot = 0;  // used before vLLM's first snapshot (outside the budget)
  Bytes weights = 0;
  Bytes activation = 0;      // peak of the profiling forward and dummy sampler
  Bytes non_torch = 0;       // NCCL buffers, workspaces appearing after the snapshot
  Bytes cuda_graph = 0;      // CUDA-graph estimate applied inside the budget
  Bytes kv_cache = 0;        // "Available KV cache memory"; negative when over budget
  Bytes outside_budget = 0;  // total - pre_snapshot - requested: sampler warm-up room

  [[nodiscard]] Bytes sum() const {
    return pre_snapshot + weights + activation + non_torch + cuda_graph + kv_cache + outside_budget;
  }
};

struct VllmEstimate {
  std::int32_t release = vllm_newest_release;  // whose rules were applied
  std::int32_t tensor_parallel = 1;
  std::int64_t max_model_len = 0;
  std::int32_t util_x10000 = vllm_default_util_x10000;
  std::int32_t max_num_seqs = 0;
  std::int64_t max_num_batched_tokens = 0;
  VllmDtype dtype = VllmDtype::bf16;
  std::optional<VllmIntQuant> int_quant;  // the request's: linears as GPTQ/AWQ integers
  bool fp8_ffn_only = false;              // the request's: an FP8 checkpoint of the FFN only
  VllmKvDtype kv_cache_dtype = VllmKvDtype::model;
  bool enforce_eager = false;
  bool cudagraph_in_budget = true;

  Bytes requested = 0;                  // ceil(util * total)
  std::vector<VllmDevice> devices;      // one per GPU, identical
  Bytes kv_bytes_per_token = 0;         // per rank
  Bytes page_bytes = 0;                 // block_size * kv_bytes_per_token (all layers)
  VllmKvLayout kv_layout;               // groups of layers (sliding-window layers capped)
  std::int64_t num_blocks = 0;          // floor(kv_cache / layout page / group size), >= 0
  std::int64_t kv_tokens = 0;           // "GPU KV cache size": num_blocks / groups * block_size
  std::int64_t blocks_per_request = 0;  // over all groups, for one request of max_model_len
  double max_concurrency = 0;           // num_blocks / blocks_per_request
  Bytes kv_needed = 0;                  // one request of max_model_len, summed over layers
  std::int64_t max_fitting_len = 0;     // vLLM's estimated maximum model length
  Bytes cuda_graph_outside = 0;         // graph pool captured outside the budget (estimate off)
  Bytes sampler_need = 0;               // max_num_seqs * vocab * 4 B + 150 MiB
  Bytes sampler_room = 0;               // outside_budget - cuda_graph_outside

  bool startup_ok = false;  // total - pre_snapshot >= requested
  bool kv_ok = false;       // one request of max_model_len fits (kv_needed <= kv_cache)
  bool sampler_ok = false;  // sampler warm-up fits outside the budget
  std::vector<Finding> notes;

  [[nodiscard]] bool fits() const { return startup_ok && kv_ok; }
  [[nodiscard]] double util() const { return util_x10000 / 10000.0; }
};

// The breakdown of explicit settings (unset ones: vLLM's defaults; max_model_len: the model's
// maximum). Throws Error{usage} without GPUs, with GPUs of different sizes, or an invalid TP.
[[nodiscard]] VllmEstimate vllm_estimate(const Model& model, const VllmRequest& request);

struct VllmSuggestion {
  Finding change;  // an fp8 KV cache, more GPUs, ...
  bool fits = false;
  std::int64_t max_model_len = 0;  // what the changed plan would serve (0: does not fit)
  std::int64_t kv_tokens = 0;
};

struct VllmPlan {
  bool fits = false;
  VllmEstimate estimate;           // of the recommendation (or the closest attempt)
  std::vector<Finding> decisions;  // what was chosen and why
  std::vector<Finding> reasons;    // why it does not fit
  std::vector<VllmSuggestion> suggestions;
};

// The recommender: an unset max_model_len becomes the largest multiple of 16 that fits (capped
// at the model's maximum, as `--max-model-len auto`); an unset utilisation starts at 0.92 and
// steps down by 0.01 while the startup check or the sampler warm-up would fail.
[[nodiscard]] VllmPlan vllm_fit(const Model& model, const VllmRequest& request);

}  // namespace vramplan
