#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <vramplan/error.hpp>
#include <vramplan/kv_cache.hpp>
#include <vramplan/planner.hpp>
#include <vramplan/reserve_graph.hpp>
#include <vramplan/sched.hpp>
#include <vramplan/text.hpp>

#include "fit_order.hpp"

namespace vramplan {
namespace {

constexpr std::int64_t ctx_step = 256;        // llama.cpp's fit rounds contexts down to 256
constexpr Bytes ram_reserve_bytes = 1 * gib;  // left to the OS when --ram is given
constexpr std::size_t max_alternatives = 4;   // smaller quantizations tried as suggestions
constexpr int max_replanned = 3;  // searches again after a replayed configuration did not fit

// Everything fixed for one planning run; only ctx, gpu_layers and the cache type vary.
struct Planning {
  const Model& model;
  const FitRequest& request;
  const Engine& engine;
  std::vector<Bytes> gpus;
  std::vector<Bytes> budget;  // capacity - headroom per GPU
  Bytes ram_budget = 0;       // 0 = unchecked
  std::int32_t parallel = 1;
  bool kv_unified = false;
  bool flash_attn = true;
  std::int64_t* estimates = nullptr;  // counts run() calls (Plan::estimates)
  ComputeCache* compute = nullptr;    // shared by the run() calls of one fit() (or more)
  std::int64_t* plans = nullptr;      // counts plan_once() calls (Plan::plans)
  // The reported configurations' compute buffers come from the scheduler replay with the
  // backend's rules (FitRequest::exact_compute on CUDA or Metal GPUs with a rebuilt graph).
  bool replayed = false;
  Bytes projector_target = 0;  // Ollama's --fit target for the projector, where it is kept
};

Bytes total_of(const std::vector<Bytes>& values) {
  return std::accumulate(values.begin(), values.end(), Bytes{0});
}

// The planning of `request` for `model`: the budgets after headroom and the RAM reserve, the
// engine's slots, flash attention; the counters and the compute cache of the fit() it is for.
Planning planning_for(const Model& model, const FitRequest& request, std::int64_t* estimates,
                      std::int64_t* plans, ComputeCache* compute) {
  Planning p{model, request, *request.engine, {},      {},    0,    1,
             false, true,    estimates,       compute, plans, false};
  if (request.backend != Backend::cpu) p.gpus = request.vram;
  // Ollama keeps its vision projector's --fit target free instead of llama.cpp's 1 GiB where it
  // offloads the projector: the "fit" profile follows it (on a plan whose layers end up
  // pinned below every layer Ollama would not, which leaves that plan on the safe side).
  if (request.engine->id == EngineId::ollama && request.headroom.profile == "fit") {
    p.projector_target = ollama_projector_fit_target(model.projector, p.gpus, request.gpu_layers,
                                                     model.spec.n_layer + 1)
                             .value_or(0);
  }
  for (Bytes cap : p.gpus) {
    p.budget.push_back(cap - std::max(request.headroom.for_device(cap), p.projector_target));
  }
  if (request.ram > 0) p.ram_budget = request.ram - ram_reserve_bytes;
  const Slots slots = engine_slots(p.engine, request.parallel);
  p.parallel = slots.parallel;
  p.kv_unified = slots.kv_unified;
  p.flash_attn = request.flash_attn.value_or(true);
  p.replayed = request.exact_compute && replay_rules(request.backend) != nullptr &&
               !p.gpus.empty() && schedule_modelled(model.spec);
  return p;
}

// Ollama's preflight prediction (llm/llama_server.go PredictServerVRAM): file size plus an
// f16 KV estimate that ignores SWA and MLA. Only used to pick its automatic batch size.
Bytes ollama_predicted(const Model& model, std::int64_t ctx_total) {
  const ModelSpec& s = model.spec;
  std::int64_t hkv_min = s.n_head_kv;
  for (std::int32_t h : s.n_head_kv_per_layer) {
    if (h > 0) hkv_min = hkv_min > 0 ? std::min<std::int64_t>(hkv_min, h) : h;
  }
  constexpr std::string_view what = "Ollama's predicted KV cache";
  const std::int64_t per_token = 4 * std::int64_t{s.n_layer} * hkv_min * (s.n_embd / s.n_head);
  return checked_add(model.weights.file_tensor_bytes, checked_mul(per_token, ctx_total, what),
                     what);
}

Config make_config(const Planning& p, std::int64_t ctx, std::int32_t gpu_layers, GgmlType kv) {
  const FitRequest& r = p.request;
  Config c;
  c.ctx = ctx;
  c.parallel = p.parallel;
  c.gpu_layers = gpu_layers;
  c.type_k = kv;
  c.type_v = kv;
  c.flash_attn = p.flash_attn;
  c.kv_unified = p.kv_unified;
  c.cpu_repack = r.cpu_repack;
  c.op_offload = r.op_offload;
  c.cpu_moe = r.cpu_moe.value_or(0);
  const Batches b = engine_batches(p.model, p.engine, r.backend, ctx, p.parallel, p.flash_attn,
                                   p.gpus, r.batch, r.ubatch);
  c.n_batch = b.n_batch;
  c.n_ubatch = b.n_ubatch;
  return c;
}

Estimate run(const Planning& p, const Config& c) {
  if (p.estimates != nullptr) ++*p.estimates;
  return estimate(p.model, p.engine, p.request.backend, c, p.gpus, p.compute);
}

// The estimate of `c` with the scheduler replay's compute buffers (the backend's rules,
// replay_rules).
Estimate run_replayed(const Planning& p, const Config& c) {
  if (p.estimates != nullptr) ++*p.estimates;
  return estimate(p.model, p.engine, p.request.backend, c, p.gpus, p.compute,
                  replay_rules(p.request.backend));
}

bool gpus_fit(const Planning& p, const Estimate& e) {
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    if (e.devices[i].total() > p.budget[i]) return false;
  }
  return true;
}

bool ram_fits(const Planning& p, const Estimate& e) {
  return p.ram_budget <= 0 || e.host().total() <= p.ram_budget;
}

bool fits(const Planning& p, const Estimate& e) { return gpus_fit(p, e) && ram_fits(p, e); }

// Largest multiple of ctx_step in [lo, hi] for which `ok` holds, given ok(lo).
template <typename Ok>
std::int64_t largest_ctx(std::int64_t lo, std::int64_t hi, Ok ok) {
  std::int64_t good = lo;
  std::int64_t a = lo / ctx_step + 1;
  std::int64_t b = hi / ctx_step;
  while (a <= b) {
    const std::int64_t mid = a + (b - a) / 2;
    if (ok(mid * ctx_step)) {
      good = mid * ctx_step;
      a = mid + 1;
    } else {
      b = mid - 1;
    }
  }
  if (hi > good && hi % ctx_step != 0 && ok(hi)) good = hi;
  return good;
}

// The most GPU layers in [0, all_layers] whose configuration `config(layers)` fits the GPUs
// (fit_order.hpp); 0 when none does.
template <typename MakeConfig>
std::int32_t most_gpu_layers(const Planning& p, std::int32_t all_layers, MakeConfig config) {
  return fit_order::most_gpu_layers(all_layers,
                                    [&](std::int32_t n) { return gpus_fit(p, run(p, config(n))); });
}

struct Outcome {
  Config config;
  Estimate estimate;
  bool fits = false;
  std::vector<Finding> decisions;
};

// The fit procedure of llama.cpp's common_fit_params (llama.cpp common/fit.cpp), with every
// candidate measured by the calculator instead of a dry-run load.
Outcome plan_search(const Planning& p, GgmlType kv) {
  const FitRequest& r = p.request;
  const std::int32_t total_layers = p.model.spec.n_layer + 1;
  const std::int32_t all_layers = p.gpus.empty() ? 0 : total_layers;
  const std::int64_t start_ctx = r.ctx ? *r.ctx : p.model.spec.n_ctx_train;
  const std::int32_t start_layers = r.gpu_layers ? *r.gpu_layers : all_layers;

  Outcome out;
  out.config = make_config(p, start_ctx, start_layers, kv);
  out.estimate = run(p, out.config);
  if (fits(p, out.estimate)) {
    out.fits = true;
    if (!r.ctx) {
      out.decisions.push_back(Finding(FindingKind::ctx_model_max, {{"ctx", start_ctx}}));
    }
    return out;
  }

  // 1. Shorten an unset context, not below the floor.
  std::int64_t ctx = start_ctx;
  const std::int64_t floor =
      std::min(std::max<std::int64_t>(r.min_ctx, 1), p.model.spec.n_ctx_train);
  if (!r.ctx && start_ctx > floor) {
    auto ok = [&](std::int64_t c) { return fits(p, run(p, make_config(p, c, start_layers, kv))); };
    if (ok(floor)) {
      ctx = largest_ctx(floor, start_ctx, ok);
      out.config = make_config(p, ctx, start_layers, kv);
      out.estimate = run(p, out.config);
      out.fits = true;
      out.decisions.push_back(
          Finding(FindingKind::ctx_largest_fits, {{"ctx", ctx}, {"model_max", start_ctx}}));
      return out;
    }
    ctx = floor;
    out.decisions.push_back(Finding(FindingKind::ctx_floor_too_long, {{"floor", floor}}));
  }

  // 2. A mixture of experts (llama.cpp's --fit order, llama.cpp common/fit.cpp): the routed experts
  //    stay in RAM before whole layers leave the GPU, so attention and the KV cache stay on
  //    it. First as many layers as fit with every block's experts in RAM, then the experts
  //    given back to the GPU for as many of its blocks as still fit: --n-cpu-moe N is the
  //    smallest N that fits.
  const std::int32_t n_block = p.model.spec.n_layer;
  const bool experts_movable = !r.gpu_layers && !r.cpu_moe && !p.gpus.empty() &&
                               p.model.spec.moe.present() && p.engine.expert_offload;
  auto with_experts_on_cpu = [&](std::int32_t layers, std::int32_t n) {
    Config c = make_config(p, ctx, layers, kv);
    c.cpu_moe = n;
    return c;
  };
  std::int32_t layers = start_layers;
  if (experts_movable) {
    const std::optional<fit_order::ExpertPlacement> placed =
        fit_order::place_experts(all_layers, n_block, [&](std::int32_t n, std::int32_t moe) {
          return gpus_fit(p, run(p, with_experts_on_cpu(n, moe)));
        });
    if (placed) {
      layers = placed->gpu_layers;
      const std::int32_t cpu_moe = placed->cpu_moe;
      out.config = with_experts_on_cpu(layers, cpu_moe);
      out.estimate = run(p, out.config);
      out.fits = fits(p, out.estimate);
      const auto gpus = static_cast<std::int64_t>(p.gpus.size());
      out.decisions.push_back(
          layers == all_layers
              ? Finding(FindingKind::experts_in_ram,
                        {{"cpu_moe", cpu_moe}, {"blocks", n_block}, {"gpus", gpus}})
              : Finding(FindingKind::experts_in_ram_partial, {{"gpu_layers", layers},
                                                              {"total_layers", total_layers},
                                                              {"gpus", gpus},
                                                              {"cpu_moe", cpu_moe},
                                                              {"blocks", n_block}}));
      return out;
    }
  }

  // 3. Fewer GPU layers (partial offload), if the user left them open.
  if (!r.gpu_layers && !p.gpus.empty()) {
    layers =
        most_gpu_layers(p, all_layers, [&](std::int32_t n) { return make_config(p, ctx, n, kv); });
    if (layers < all_layers) {
      out.decisions.push_back(Finding(FindingKind::partial_offload,
                                      {{"gpu_layers", layers},
                                       {"total_layers", total_layers},
                                       {"gpus", static_cast<std::int64_t>(p.gpus.size())}}));
      if (p.model.spec.moe.present() && !p.engine.expert_offload) {
        out.decisions.push_back(
            Finding(FindingKind::no_expert_offload, {{"engine", std::string(p.engine.display)}}));
      }
    }
  }
  out.config = make_config(p, ctx, layers, kv);
  out.estimate = run(p, out.config);
  out.fits = fits(p, out.estimate);
  return out;
}

// plan_search, with the reported configuration's compute buffers replayed when p.replayed. The
// search itself runs on the closed forms (a replay per candidate would cost about 30 times
// the search: docs/performance.md). When the replayed configuration no longer fits where the
// closed forms said it did, each device over its budget gets the closed forms' shortfall there
// taken off its budget and the search runs again, at most max_replanned times; the last
// configuration is reported as it is, fitting or not, with the replay's figures.
Outcome plan_once(const Planning& p, GgmlType kv) {
  if (p.plans != nullptr) ++*p.plans;
  Outcome out = plan_search(p, kv);
  if (!p.replayed) return out;
  Planning q = p;
  for (int round = 0;; ++round) {
    Estimate replayed = run_replayed(p, out.config);
    const bool ok = fits(p, replayed);
    if (ok || !out.fits || round == max_replanned) {
      out.estimate = std::move(replayed);
      out.fits = ok;
      return out;
    }
    for (std::size_t i = 0; i < p.gpus.size(); ++i) {
      const Bytes total = replayed.devices[i].total();
      if (total <= p.budget[i]) continue;
      const Bytes shortfall = total - out.estimate.devices[i].total();
      q.budget[i] -= std::max(shortfall, total - p.budget[i]);
    }
    if (p.ram_budget > 0 && replayed.host().total() > p.ram_budget) {
      const Bytes shortfall = replayed.host().total() - out.estimate.host().total();
      const Bytes over = replayed.host().total() - p.ram_budget;
      q.ram_budget = std::max<Bytes>(1, q.ram_budget - std::max(shortfall, over));
    }
    out = plan_search(q, kv);
  }
}

// Every layer on the GPUs, no experts kept in RAM.
bool whole_on_gpu(const Config& c, std::int32_t total_layers) {
  return c.gpu_layers == total_layers && c.cpu_moe == 0;
}

// The context the user wants: the one asked for, or the model's maximum when none was.
std::int64_t asked_ctx(const Model& model, const FitRequest& request) {
  return request.ctx.value_or(model.spec.n_ctx_train);
}

// The settings in which `to` differs from `from`, in a fixed order.
std::vector<Change> config_changes(const Config& from, const Config& to) {
  std::vector<Change> changes;
  if (from.ctx != to.ctx) changes.push_back({Setting::ctx, to.ctx});
  if (from.parallel != to.parallel) changes.push_back({Setting::parallel, to.parallel});
  if (from.type_k != to.type_k) {
    changes.push_back({Setting::kv_type, std::string(to_string(to.type_k))});
  }
  if (from.gpu_layers != to.gpu_layers) changes.push_back({Setting::gpu_layers, to.gpu_layers});
  if (from.cpu_moe != to.cpu_moe) changes.push_back({Setting::cpu_moe, to.cpu_moe});
  return changes;
}

Bytes gpu_need(const Planning& p, const Estimate& e) {
  Bytes need = 0;
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    need += e.devices[i].total() + (p.gpus[i] - p.budget[i]);
  }
  return need;
}

}  // namespace

