// vramplan's vLLM model (src/core/vllm.cpp) against published vLLM startup logs:
// bench/accuracy/data/vllm-logs.ndjson, one startup a line with its configuration, the vLLM
// release, the source URL and the figures vLLM logged ("Model loading took", the profiling
// breakdown, "Available KV cache memory", "GPU KV cache size", "Maximum concurrency"). Each row
// is planned with the rules of its own release (`--engine vllm@0.X`). Asserted: the safety rule
// (the KV pool is never over-promised by more than 5 %), the weights, and the token capacity
// and concurrency given the KV pool. The error table is printed; with
// VRAMPLAN_VLLM_ACCURACY_TABLE set it is also written there as Markdown (docs/accuracy.md,
// "vLLM (published logs)").
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/io/catalog_yaml.hpp>
#include <vramplan/vllm.hpp>

#include <vramplan/catalog.hpp>
#include <vramplan/tensors.hpp>

#ifndef VRAMPLAN_ACCURACY_DIR
#error "VRAMPLAN_ACCURACY_DIR must name bench/accuracy/data"
#endif

namespace vramplan {
namespace {

using nlohmann::json;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Row {
  json data;
  std::string id;
  std::string release;
  VllmEstimate e;
  bool modelled = true;
  bool multimodal = false;  // a vision tower, planned as the catalog's projector bytes
  std::string why_not;
};

double gib_of(Bytes b) { return static_cast<double>(b) / kGiB; }

std::vector<json> read_rows() {
  std::ifstream in(std::string(VRAMPLAN_ACCURACY_DIR) + "/vllm-logs.ndjson");
  std::vector<json> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(json::parse(line));
  }
  return rows;
}

// Integer-quantized checkpoints: "w4a16-g128" (compressed-tensors, symmetric), "gptq-g128"
// (symmetric), "gptq-g128-act" (act order), "awq-g128" (zero points).
std::optional<VllmIntQuant> int_quant_of(const std::string& w) {
  VllmIntQuant q;
  std::string rest;
  if (w.rfind("w4a16-g", 0) == 0) {
    rest = w.substr(7);
  } else if (w.rfind("gptq-g", 0) == 0) {
    rest = w.substr(6);
  } else if (w.rfind("awq-g", 0) == 0) {
    rest = w.substr(5);
    q.zero_points = true;
  } else {
    return std::nullopt;
  }
  if (rest.size() > 4 && rest.substr(rest.size() - 4) == "-act") {
    q.act_order = true;
    rest.resize(rest.size() - 4);
  }
  q.group_size = std::stoi(rest);
  return q;
}

std::optional<VllmDtype> weights_dtype(const std::string& w) {
  if (w == "bf16" || w == "checkpoint") return VllmDtype::bf16;  // gpt-oss: MXFP4 experts kept
  if (w == "fp16") return VllmDtype::fp16;
  if (w == "fp8") return VllmDtype::fp8;
  if (int_quant_of(w)) return VllmDtype::bf16;  // the rest of a GPTQ/AWQ checkpoint: 16-bit
  return std::nullopt;
}

// A catalog model as the CLI builds it: its tensors and, for multimodal checkpoints, the
// vision tower as the projector (replicated weights in vLLM).
Model catalog_model(const Catalog& catalog, const std::string& id) {
  const std::optional<ModelRef> ref = catalog.resolve(id);
  if (!ref || ref->entry == nullptr) throw std::runtime_error("not in catalog: " + id);
  const CatalogEntry& entry = *ref->entry;
  return make_model(id, "catalog", entry.spec, ref->quant, generate_tensors(entry.spec, ref->quant),
                    entry.projector ? entry.projector->bytes : 0);
}

std::vector<Row> predict_all() {
  const Catalog catalog = io::load_catalog({}, "");
  std::vector<Row> out;
  for (const json& j : read_rows()) {
    Row row;
    row.data = j;
    row.id = j.at("id").get<std::string>();
    row.release = j.at("vllm").get<std::string>();
    const std::optional<VllmDtype> dtype = weights_dtype(j.at("weights").get<std::string>());
    if (!dtype) {
      row.modelled = false;
      row.why_not = "weights " + j.at("weights").get<std::string>() + " not modelled";
      out.push_back(row);
      continue;
    }
    VllmRequest r;
    const auto total = static_cast<Bytes>(std::llround(j.at("gpu_total_gib").get<double>() * kGiB));
    r.gpus.assign(j.at("tp").get<std::size_t>(), total);
    r.gpu_name = j.at("gpu").get<std::string>();
    r.dtype = *dtype;
    r.int_quant = int_quant_of(j.at("weights").get<std::string>());
    r.max_model_len = j.at("max_model_len").get<std::int64_t>();
    r.util_x10000 = static_cast<std::int32_t>(std::lround(j.at("util").get<double>() * 10000));
    r.max_num_seqs = j.at("max_num_seqs").get<std::int32_t>();
    r.max_num_batched_tokens = j.at("max_num_batched_tokens").get<std::int64_t>();
    r.kv_cache_dtype =
        j.at("kv_cache_dtype").get<std::string>() == "fp8" ? VllmKvDtype::fp8 : VllmKvDtype::model;
    r.cudagraph_in_budget = j.at("cudagraph_estimate").get<bool>();
    const std::optional<std::int32_t> release = parse_vllm_release(row.release);
    EXPECT_TRUE(release.has_value()) << row.id << ": release " << row.release;
    r.release = release.value_or(vllm_newest_release);
    const Model m =
        vllm_checkpoint_model(catalog_model(catalog, j.at("model").get<std::string>()), *dtype);
    row.multimodal = m.projector > 0;
    row.e = vllm_estimate(m, r);
    out.push_back(row);
  }
  return out;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> all = predict_all();
  return all;
}

std::optional<double> logged(const Row& row, const char* key) {
  const json& l = row.data.at("logged");
  if (!l.contains(key)) return std::nullopt;
  return l.at(key).get<double>();
}

std::string pair(double pred, std::optional<double> log) {
  if (!log) return fmt::format("{:.2f} / -", pred);
  return fmt::format("{:.2f} / {:.2f}", pred, *log);
}

std::string pct(double pred, std::optional<double> log) {
  if (!log || *log == 0) return "-";
  return fmt::format("{:+.1f} %", (pred - *log) / std::fabs(*log) * 100.0);
}

// The error table: one line per row, then a summary per component.
TEST(VllmAccuracy, ErrorTable) {
  std::string table =
      "| run | vLLM | TP | weights pred / logged (GiB) | activation | non-torch | KV pool pred / "
      "logged (GiB) | KV err | tokens pred / logged | concurrency pred / logged |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n";
  struct Stat {
    std::vector<double> abs_err;
  };
  Stat w, a, n, kv, tok, conc;
  auto add = [](Stat& s, double pred, std::optional<double> log) {
    if (log && *log > 0) s.abs_err.push_back(std::fabs(pred - *log) / *log * 100.0);
  };
  for (const Row& row : rows()) {
    if (!row.modelled) {
      table +=
          fmt::format("| {} | {} | {} | {} | | | | | | |\n", row.data.at("hf").get<std::string>(),
                      row.release, row.data.at("tp").get<int>(), row.why_not);
      continue;
    }
    const VllmDevice& d = row.e.devices.front();
    const double kv_pred = gib_of(d.kv_cache);
    const double w_pred = gib_of(d.weights);
    const double a_pred = gib_of(d.activation);
    const double n_pred = gib_of(d.non_torch);
    add(w, w_pred, logged(row, "weights_gib"));
    add(a, a_pred, logged(row, "activation_gib"));
    add(n, n_pred, logged(row, "non_torch_gib"));
    add(kv, kv_pred, logged(row, "kv_gib"));
    add(tok, static_cast<double>(row.e.kv_tokens), logged(row, "kv_tokens"));
    add(conc, row.e.max_concurrency, logged(row, "max_concurrency"));
    const std::optional<double> lt = logged(row, "kv_tokens");
    const std::optional<double> lc = logged(row, "max_concurrency");
    std::string name = row.data.at("hf").get<std::string>();
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (row.data.at("weights").get<std::string>() == "fp8" &&
        lower.find("fp8") == std::string::npos && lower.find("w8a8") == std::string::npos) {
      name += " --quantization fp8";
    }
    if (row.data.at("kv_cache_dtype").get<std::string>() == "fp8") name += " --kv-cache-dtype fp8";
    if (row.data.at("max_model_len").get<std::int64_t>() != 8192) {
      name += fmt::format(" len {}", row.data.at("max_model_len").get<std::int64_t>());
    }
    table += fmt::format(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", name, row.release,
        row.data.at("tp").get<int>(), pair(w_pred, logged(row, "weights_gib")),
        pair(a_pred, logged(row, "activation_gib")), pair(n_pred, logged(row, "non_torch_gib")),
        pair(kv_pred, logged(row, "kv_gib")), pct(kv_pred, logged(row, "kv_gib")),
        lt ? fmt::format("{} / {}", row.e.kv_tokens, static_cast<std::int64_t>(*lt)) : "-",
        lc ? fmt::format("{:.2f} / {:.2f}", row.e.max_concurrency, *lc) : "-");
  }
  auto summary = [](const char* what, Stat s) {
    if (s.abs_err.empty()) return fmt::format("| {} | 0 | - | - |\n", what);
    std::sort(s.abs_err.begin(), s.abs_err.end());
    return fmt::format("| {} | {} | {:.1f} % | {:.1f} % |\n", what, s.abs_err.size(),
                       s.abs_err[s.abs_err.size() / 2], s.abs_err.back());
  };
  std::string sum = "| component | runs | median abs error | max abs error |\n|---|---|---|---|\n";
  sum += summary("weights (Model loading took)", w);
  sum += summary("activation (torch peak increase)", a);
  sum += summary("non-torch (forward increase)", n);
  sum += summary("KV pool (Available KV cache memory)", kv);
  sum += summary("KV tokens (GPU KV cache size)", tok);
  sum += summary("maximum concurrency", conc);
  std::printf("%s\n%s", sum.c_str(), table.c_str());
  if (const char* path = std::getenv("VRAMPLAN_VLLM_ACCURACY_TABLE"); path != nullptr) {
    std::ofstream(path) << sum << "\n" << table;
  }
  EXPECT_GE(rows().size(), 20U);
}

// The safety rule (issue 13): the predicted "Available KV cache memory" is never more than 5 %
// above what vLLM logged; where vLLM logged a negative pool (it refused to start) the prediction
// must be at least as negative, give or take the same 5 %.
TEST(VllmAccuracy, KvPoolIsNeverOverPromisedByMoreThanFivePercent) {
  int checked = 0;
  for (const Row& row : rows()) {
    const std::optional<double> kv = logged(row, "kv_gib");
    if (!row.modelled || !kv) continue;
    ++checked;
    const double pred = gib_of(row.e.devices.front().kv_cache);
    EXPECT_LE(pred, *kv + 0.05 * std::fabs(*kv))
        << row.id << " (vLLM " << row.release << "): predicted " << pred << " GiB, logged " << *kv;
  }
  EXPECT_GE(checked, 20);
}

// Weights as vLLM holds them: within 3 % (or 0.1 GiB) of "Model loading took"; multimodal
// checkpoints within 7 %: their vision towers are the catalog's computed projector bytes, and
// vLLM holds 0.3-0.5 GiB more for gemma-3 than that (not explained yet; docs/accuracy.md).
TEST(VllmAccuracy, WeightsMatchModelLoading) {
  for (const Row& row : rows()) {
    const std::optional<double> w = logged(row, "weights_gib");
    if (!row.modelled || !w) continue;
    const double pred = gib_of(row.e.devices.front().weights);
    EXPECT_LE(std::fabs(pred - *w), std::max((row.multimodal ? 0.07 : 0.03) * *w, 0.1))
        << row.id << ": predicted " << pred << " GiB, logged " << *w;
  }
}

// The KV layout (groups of full and sliding-window layers, the page size per layer, the block
// count per request) from the logged pool: the logged token count and concurrency must follow
// from the logged "Available KV cache memory" (2 decimals: +-0.005 GiB).
TEST(VllmAccuracy, TokensAndConcurrencyFollowFromTheLoggedPool) {
  for (const Row& row : rows()) {
    const std::optional<double> kv = logged(row, "kv_gib");
    const std::optional<double> tokens = logged(row, "kv_tokens");
    const std::optional<double> conc = logged(row, "max_concurrency");
    if (!row.modelled || !kv || !tokens || *kv <= 0) continue;
    const VllmKvLayout& layout = row.e.kv_layout;
    const std::int64_t groups = layout.full_groups + layout.swa_groups;
    auto blocks = [&](double g) {
      return static_cast<std::int64_t>(g * kGiB) / (layout.page_bytes * layout.group_size);
    };
    auto capacity = [&](double g) { return blocks(g) / groups * vllm_block_size; };
    EXPECT_LE(capacity(*kv - 0.005), static_cast<std::int64_t>(*tokens)) << row.id;
    EXPECT_GE(capacity(*kv + 0.005), static_cast<std::int64_t>(*tokens)) << row.id;
    if (conc) {
      const auto per_request = static_cast<double>(row.e.blocks_per_request);
      EXPECT_LE(static_cast<double>(blocks(*kv - 0.005)) / per_request, *conc + 0.006) << row.id;
      EXPECT_GE(static_cast<double>(blocks(*kv + 0.005)) / per_request, *conc - 0.006) << row.id;
    }
  }
}

}  // namespace
}  // namespace vramplan
