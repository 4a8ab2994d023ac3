// The .env, compose and Modelfile readers and rewriters: the syntax they take, hostile input
// (one bounded error with file:line), and rewriting round trips.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/deploy_files.hpp>
#include <vramplan/io/file.hpp>

#include "support/time_budget.hpp"

namespace vramplan::io {
namespace {

using namespace std::string_literals;

const std::string fixtures = std::string(VRAMPLAN_SOURCE_DIR) + "/tests/check/fixtures/";

// The message of the Error `f` throws, which must be bad input on one line.
template <class F>
std::string error_of(F&& f) {
  try {
    static_cast<void>(f());
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_LT(message.size(), 400u) << message;
    return message;
  }
  ADD_FAILURE() << "no error";
  return {};
}

std::string value_of(const std::vector<EnvEntry>& entries, std::string_view name) {
  std::string value = "<unset>";
  for (const EnvEntry& e : entries) {
    if (e.name == name) value = e.value;
  }
  return value;
}

TEST(EnvFile, ComposeSyntax) {
  const std::string text =
      "# comment\n"
      "\n"
      "PLAIN=value # comment\n"
      "HASH=value#not-a-comment\n"
      "export EXPORTED=1\n"
      "  SPACED =  two words  \n"
      "SINGLE='$OTHER # kept \\' quote'\n"
      "DOUBLE=\"a\\tb \\\"q\\\" ${PLAIN}\" # comment\n"
      "MULTI=\"line one\n"
      "line two\"\n"
      "REF=${PLAIN}-$HASH\n"
      "DEFAULT=${MISSING:-fallback}\n"
      "EMPTY=\n"
      "CRLF=x\r\n"
      "AFTER=1\n";
  const std::vector<EnvEntry> e = parse_env_file(text, "t.env", EnvDialect::compose);
  EXPECT_EQ(value_of(e, "PLAIN"), "value");
  EXPECT_EQ(value_of(e, "HASH"), "value#not-a-comment");
  EXPECT_EQ(value_of(e, "EXPORTED"), "1");
  EXPECT_EQ(value_of(e, "SPACED"), "two words");
  EXPECT_EQ(value_of(e, "SINGLE"), "$OTHER # kept ' quote");
  EXPECT_EQ(value_of(e, "DOUBLE"), "a\tb \"q\" value");
  EXPECT_EQ(value_of(e, "MULTI"), "line one\nline two");
  EXPECT_EQ(value_of(e, "REF"), "value-value#not-a-comment");
  EXPECT_EQ(value_of(e, "DEFAULT"), "fallback");
  EXPECT_EQ(value_of(e, "EMPTY"), "");
  EXPECT_EQ(value_of(e, "CRLF"), "x");
  ASSERT_EQ(e.back().name, "AFTER");
  EXPECT_EQ(e.back().origin, (Origin{"t.env", 15}));
  EXPECT_EQ(e[6].origin.line, 9u);  // MULTI starts on line 9
}

TEST(EnvFile, SystemdSyntax) {
  const std::string text =
      "; comment\n"
      "# comment\n"
      "A=one \\\n"
      "two\n"
      "B=\"quoted $NOT\"\n"
      "C=${NOT_INTERPOLATED}\n"
      "D=4 # kept\n";
  const std::vector<EnvEntry> e = parse_env_file(text, "s.env", EnvDialect::systemd);
  EXPECT_EQ(value_of(e, "A"), "one two");
  EXPECT_EQ(value_of(e, "B"), "quoted $NOT");
  EXPECT_EQ(value_of(e, "C"), "${NOT_INTERPOLATED}");
  EXPECT_EQ(value_of(e, "D"), "4 # kept");  // systemd has no inline comments
  EXPECT_EQ(e.back().origin.line, 7u);
}

TEST(EnvFile, MalformedLinesAreOneErrorWithTheLine) {
  EXPECT_EQ(
      error_of([] { return parse_env_file("A=1\ngarbage here\n", "x.env", EnvDialect::compose); }),
      "x.env:2: expected NAME=VALUE, got 'garbage here'");
  EXPECT_EQ(
      error_of([] { return parse_env_file("A=1\n\nB=\"open\n", "x.env", EnvDialect::compose); }),
      "x.env:3: unterminated double quote");
  EXPECT_EQ(error_of([] { return parse_env_file("1A=1\n", "x.env", EnvDialect::compose); }),
            "x.env:1: '1A' is not a variable name");
  EXPECT_EQ(error_of([] { return parse_env_file("A='x' y\n", "x.env", EnvDialect::compose); }),
            "x.env:1: unexpected 'y' after the closing quote");
  EXPECT_EQ(error_of([] {
              return parse_env_file(std::string("A=1\nB=a\0b\n", 10), "x.env", EnvDialect::compose);
            }),
            "x.env:2: NUL byte");
  // Control characters in the quoted text are escaped.
  EXPECT_EQ(
      error_of([] { return parse_env_file("\x1b[2J\x07=1\n", "x\n.env", EnvDialect::compose); }),
      "x\\x0a.env:1: '\\x1b[2J\\x07' is not a variable name");
}

TEST(EnvFile, HugeInputsAreRefusedQuickly) {
  const double start = vramplan::test::thread_cpu_ms();
  EXPECT_EQ(error_of([] {
              return parse_env_file(std::string(1000000, '\n'), "x.env", EnvDialect::compose);
            }),
            "x.env:65537: more than 65536 lines");
  EXPECT_EQ(error_of([] {
              return parse_env_file(std::string(deploy_max_bytes + 1, 'A'), "x.env",
                                    EnvDialect::compose);
            }),
            "x.env: file is 1048577 bytes, more than the limit of 1048576");
  // A quote never closed over 60000 lines.
  std::string open = "A=\"";
  for (int i = 0; i < 60000; ++i) open += "xxxxxxxxxxxxxxx\n";
  EXPECT_EQ(error_of([&] { return parse_env_file(open, "x.env", EnvDialect::compose); }),
            "x.env:1: a value of more than 65536 bytes");
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "A=1\n";
  EXPECT_EQ(error_of([&] { return parse_env_file(many, "x.env", EnvDialect::compose); }),
            "x.env:4097: more than 4096 variables");
  // Interpolation doubles a value up to 64 KiB; then many lines keep a copy each.
  std::string bomb = "A0=xxxxxxxxxxxxxxxx\n";
  for (int i = 1; i <= 12; ++i) bomb += fmt::format("A{}=${{A{}}}${{A{}}}\n", i, i - 1, i - 1);
  for (int i = 0; i < 100; ++i) bomb += fmt::format("B{}=${{A12}}\n", i);
  EXPECT_EQ(error_of([&] { return parse_env_file(bomb, "x.env", EnvDialect::compose); }),
            "x.env:75: values of more than 4194304 bytes in all");
  std::string yaml = "services:\n  a:\n    environment:\n";
  for (int i = 0; i < 100; ++i) yaml += fmt::format("      - B{}=${{A}}\n", i);
  const Variables big{{"A", std::string(60000, 'x')}};
  EXPECT_EQ(error_of([&] { return parse_compose(yaml, "c.yml", big, "", nullptr); }),
            "c.yml:73: values of more than 4194304 bytes in all");
  EXPECT_LT(vramplan::test::thread_cpu_ms() - start, 5000);  // CPU time: the machine may be shared
}

TEST(Interpolation, ComposeForms) {
  const Variables v{{"SET", "x"}, {"EMPTY", ""}};
  const Origin o{"c.yml", 4};
  EXPECT_EQ(interpolate("$$SET $SET ${SET}", v, o), "$SET x x");
  EXPECT_EQ(interpolate("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", v, o), "d d  d");
  EXPECT_EQ(interpolate("${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt}", v, o), "alt  alt");
  EXPECT_EQ(interpolate("${UNSET:-${SET:-no}}", v, o), "x");
  EXPECT_EQ(interpolate("${UNSET}|", v, o), "|");
  EXPECT_EQ(interpolate("cost $5", v, o), "cost $5");
  EXPECT_EQ(error_of([&] { return interpolate("a ${SET", v, o); }),
            "c.yml:4: unterminated '${' in '${SET'");
  EXPECT_EQ(error_of([&] { return interpolate("${UNSET:?set it}", v, o); }),
            "c.yml:4: required variable UNSET is missing a value: set it");
  EXPECT_EQ(error_of([&] { return interpolate("${}", v, o); }),
            "c.yml:4: invalid interpolation '${}'");
  std::string deep = "x";
  for (int i = 0; i < 50; ++i) deep = "${UNSET:-" + deep + "}";
  EXPECT_EQ(error_of([&] { return interpolate(deep, v, o); }),
            "c.yml:4: '${...}' nested deeper than 8 levels");
  // Values are not expanded again, so a variable cannot grow by referring to itself.
  const Variables self{{"A", "$A$A$A"}};
  EXPECT_EQ(interpolate("${A}${A}", self, o), "$A$A$A$A$A$A");
}

TEST(SplitCommand, ShellLikeWords) {
  const std::vector<CommandArg> w =
      split_command("--model 'a b' --x=\"c \\\"d\\\"\" e\\ f\n  -c 8192", {"c.yml", 7});
  ASSERT_EQ(w.size(), 6u);
  EXPECT_EQ(w[1].text, "a b");
  EXPECT_EQ(w[2].text, "--x=c \"d\"");
  EXPECT_EQ(w[3].text, "e f");
  EXPECT_EQ(w[5].text, "8192");
  EXPECT_EQ(w[5].origin, (Origin{"c.yml", 7}));
  EXPECT_EQ(error_of([] {
              return split_command("--a 'open", {"c.yml", 2});
            }),
            "c.yml:2: unterminated single quote in a command");
}

TEST(Compose, ReadsEnvironmentFormsEnvFilesCommandsAndDevices) {
  const std::string text =
      "services:\n"
      "  llm:\n"
      "    image: ${IMG:-vllm/vllm-openai}:v1\n"
      "    env_file:\n"
      "      - a.env\n"
      "      - path: missing.env\n"
      "        required: false\n"
      "    environment:\n"
      "      KEY: ${V}\n"
      "      FROM_SHELL:\n"
      "    command: [\"m\", \"--max-model-len\", \"$${LITERAL}\"]\n"
      "    entrypoint: python3 wrap.py\n"
      "    deploy:\n"
      "      resources:\n"
      "        limits: {memory: 16g}\n"
      "        reservations:\n"
      "          devices:\n"
      "            - driver: nvidia\n"
      "              count: 2\n"
      "              capabilities: [gpu]\n";
  const Variables vars{{"V", "from-vars"}, {"FROM_SHELL", "s"}};
  const FileReader reader = [](const std::string& path) -> std::optional<std::string> {
    if (path == "/proj/a.env") return std::string("A=1\nKEY=weaker\n");
    return std::nullopt;
  };
  const ComposeFile f = parse_compose(text, "c.yml", vars, "/proj", reader);
  ASSERT_EQ(f.services.size(), 1u);
  const ComposeService& s = f.services[0];
  EXPECT_EQ(s.image, "vllm/vllm-openai:v1");
  EXPECT_EQ(s.engine, DeployEngine::vllm);
  EXPECT_FALSE(s.server);  // the entry point is replaced
  ASSERT_EQ(s.environment.size(), 4u);
  EXPECT_EQ(s.environment[0].origin, (Origin{"/proj/a.env", 1}));
  EXPECT_EQ(s.environment[2].value, "from-vars");
  EXPECT_EQ(s.environment[2].origin, (Origin{"c.yml", 9}));
  EXPECT_EQ(s.environment[3].value, "s");
  EXPECT_EQ(s.command->at(2).text, "${LITERAL}");
  EXPECT_EQ(s.entrypoint->size(), 2u);
  EXPECT_EQ(s.memory_limit, "16g");
  ASSERT_EQ(s.gpus.size(), 1u);
  EXPECT_EQ(s.gpus[0].count, 2);
  EXPECT_EQ(s.gpus[0].capabilities, std::vector<std::string>{"gpu"});
  EXPECT_EQ(s.env_files, (std::vector<std::string>{"/proj/a.env", "/proj/missing.env"}));

  EXPECT_EQ(error_of([&] {
              return parse_compose("services:\n  x:\n    env_file: gone.env\n", "c.yml", {}, "/p",
                                   reader);
            }),
            "c.yml:3: env_file '/p/gone.env' not found");
}

TEST(Compose, MergeKeysAndSpelledOutEntryPoints) {
  const std::string text =
      "x-gpu: &gpu\n"
      "  environment: &env\n"
      "    OLLAMA_NUM_PARALLEL: 1\n"
      "    OLLAMA_KEEP_ALIVE: 5m\n"
      "  restart: always\n"
      "services:\n"
      "  ollama:\n"
      "    <<: *gpu\n"
      "    image: ollama/ollama\n"
      "  llama:\n"
      "    image: ghcr.io/ggml-org/llama.cpp:server\n"
      "    entrypoint: [/app/llama-server]\n"
      "    environment:\n"
      "      <<: *env\n"
      "      OLLAMA_NUM_PARALLEL: 2\n";
  const ComposeFile f = parse_compose(text, "c.yml", {}, "", nullptr);
  const ComposeService& ollama = f.services.at(0);
  ASSERT_EQ(ollama.environment.size(), 2u);
  EXPECT_EQ(ollama.environment[0].value, "1");
  EXPECT_EQ(ollama.environment[0].origin.line, 3u);  // where the value was written
  const ComposeService& llama = f.services.at(1);
  EXPECT_TRUE(llama.server);
  ASSERT_EQ(llama.environment.size(), 2u);
  EXPECT_EQ(llama.environment[0].name, "OLLAMA_NUM_PARALLEL");
  EXPECT_EQ(llama.environment[0].value, "2");  // the map's own key wins
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a:\n    <<: 3\n", "c.yml", {}, "", nullptr);
            }),
            "c.yml:3: a merge key '<<' must name a map");
  // A map that merges itself ends at the nesting limit, or is refused by yaml-cpp.
  const std::string message = error_of([] {
    return parse_compose("x: &a\n  <<: *a\nservices:\n  s:\n    <<: *a\n", "c.yml", {}, "",
                         nullptr);
  });
  EXPECT_EQ(message.rfind("c.yml:", 0), 0u) << message;
}