std::optional<Bytes> ollama_projector_fit_target(Bytes projector, const std::vector<Bytes>& gpus,
                                                 std::optional<std::int32_t> num_gpu,
                                                 std::int32_t total_layers) {
  if (!ollama_offloads_projector(projector, gpus, num_gpu, total_layers)) return std::nullopt;
  return pad_to(projector + gib, mib);
}

std::int64_t engine_default_ctx(const Model& model, const Engine& engine,
                                const std::vector<Bytes>& gpus) {
  if (engine.default_ctx == DefaultContext::vram_tier) {
    const std::int64_t tier = gpus.empty() ? 4096 : ollama_vram_tier_ctx(total_of(gpus));
    return std::min(model.spec.n_ctx_train, tier);
  }
  return model.spec.n_ctx_train;
}

std::int64_t engine_default_ubatch(const Model& model, const Engine& engine, Backend backend,
                                   std::int64_t ctx, std::int32_t parallel, bool flash_attn,
                                   const std::vector<Bytes>& gpus) {
  if (!engine.auto_batch) return engine.default_ubatch;
  if (!model.spec.causal) return std::min<std::int64_t>(2048, ctx);
  const std::int64_t ctx_total = std::min(ctx, model.spec.n_ctx_train) * parallel;
  const std::vector<Bytes> used = backend == Backend::cpu ? std::vector<Bytes>{} : gpus;
  const Bytes smallest = used.empty() ? 0 : *std::min_element(used.begin(), used.end());
  return ollama_auto_batch(ctx_total, ollama_predicted(model, ctx_total), total_of(used),
                           flash_attn, backend, smallest);
}

