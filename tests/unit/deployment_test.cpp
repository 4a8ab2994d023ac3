// interpret_deployment over the check fixtures (tests/check/fixtures/README.md says what a
// correct `check` finds in each box) and the engines' own parsing rules (docs/engines.md).
#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include <vramplan/deployment.hpp>
#include <vramplan/error.hpp>
#include <vramplan/io/deploy_files.hpp>
#include <vramplan/io/file.hpp>

namespace vramplan {
namespace {

const std::string fixtures = std::string(VRAMPLAN_SOURCE_DIR) + "/tests/check/fixtures/";

const Diagnostic* find_diag(const Deployment& d, std::string_view name) {
  for (const Diagnostic& x : d.diagnostics) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

// The diagnostic of `name`, which must exist and be of `kind`.
const Diagnostic& diag(const Deployment& d, std::string_view name, DiagnosticKind kind) {
  const Diagnostic* x = find_diag(d, name);
  EXPECT_NE(x, nullptr) << name;
  static const Diagnostic none;
  if (!x) return none;
  EXPECT_EQ(diagnostic_kind_name(x->kind), diagnostic_kind_name(kind)) << name;
  return *x;
}

Deployment ollama_env(const std::string& text) {
  DeploymentInput in;
  in.engine = DeployEngine::ollama;
  in.environment = io::parse_env_file(text, "t.env", io::EnvDialect::compose);
  return interpret_deployment(in);
}

Deployment compose_box(const std::string& box, const std::optional<std::string>& service) {
  const io::ComposeFile file = io::read_compose(fixtures + box + "/docker-compose.yml", {});
  return interpret_deployment(io::deployment_input(io::select_service(file, service)));
}

TEST(Deployment, MistralBoxFlashAttentionOffIsOnAndOneDayKeepsTheDefault) {
  const std::string path = fixtures + "ollama-mistral7b-4gb/.env";
  DeploymentInput in;
  in.engine = DeployEngine::ollama;
  in.environment = io::parse_env_file(io::read_text_file(path), path, io::EnvDialect::systemd);
  const Deployment d = interpret_deployment(in);

  ASSERT_NE(d.find(EngineSetting::context), nullptr);
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 8192);
  EXPECT_EQ(d.find(EngineSetting::parallel)->integer, 2);
  EXPECT_EQ(d.find(EngineSetting::max_loaded_models)->integer, 1);

  // "off" is no Go boolean: Ollama counts it as true.
  ASSERT_NE(d.find(EngineSetting::flash_attention), nullptr);
  EXPECT_EQ(d.find(EngineSetting::flash_attention)->text, "on");
  const Diagnostic& fa = diag(d, "OLLAMA_FLASH_ATTENTION", DiagnosticKind::parsed_differently);
  EXPECT_EQ(fa.value, "off");
  EXPECT_EQ(fa.effective, "true");
  EXPECT_EQ(fa.suggestion, "false");
  EXPECT_EQ(fa.origin, (Origin{path, 15}));

  // "1d" is neither a Go duration nor seconds: the 5-minute default stays.
  const Diagnostic& keep = diag(d, "OLLAMA_KEEP_ALIVE", DiagnosticKind::parsed_differently);
  EXPECT_EQ(keep.effective, "5m0s");
  EXPECT_EQ(keep.suggestion, "24h");
  EXPECT_EQ(keep.origin.line, 17u);
  EXPECT_EQ(d.find(EngineSetting::keep_alive)->integer, 300LL * 1000000000LL);

  for (const char* app : {"BOT_MODEL", "BOT_PREFIX", "TZ"}) {
    diag(d, app, DiagnosticKind::application_variable);
  }
  for (const char* read : {"OLLAMA_HOST", "OLLAMA_MODELS", "OLLAMA_ORIGINS"}) {
    diag(d, read, DiagnosticKind::not_memory_relevant);
  }
  EXPECT_EQ(find_diag(d, "OLLAMA_CONTEXT_LENGTH"), nullptr);
}

TEST(Deployment, Llama31BoxGpuLayerVariablesAreReadByNoOllama) {
  const std::string dir = fixtures + "ollama-llama31-8b-q8-16gb/";
  const io::ComposeFile file = io::read_compose(dir + "docker-compose.yml", {});
  const io::ComposeService& auto_selected = io::select_service(file, std::nullopt);
  EXPECT_EQ(auto_selected.name, "ollama");  // ollama-pull runs `ollama pull`, not the server
  const Deployment d = interpret_deployment(io::deployment_input(auto_selected));

  EXPECT_EQ(d.engine, DeployEngine::ollama);
  const Diagnostic& layers = diag(d, "OLLAMA_GPU_LAYERS", DiagnosticKind::not_read);
  EXPECT_EQ(layers.suggestion_kind, SuggestionKind::modelfile_parameter);
  EXPECT_EQ(layers.suggestion, "num_gpu");
  EXPECT_EQ(layers.origin, (Origin{dir + ".env", 5}));
  // Interpolated from .env's OLLAMA_GPU_LAYERS, not the :-33 fallback.
  const Diagnostic& num_gpu = diag(d, "OLLAMA_NUM_GPU", DiagnosticKind::not_read);
  EXPECT_EQ(num_gpu.value, "20");
  EXPECT_EQ(num_gpu.suggestion, "num_gpu");
  EXPECT_EQ(num_gpu.origin, (Origin{dir + "docker-compose.yml", 18}));
  EXPECT_EQ(d.find(EngineSetting::gpu_layers), nullptr);  // nothing sets num_gpu: llama.cpp fits

  ASSERT_NE(d.find(EngineSetting::keep_alive), nullptr);
  EXPECT_LT(d.find(EngineSetting::keep_alive)->integer, 0);  // -1: never unload
  EXPECT_EQ(d.find(EngineSetting::keep_alive)->text, "forever");
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 8192);
  EXPECT_EQ(d.find(EngineSetting::parallel)->integer, 2);
  EXPECT_EQ(d.find(EngineSetting::flash_attention)->text, "on");
  EXPECT_EQ(d.find(EngineSetting::kv_cache_type)->text, "f16");
  for (const char* app : {"MODEL", "WEBUI_PORT", "WEBUI_SECRET_KEY"}) {
    diag(d, app, DiagnosticKind::application_variable);
  }
  // The image's ENV, with no line of its own.
  const Diagnostic& host = diag(d, "OLLAMA_HOST", DiagnosticKind::not_memory_relevant);
  EXPECT_EQ(host.origin, (Origin{"ollama/ollama:0.32.15", 0}));
  diag(d, "OLLAMA_DEBUG", DiagnosticKind::not_memory_relevant);