TEST(Compose, ControlCharactersInValuesAreDataAndNeverRewritten) {
  const ComposeFile f = parse_compose(
      "services:\n  a:\n    image: ollama/ollama\n    environment:\n"
      "      - \"OLLAMA_HOST=x\\nOLLAMA_ORIGINS=*\\e[2J\"\n",
      "c.yml", {}, "", nullptr);
  ASSERT_EQ(f.services.at(0).environment.size(), 1u);
  EXPECT_EQ(f.services[0].environment[0].value, "x\nOLLAMA_ORIGINS=*\x1b[2J");
  const Deployment d = interpret_deployment(deployment_input(f.services[0]));
  EXPECT_EQ(d.diagnostics.back().value, "x\nOLLAMA_ORIGINS=*\x1b[2J");
  EXPECT_EQ(error_of([] {
              return rewrite_env("A=1\n", {{"A", "x\x1b[2J"}}, "s.env", EnvDialect::compose);
            }),
            "s.env: cannot write A='x\\x1b[2J': the value contains '\\x1b' (a value must be one "
            "word of letters, digits and - . _ / : @ + = , %)");
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a:\n    environment:\n      \"A\\nB\": 1\n",
                                   "c.yml", {}, "", nullptr);
            }),
            "c.yml:4: 'A\\x0aB' is not a variable name");
}