Slots engine_slots(const Engine& engine, std::optional<std::int32_t> parallel) {
  return Slots{.parallel = parallel.value_or(engine.default_parallel),
               .kv_unified = !parallel && engine.unified_when_parallel_unset};
}

Batches engine_batches(const Model& model, const Engine& engine, Backend backend, std::int64_t ctx,
                       std::int32_t parallel, bool flash_attn, const std::vector<Bytes>& gpus,
                       std::optional<std::int64_t> batch, std::optional<std::int64_t> ubatch) {
  Batches b;
  b.n_ubatch = ubatch
                   ? *ubatch
                   : engine_default_ubatch(model, engine, backend, ctx, parallel, flash_attn, gpus);
  b.n_batch = batch ? *batch : engine.batch_equals_ubatch ? b.n_ubatch : engine.default_batch;
  b.n_batch = std::max(b.n_batch, b.n_ubatch);
  return b;
}

Bytes Headroom::for_device(Bytes capacity) const {
  const auto share = static_cast<Bytes>(std::llround(fraction * static_cast<double>(capacity)));
  return std::max(fixed, share);
}

namespace {

// The settings an estimate ran with, the batches as llama.cpp uses them (its shape).
Recommendation recommendation_of(const Estimate& e) {
  const Config& c = e.config;
  return Recommendation{.gpu_layers = c.gpu_layers,
                        .total_layers = e.total_layers,
                        .ctx = c.ctx,
                        .parallel = c.parallel,
                        .kv_type = c.type_k,
                        .flash_attention = c.flash_attn,
                        .n_batch = e.shape.n_batch,
                        .n_ubatch = e.shape.n_ubatch,
                        .kv_unified = c.kv_unified,
                        .cpu_moe = c.cpu_moe,
                        .op_offload = c.op_offload};
}

// What the GPUs of `p` hold of estimate `e`, headroom not included.
Bytes gpu_use(const Planning& p, const Estimate& e) {
  Bytes used = 0;
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    used = checked_add(used, e.devices[i].total(), "the GPUs' total");
  }
  return used;
}