  // The other services: a one-shot pull and a web UI whose OLLAMA_BASE_URL is a client setting.
  const io::ComposeService& pull = io::select_service(file, "ollama-pull");
  EXPECT_FALSE(pull.server);
  EXPECT_EQ(pull.command->at(1).text, "llama3.1:8b-instruct-q8_0");
  const io::ComposeService& webui = io::select_service(file, "open-webui");
  EXPECT_FALSE(webui.engine);
  DeploymentInput as_ollama;
  as_ollama.environment = webui.environment;
  diag(interpret_deployment(as_ollama), "OLLAMA_BASE_URL", DiagnosticKind::application_variable);
}

TEST(Deployment, ChatEmbedVisionBoxReadsTheServerSettingsAndNamesTheAppVariables) {
  const Deployment d = compose_box("ollama-chat-embed-vision-16gb", std::nullopt);
  EXPECT_EQ(d.find(EngineSetting::parallel)->integer, 4);
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 16384);
  EXPECT_EQ(d.find(EngineSetting::max_loaded_models)->integer, 3);
  EXPECT_EQ(d.find(EngineSetting::kv_cache_type)->text, "q8_0");
  EXPECT_EQ(d.find(EngineSetting::flash_attention)->text, "on");
  EXPECT_EQ(d.find(EngineSetting::keep_alive)->integer, 30LL * 60 * 1000000000LL);
  for (const char* app : {"CHAT_NUM_CTX", "CHAT_MODEL", "EMBED_MODEL", "VISION_MODEL",
                          "RAG_CHUNK_SIZE", "RAG_TOP_K", "LOG_LEVEL"}) {
    diag(d, app, DiagnosticKind::application_variable);
  }
  EXPECT_EQ(find_diag(d, "OLLAMA_URL"), nullptr);  // the assistant's, not the server's
}