TEST(Compose, ServiceSelection) {
  const ComposeFile f =
      read_compose(fixtures + "ollama-chat-embed-vision-16gb/docker-compose.yml", {});
  EXPECT_EQ(select_service(f, std::nullopt).name, "ollama");
  try {
    static_cast<void>(select_service(f, std::string("olama")));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("the services are ollama, assistant"), std::string::npos)
        << e.what();
  }
  const ComposeFile two = parse_compose(
      "services:\n  a: {image: ollama/ollama}\n  b: {image: 'vllm/vllm-openai:latest'}\n", "c.yml",
      {}, "", nullptr);
  EXPECT_EQ(error_of([&] { return select_service(two, std::nullopt); }),
            "c.yml: several services run an engine (a, b); name one with --service");
  const ComposeFile none =
      parse_compose("services:\n  web: {image: nginx}\n", "c.yml", {}, "", nullptr);
  EXPECT_EQ(error_of([&] { return select_service(none, std::nullopt); }),
            "c.yml: no service runs an Ollama, llama.cpp server or vLLM image (the services are "
            "web); name one with --service");
  EXPECT_EQ(error_of([&] { return deployment_input(none.services[0]); }),
            "c.yml:2: service 'web' runs 'nginx', not an Ollama, llama.cpp server or vLLM image");
}