// Whether `o` gives the user more than `base`: more of the model on the GPUs (layers, then
// experts), or the same placement with the context asked for where `base` had to shorten it.
// Never fewer layers: the one alternative that trades context for layers is worse on context.
bool improves(const Outcome& o, const Config& base, std::int64_t asked) {
  if (!o.fits) return false;
  const Config& a = o.config;
  if (a.gpu_layers != base.gpu_layers) return a.gpu_layers > base.gpu_layers;
  if (a.cpu_moe != base.cpu_moe) return a.cpu_moe < base.cpu_moe;
  return base.ctx < asked && a.ctx >= asked;
}

// "24G", "1536M", "16GB": a size in the syntax users type (bytes.hpp parse_size), exact.
std::string size_text(Bytes bytes) {
  constexpr std::pair<Bytes, std::string_view> units[] = {
      {gib, "G"}, {mib, "M"}, {kib, "K"}, {1000000000, "GB"}, {1000000, "MB"}, {1000, "KB"}};
  for (const auto& [unit, suffix] : units) {
    if (bytes % unit == 0) return fmt::format("{}{}", bytes / unit, suffix);
  }
  return fmt::format("{}B", bytes);
}

// The name that selects quantization `m` of a catalog entry: "<id>-<quant>" (docs/catalog.md,
// "typed names").
std::string quant_name(const Model& m) {
  const std::string& id = m.entry_id.empty() ? m.name : m.entry_id;
  return fmt::format("{}-{}", id, lower_ascii(to_string(m.file_type)));
}

