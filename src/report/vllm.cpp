#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/text_table.hpp>

#include "plan_sections.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

std::string util_text(const VllmEstimate& e) { return format_text("{}", e.util()); }

std::string kv_dtype_text(const VllmEstimate& e) {
  return e.kv_cache_dtype == VllmKvDtype::fp8 ? "fp8 (1 byte)" : "auto (model dtype, 2 bytes)";
}

std::string indent(const std::string& block) {
  std::string out;
  for (std::size_t start = 0; start < block.size();) {
    const std::size_t end = block.find('\n', start);
    out += "  " + block.substr(start, end - start + 1);
    start = end + 1;
  }
  return out;
}

std::string device_table(const VllmEstimate& e) {
  TextTable table({Align::left, Align::right, Align::right, Align::right, Align::right,
                   Align::right, Align::right, Align::right, Align::right});
  table.add_row({"device", "pre-snapshot", "weights", "activation", "non-torch", "cuda graphs",
                 "kv cache", "outside budget", "total"});
  for (const VllmDevice& d : e.devices) {
    table.add_row({d.name, format_bytes(d.pre_snapshot), format_bytes(d.weights),
                   format_bytes(d.activation), format_bytes(d.non_torch),
                   format_bytes(d.cuda_graph), format_bytes(d.kv_cache),
                   format_bytes(d.outside_budget), format_bytes(d.total)});
  }
  return table.render();
}

std::string checks(const VllmEstimate& e) {
  const VllmDevice& d = e.devices.front();
  TextTable table;
  table.add_row({"startup", e.startup_ok ? "ok" : "FAILS",
                 format_text("{} free after {} used before the snapshot, {} requested",
                             format_bytes(d.total - d.pre_snapshot), format_bytes(d.pre_snapshot),
                             format_bytes(e.requested))});
  table.add_row({"kv cache", e.kv_ok ? "ok" : "FAILS",
                 format_text("one request of {} tokens needs {}, {} available", e.max_model_len,
                             format_bytes(e.kv_needed), format_bytes(d.kv_cache))});
  table.add_row(
      {"sampler warm-up", e.sampler_ok ? "ok" : "RISK",
       format_text("{} outside the budget{}, {} needed", format_bytes(e.sampler_room),
                   e.cuda_graph_outside > 0
                       ? format_text(" after {} of CUDA graphs", format_bytes(e.cuda_graph_outside))
                       : std::string(),
                   format_bytes(e.sampler_need))});
  return indent(table.render());
}

std::string capacity_lines(const VllmEstimate& e) {
  return format_text(
      "kv cache: {} tokens ({} blocks of {} tokens, {} per token{})\n"
      "          max concurrency {:.2f}x at {} tokens per request\n",
      e.kv_tokens, e.num_blocks, vllm_block_size, format_bytes(e.kv_bytes_per_token),
      e.tensor_parallel > 1 ? " on each GPU" : "", e.max_concurrency, e.max_model_len);
}

std::string dtype_file_type(const Model& model, const VllmEstimate& e) {
  return e.dtype == VllmDtype::checkpoint ? std::string(to_string(model.file_type))
                                          : std::string(to_string(e.dtype));
}

}  // namespace