TEST(Compose, HostileYamlIsOneBoundedError) {
  std::string deep = "services: ";
  for (int i = 0; i < 40; ++i) deep += "[";
  EXPECT_EQ(error_of([&] { return parse_compose(deep, "c.yml", {}, "", nullptr); }),
            "c.yml:1: YAML nested deeper than 16 levels");
  std::string wide = "services: {a: {environment: [";
  for (int i = 0; i < 70000; ++i) wide += "A=1,";
  wide += "]}}";
  EXPECT_EQ(error_of([&] { return parse_compose(wide, "c.yml", {}, "", nullptr); }),
            "c.yml:1: more than 65536 YAML nodes");
  EXPECT_EQ(error_of([] { return parse_compose("services: [a, b]\n", "c.yml", {}, "", nullptr); }),
            "c.yml:1: 'services' must be a map");
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a:\n    environment: 3\n", "c.yml", {}, "",
                                   nullptr);
            }),
            "c.yml:3: 'environment' must be a map or a list");
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a: {image: x\n", "c.yml", {}, "", nullptr);
            }).substr(0, 8),
            "c.yml:3:");
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a:\n    command: \"--a ${B\"\n", "c.yml", {}, "",
                                   nullptr);
            }),
            "c.yml:3: unterminated '${' in '${B'");
  // Aliases repeat what they name: counted, not expanded into a huge tree.
  std::string bomb = "x: &a [1,1,1,1,1,1,1,1,1,1]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string("*") + prev + ",";
    bomb += "]\n";
  }
  EXPECT_NE(error_of([&] {
              return parse_compose(bomb, "c.yml", {}, "", nullptr);
            }).find("more than 65536 YAML nodes"),
            std::string::npos);
  EXPECT_EQ(error_of([] {
              return parse_compose("services:\n  a:\n    image: \"a\0b\"\n"s, "c.yml", {}, "",
                                   nullptr);
            }),
            "c.yml:3: NUL byte");
}

