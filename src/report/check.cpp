#include <vramplan/report/check.hpp>

#include <variant>

#include <nlohmann/json.hpp>

#include <vramplan/bytes.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/text_table.hpp>

#include "check_tables.hpp"
#include "findings_json.hpp"
#include "json_text.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;

std::string_view suggestion_word(SuggestionKind kind) {
  switch (kind) {
    case SuggestionKind::variable:
      return "the variable ";
    case SuggestionKind::flag:
      return "the flag ";
    case SuggestionKind::modelfile_parameter:
      return "PARAMETER ";
    case SuggestionKind::value:
      return "the value ";
    case SuggestionKind::none:
      break;
  }
  return "";
}

std::string verdict_sentence(CheckVerdict verdict, std::string_view engine) {
  switch (verdict) {
    case CheckVerdict::fits:
      return "fits: what the files put on the GPU fits under full load";
    case CheckVerdict::spills:
      return "does not fit on the GPU: the engine runs part of the model on the CPU (slower, "
             "no out-of-memory)";
    case CheckVerdict::out_of_memory:
      return "runs out of memory under full load";
    case CheckVerdict::take_turns:
      return "the models cannot stay loaded together: they evict each other and reload";
    case CheckVerdict::does_not_start:
      return format_text("{} does not start: its memory check fails", engine);
  }
  return "";
}

// "OLLAMA_NUM_PARALLEL=1 in .env", "-c 8192 in command:", "PARAMETER num_ctx 8192".
std::string change_text(const SpelledChange& c) {
  std::string text;
  if (!c.name.empty() && c.name[0] == '-') {
    text = format_text("{} {}", c.name, c.value);
  } else if (c.setting == EngineSetting::model) {
    text = format_text("model {}", c.value);
  } else if (!c.name.empty() && c.name.find_first_of("abcdefghijklmnopqrstuvwxyz") == 0) {
    text = format_text("PARAMETER {} {}", c.name, c.value);
  } else {
    text = format_text("{}={}", c.name, c.value);
  }
  if (!c.file.empty()) text += format_text(" ({})", c.file);
  return text;
}

std::string changes_text(const std::vector<SpelledChange>& changes) {
  std::string text;
  for (const SpelledChange& c : changes) {
    if (!text.empty()) text += ", ";
    text += change_text(c);
  }
  return text;
}

Json changes_json(const std::vector<SpelledChange>& changes) {
  Json array = Json::array();
  for (const SpelledChange& c : changes) {
    array.push_back(Json{{"setting", std::string(setting_name(c.setting))},
                         {"name", c.name},
                         {"value", c.value},
                         {"file", c.file}});
  }
  return array;
}

Json fix_json(const CheckFix& fix, const std::vector<SpelledChange>& spelled) {
  Json j = finding_json(fix.what);
  j["changes"] = changes_json(spelled);
  j["fits"] = fix.fits;
  j["gpu_used_bytes"] = fix.gpu_used;
  j["gpu_layers"] = fix.gpu_layers;
  j["total_layers"] = fix.total_layers;
  j["cpu_moe"] = fix.cpu_moe;
  return j;
}

}  // namespace

// A finding's sentence; a planner note about one of several models says which.
std::string checked_finding_text(const Finding& f) {
  if (f.kind == FindingKind::ctx_clamped || f.kind == FindingKind::embedding_one_slot ||
      f.kind == FindingKind::arch_one_slot) {
    for (const Fact& fact : f.facts) {
      if (fact.name != "model") continue;
      if (const auto* name = std::get_if<std::string>(&fact.value)) {
        return format_text("{}: {}", *name, describe(f));
      }
    }
  }
  return describe(f);
}

