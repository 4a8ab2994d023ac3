// Several models on one Ollama server (model_set.hpp): the set becomes the deployment the
// command line describes, check_deployment() evaluates it, and `fit` applies the first of
// check's single changes that fits and touches nothing the user fixed.
#include <vramplan/model_set.hpp>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <vramplan/deployment.hpp>
#include <vramplan/error.hpp>

namespace vramplan {
namespace {

// The server settings of a set, as the engine reads them, by setting.
using Settings = std::map<EngineSetting, std::string>;

constexpr DeployEngine ollama = DeployEngine::ollama;

Deployment deployment_of(const Settings& settings) {
  DeploymentInput input;
  input.engine = ollama;
  for (const auto& [setting, value] : settings) {
    input.environment.push_back(EnvEntry{.name = std::string(setting_default_name(ollama, setting)),
                                         .value = setting_value_text(ollama, setting, value),
                                         .origin = {}});
  }
  return interpret_deployment(input);
}

// Applies `fix` to the settings and the models (a model change names a smaller quantization of
// one of them).
void apply(const CheckFix& fix, Settings& settings, std::vector<CheckModel>& models) {
  for (const SettingChange& c : fix.changes) {
    if (c.setting != EngineSetting::model) {
      settings[c.setting] = c.value;
      continue;
    }
    for (CheckModel& m : models) {
      const auto alt =
          std::find_if(m.alternatives.begin(), m.alternatives.end(),
                       [&](const Model& a) { return quantized_name(a) == c.value; });
      if (alt != m.alternatives.end()) {
        m.model = *alt;
        m.model.name = c.value;  // the table names the quantization it now is
        break;
      }
    }
  }
}

// The first causal model's figures: the settings Ollama applies to every model of the set
// (embedding models get their own, smaller context).
const CheckedModel& chat_model(const CheckResult& result) {
  for (const CheckedModel& m : result.models) {
    if (!m.embedding) return m;
  }
  return result.models.front();
}

}  // namespace

SetPlan plan_model_set(const SetRequest& request) {
  if (request.models.size() < 2) {
    throw Error(ErrorKind::invalid_setting, "a model set needs at least two models");
  }
  const std::int64_t n = static_cast<std::int64_t>(request.models.size());
  Settings settings;
  if (request.ctx) settings[EngineSetting::context] = std::to_string(*request.ctx);
  if (request.parallel) settings[EngineSetting::parallel] = std::to_string(*request.parallel);
  if (request.kv_type) settings[EngineSetting::kv_cache_type] = std::string(to_string(*request.kv_type));
  if (request.flash_attn) settings[EngineSetting::flash_attention] = *request.flash_attn ? "on" : "off";
  // fit: room for every model at once, whatever Ollama's default (3 per GPU) would allow; it
  // is never 1 while two models must stay loaded.
  if (request.fitted) settings[EngineSetting::max_loaded_models] = std::to_string(n);

  std::vector<CheckModel> models = request.models;
  // What the user fixed is never changed.
  std::vector<EngineSetting> keep;
  if (request.ctx) keep.push_back(EngineSetting::context);
  if (request.parallel) keep.push_back(EngineSetting::parallel);
  if (request.kv_type) keep.push_back(EngineSetting::kv_cache_type);
  if (request.flash_attn) keep.push_back(EngineSetting::flash_attention);
  const auto evaluate = [&](bool take_turns) {
    const CheckRequest check{
        .models = models, .gpus = request.gpus, .ram = request.ram, .keep = keep,
        .take_turns = take_turns};
    return check_deployment(deployment_of(settings), check);
  };
  SetPlan plan;
  // Loaded together first: check's single changes, else its changes combined; taking turns
  // only when nothing keeps every model loaded.
  plan.result = evaluate(false);
  std::vector<EngineSetting> changed;
  if (request.fitted && !plan.result.fits()) {
    std::optional<CheckFix> chosen = plan.result.fix;
    if (!chosen || !chosen->fits) {
      CheckResult turns = evaluate(true);
      if (turns.fix && turns.fix->fits) chosen = std::move(turns.fix);
    }
    if (chosen) {
      apply(*chosen, settings, models);
      for (const SettingChange& c : chosen->changes) changed.push_back(c.setting);
      plan.changes = chosen->changes;
      plan.decisions.push_back(chosen->what);
      plan.result = evaluate(false);
    }
  }
  const CheckVerdict v = plan.result.verdict;
  const bool turns_chosen =
      std::find(changed.begin(), changed.end(), EngineSetting::max_loaded_models) != changed.end();
  plan.fits = v == CheckVerdict::fits || v == CheckVerdict::spills ||
              (v == CheckVerdict::take_turns && turns_chosen);

  // The settings written for the set: what was given or chosen, and Ollama's defaults made
  // explicit from the evaluation (the context and slots of the chat model, an f16 cache).
  const CheckedModel& chat = chat_model(plan.result);
  settings.try_emplace(EngineSetting::context, std::to_string(chat.ctx));
  settings.try_emplace(EngineSetting::parallel, std::to_string(chat.parallel));
  settings.try_emplace(EngineSetting::max_loaded_models, std::to_string(plan.result.max_loaded));
  settings.try_emplace(EngineSetting::kv_cache_type, chat.kv_type);
  settings.try_emplace(EngineSetting::flash_attention, chat.flash_attention ? "on" : "off");
  for (const auto& [setting, value] : settings) {
    const bool was_changed = std::find(changed.begin(), changed.end(), setting) != changed.end();
    plan.settings.push_back(SetSetting{.setting = setting, .value = value, .changed = was_changed});
  }
  return plan;
}

}  // namespace vramplan