TEST(Deployment, VllmBoxFlagsComeFromTheInterpolatedCommand) {
  const Deployment d = compose_box("vllm-bf16-7b-15gb", "vllm");
  EXPECT_EQ(d.engine, DeployEngine::vllm);
  EXPECT_EQ(d.find(EngineSetting::dtype)->text, "bfloat16");
  EXPECT_EQ(d.find(EngineSetting::max_model_len)->integer, 32768);  // .env, not :-8192
  EXPECT_DOUBLE_EQ(d.find(EngineSetting::gpu_memory_utilization)->number, 0.90);
  EXPECT_EQ(d.find(EngineSetting::max_num_seqs)->integer, 16);
  ASSERT_TRUE(d.model);
  EXPECT_EQ(d.model->text, "Qwen/Qwen2.5-7B-Instruct");
  const Diagnostic& util = diag(d, "GPU_MEMORY_UTILIZATION", DiagnosticKind::not_read);
  EXPECT_EQ(util.suggestion_kind, SuggestionKind::flag);
  EXPECT_EQ(util.suggestion, "--gpu-memory-utilization");
  EXPECT_EQ(util.value, "0.95");
  diag(d, "MAX_MODEL_LEN", DiagnosticKind::not_read);
  for (const char* read : {"HF_TOKEN", "HF_HOME", "VLLM_LOGGING_LEVEL", "--served-model-name",
                           "--enable-prefix-caching"}) {
    diag(d, read, DiagnosticKind::not_memory_relevant);
  }
  EXPECT_TRUE(std::none_of(d.diagnostics.begin(), d.diagnostics.end(),
                           [](const Diagnostic& x) { return x.fatal; }));
}

TEST(Deployment, VllmBoxWithoutTheEnvFileUsesTheFallback) {
  const std::string dir = fixtures + "vllm-bf16-7b-15gb/";
  const std::string text = io::read_text_file(dir + "docker-compose.yml");
  const io::ComposeFile file = io::parse_compose(text, "c.yml", {}, dir, nullptr);
  const Deployment d = interpret_deployment(io::deployment_input(io::select_service(file, {})));
  EXPECT_EQ(d.find(EngineSetting::max_model_len)->integer, 8192);
}

TEST(Deployment, LlamaServerBoxFlagBeatsVariableAndNoMmapZeroDisablesMmap) {
  const Deployment d = compose_box("llamaserver-14b-12gb", "llama");
  EXPECT_EQ(d.engine, DeployEngine::llama_server);
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 32768);
  EXPECT_EQ(d.find(EngineSetting::context)->name, "-c");
  const Diagnostic& ctx = diag(d, "LLAMA_ARG_CTX_SIZE", DiagnosticKind::overridden);
  EXPECT_EQ(ctx.suggestion, "-c");
  EXPECT_EQ(ctx.value, "8192");
  EXPECT_EQ(d.find(EngineSetting::parallel)->integer, 4);
  EXPECT_EQ(d.find(EngineSetting::gpu_layers)->integer, 99);
  EXPECT_EQ(d.find(EngineSetting::flash_attention)->text, "on");
  const Diagnostic& ngl = diag(d, "LLAMA_ARG_NGL", DiagnosticKind::misspelled);
  EXPECT_EQ(ngl.suggestion, "LLAMA_ARG_N_GPU_LAYERS");
  ASSERT_NE(d.find(EngineSetting::use_mmap), nullptr);
  EXPECT_FALSE(d.find(EngineSetting::use_mmap)->boolean);
  diag(d, "LLAMA_ARG_NO_MMAP", DiagnosticKind::parsed_differently);
  for (const char* read :
       {"LLAMA_ARG_HOST", "LLAMA_ARG_PORT", "LLAMA_ARG_ENDPOINT_METRICS", "--jinja", "--alias"}) {
    diag(d, read, DiagnosticKind::not_memory_relevant);
  }
  ASSERT_TRUE(d.model);
  EXPECT_EQ(d.model->text, "/models/Qwen2.5-14B-Instruct-Q4_K_M.gguf");
}

DeploymentInput modelfile_input(const std::string& name) {
  const std::string path = fixtures + "ollama-modelfile/" + name;
  const io::Modelfile m = io::parse_modelfile(io::read_text_file(path), path);
  DeploymentInput in;
  in.parameters = m.parameters;
  in.from = m.from;
  return in;
}

TEST(Deployment, ModelfileParametersSetContextLayersBatchAndMmap) {
  const Deployment d = interpret_deployment(modelfile_input("Modelfile"));
  ASSERT_TRUE(d.model);
  EXPECT_EQ(d.model->text, "llama3.1:8b");
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 32768);
  EXPECT_EQ(d.find(EngineSetting::gpu_layers)->integer, 20);
  EXPECT_EQ(d.find(EngineSetting::batch)->integer, 1024);
  EXPECT_FALSE(d.find(EngineSetting::use_mmap)->boolean);
  EXPECT_EQ(d.find(EngineSetting::context)->origin.line, 6u);
  for (const char* read : {"num_thread", "temperature", "top_p", "stop"}) {
    diag(d, read, DiagnosticKind::not_memory_relevant);
  }
}