std::string describe_diagnostic(const Diagnostic& d, std::string_view engine) {
  std::string where;
  if (!d.origin.file.empty()) {
    where = d.origin.line > 0 ? format_text("{}:{}: ", d.origin.file, d.origin.line)
                              : format_text("{}: ", d.origin.file);
  }
  const std::string said =
      d.value.empty() ? format_text("{}", d.name) : format_text("{}={}", d.name, d.value);
  const std::string hint =
      d.suggestion.empty() ? std::string()
                           : format_text("{}{}", suggestion_word(d.suggestion_kind), d.suggestion);
  switch (d.kind) {
    case DiagnosticKind::not_read:
      return where + format_text("{}: not read by {}{}{}", d.name, engine,
                                 hint.empty() ? "" : "; the setting is ", hint);
    case DiagnosticKind::application_variable:
      return where + format_text("{}: not {}'s variable (an application's or the system's)", d.name,
                                 engine);
    case DiagnosticKind::misspelled:
      return where + format_text("{}: not read by {}; did you mean {}?", d.name, engine, hint);
    case DiagnosticKind::parsed_differently:
      return where + format_text("{}: {} reads it as {}{}{}", said, engine, d.effective,
                                 hint.empty() ? "" : "; for what was meant write ", hint);
    case DiagnosticKind::invalid_value:
      if (d.fatal) return where + format_text("{}: refused; {} does not start", said, engine);
      return where + format_text("{}: refused; {} uses {}", said, engine, d.effective);
    case DiagnosticKind::not_memory_relevant:
      return where + format_text("{}: read, no effect on memory", d.name);
    case DiagnosticKind::overridden:
      return where + format_text("{}: overridden by {}", said, hint);
    case DiagnosticKind::removed_parameter:
      return where +
             format_text("PARAMETER {}: removed from Ollama; 'ollama create' fails", d.name);
    case DiagnosticKind::unknown_name:
      return where + format_text("{}: unknown to {}; it does not start", d.name, engine);
  }
  return where + format_text("{}", d.name);
}

std::string check_tables(const CheckResult& r) {
  std::string out;
  std::vector<Align> align{Align::left, Align::right, Align::left, Align::right};
  TextTable models(align);
  // Ollama's context is per slot; llama-server's is shared by its slots; vLLM's is one request's.
  const std::string_view shape = r.engine == DeployEngine::ollama         ? "CONTEXT x SLOTS"
                                 : r.engine == DeployEngine::llama_server ? "CONTEXT / SLOTS"
                                                                          : "LENGTH, SEQS";
  std::vector<Cell> head{"MODEL", std::string(shape), "KV", "GPU LAYERS"};
  for (std::size_t i = 0; i + 1 < r.devices.size(); ++i) head.emplace_back(r.devices[i].name);
  head.emplace_back("RAM");
  head.emplace_back("VERDICT");
  models.add_row(std::move(head));
  for (const CheckedModel& m : r.models) {
    const DeployEngine engine = m.engine.value_or(r.engine);
    const std::string ctx =
        engine == DeployEngine::ollama         ? format_text("{} x {}", m.ctx, m.parallel)
        : engine == DeployEngine::llama_server ? format_text("{} / {}", m.ctx, m.parallel)
                                               : format_text("{}, {}", m.ctx, m.parallel);
    // A container of another engine beside the server (several models): named with it.
    const std::string name = m.engine && *m.engine != r.engine
                                 ? format_text("{} ({})", m.name, deploy_engine_name(*m.engine))
                                 : m.name;
    std::vector<Cell> row{
        name, ctx, m.kv_type,
        m.cpu_moe > 0 ? format_text("{}/{} ({} moe cpu)", m.gpu_layers, m.total_layers, m.cpu_moe)
                      : format_text("{}/{}", m.gpu_layers, m.total_layers)};
    for (const Bytes b : m.gpu_bytes) row.emplace_back(format_bytes(b));
    row.emplace_back(format_bytes(m.ram_bytes));
    row.emplace_back(std::string(to_string(m.verdict)));
    models.add_row(std::move(row));
  }
  out += models.render();
  out += '\n';
  TextTable devices({Align::left, Align::right, Align::right, Align::right, Align::right,
                     Align::right, Align::right, Align::right});
  devices.add_row(
      {"DEVICE", "CAPACITY", "NEEDED", "WEIGHTS", "KV CACHE", "COMPUTE", "OTHER", "FREE"});
  for (const CheckedDevice& d : r.devices) {
    std::string free = "-";
    if (d.capacity > 0) {
      free = d.over() > 0 ? format_text("-{}", format_bytes(d.over()))
                          : format_bytes(d.capacity - d.used);
    }
    devices.add_row({d.name, d.capacity > 0 ? format_bytes(d.capacity) : std::string("-"),
                     format_bytes(d.used), format_bytes(d.weights), format_bytes(d.kv_cache),
                     format_bytes(d.compute), format_bytes(d.other), free});
  }
  out += devices.render();
  return out;
}

nlohmann::ordered_json checked_models_json(const CheckResult& r) {
  Json models = Json::array();
  for (const CheckedModel& m : r.models) {
    models.push_back(Json{{"name", m.name},
                          {"ctx", m.ctx},
                          {"parallel", m.parallel},
                          {"kv_type", m.kv_type},
                          {"flash_attention", m.flash_attention},
                          {"gpu_layers", m.gpu_layers},
                          {"total_layers", m.total_layers},
                          {"cpu_moe", m.cpu_moe},
                          {"layers_chosen_by_engine", m.layers_chosen},
                          {"embedding", m.embedding},
                          {"gpu_bytes", m.gpu_bytes},
                          {"ram_bytes", m.ram_bytes},
                          {"verdict", std::string(to_string(m.verdict))}});
    if (m.engine) models.back()["engine"] = std::string(deploy_engine_name(*m.engine));
  }
  return models;
}

