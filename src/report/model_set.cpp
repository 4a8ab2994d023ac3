// Several models on one Ollama (report/model_set.hpp): the verdict, the server's settings, then
// check's per-model and per-device tables.
#include <vramplan/report/model_set.hpp>

#include <nlohmann/json.hpp>

#include <vramplan/bytes.hpp>
#include <vramplan/deployment.hpp>
#include <vramplan/report/escape.hpp>
#include <vramplan/report/findings.hpp>
#include <vramplan/report/json.hpp>
#include <vramplan/report/text_table.hpp>

#include "check_tables.hpp"
#include "findings_json.hpp"
#include "json_text.hpp"
#include "plan_sections.hpp"

namespace vramplan::report {
namespace {

using Json = nlohmann::ordered_json;
constexpr DeployEngine ollama = DeployEngine::ollama;

std::string_view command_name(const SetReport& r) {
  if (!r.command.empty()) return r.command;
  return r.fitted ? "fit" : "estimate";
}

std::int32_t gpu_layers(const CheckResult& r) {
  std::int32_t n = 0;
  for (const CheckedModel& m : r.models) n += m.gpu_layers;
  return n;
}

std::int32_t total_layers(const CheckResult& r) {
  std::int32_t n = 0;
  for (const CheckedModel& m : r.models) n += m.total_layers;
  return n;
}

// The one-line verdict after "fits:".
std::string verdict_line(const SetPlan& p) {
  const CheckResult& r = p.result;
  const std::size_t n = r.models.size();
  for (const VllmServicePlan& v : p.vllm) {
    if (!v.plan.fits) {
      return "no - a vLLM container does not start: its budget cannot hold one request of its "
             "length";
    }
  }
  if (!p.fits) {
    switch (r.verdict) {
      case CheckVerdict::take_turns:
        return format_text(
            "no - the {} models cannot stay loaded together (they evict each "
            "other and reload)",
            n);
      default:
        return "no - a device runs out of memory under full load";
    }
  }
  if (r.verdict == CheckVerdict::take_turns) {
    return format_text("yes - the {} models take turns: at most {} loaded at once", n,
                       r.max_loaded);
  }
  if (r.verdict == CheckVerdict::spills) {
    return format_text(
        "yes - the {} models loaded together, {} of {} layers on the GPU (the "
        "rest on the CPU, slower)",
        n, gpu_layers(r), total_layers(r));
  }
  return format_text("yes - the {} models loaded together, every layer on the GPU", n);
}

struct Variable {
  std::string name;
  std::string value;
  bool changed = false;
};

std::vector<Variable> variables(const SetPlan& p) {
  std::vector<Variable> out;
  for (const SetSetting& s : p.settings) {
    out.push_back(Variable{.name = std::string(setting_default_name(ollama, s.setting)),
                           .value = setting_value_text(ollama, s.setting, s.value),
                           .changed = s.changed});
  }
  return out;
}

// "OLLAMA_KV_CACHE_TYPE=q8_0, OLLAMA_FLASH_ATTENTION=true, model llama3.1-8b Q3_K_M".
std::string changes_text(const std::vector<SettingChange>& changes) {
  std::string out;
  for (const SettingChange& c : changes) {
    if (!out.empty()) out += ", ";
    if (c.setting == EngineSetting::model) {
      out += format_text("model {}", c.value);
    } else {
      out += format_text("{}={}", setting_default_name(ollama, c.setting),
                         setting_value_text(ollama, c.setting, c.value));
    }
  }
  return out;
}

std::string decision_text(const SetPlan& p, const Finding& f) {
  return format_text("to make the set fit, {}: {}", describe(f), changes_text(p.changes));
}

std::string model_names(const CheckResult& r) {
  std::string names;
  for (const CheckedModel& m : r.models) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

// "Ollama (2 models) and 1 vLLM container".
std::string services_text(const SetPlan& p) {
  const std::size_t served = p.ollama_models();
  const std::string vllm =
      format_text("{} vLLM container{}", p.vllm.size(), p.vllm.size() == 1 ? "" : "s");
  if (served == 0) return vllm;
  return format_text("Ollama ({} model{}) and {}", served, served == 1 ? "" : "s", vllm);
}

// A vLLM container's command line: the model, then its flags; the utilisation marked when fit
// chose it.
std::string vllm_section(const VllmServicePlan& v, const CheckedModel& row, bool fitted) {
  std::string out =
      format_text("vLLM container for {} (`vllm serve` {}{})\n", row.name,
                  vllm_release_name(v.plan.estimate.release), fitted ? "; * = chosen to fit" : "");
  TextTable flags({Align::left, Align::left});
  flags.add_row({"  model", v.model_ref});
  const std::vector<std::string> args = vllm_args(v.plan);
  for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
    const bool chosen = v.util_chosen && args[i] == "--gpu-memory-utilization";
    flags.add_row({"  " + args[i], args[i + 1] + (chosen ? " *" : "")});
  }
  out += flags.render();
  return out;
}

}  // namespace

std::string render_set_table(const SetReport& report) {
  const SetPlan& p = *report.plan;
  const CheckResult& r = p.result;
  std::string out =
      p.vllm.empty() ? format_text(
                           "vramplan {}: Ollama, {} models under full load (every slot busy at its "
                           "full context)\n",
                           command_name(report), r.models.size())
                     : format_text(
                           "vramplan {}: {} on one GPU, under full load (every slot busy at its "
                           "full context)\n",
                           command_name(report), services_text(p));
  out += format_text("fits:    {}\n\n", verdict_line(p));
  if (!p.settings.empty()) {
    out += report.fitted ? "settings (the Ollama server's environment; * = changed to fit)\n"
                         : "settings (the Ollama server's environment: as given, else its "
                           "defaults)\n";
    TextTable settings({Align::left, Align::left});
    for (const Variable& v : variables(p)) {
      settings.add_row({"  " + v.name, v.value + (v.changed ? " *" : "")});
    }
    out += settings.render();
    out += '\n';
  }
  const std::size_t first_vllm = p.ollama_models();
  for (std::size_t i = 0; i < p.vllm.size(); ++i) {
    out += vllm_section(p.vllm[i], r.models[first_vllm + i], report.fitted);
    out += '\n';
  }
  out += check_tables(r);
  if (!p.decisions.empty()) {
    out += "\ndecisions\n";
    for (const Finding& f : p.decisions) {
      out += word_wrap(decision_text(p, f), "  - ", "    ");
    }
  }
  if (!r.findings.empty()) {
    out += "\nfindings\n";
    for (const Finding& f : r.findings) out += word_wrap(checked_finding_text(f), "  - ", "    ");
  }
  return out;
}

std::string render_set_json(const SetReport& report) {
  const SetPlan& p = *report.plan;
  const CheckResult& r = p.result;
  Json j;
  j["schema_version"] = json_schema_version;
  j["command"] = std::string(command_name(report));
  j["engine"] = std::string(deploy_engine_name(r.engine));
  j["fits"] = p.fits;
  j["verdict"] = std::string(to_string(r.verdict));
  j["verdict_text"] = verdict_line(p);
  j["max_loaded_models"] = r.max_loaded;
  j["resident_together"] = r.resident_together;
  Json settings = Json::array();
  for (const SetSetting& s : p.settings) {
    settings.push_back(Json{{"setting", std::string(setting_name(s.setting))},
                            {"name", std::string(setting_default_name(ollama, s.setting))},
                            {"value", setting_value_text(ollama, s.setting, s.value)},
                            {"changed", s.changed}});
  }
  j["settings"] = settings;
  j["models"] = checked_models_json(r);
  j["devices"] = checked_devices_json(r);
  j["decisions"] = findings_json(p.decisions);
  Json changes = Json::array();
  for (const SettingChange& c : p.changes) {
    changes.push_back(Json{{"setting", std::string(setting_name(c.setting))}, {"value", c.value}});
  }
  j["changes"] = changes;
  if (!p.vllm.empty()) {
    Json services = Json::array();
    const std::size_t first_vllm = p.ollama_models();
    for (std::size_t i = 0; i < p.vllm.size(); ++i) {
      const VllmServicePlan& v = p.vllm[i];
      const VllmEstimate& e = v.plan.estimate;
      services.push_back(Json{{"engine", "vllm"},
                              {"name", r.models[first_vllm + i].name},
                              {"model_ref", v.model_ref},
                              {"release", vllm_release_name(e.release)},
                              {"fits", v.plan.fits},
                              {"footprint_bytes", v.footprint},
                              {"gpu_memory_utilization", e.util()},
                              {"utilization_chosen", v.util_chosen},
                              {"max_model_len", e.max_model_len},
                              {"max_num_seqs", e.max_num_seqs},
                              {"kv_cache_bytes", e.devices.front().kv_cache},
                              {"kv_tokens", e.kv_tokens},
                              {"max_concurrency", e.max_concurrency},
                              {"args", vllm_args(v.plan)}});
    }
    j["services"] = services;
  }
  j["findings"] = findings_json(r.findings);
  return json_text(j);
}

std::string render_set_env(const SetReport& report) {
  const SetPlan& p = *report.plan;
  const CheckResult& r = p.result;
  std::string out;
  env_line(out,
           format_text("# Generated by vramplan {} for {}", report.tool_version, model_names(r)));
  env_line(out, format_text("# fits:    {}", verdict_line(p)));
  for (const CheckedDevice& d : r.devices) {
    if (d.capacity > 0) {
      env_line(out, format_text("# {:<8} {} of {}", d.name + ":", format_bytes(d.used),
                                format_bytes(d.capacity)));
    } else {
      env_line(out, format_text("# {:<8} {}", d.name + ":", format_bytes(d.used)));
    }
  }
  for (const Finding& f : p.decisions) {
    env_line(out, format_text("# decision: {}", decision_text(p, f)));
  }
  for (const Finding& f : r.findings) {
    if (f.kind == FindingKind::set_own_ctx) env_line(out, format_text("# {}", describe(f)));
  }
  for (const Variable& v : variables(p)) env_line(out, v.name + "=" + v.value);
  return out;
}

}  // namespace vramplan::report