// The alternatives of a plan that fits with part of the model on the CPU or a context shorter
// than asked (issue 11 §4): each one change the user can make, planned completely by the same
// procedure, kept when it improves on the plan. In this order, at most max_alternative_plans
// plans in all: a q8_0 cache (the plan --kv-type auto already made is reused); one slot; the
// longest context (not below --min-ctx) that keeps every layer on the GPU; the largest smaller
// quantization that keeps every layer; one more GPU of the same size.
std::vector<Alternative> alternatives_of(const Planning& p, const Outcome& best,
                                         const std::vector<Model>& quants,
                                         const std::optional<Outcome>& q8_planned) {
  const Model& model = p.model;
  const FitRequest& request = p.request;
  const Config& base = best.config;
  const std::int32_t total_layers = model.spec.n_layer + 1;
  const std::int64_t asked = asked_ctx(model, request);
  const bool spilled = !whole_on_gpu(base, total_layers);
  if (p.gpus.empty() || (base.ctx >= asked && (!spilled || request.gpu_layers))) return {};

  const bool same_gpus = std::all_of(request.vram.begin(), request.vram.end(),
                                     [&](Bytes b) { return b == request.vram.front(); });
  const bool more_gpus = same_gpus && !request.vram.empty();
  int plans_left = max_alternative_plans;
  std::vector<Alternative> kept;
  auto keep = [&](const Planning& q, const Outcome& o, Finding change,
                  std::optional<std::size_t> quant) {
    if (kept.size() >= max_alternatives_kept || !improves(o, base, asked)) return;
    Alternative a;
    a.change = std::move(change);
    a.fits = o.fits;
    a.recommendation = recommendation_of(o.estimate);
    a.gpu_bytes = gpu_use(q, o.estimate);
    a.gpu_capacity = total_of(q.gpus);
    a.gpus = static_cast<std::int32_t>(q.gpus.size());
    a.n_ctx_seq = o.estimate.shape.n_ctx_seq;
    a.quant = quant;
    kept.push_back(std::move(a));
  };
  // Plans `changed` (its model `m`, its GPUs) with cache type `kv`; counts against the bound.
  auto plan_changed = [&](const Model& m, const FitRequest& changed, GgmlType kv,
                          const Finding& change, std::optional<std::size_t> quant) {
    --plans_left;
    const Planning q = planning_for(m, changed, p.estimates, p.plans, p.compute);
    keep(q, plan_once(q, kv), change, quant);
  };

  // 1. A q8_0 cache: half the f16 cache, so more layers or more context (needs flash attention).
  if (base.type_k == GgmlType::f16 && base.type_v == GgmlType::f16 &&
      cache_type_fits_heads(model.spec, GgmlType::q8_0)) {
    std::vector<Change> changes{{Setting::kv_type, std::string("q8_0")}};
    if (!p.flash_attn) changes.push_back({Setting::flash_attn, std::string("on")});
    const Finding change(FindingKind::alt_kv_q8_0, {}, std::move(changes));
    if (q8_planned) {
      keep(p, *q8_planned, change, std::nullopt);
    } else {
      FitRequest q8 = request;
      q8.kv_type = GgmlType::q8_0;
      q8.flash_attn = true;
      plan_changed(model, q8, GgmlType::q8_0, change, std::nullopt);
    }
  }
  // 2. One slot: less cache where the engine gives each slot its own context (Ollama), smaller
  //    compute and output buffers everywhere.
  if (p.parallel > 1) {
    FitRequest one = request;
    one.parallel = 1;
    plan_changed(model, one, base.type_k,
                 Finding(FindingKind::alt_fewer_slots, {{"parallel", 1}}, {{Setting::parallel, 1}}),
                 std::nullopt);
  }
  // 3. The context asked for, shortened until every layer fits (an unset context was already
  //    shortened to --min-ctx before layers left the GPU: nothing to gain there).
  const std::int64_t floor = std::min(std::max<std::int64_t>(request.min_ctx, 1), asked);
  if (spilled && request.ctx && !request.gpu_layers && !request.cpu_moe && *request.ctx > floor) {
    FitRequest shorter = request;
    shorter.ctx.reset();
    shorter.min_ctx = floor;
    const Planning q = planning_for(model, shorter, p.estimates, p.plans, p.compute);
    --plans_left;
    const Outcome o = plan_once(q, base.type_k);
    if (whole_on_gpu(o.config, total_layers) && o.config.ctx >= floor) {
      keep(q, o,
           Finding(FindingKind::alt_ctx_all_layers, {{"ctx", o.config.ctx}, {"asked_ctx", asked}},
                   {{Setting::ctx, o.config.ctx}}),
           std::nullopt);
    }
  }
  // 4. The largest smaller quantization that keeps every layer on the GPU. One whose weights
  //    and the plan's KV cache alone exceed the GPUs' budget cannot, and costs no plan.
  if (!request.gpu_layers && !request.cpu_moe) {
    std::vector<std::size_t> smaller;
    for (std::size_t i = 0; i < quants.size(); ++i) {
      if (quants[i].weights.file_tensor_bytes < model.weights.file_tensor_bytes) {
        smaller.push_back(i);
      }
    }
    std::stable_sort(smaller.begin(), smaller.end(), [&](std::size_t a, std::size_t b) {
      return quants[a].weights.file_tensor_bytes > quants[b].weights.file_tensor_bytes;
    });
    Bytes kv_bytes = 0;
    for (const DeviceUsage& d : best.estimate.devices) {
      kv_bytes = checked_add(kv_bytes, d.kv_cache, "the KV cache");
    }
    const Bytes budget = total_of(p.budget);
    for (const std::size_t i : smaller) {
      if (plans_left <= (more_gpus ? 1 : 0)) break;
      const Model& m = quants[i];
      if (checked_add(gpu_weights(m.weights, request.backend), kv_bytes, "the GPU weights") >
          budget) {
        continue;
      }
      const Finding change(FindingKind::alt_smaller_quant,
                           {{"model", quant_name(m)},
                            {"file_type", std::string(to_string(m.file_type))},
                            {"weights_bytes", m.weights.file_tensor_bytes}},
                           {{Setting::model, quant_name(m)}});
      --plans_left;
      const Planning q = planning_for(m, request, p.estimates, p.plans, p.compute);
      const Outcome o = plan_once(q, base.type_k);
      if (whole_on_gpu(o.config, total_layers)) {
        keep(q, o, change, i);
        break;
      }
    }
  }
  // 5. One more GPU of the same size (only when the GPUs given are all one size).
  if (more_gpus && plans_left > 0) {
    FitRequest wider = request;
    wider.vram.push_back(request.vram.front());
    std::string sizes;
    for (const Bytes b : wider.vram) {
      if (!sizes.empty()) sizes += ',';
      sizes += size_text(b);
    }
    plan_changed(model, wider, base.type_k,
                 Finding(FindingKind::alt_more_gpus,
                         {{"gpus", static_cast<std::int64_t>(wider.vram.size())},
                          {"gpu_bytes", request.vram.front()}},
                         {{Setting::vram, sizes}}),
                 std::nullopt);
  }
  return kept;
}

}  // namespace