TEST(Deployment, LegacyModelfileParametersAreRefused) {
  const Deployment d = interpret_deployment(modelfile_input("Modelfile.legacy"));
  for (const char* removed : {"num_gqa", "use_mlock", "low_vram"}) {
    EXPECT_TRUE(diag(d, removed, DiagnosticKind::removed_parameter).fatal) << removed;
  }
  EXPECT_EQ(d.find(EngineSetting::gpu_layers)->integer, 1);  // one layer, not one GPU
}

TEST(Deployment, ModelfileContextBeatsTheServerVariable) {
  DeploymentInput in = modelfile_input("Modelfile");
  in.environment = {{"OLLAMA_CONTEXT_LENGTH", "4096", {"o.env", 1}}};
  const Deployment d = interpret_deployment(in);
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 32768);
  const Diagnostic& env = diag(d, "OLLAMA_CONTEXT_LENGTH", DiagnosticKind::overridden);
  EXPECT_EQ(env.suggestion_kind, SuggestionKind::modelfile_parameter);
  EXPECT_EQ(env.suggestion, "num_ctx");
}

TEST(Deployment, MisspelledNamesGetTheNameTheEngineReads) {
  const Deployment d =
      ollama_env("OLLAMA_NUM_PARALEL=2\nOLLAMA_FLASH_ATTN=1\nOLLAMA_XYZZY_FOO=1\n");
  EXPECT_EQ(diag(d, "OLLAMA_NUM_PARALEL", DiagnosticKind::misspelled).suggestion,
            "OLLAMA_NUM_PARALLEL");
  EXPECT_EQ(diag(d, "OLLAMA_FLASH_ATTN", DiagnosticKind::misspelled).suggestion,
            "OLLAMA_FLASH_ATTENTION");
  EXPECT_EQ(diag(d, "OLLAMA_XYZZY_FOO", DiagnosticKind::not_read).suggestion, "");
  EXPECT_EQ(d.find(EngineSetting::parallel), nullptr);

  DeploymentInput in;
  in.engine = DeployEngine::llama_server;
  in.args = io::split_command("--ctx-sise 8192 -ngl all --bogus-thing", {"c.yml", 3});
  const Deployment l = interpret_deployment(in);
  const Diagnostic& typo = diag(l, "--ctx-sise", DiagnosticKind::misspelled);
  EXPECT_EQ(typo.suggestion, "--ctx-size");
  EXPECT_TRUE(typo.fatal);
  EXPECT_EQ(l.find(EngineSetting::gpu_layers)->integer, -2);
  EXPECT_TRUE(diag(l, "--bogus-thing", DiagnosticKind::unknown_name).fatal);

  // No `=` form: llama-server looks the whole word up and stops.
  in.args = io::split_command("--ctx-size=8192 --parallel 2", {"c.yml", 3});
  const Deployment eq = interpret_deployment(in);
  const Diagnostic& inline_value = diag(eq, "--ctx-size=8192", DiagnosticKind::unknown_name);
  EXPECT_TRUE(inline_value.fatal);
  EXPECT_EQ(inline_value.suggestion, "--ctx-size");
  EXPECT_EQ(eq.find(EngineSetting::context), nullptr);
  EXPECT_EQ(eq.find(EngineSetting::parallel)->integer, 2);

  in.engine = DeployEngine::vllm;
  in.args = io::split_command("serve org/m", {"c.yml", 3});
  const Deployment serve = interpret_deployment(in);
  EXPECT_TRUE(diag(serve, "serve", DiagnosticKind::unknown_name).fatal);
  EXPECT_EQ(serve.model->text, "org/m");
  in.args = io::split_command("org/m --max-model-length 4096", {"c.yml", 3});
  EXPECT_EQ(
      diag(interpret_deployment(in), "--max-model-length", DiagnosticKind::misspelled).suggestion,
      "--max-model-len");
}