nlohmann::ordered_json checked_devices_json(const CheckResult& r) {
  Json devices = Json::array();
  for (const CheckedDevice& d : r.devices) {
    devices.push_back(Json{{"name", d.name},
                           {"capacity_bytes", d.capacity},
                           {"used_bytes", d.used},
                           {"weights_bytes", d.weights},
                           {"kv_cache_bytes", d.kv_cache},
                           {"compute_bytes", d.compute},
                           {"other_bytes", d.other},
                           {"over_bytes", d.over()}});
  }
  return devices;
}

std::string render_check_table(const CheckReport& report) {
  const CheckResult& r = *report.result;
  std::string out = format_text(
      "vramplan check: {}, {} model{}, under full load (every slot "
      "busy at its full context)\n\n",
      report.engine, r.models.size(), r.models.size() == 1 ? "" : "s");
  out += check_tables(r);
  out += format_text("\nverdict: {}\n", verdict_sentence(r.verdict, report.engine));
  for (const Finding& f : r.findings) out += word_wrap(checked_finding_text(f), "  - ", "    ");
  if (r.verdict != CheckVerdict::fits) {
    if (r.fix && r.fix->fits) {
      out += format_text("fix: {}: {} (largest GPU use {})\n", describe(r.fix->what),
                         changes_text(report.fix), format_bytes(r.fix->gpu_used));
    } else if (r.fix) {
      if (r.fix->cpu_moe > 0) {
        out += format_text(
            "closest: nothing keeps every layer and expert on the GPU; {} puts {} of {} layers "
            "on the GPU with the experts of {} blocks in RAM\n",
            changes_text(report.fix), r.fix->gpu_layers, r.fix->total_layers, r.fix->cpu_moe);
      } else {
        out += format_text(
            "closest: nothing makes every layer fit; {} puts {} of {} layers on the "
            "GPU\n",
            changes_text(report.fix), r.fix->gpu_layers, r.fix->total_layers);
      }
    } else {
      out += "fix: no single change to these settings makes it fit\n";
    }
    for (std::size_t i = 0; i < r.alternatives.size() && i < report.alternatives.size(); ++i) {
      out += format_text("  also fits: {}: {}\n", describe(r.alternatives[i].what),
                         changes_text(report.alternatives[i]));
    }
  }
  bool header = false;
  for (const Diagnostic& d : report.deployment->diagnostics) {
    if (d.kind == DiagnosticKind::not_memory_relevant) continue;
    if (!header) {
      out += "\nwhat the engine makes of the files:\n";
      header = true;
    }
    // One line each, not wrapped: a path's length must not move the words.
    out += format_text("  - {}\n", describe_diagnostic(d, report.engine));
  }
  return out;
}

std::string render_check_json(const CheckReport& report) {
  const CheckResult& r = *report.result;
  Json j;
  j["schema_version"] = json_schema_version;
  j["engine"] = std::string(deploy_engine_name(r.engine));
  j["fits"] = r.fits();
  j["verdict"] = std::string(to_string(r.verdict));
  j["verdict_text"] = verdict_sentence(r.verdict, report.engine);
  if (r.engine == DeployEngine::ollama) {
    j["max_loaded_models"] = r.max_loaded;
    j["resident_together"] = r.resident_together;
  }
  j["models"] = checked_models_json(r);
  j["devices"] = checked_devices_json(r);
  j["findings"] = findings_json(r.findings);
  j["fix"] = r.fix ? fix_json(*r.fix, report.fix) : Json(nullptr);
  Json alternatives = Json::array();
  for (std::size_t i = 0; i < r.alternatives.size() && i < report.alternatives.size(); ++i) {
    alternatives.push_back(fix_json(r.alternatives[i], report.alternatives[i]));
  }
  j["alternatives"] = alternatives;
  Json diagnostics = Json::array();
  for (const Diagnostic& d : report.deployment->diagnostics) {
    diagnostics.push_back(Json{{"kind", std::string(diagnostic_kind_name(d.kind))},
                               {"name", d.name},
                               {"value", d.value},
                               {"file", d.origin.file},
                               {"line", d.origin.line},
                               {"suggestion", d.suggestion},
                               {"effective", d.effective},
                               {"fatal", d.fatal},
                               {"text", describe_diagnostic(d, report.engine)}});
  }
  j["diagnostics"] = diagnostics;
  return json_text(j);
}

}  // namespace vramplan::report