TEST(Modelfile, CommandsQuotesAndErrors) {
  const Modelfile m = parse_modelfile(
      "# c\nfrom llama3.1:8b\nPARAMETER num_ctx 8192\nparameter stop \"a b\"\n"
      "SYSTEM \"\"\"\nPARAMETER num_gpu 99\n\"\"\"\nPARAMETER num_batch 256\n",
      "M");
  ASSERT_TRUE(m.from);
  EXPECT_EQ(m.from->value, "llama3.1:8b");
  ASSERT_EQ(m.parameters.size(), 3u);  // the PARAMETER inside SYSTEM is text
  EXPECT_EQ(m.parameters[1].value, "a b");
  EXPECT_EQ(m.parameters[2].name, "num_batch");
  EXPECT_EQ(m.parameters[2].origin, (Origin{"M", 8}));

  EXPECT_EQ(error_of([] { return parse_modelfile("FROM x\nSYSTEM \"\"\"\nnever closed\n", "M"); }),
            "M:2: unterminated \"\"\" quote");
  EXPECT_EQ(
      error_of([] { return parse_modelfile("FROM x\nPARAMETR num_ctx 1\n", "M"); }).substr(0, 33),
      "M:2: unknown command 'PARAMETR' (");
  EXPECT_EQ(error_of([] { return parse_modelfile("PARAMETER num_ctx 1\n", "M"); }),
            "M: no FROM line (a Modelfile names its model with FROM)");
  EXPECT_EQ(error_of([] { return parse_modelfile("FROM x\nPARAMETER num_ctx\n", "M"); }),
            "M:2: PARAMETER needs a name and a value");
}