// The placement flags check applies (check.cpp): --n-cpu-moe, --cpu-moe, -nkvo and the
// --op-offload pair, which has no LLAMA_ARG_ variable (common/arg.cpp).
TEST(Deployment, LlamaServerPlacementFlags) {
  DeploymentInput in;
  in.engine = DeployEngine::llama_server;
  in.args = io::split_command("--n-cpu-moe 12 -cmoe -nkvo --no-op-offload", {"c.yml", 3});
  Deployment d = interpret_deployment(in);
  EXPECT_TRUE(d.diagnostics.empty());
  EXPECT_EQ(d.find(EngineSetting::n_cpu_moe)->integer, 12);
  EXPECT_TRUE(d.find(EngineSetting::cpu_moe)->boolean);
  EXPECT_FALSE(d.find(EngineSetting::kv_offload)->boolean);
  EXPECT_FALSE(d.find(EngineSetting::op_offload)->boolean);
  in.args = io::split_command("--op-offload", {"c.yml", 3});
  EXPECT_TRUE(interpret_deployment(in).find(EngineSetting::op_offload)->boolean);
  // No variable sets it: an empty name is not the option's, and no suggestion is empty.
  in.args.clear();
  in.environment = {{"LLAMA_ARG_OP_OFFLOAD", "0", {}}};
  d = interpret_deployment(in);
  EXPECT_EQ(d.find(EngineSetting::op_offload), nullptr);
  EXPECT_EQ(diag(d, "LLAMA_ARG_OP_OFFLOAD", DiagnosticKind::not_read).suggestion,
            "--no-op-offload");
  in.environment = {{"LLAMA_ARG_OP_OFFLOAD", "1", {}}, {"LLAMA_ARG_NO_OP_OFFLOAD", "1", {}}};
  d = interpret_deployment(in);
  EXPECT_EQ(diag(d, "LLAMA_ARG_OP_OFFLOAD", DiagnosticKind::not_read).suggestion, "--op-offload");
  EXPECT_EQ(diag(d, "LLAMA_ARG_NO_OP_OFFLOAD", DiagnosticKind::not_read).suggestion,
            "--no-op-offload");
  EXPECT_EQ(d.find(EngineSetting::op_offload), nullptr);
}

TEST(Deployment, EngineValueRules) {
  // Ollama: no unit suffixes; an unparsable integer keeps the default (logged).
  Deployment d = ollama_env("OLLAMA_CONTEXT_LENGTH=8k\nOLLAMA_NUM_PARALLEL=\"3\"\n");
  const Diagnostic& ctx = diag(d, "OLLAMA_CONTEXT_LENGTH", DiagnosticKind::invalid_value);
  EXPECT_EQ(ctx.effective, "0");
  EXPECT_EQ(ctx.suggestion, "8192");
  EXPECT_FALSE(ctx.fatal);
  EXPECT_EQ(d.find(EngineSetting::context), nullptr);
  EXPECT_EQ(d.find(EngineSetting::parallel)->integer, 3);  // envconfig.Var strips the quotes

  d = ollama_env("OLLAMA_KEEP_ALIVE=3600\nOLLAMA_KV_CACHE_TYPE=Q8_0\nOLLAMA_SCHED_SPREAD=no\n");
  EXPECT_EQ(d.find(EngineSetting::keep_alive)->text, "1h0m0s");
  EXPECT_EQ(d.find(EngineSetting::kv_cache_type)->text, "q8_0");
  EXPECT_TRUE(d.find(EngineSetting::sched_spread)->boolean);
  EXPECT_EQ(diag(d, "OLLAMA_SCHED_SPREAD", DiagnosticKind::parsed_differently).suggestion, "false");

  d = ollama_env("OLLAMA_KV_CACHE_TYPE=q8\n");
  const Diagnostic& kv = diag(d, "OLLAMA_KV_CACHE_TYPE", DiagnosticKind::invalid_value);
  EXPECT_TRUE(kv.fatal);
  EXPECT_EQ(kv.suggestion, "q8_0");

  // llama-server: std::stoi stops at the first non-digit.
  DeploymentInput in;
  in.engine = DeployEngine::llama_server;
  in.environment = {{"LLAMA_ARG_CTX_SIZE", "8k", {}}, {"LLAMA_ARG_FLASH_ATTN", "yes", {}}};
  d = interpret_deployment(in);
  EXPECT_EQ(d.find(EngineSetting::context)->integer, 8);
  EXPECT_EQ(diag(d, "LLAMA_ARG_CTX_SIZE", DiagnosticKind::parsed_differently).suggestion, "8192");
  const Diagnostic& fa = diag(d, "LLAMA_ARG_FLASH_ATTN", DiagnosticKind::invalid_value);
  EXPECT_TRUE(fa.fatal);
  EXPECT_EQ(fa.suggestion, "on");

  // vLLM: human-readable integers.
  in.engine = DeployEngine::vllm;
  in.environment.clear();
  in.args = io::split_command(
      "m --max-model-len=32k --max-num-batched-tokens 8K "
      "--gpu-memory-utilization 1.5",
      {"c", 1});
  d = interpret_deployment(in);
  EXPECT_EQ(d.find(EngineSetting::max_model_len)->integer, 32000);
  EXPECT_EQ(d.find(EngineSetting::max_num_batched_tokens)->integer, 8192);
  EXPECT_TRUE(diag(d, "--gpu-memory-utilization", DiagnosticKind::invalid_value).fatal);
}