std::string vllm_table(const Model& model, const VllmPlan& plan, bool is_fit,
                       const std::optional<SpeedEstimate>& speed, const TableOptions& options) {
  const VllmEstimate& e = plan.estimate;
  std::string out = format_text(
      "{}  {}, {}, {} params, {} layers\n", model.name, model.spec.arch, dtype_file_type(model, e),
      format_params(static_cast<double>(model.n_params)), model.spec.n_layer);
  out += format_text("source:  {}\n", model.source);
  out += format_text("engine:  vLLM {} rules (V1)   tensor parallel: {}\n",
                     vllm_release_name(e.release), e.tensor_parallel);
  const std::string gpus = e.tensor_parallel > 1
                               ? format_text("{} GPUs (tensor parallel)", e.tensor_parallel)
                               : std::string("1 GPU");
  if (is_fit) {
    out += plan.fits ? format_text("fits:    yes - max_model_len {} on {}\n", e.max_model_len, gpus)
                     : format_text("fits:    no - closest attempt on {}\n", gpus);
  } else {
    out += format_text("fits:    {}\n", plan.fits ? "yes" : "no");
  }
  out += speed_line(speed);

  out += is_fit ? "\nrecommendation\n" : "\nsettings\n";
  TextTable settings;
  settings.add_row({"max_model_len", format_text("{}", e.max_model_len)});
  settings.add_row({"gpu_memory_utilization", util_text(e)});
  settings.add_row({"max_num_seqs", format_text("{}", e.max_num_seqs)});
  settings.add_row({"max_num_batched_tokens", format_text("{}", e.max_num_batched_tokens)});
  settings.add_row({"kv_cache_dtype", kv_dtype_text(e)});
  settings.add_row({"tensor_parallel_size", format_text("{}", e.tensor_parallel)});
  settings.add_row({"dtype", e.dtype == VllmDtype::fp8
                                 ? std::string("fp8 (--quantization fp8, --dtype bfloat16)")
                                 : std::string(vllm_dtype_flag(e.dtype))});
  settings.add_row({"enforce_eager", e.enforce_eager ? "yes (no CUDA graphs)" : "no"});
  out += indent(settings.render());

  out += '\n' + capacity_lines(e);
  out += format_text("budget:   {} x {} = {} requested per GPU{}\n", util_text(e),
                     format_bytes(e.devices.front().total), format_bytes(e.requested),
                     e.cudagraph_in_budget ? "" : " (CUDA-graph estimate off: graphs outside it)");
  out += '\n' + device_table(e) + '\n';
  TextTable bars;
  for (const VllmDevice& d : e.devices) {
    const Bytes used = d.total - d.outside_budget;
    bars.add_row({d.name, Styled{format_text(
                              "{}  {} of {} (before snapshot + budget)",
                              Styled{usage_bar(used, d.total, options.bar_width, options.color)},
                              format_bytes(used), format_bytes(d.total))}});
  }
  out += indent(bars.render());
  out += "\nchecks\n" + checks(e);
  out += bullet_list(Styled{"decisions"}, plan.decisions);
  out += bullet_list(Styled{"notes"}, e.notes);
  if (!plan.fits && !plan.reasons.empty()) {
    out += bullet_list(Styled{"does not fit"}, plan.reasons);
  }
  if (!plan.fits && !plan.suggestions.empty()) {
    out += "\nsuggestions\n";
    TextTable table({Align::left, Align::left, Align::left, Align::right, Align::right});
    table.add_row({"", "change", "fits", "max_model_len", "kv tokens"});
    for (const VllmSuggestion& s : plan.suggestions) {
      table.add_row({"", describe(s.change), s.fits ? "yes" : "no",
                     s.fits ? format_text("{}", s.max_model_len) : std::string("-"),
                     format_text("{}", s.kv_tokens)});
    }
    out += table.render();
  }
  return out;
}

std::string vllm_file_type(const Model& model, const VllmPlan& plan) {
  return dtype_file_type(model, plan.estimate);
}

nlohmann::ordered_json vllm_details_json(const VllmPlan& plan) {
  const VllmEstimate& e = plan.estimate;
  Json j;
  j["kv_tokens"] = e.kv_tokens;
  j["max_concurrency"] = e.max_concurrency;
  j["kv_bytes_per_token"] = e.kv_bytes_per_token;
  j["block_size"] = vllm_block_size;
  j["num_blocks"] = e.num_blocks;
  j["kv_needed_bytes"] = e.kv_needed;
  j["max_fitting_len"] = e.max_fitting_len;
  j["requested_bytes"] = e.requested;
  Json outside = Json::array();
  for (const VllmDevice& d : e.devices) outside.push_back(d.outside_budget);
  j["outside_budget_bytes"] = outside;
  j["checks"] = Json{{"startup", e.startup_ok},
                     {"kv_cache", e.kv_ok},
                     {"sampler_warmup", e.sampler_ok},
                     {"sampler_need_bytes", e.sampler_need},
                     {"sampler_room_bytes", e.sampler_room}};
  return j;
}