TEST(Rewrite, EnvInPlaceKeepsCommentsAndAppendsNewNames) {
  const std::string path = fixtures + "ollama-mistral7b-4gb/.env";
  const std::string text = read_text_file(path);
  EXPECT_EQ(rewrite_env(text, {}, path, EnvDialect::systemd), text);
  EXPECT_EQ(rewrite_env(text, {{"OLLAMA_NUM_PARALLEL", "2"}}, path, EnvDialect::systemd), text);

  const std::string out = rewrite_env(
      text, {{"OLLAMA_FLASH_ATTENTION", "false"}, {"OLLAMA_KEEP_ALIVE", "24h"}, {"NEW_ONE", "x"}},
      path, EnvDialect::systemd);
  EXPECT_NE(out.find("# the 1650 is old, keep flash attention off to be safe\n"
                     "OLLAMA_FLASH_ATTENTION=false\n"
                     "# keep the model in memory for a whole day\n"
                     "OLLAMA_KEEP_ALIVE=24h\n"),
            std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with("TZ=Europe/Berlin\n# added by vramplan\nNEW_ONE=x\n")) << out;
  const std::vector<EnvEntry> again = parse_env_file(out, path, EnvDialect::systemd);
  EXPECT_EQ(value_of(again, "OLLAMA_FLASH_ATTENTION"), "false");
  EXPECT_EQ(value_of(again, "BOT_PREFIX"), "!ask");
  EXPECT_EQ(again.size(), 12u);

  // export, inline comments and quoted multi-line values.
  const std::string small = "export A=\"x\ny\" # why\nB=1\n";
  EXPECT_EQ(rewrite_env(small, {{"A", "2"}}, "s", EnvDialect::compose), "export A=2 # why\nB=1\n");
}

TEST(Rewrite, ValuesThatCouldSplitAreRefused) {
  for (const char* bad : {"a\nOLLAMA_HOST=0.0.0.0", "a b", "${X}", "-1x", "", "a#b", "\"q\""}) {
    const std::string message = error_of([&] {
      return rewrite_env("A=1\n", {{"A", bad}}, "s.env", EnvDialect::compose);
    });
    EXPECT_EQ(message.rfind("s.env: cannot write A=", 0), 0u) << message;
  }
  EXPECT_EQ(error_of([] {
              return rewrite_env("A=1\n", {{"A B", "1"}}, "s.env", EnvDialect::compose);
            }),
            "s.env: cannot write 'A B': not a variable name");
  EXPECT_EQ(error_of([] {
              return rewrite_modelfile("FROM x\n", {{"num ctx", "1"}}, "M");
            }),
            "M: cannot write 'num ctx': not a PARAMETER name");
}