TEST(GoRules, ParseBoolAndDurations) {
  EXPECT_EQ(go_parse_bool("True"), true);
  EXPECT_EQ(go_parse_bool("F"), false);
  EXPECT_EQ(go_parse_bool("off"), std::nullopt);
  EXPECT_EQ(go_parse_bool("yes"), std::nullopt);

  EXPECT_EQ(go_parse_duration("5m"), 300000000000LL);
  EXPECT_EQ(go_parse_duration("1h30m"), 5400000000000LL);
  EXPECT_EQ(go_parse_duration("1.5s"), 1500000000LL);
  EXPECT_EQ(go_parse_duration("-1m"), -60000000000LL);
  EXPECT_EQ(go_parse_duration("0"), 0);
  EXPECT_EQ(go_parse_duration("300ms"), 300000000LL);
  EXPECT_EQ(go_parse_duration("2\xC2\xB5s"), 2000LL);
  for (const char* bad : {"1d", "", "5", "m", "1h-5m", "forever", "9999999999h", "1.s5"}) {
    EXPECT_EQ(go_parse_duration(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(go_duration_string(300000000000LL), "5m0s");
  EXPECT_EQ(go_duration_string(86400000000000LL), "24h0m0s");
  EXPECT_EQ(go_duration_string(1500000000LL), "1.5s");
  EXPECT_EQ(go_duration_string(0), "0s");
  EXPECT_EQ(go_duration_string(2500000LL), "2.5ms");
}

TEST(Deployment, EngineOfImage) {
  EXPECT_EQ(engine_of_image("ollama/ollama"), DeployEngine::ollama);
  EXPECT_EQ(engine_of_image("docker.io/ollama/ollama:0.32.15"), DeployEngine::ollama);
  EXPECT_EQ(engine_of_image("ollama/ollama:rocm@sha256:abc"), DeployEngine::ollama);
  EXPECT_EQ(engine_of_image("ghcr.io/ggml-org/llama.cpp:server-cuda"), DeployEngine::llama_server);
  EXPECT_EQ(engine_of_image("ghcr.io/ggml-org/llama.cpp:full-cuda"), std::nullopt);
  EXPECT_EQ(engine_of_image("vllm/vllm-openai:v0.21.0"), DeployEngine::vllm);
  EXPECT_EQ(engine_of_image("ghcr.io/open-webui/open-webui:main"), std::nullopt);
  EXPECT_EQ(engine_of_image("evil/ollama/ollama"), std::nullopt);
}

TEST(Deployment, NamesOfSettingsAndKinds) {
  EXPECT_EQ(setting_name(EngineSetting::context), "context");
  EXPECT_EQ(setting_name(EngineSetting::model), "model");
  EXPECT_EQ(setting_name(EngineSetting::gpu_memory_utilization), "gpu_memory_utilization");
  EXPECT_EQ(setting_name(EngineSetting::max_cudagraph_capture_size), "max_cudagraph_capture_size");
  EXPECT_EQ(setting_name(EngineSetting::op_offload), "op_offload");
  EXPECT_EQ(diagnostic_kind_name(DiagnosticKind::unknown_name), "unknown_name");
  EXPECT_EQ(deploy_engine_name(DeployEngine::llama_server), "llama-server");
}

TEST(Deployment, TooManyEntriesIsOneError) {
  DeploymentInput in;
  in.environment.resize(deployment_max_entries + 1, EnvEntry{"A", "1", {}});
  EXPECT_THROW(static_cast<void>(interpret_deployment(in)), Error);
}

}  // namespace
}  // namespace vramplan