std::string vllm_env(const Model& model, const VllmPlan& plan, const EnvOptions& options) {
  const VllmEstimate& e = plan.estimate;
  std::string out;
  env_line(out, format_text("# Generated by vramplan {} for {}", options.tool_version, model.name));
  env_line(out, format_text("# model:   {} ({})", model.name, model.source));
  env_line(out, format_text("# rules:   vLLM {} (V1)", vllm_release_name(e.release)));
  env_line(out, format_text("# fits:    {}", plan.fits ? "yes" : "NO (closest attempt below)"));
  env_line(out, format_text("# kv:      {} tokens, max concurrency {:.2f}x at {} tokens",
                            e.kv_tokens, e.max_concurrency, e.max_model_len));
  for (const VllmDevice& d : e.devices) {
    env_line(out, format_text("# {}:    {} requested of {} ({} before the snapshot)", d.name,
                              format_bytes(e.requested), format_bytes(d.total),
                              format_bytes(d.pre_snapshot)));
  }
  for (const Finding& reason : plan.reasons) {
    env_line(out, format_text("# does not fit: {}", describe(reason)));
  }
  for (const Finding& note : e.notes) env_line(out, format_text("# note: {}", describe(note)));
  env_line(out, "#");
  env_line(out,
           "# vLLM takes its engine arguments on the command line; it does not read MAX_MODEL_LEN");
  env_line(out, "# and the others below. docker compose substitutes them from this .env into the");
  env_line(out, "# service's command (image vllm/vllm-openai, whose entrypoint is `vllm serve`):");
  env_line(out, "#");
  env_line(out, "#   command: >");
  env_line(out, "#     ${MODEL} --max-model-len ${MAX_MODEL_LEN}");
  env_line(out, "#     --gpu-memory-utilization ${GPU_MEMORY_UTILIZATION}");
  env_line(
      out,
      "#     --max-num-seqs ${MAX_NUM_SEQS} --max-num-batched-tokens ${MAX_NUM_BATCHED_TOKENS}");
  env_line(
      out,
      "#     --kv-cache-dtype ${KV_CACHE_DTYPE} --tensor-parallel-size ${TENSOR_PARALLEL_SIZE}");
  env_line(out, format_text("#     --dtype ${{DTYPE}}{}{}",
                            e.dtype == VllmDtype::fp8 ? " --quantization ${QUANTIZATION}" : "",
                            e.enforce_eager ? " --enforce-eager" : ""));
  env_line(out, "#");
  env_line(out, "MODEL=" + env_value("MODEL", options.model_ref));
  env_line(out, format_text("MAX_MODEL_LEN={}", e.max_model_len));
  env_line(out, format_text("GPU_MEMORY_UTILIZATION={}", util_text(e)));
  env_line(out, format_text("MAX_NUM_SEQS={}", e.max_num_seqs));
  env_line(out, format_text("MAX_NUM_BATCHED_TOKENS={}", e.max_num_batched_tokens));
  env_line(out, format_text("KV_CACHE_DTYPE={}", to_string(e.kv_cache_dtype)));
  env_line(out, format_text("TENSOR_PARALLEL_SIZE={}", e.tensor_parallel));
  env_line(out, format_text("DTYPE={}", vllm_dtype_flag(e.dtype)));
  if (e.dtype == VllmDtype::fp8) env_line(out, "QUANTIZATION=fp8");
  if (!e.enforce_eager) {
    env_line(
        out,
        "# read by vLLM itself (vllm envs.py): the plan counts the CUDA-graph estimate inside");
    env_line(out, "# the budget, the default since v0.21; 1 makes older releases do the same");
    env_line(out, format_text("VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS={}",
                              e.cudagraph_in_budget ? 1 : 0));
  }
  return out;
}

}  // namespace vramplan::report
