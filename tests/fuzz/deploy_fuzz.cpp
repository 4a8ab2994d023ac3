// libFuzzer target: arbitrary bytes into the deployment readers (src/io/deploy_files.cpp) and
// interpret_deployment (src/core/deployment.cpp). The first byte picks the reader: a .env in
// either dialect, a compose file, a Modelfile, a command line, or one of the rewriters.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <vramplan/check.hpp>
#include <vramplan/deployment.hpp>
#include <vramplan/io/deploy_files.hpp>
#include <vramplan/vllm.hpp>

#include "fuzz_check.hpp"

namespace {

using namespace vramplan;

void interpret_all(DeploymentInput in) {
  for (const DeployEngine e :
       {DeployEngine::ollama, DeployEngine::llama_server, DeployEngine::vllm}) {
    in.engine = e;
    const Deployment d = interpret_deployment(in);
    if (d.settings.size() > in.environment.size() + in.args.size() + in.parameters.size()) {
      std::abort();
    }
    // check's reading of -fitt: a few bounded margins or a refusal.
    for (const SettingValue& v : d.settings) {
      if (v.setting != EngineSetting::fit_target) continue;
      if (const auto margins = parse_fit_target(v.text)) {
        if (margins->empty() || margins->size() > 15) std::abort();
        for (const Bytes m : *margins) {
          if (m < 0 || m > (Bytes{1} << 60)) std::abort();
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 8) {
      case 0:
      case 1: {
        DeploymentInput in;
        in.environment = io::parse_env_file(
            text, "fuzz.env", data[0] % 8 == 0 ? io::EnvDialect::compose : io::EnvDialect::systemd,
            {{"A", "x"}});
        interpret_all(std::move(in));
        break;
      }
      case 2: {
        const io::ComposeFile f = io::parse_compose(text, "fuzz.yml", {{"A", "x"}}, "", nullptr);
        for (const io::ComposeService& s : f.services) {
          if (s.engine) interpret_all(io::deployment_input(s));
          // What `check` takes from a vLLM service of several sharing a GPU: its settings as
          // vLLM's request, its image's release.
          if (s.engine == DeployEngine::vllm) {
            const VllmRequest r = vllm_request_of(interpret_deployment(io::deployment_input(s)));
            if (r.util_x10000 && (*r.util_x10000 < 1 || *r.util_x10000 > 10000)) std::abort();
            if (const auto release = vllm_image_release(s.image);
                release && (*release < vllm_oldest_release || *release > vllm_newest_release)) {
              std::abort();
            }
          }
        }
        break;
      }
      case 3: {
        const io::Modelfile m = io::parse_modelfile(text, "Modelfile");
        DeploymentInput in;
        in.parameters = m.parameters;
        in.from = m.from;
        interpret_all(std::move(in));
        break;
      }
      case 4: {
        DeploymentInput in;
        in.args = io::split_command(text, {"fuzz.yml", 1});
        interpret_all(std::move(in));
        break;
      }
      case 5: {
        // A rewritten file gains at most the comment, the two appended lines and a final newline.
        const std::string out =
            io::rewrite_env(text, {{"OLLAMA_NUM_PARALLEL", "1"}, {"NEW_NAME", "x"}}, "fuzz.env",
                            io::EnvDialect::compose);
        const auto lines = [](std::string_view s) { return std::count(s.begin(), s.end(), '\n'); };
        if (lines(out) > lines(text) + 4) std::abort();
        static_cast<void>(io::parse_env_file(out, "fuzz.env", io::EnvDialect::compose));
        break;
      }
      case 6: {
        // A rewritten compose file still parses, and the rewritten service keeps its name.
        const io::ComposeFile f = io::parse_compose(text, "fuzz.yml", {}, "", nullptr);
        if (f.services.empty()) break;
        const std::string name = f.services.front().name;
        const auto still_parses = [&](const std::string& out) {
          const io::ComposeFile g = io::parse_compose(out, "fuzz.yml", {}, "", nullptr);
          if (g.services.empty() || g.services.front().name != name) std::abort();
        };
        try {
          still_parses(io::rewrite_compose_environment(
              text, name, {{"OLLAMA_NUM_PARALLEL", "1"}, {"NEW_NAME", "x"}}, "fuzz.yml"));
        } catch (const Error& e) {
          fuzz::check_message(e);
        }
        still_parses(
            io::rewrite_compose_command(text, name, {{"-c", "8192"}, {"--fit", "on"}}, "fuzz.yml"));
        break;
      }
      case 7: {
        const std::string out =
            io::rewrite_modelfile(text, {{"num_ctx", "8192"}, {"num_gpu", "20"}}, "Modelfile");
        static_cast<void>(io::parse_modelfile(out, "Modelfile"));
        break;
      }
    }
  } catch (const Error& e) {
    fuzz::check_message(e);
  }
  return 0;
}