Config default_config(const Model& model, const FitRequest& request) {
  if (request.engine == nullptr) throw Error(ErrorKind::internal, "default_config: no engine");
  const Engine& engine = *request.engine;
  Config config;
  const Slots slots = engine_slots(engine, request.parallel);
  config.parallel = slots.parallel;
  config.kv_unified = slots.kv_unified;
  config.type_k = config.type_v = request.kv_type.value_or(GgmlType::f16);
  config.flash_attn = request.flash_attn.value_or(true);
  config.cpu_repack = request.cpu_repack;
  config.op_offload = request.op_offload;
  config.ctx = request.ctx.value_or(engine_default_ctx(model, engine, request.vram));
  const Batches batches =
      engine_batches(model, engine, request.backend, config.ctx, config.parallel, config.flash_attn,
                     request.vram, request.batch, request.ubatch);
  config.n_batch = batches.n_batch;
  config.n_ubatch = batches.n_ubatch;
  const std::int32_t total_layers = model.spec.n_layer + 1;
  config.gpu_layers =
      request.gpu_layers.value_or(request.backend == Backend::cpu ? 0 : total_layers);
  config.cpu_moe = request.cpu_moe.value_or(0);
  return config;
}

LlamaPlan estimate_plan(const Model& model, const FitRequest& request) {
  const Config config = default_config(model, request);
  LlamaPlan plan;
  plan.estimate = estimate(model, *request.engine, request.backend, config, request.vram, nullptr,
                           request.exact_compute ? replay_rules(request.backend) : nullptr);
  plan.estimates = 1;
  const Estimate& e = plan.estimate;
  plan.recommendation = recommendation_of(e);
  plan.fits = true;
  for (const DeviceUsage& d : e.devices) {
    if (d.capacity > 0 && d.total() > d.capacity) plan.fits = false;
  }
  return plan;
}