TEST(Rewrite, ModelfileParameters) {
  const std::string path = fixtures + "ollama-modelfile/Modelfile";
  const std::string text = read_text_file(path);
  EXPECT_EQ(rewrite_modelfile(text, {{"num_ctx", "32768"}}, path), text);
  const std::string out = rewrite_modelfile(text, {{"num_ctx", "8192"}, {"main_gpu", "0"}}, path);
  EXPECT_NE(out.find("# long tickets\nPARAMETER num_ctx 8192\n# number of layers"),
            std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with("\"\"\"\n# added by vramplan\nPARAMETER main_gpu 0\n")) << out;
  const Modelfile m = parse_modelfile(out, path);
  EXPECT_EQ(m.parameters.size(), 9u);
  EXPECT_EQ(m.parameters[0].value, "8192");
}

TEST(Rewrite, ComposeEnvironmentListAndMap) {
  const std::string list_path = fixtures + "ollama-llama31-8b-q8-16gb/docker-compose.yml";
  const std::string list = read_text_file(list_path);
  EXPECT_EQ(rewrite_compose_environment(list, "ollama", {}, list_path), list);
  const std::string out = rewrite_compose_environment(
      list, "ollama", {{"OLLAMA_DEBUG", "1"}, {"OLLAMA_NUM_PARALLEL", "1"}}, list_path);
  EXPECT_NE(out.find("      - OLLAMA_NUM_GPU=${OLLAMA_GPU_LAYERS:-33}\n"
                     "      - \"OLLAMA_DEBUG=1\"\n"
                     "      # added by vramplan\n"
                     "      - \"OLLAMA_NUM_PARALLEL=1\"\n"
                     "    deploy:\n"),
            std::string::npos)
      << out;
  const ComposeFile f = parse_compose(out, list_path, {}, "", nullptr);
  const ComposeService& s = select_service(f, std::string("ollama"));
  EXPECT_EQ(value_of(s.environment, "OLLAMA_NUM_PARALLEL"), "1");

  const std::string map_path = fixtures + "llamaserver-14b-12gb/docker-compose.yml";
  const std::string map = read_text_file(map_path);
  const std::string out2 = rewrite_compose_environment(
      map, "llama", {{"LLAMA_ARG_CTX_SIZE", "4096"}, {"LLAMA_ARG_FIT", "on"}}, map_path);
  EXPECT_NE(out2.find("      # 8k is plenty for us\n      LLAMA_ARG_CTX_SIZE: \"4096\"\n"),
            std::string::npos)
      << out2;
  EXPECT_NE(out2.find("      LLAMA_ARG_ENDPOINT_METRICS: 1\n      # added by vramplan\n"
                      "      LLAMA_ARG_FIT: \"on\"\n    command:\n"),
            std::string::npos)
      << out2;
  EXPECT_EQ(error_of([&] {
              return rewrite_compose_environment(map, "nope", {{"A", "1"}}, map_path);
            }),
            map_path + ": no service 'nope'");
}

// An error names the file whole, however deep it lies (the file's own name is the end of the
// path), with its control bytes escaped so that the message stays one line.
TEST(Rewrite, ErrorsNameALongPathWhole) {
  const std::string map = read_text_file(fixtures + "llamaserver-14b-12gb/docker-compose.yml");
  const std::string deep = "/srv/" + std::string(120, 'd') + "/docker-compose.yml";
  EXPECT_EQ(error_of([&] {
              return rewrite_compose_environment(map, "nope", {{"A", "1"}}, deep);
            }),
            deep + ": no service 'nope'");
  EXPECT_EQ(error_of([&] {
              return rewrite_compose_environment(map, "nope", {{"A", "1"}}, "a\nb/compose.yml");
            }),
            "a\\x0ab/compose.yml: no service 'nope'");
}

