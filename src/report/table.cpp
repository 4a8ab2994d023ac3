#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/report/table.hpp>
#include <vramplan/report/text_table.hpp>

#include "plan_sections.hpp"

namespace vramplan::report {
namespace {

constexpr const char* ansi_reset = "\033[0m";
constexpr const char* ansi_bold = "\033[1m";
constexpr const char* ansi_red = "\033[31m";
constexpr const char* ansi_green = "\033[32m";
constexpr const char* ansi_yellow = "\033[33m";

// The renderer's own words in colour: `text` is escaped, the colour codes are not.
Styled paint(std::string_view text, const char* code, bool color) {
  return Styled{color ? format_text("{}{}{}", Styled{code}, text, Styled{ansi_reset})
                      : escape_text(text)};
}

// Whole percent, rounded down so that "100 %" is never shown for a device that is not full.
std::int64_t percent(Bytes used, Bytes capacity) {
  if (capacity <= 0) return 0;
  const double share = static_cast<double>(used) / static_cast<double>(capacity);
  return static_cast<std::int64_t>(std::floor(share * 100.0));
}

std::string header(const Model& model, const Estimate& estimate) {
  std::string out = format_text(
      "{}  {}, {}, {} params, {} layers\n", model.name, model.spec.arch, to_string(model.file_type),
      format_params(static_cast<double>(model.n_params)), model.spec.n_layer);
  out += format_text("source:  {}\n", model.source);
  if (estimate.engine != nullptr) {
    out += format_text("engine:  {} {}   backend: {}\n", estimate.engine->display,
                       estimate.engine->version, to_string(estimate.backend));
  }
  return out;
}

std::string kv_type_text(const Config& config) {
  return config.type_k == config.type_v
             ? std::string(to_string(config.type_k))
             : format_text("{}/{}", to_string(config.type_k), to_string(config.type_v));
}

std::string device_table(const Estimate& estimate) {
  TextTable table({Align::left, Align::right, Align::right, Align::right, Align::right,
                   Align::right, Align::right, Align::right, Align::right, Align::right});
  table.add_row({"device", "layers", "weights", "kv cache", "compute", "output", "overhead",
                 "total", "capacity", "free"});
  for (const DeviceUsage& d : estimate.devices) {
    const bool known = d.capacity > 0;
    table.add_row({d.name, format_text("{}", d.layers), format_bytes(d.weights),
                   format_bytes(d.kv_cache), format_bytes(d.compute), format_bytes(d.output),
                   format_bytes(d.overhead), format_bytes(d.total()),
                   known ? format_bytes(d.capacity) : "-",
                   known ? format_bytes(d.capacity - d.total()) : "-"});
  }
  table.add_row({"total", format_text("{}", estimate.total_layers),
                 format_bytes(estimate.weights()), format_bytes(estimate.kv_cache()),
                 format_bytes(estimate.compute()), format_bytes(estimate.output()),
                 format_bytes(estimate.overhead()), format_bytes(estimate.total()), "", ""});
  return table.render();
}

// One line per device: its bar, or (`explain_unknown`) why there is none.
std::string usage_lines(const Estimate& estimate, const std::vector<Bytes>& headroom,
                        const TableOptions& options, bool explain_unknown) {
  TextTable table;
  for (std::size_t i = 0; i < estimate.devices.size(); ++i) {
    const DeviceUsage& d = estimate.devices[i];
    if (d.capacity <= 0 && !explain_unknown) continue;
    if (d.capacity <= 0) {
      const char* why = d.kind == DeviceKind::host ? "capacity not checked (no --ram)"
                                                   : "capacity unknown (no --vram)";
      table.add_row({d.name, format_text("{} used, {}", format_bytes(d.total()), why)});
      continue;
    }
    std::string text = format_text(
        "{}  {} of {}", Styled{usage_bar(d.total(), d.capacity, options.bar_width, options.color)},
        format_bytes(d.total()), format_bytes(d.capacity));
    if (i < headroom.size() && d.kind == DeviceKind::gpu && headroom[i] > 0) {
      text += format_text(", {} headroom kept", format_bytes(headroom[i]));
    }
    table.add_row({d.name, Styled{text}});
  }
  std::string out;
  // Indent the block by two spaces (an empty table stays empty).
  const std::string rendered = table.render();
  std::size_t start = 0;
  while (start < rendered.size()) {
    const std::size_t end = rendered.find('\n', start);
    out += "  " + rendered.substr(start, end - start + 1);
    start = end + 1;
  }
  return out;
}

Styled verdict(const LlamaPlan& plan, bool color) {
  const Recommendation& r = plan.recommendation;
  std::size_t gpus = 0;
  for (const DeviceUsage& d : plan.estimate.devices) gpus += d.kind == DeviceKind::gpu ? 1 : 0;
  std::string where;
  if (gpus == 0) {
    where = "CPU only";
  } else if (r.gpu_layers == r.total_layers) {
    where = format_text("all {}/{} layers on {}", r.gpu_layers, r.total_layers,
                        gpus > 1 ? format_text("{} GPUs", gpus) : std::string("the GPU"));
  } else if (r.gpu_layers == 0) {
    where = format_text("0/{} layers on the GPU, everything on the CPU (slow)", r.total_layers);
  } else {
    where = format_text("{}/{} layers on the GPU{}, {} on the CPU (partial offload, slower)",
                        r.gpu_layers, r.total_layers, gpus > 1 ? "s" : "",
                        r.total_layers - r.gpu_layers);
  }
  if (gpus > 0 && r.gpu_layers > 0 && r.cpu_moe > 0) {
    where += format_text(", experts of {} blocks in RAM", r.cpu_moe);
  }
  if (plan.fits) return Styled{format_text("{} - {}", paint("yes", ansi_green, color), where)};
  return Styled{format_text("{} - closest attempt: {}", paint("no", ansi_red, color), where)};
}

// "7.4", "23": a rate in tokens per second, one decimal below 10.
std::string rate(double r) { return r < 10 ? format_text("{:.1f}", r) : format_text("{:.0f}", r); }

// An estimate's verdict: whether every GPU holds what it is given, or the first that does not.
Styled estimate_verdict(const LlamaPlan& plan, bool color) {
  const DeviceUsage* over = nullptr;
  bool gpus = false;
  for (const DeviceUsage& d : plan.estimate.devices) {
    if (d.kind != DeviceKind::gpu || d.capacity <= 0) continue;
    gpus = true;
    if (over == nullptr && d.total() > d.capacity) over = &d;
  }
  if (!gpus) {
    return Styled{"not checked - no GPU size given (--vram): the sizes below are what it takes"};
  }
  if (over == nullptr) {
    return Styled{format_text("{} - every GPU holds its part (no headroom kept; fit adds it)",
                              paint("yes", ansi_green, color))};
  }
  return Styled{format_text("{} - {} needs {} but has {} ({} over)", paint("no", ansi_red, color),
                            over->name, format_bytes(over->total()), format_bytes(over->capacity),
                            format_bytes(over->total() - over->capacity))};
}

}  // namespace

// "speed:   ~52 tok/s ..." when the plan has a speed estimate, else "".
std::string speed_line(const std::optional<SpeedEstimate>& speed) {
  if (!speed) return {};
  return format_text(
      "speed:   ~{} tok/s decode, ~{} at {} tokens of context; ~{} tok/s prompt (pp512) - an "
      "estimate, docs/speed.md\n",
      rate(speed->decode_tokens_per_s), rate(speed->decode_at_ctx_tokens_per_s), speed->n_ctx,
      rate(speed->prefill_tokens_per_s));
}

std::string bullet_list(const Styled& title, const std::vector<Finding>& items) {
  if (items.empty()) return {};
  std::string out = format_text("\n{}\n", title);
  for (const Finding& item : items) out += word_wrap(describe(item), "  - ", "    ");
  return out;
}

std::string on_off(bool value) { return value ? "on" : "off"; }

std::string format_params(double params) {
  if (params >= 1e9) return format_text("{:.2f} B", params / 1e9);
  if (params >= 1e6) return format_text("{:.1f} M", params / 1e6);
  return format_text("{:.0f}", params);
}

std::string usage_bar(Bytes used, Bytes capacity, std::size_t width, bool color) {
  if (capacity <= 0) return {};
  const double share = std::max(0.0, static_cast<double>(used) / static_cast<double>(capacity));
  const auto filled =
      std::min(width, static_cast<std::size_t>(std::llround(share * static_cast<double>(width))));
  const std::int64_t pct = percent(used, capacity);
  Styled bar{std::string(filled, '#')};
  if (color) {
    const char* code = pct > 100 ? ansi_red : pct >= 90 ? ansi_yellow : ansi_green;
    bar = paint(bar.text, code, true);
  }
  return format_text("[{}{}] {:>3} %", bar, std::string(width - filled, '-'), pct);
}

namespace {

// The alternatives of a plan with layers on the CPU or a shortened context: one line each, the
// change and the whole changed plan (its layers, context, slots, cache type, GPU use and, when
// known, decode speed).
std::string alternatives_table(const std::vector<Alternative>& alternatives) {
  if (alternatives.empty()) return {};
  const bool speed = std::any_of(alternatives.begin(), alternatives.end(),
                                 [](const Alternative& a) { return a.speed.has_value(); });
  TextTable table({Align::left, Align::left, Align::right, Align::right, Align::right, Align::left,
                   Align::right, Align::right});
  std::vector<Cell> head{"", "change", "gpu layers", "ctx", "parallel", "kv_type", "gpu use"};
  if (speed) head.emplace_back("decode");
  table.add_row(head);
  for (const Alternative& a : alternatives) {
    const Recommendation& r = a.recommendation;
    std::vector<Cell> row{
        "",
        describe(a.change),
        r.cpu_moe > 0 ? format_text("{}/{} (cpu_moe {})", r.gpu_layers, r.total_layers, r.cpu_moe)
                      : format_text("{}/{}", r.gpu_layers, r.total_layers),
        format_text("{}", r.ctx),
        format_text("{}", r.parallel),
        std::string(to_string(r.kv_type)),
        format_text("{} of {}", format_bytes(a.gpu_bytes), format_bytes(a.gpu_capacity))};
    if (speed) {
      row.emplace_back(a.speed ? format_text("~{} tok/s", rate(a.speed->decode_tokens_per_s))
                               : "-");
    }
    table.add_row(row);
  }
  return "\nalternatives (each a whole plan with one change)\n" + table.render();
}

}  // namespace

std::string llama_fit_table(const Model& model, const LlamaPlan& plan,
                            const std::optional<SpeedEstimate>& speed,
                            const TableOptions& options) {
  const Estimate& e = plan.estimate;
  const Recommendation& r = plan.recommendation;
  std::string out = header(model, e);
  out += format_text("fits:    {}\n", verdict(plan, options.color));
  out += speed_line(speed);

  out += format_text("\n{}\n", paint("recommendation", ansi_bold, options.color));
  TextTable settings;
  settings.add_row({"gpu_layers", format_text("{}/{}", r.gpu_layers, r.total_layers)});
  if (r.cpu_moe > 0) {
    settings.add_row(
        {"cpu_moe", format_text("{} (experts of blocks 0-{} in RAM)", r.cpu_moe, r.cpu_moe - 1)});
  }
  settings.add_row({"ctx", r.parallel > 1 && e.engine != nullptr &&
                                   e.engine->ctx_meaning == ContextMeaning::per_slot
                               ? format_text("{} per slot ({} in total)", r.ctx, r.ctx * r.parallel)
                               : format_text("{}", r.ctx)});
  settings.add_row({"parallel", r.kv_unified ? format_text("{} (unified KV cache)", r.parallel)
                                             : format_text("{}", r.parallel)});
  settings.add_row({"kv_type", std::string(to_string(r.kv_type))});
  settings.add_row({"flash_attn", on_off(r.flash_attention)});
  settings.add_row({"batch", format_text("{} (ubatch {})", r.n_batch, r.n_ubatch)});
  if (!r.op_offload) settings.add_row({"op_offload", "off (--no-op-offload)"});
  std::string rendered = settings.render();
  for (std::size_t start = 0; start < rendered.size();) {
    const std::size_t end = rendered.find('\n', start);
    out += "  " + rendered.substr(start, end - start + 1);
    start = end + 1;
  }

  out += '\n';
  out += device_table(e);
  out += '\n';
  out += usage_lines(e, plan.headroom_bytes, options, true);

  out += '\n';
  out += word_wrap(format_text("{} - {}", plan.headroom.profile, plan.headroom.explanation),
                   "headroom: ", "          ");
  if (plan.ram_reserve > 0) {
    out +=
        format_text("ram:      {} kept for the operating system\n", format_bytes(plan.ram_reserve));
  }
  out += bullet_list(Styled{"decisions"}, plan.decisions);
  if (plan.fits) out += alternatives_table(plan.alternatives);
  if (!plan.fits) {
    out += bullet_list(paint("does not fit", ansi_red, options.color), plan.reasons);
    if (!plan.suggestions.empty()) {
      out += "\nsuggestions\n";
      TextTable table({Align::left, Align::left, Align::right, Align::left});
      table.add_row({"", "change", "gpu need", "fits"});
      for (const Suggestion& s : plan.suggestions) {
        table.add_row({"", describe(s.change), format_bytes(s.total_gpu), s.fits ? "yes" : "no"});
      }
      out += table.render();
    }
  }
  return out;
}

std::string llama_estimate_table(const Model& model, const LlamaPlan& plan,
                                 const std::optional<SpeedEstimate>& speed,
                                 const TableOptions& options) {
  const Estimate& estimate = plan.estimate;
  const Config& c = estimate.config;
  std::string out = header(model, estimate);
  out += format_text("fits:    {}\n", estimate_verdict(plan, options.color));
  out += speed_line(speed);
  out += '\n';
  TextTable settings;
  settings.add_row({"gpu_layers", format_text("{}/{}", c.gpu_layers, estimate.total_layers)});
  if (c.cpu_moe > 0) {
    settings.add_row(
        {"cpu_moe", format_text("{} (experts of blocks 0-{} in RAM)", c.cpu_moe, c.cpu_moe - 1)});
  }
  settings.add_row({"ctx", format_text("{}", c.ctx)});
  settings.add_row({"parallel", format_text("{}", c.parallel)});
  settings.add_row({"kv_type", kv_type_text(c)});
  settings.add_row({"flash_attn", on_off(c.flash_attn)});
  settings.add_row({"batch", format_text("{} (ubatch {})", c.n_batch, c.n_ubatch)});
  if (!c.op_offload) settings.add_row({"op_offload", "off (--no-op-offload)"});
  settings.add_row(
      {"llama.cpp", format_text("n_ctx {}, n_ctx_seq {}, n_stream {}{}", estimate.shape.n_ctx,
                                estimate.shape.n_ctx_seq, estimate.shape.n_stream,
                                c.kv_unified ? ", unified KV" : "")});
  out += settings.render();
  out += '\n';
  out += device_table(estimate);
  const std::string bars = usage_lines(estimate, {}, options, false);
  if (!bars.empty()) out += '\n' + bars;
  return out;
}

std::string render_models_table(const std::vector<const CatalogEntry*>& entries) {
  TextTable table({Align::left, Align::left, Align::left, Align::right, Align::right, Align::right,
                   Align::left, Align::left});
  table.add_row({"name", "model", "arch", "params", "layers", "context", "checked", "quants"});
  for (const CatalogEntry* e : entries) {
    std::string quants;
    for (const FileType q : e->quants) {
      if (!quants.empty()) quants += ' ';
      quants += to_string(q);
    }
    table.add_row({e->ollama.empty() ? e->id : e->ollama.front(), e->name, e->spec.arch,
                   e->params_published > 0 ? format_params(e->params_published) : "-",
                   format_text("{}", e->spec.n_layer), format_text("{}", e->spec.n_ctx_train),
                   e->checked.empty() ? "-" : e->checked, quants});
  }
  std::string out = table.render();
  out += format_text("\n{} model{}\n", entries.size(), entries.size() == 1 ? "" : "s");
  return out;
}

}  // namespace vramplan::report