LlamaPlan fit(const Model& model, const FitRequest& request, const std::vector<Model>& alternatives,
              ComputeCache* shared) {
  if (request.engine == nullptr) throw Error(ErrorKind::internal, "fit: no engine");
  LlamaPlan plan;
  ComputeCache own;
  ComputeCache* compute = shared != nullptr ? shared : &own;
  const Planning p = planning_for(model, request, &plan.estimates, &plan.plans, compute);
  // A quantized cache without flash attention is refused by the first estimate (kv_cache()).
  GgmlType kv = request.kv_type.value_or(GgmlType::f16);

  plan.headroom = request.headroom;
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    plan.headroom_bytes.push_back(p.gpus[i] - p.budget[i]);
  }
  plan.ram_reserve = request.ram > 0 ? ram_reserve_bytes : 0;

  Outcome best = plan_once(p, kv);
  const std::int32_t total_layers = model.spec.n_layer + 1;
  std::optional<Outcome> q8_planned;  // the q8_0 plan --kv-type auto made and did not take
  if (!request.kv_type && request.kv_auto && p.flash_attn && !p.gpus.empty() &&
      cache_type_fits_heads(model.spec, GgmlType::q8_0)) {
    if (!best.fits || !whole_on_gpu(best.config, total_layers) ||
        best.config.ctx < asked_ctx(model, request)) {
      Outcome q8 = plan_once(p, GgmlType::q8_0);
      if (q8.fits && whole_on_gpu(q8.config, total_layers) && q8.config.ctx >= best.config.ctx) {
        q8.decisions.insert(
            q8.decisions.begin(),
            Finding(FindingKind::kv_auto_q8_0, {{"ctx", q8.config.ctx},
                                                {"total_layers", total_layers},
                                                {"f16_gpu_layers", best.config.gpu_layers},
                                                {"f16_ctx", best.config.ctx}}));
        best = std::move(q8);
        kv = GgmlType::q8_0;
      } else {
        q8_planned = std::move(q8);
      }
    }
  }
  plan.fits = best.fits;
  plan.estimate = best.estimate;
  plan.decisions = best.decisions;
  if (p.projector_target > 0) {
    plan.decisions.insert(plan.decisions.begin(), Finding(FindingKind::ollama_projector_headroom,
                                                          {{"headroom_bytes", p.projector_target},
                                                           {"projector_bytes", model.projector}}));
  }
  const Config& c = best.config;
  plan.recommendation = recommendation_of(plan.estimate);
  if (request.ram > 0) plan.estimate.devices.back().capacity = request.ram;
  if (plan.fits) {
    if (request.alternatives)
      plan.alternatives = alternatives_of(p, best, alternatives, q8_planned);
    return plan;
  }

  // Why not: every device over its budget, with the numbers.
  const Estimate& e = plan.estimate;
  for (std::size_t i = 0; i < p.gpus.size(); ++i) {
    const Bytes used = e.devices[i].total();
    if (used > p.budget[i]) {
      plan.reasons.push_back(
          Finding(FindingKind::gpu_over, {{"device", e.devices[i].name},
                                          {"used_bytes", used},
                                          {"budget_bytes", p.budget[i]},
                                          {"headroom_bytes", p.gpus[i] - p.budget[i]},
                                          {"over_bytes", used - p.budget[i]}}));
    }
  }
  if (!ram_fits(p, e)) {
    plan.reasons.push_back(
        Finding(FindingKind::ram_over, {{"used_bytes", e.host().total()},
                                        {"budget_bytes", p.ram_budget},
                                        {"reserve_bytes", ram_reserve_bytes},
                                        {"over_bytes", e.host().total() - p.ram_budget}}));
  }

  if (!ram_fits(p, e)) {
    const Bytes needed = pad_to(e.host().total() + ram_reserve_bytes, gib);
    plan.suggestions.push_back(Suggestion{Finding(FindingKind::more_ram,
                                                  {{"ram_gib", needed / gib},
                                                   {"used_bytes", e.host().total()},
                                                   {"reserve_bytes", ram_reserve_bytes}},
                                                  {{Setting::ram, needed}}),
                                          gpu_need(p, e), gpus_fit(p, e)});
  }

  // What would fit: each change alone, measured the same way.
  // `change` names what differs; without a kind, the settings the planner picks instead.
  auto try_request = [&](const Model& m, FitRequest changed, std::optional<Finding> change) {
    const Planning alt = planning_for(m, changed, p.estimates, p.plans, p.compute);
    const Outcome o = plan_once(alt, changed.kv_type.value_or(kv));
    if (!change) {
      std::vector<Change> changes = config_changes(c, o.config);
      if (changes.empty()) return;
      change = Finding(FindingKind::other_settings, {}, std::move(changes));
    }
    plan.suggestions.push_back(Suggestion{*change, gpu_need(alt, o.estimate), o.fits});
  };
  // Smaller quantizations: the max_alternatives largest of them (the closest in quality),
  // in the caller's order. Each costs a plan, so a catalog entry with many quantizations
  // cannot multiply the planner's work (docs/reliability.md §7).
  std::vector<const Model*> smaller;
  for (const Model& m : alternatives) {
    if (m.weights.file_tensor_bytes < model.weights.file_tensor_bytes) smaller.push_back(&m);
  }
  if (smaller.size() > max_alternatives) {
    std::vector<const Model*> by_size = smaller;
    std::stable_sort(by_size.begin(), by_size.end(), [](const Model* a, const Model* b) {
      return a->weights.file_tensor_bytes > b->weights.file_tensor_bytes;
    });
    by_size.resize(max_alternatives);
    std::erase_if(smaller, [&](const Model* m) {
      return std::find(by_size.begin(), by_size.end(), m) == by_size.end();
    });
  }
  for (const Model* m : smaller) {
    try_request(
        *m, request,
        Finding(FindingKind::smaller_quant, {{"file_type", std::string(to_string(m->file_type))},
                                             {"weights_bytes", m->weights.file_tensor_bytes}}));
  }
  if (kv == GgmlType::f16 && cache_type_fits_heads(model.spec, GgmlType::q8_0)) {
    FitRequest q8 = request;
    q8.kv_type = GgmlType::q8_0;
    q8.flash_attn = true;
    try_request(model, q8,
                Finding(FindingKind::kv_q8_0, {},
                        {{Setting::kv_type, std::string("q8_0")},
                         {Setting::flash_attn, std::string("on")}}));
  }
  if (p.parallel > 1) {
    FitRequest one = request;
    one.parallel = 1;
    try_request(model, one, Finding(FindingKind::one_slot, {}, {{Setting::parallel, 1}}));
  }
  if (request.ctx && *request.ctx > request.min_ctx) {
    FitRequest shorter = request;
    shorter.ctx.reset();
    shorter.min_ctx = std::min<std::int64_t>(request.min_ctx, *request.ctx);
    try_request(model, shorter, std::nullopt);
  }
  if (request.gpu_layers) {
    FitRequest open = request;
    open.gpu_layers.reset();
    try_request(model, open, std::nullopt);
  }
  return plan;
}

}  // namespace vramplan