std::vector<std::string> words_of(const ComposeService& s) {
  std::vector<std::string> out;
  for (const CommandArg& a : *s.command) out.push_back(a.text);
  return out;
}

TEST(Rewrite, ComposeCommandStringAndList) {
  const std::string vllm_path = fixtures + "vllm-bf16-7b-15gb/docker-compose.yml";
  const std::string vllm = read_text_file(vllm_path);
  EXPECT_EQ(rewrite_compose_command(vllm, "vllm", {}, vllm_path), vllm);
  const std::string out = rewrite_compose_command(
      vllm, "vllm", {{"--max-model-len", "16384"}, {"--kv-cache-dtype", "fp8"}}, vllm_path);
  EXPECT_NE(out.find("      --max-model-len 16384\n"), std::string::npos) << out;
  EXPECT_NE(out.find("      --enable-prefix-caching --kv-cache-dtype fp8\n    deploy:\n"),
            std::string::npos)
      << out;
  const ComposeFile f = parse_compose(out, vllm_path, {}, "", nullptr);
  EXPECT_EQ(words_of(f.services.at(0)),
            (std::vector<std::string>{"--model", "Qwen/Qwen2.5-7B-Instruct", "--served-model-name",
                                      "qwen2.5-7b", "--dtype", "bfloat16", "--max-model-len",
                                      "16384", "--gpu-memory-utilization", "0.90", "--max-num-seqs",
                                      "16", "--enable-prefix-caching", "--kv-cache-dtype", "fp8"}));

  const std::string llama_path = fixtures + "llamaserver-14b-12gb/docker-compose.yml";
  const std::string llama = read_text_file(llama_path);
  const std::string out2 =
      rewrite_compose_command(llama, "llama", {{"-c", "8192"}, {"--fit", "on"}}, llama_path);
  EXPECT_NE(out2.find("      - -c\n      - \"8192\"\n      - --jinja\n"), std::string::npos)
      << out2;
  EXPECT_NE(out2.find("      - qwen2.5-14b\n      # added by vramplan\n      - \"--fit\"\n"
                      "      - \"on\"\n    deploy:\n"),
            std::string::npos)
      << out2;
  const ComposeFile g = parse_compose(out2, llama_path, {}, "", nullptr);
  const std::vector<std::string> w = words_of(g.services.at(0));
  EXPECT_EQ(w.at(3), "8192");
  EXPECT_EQ(w.back(), "on");

  // Inline and one-line forms; what is not rewritten.
  EXPECT_EQ(rewrite_compose_command("services:\n  s:\n    command: -m x --ctx-size=4 # c\n", "s",
                                    {{"--ctx-size", "8"}, {"-np", "2"}}, "c.yml"),
            "services:\n  s:\n    command: -m x --ctx-size=8 -np 2 # c\n");
  EXPECT_EQ(error_of([] {
              return rewrite_compose_command("services:\n  s:\n    command: -m 'a b'\n", "s",
                                             {{"-c", "8"}}, "c.yml");
            }),
            "c.yml:3: cannot rewrite -c: the command string holds quotes or backslashes");
  EXPECT_EQ(error_of([] {
              return rewrite_compose_command("services:\n  s:\n    command: [-c, '4']\n", "s",
                                             {{"-c", "8"}}, "c.yml");
            }),
            "c.yml:3: service 's' has no block-style 'command:' to rewrite");
  EXPECT_EQ(error_of([] {
              return rewrite_compose_command("services:\n  s:\n    command: -c 4\n", "s",
                                             {{"-c", "8\n--evil"}}, "c.yml");
            }).rfind("c.yml: cannot write -c='8\\x0a--evil'", 0),
            0u);
  EXPECT_EQ(error_of([] {
              return rewrite_compose_command("services:\n  s:\n    command: -c 4\n", "s",
                                             {{"c d", "8"}}, "c.yml");
            }),
            "c.yml: cannot write 'c d': not a flag");
}

}  // namespace
}  // namespace vramplan::io
