// The files a deployment is configured with (issue 11, `vramplan check`): `.env` files (Compose's
// and systemd's EnvironmentFile= rules), docker compose files, Ollama Modelfiles and the command
// lines in them; and the rewriting of those files with changed settings. Readers keep each
// value's file:line; everything read is untrusted and bounded (docs/reliability.md): a file
// over its limits or malformed is one Error{bad_input, "<file>:<line>: <what>"}, never a crash,
// a hang or a huge allocation. How a deployment's files combine is docs/engines.md §4 and §5.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vramplan/deployment.hpp>

namespace vramplan::io {

// Limits per file (a real .env or compose file is a few KiB).
inline constexpr std::size_t deploy_max_bytes = 1u << 20;  // bytes of one file
inline constexpr std::size_t deploy_max_lines = 65536;     // lines of one file
inline constexpr std::size_t deploy_max_value = 65536;     // bytes of one value, interpolated
inline constexpr std::size_t deploy_max_entries = 4096;    // variables, words or parameters
inline constexpr std::size_t deploy_max_total = 4u << 20;  // bytes of values kept, in all
inline constexpr std::size_t compose_max_nodes = 65536;    // YAML nodes (aliases count theirs)
inline constexpr std::size_t compose_max_depth = 16;       // YAML nesting
inline constexpr std::size_t interpolation_max_depth = 8;  // ${A:-${B:-...}} nesting
inline constexpr std::size_t compose_max_env_files = 64;   // env_file entries per service

// Variables for `${...}` interpolation, by name.
using Variables = std::map<std::string, std::string, std::less<>>;

enum class EnvDialect {
  // docker compose
  // (https://docs.docker.com/compose/how-tos/environment-variables/variable-interpolation/
  // "env file syntax"): `#` comment lines, `export` prefix, VAR=VAL, unquoted values trimmed with
  // ` #` inline comments, '...' literal (\' escapes a quote), "..." with \n \r \t \\ \" \$
  // escapes, unquoted and "..." values interpolated; quoted values may span lines.
  compose,
  // systemd EnvironmentFile= (systemd.exec(5)): `#` and `;` comment lines, VAR=VAL, a
  // backslash at the end of a line continues it, '...' and "..." quotes removed (in "..." a
  // backslash escapes \ " $ ` and newline), no interpolation, no `export`.
  systemd,
};

// Parses a `.env` file. Each entry keeps the 1-based line where it starts. Interpolation (compose
// only) looks up earlier entries of the file, then `outside`. Throws Error{bad_input} with
// "<origin>:<line>: ..." for a line that is no assignment, an unterminated quote or `${`, a name
// that is not [A-Za-z_][A-Za-z0-9_.-]*, or a file over the limits.
[[nodiscard]] std::vector<EnvEntry> parse_env_file(std::string_view text, const std::string& origin,
                                                   EnvDialect dialect,
                                                   const Variables& outside = {});

// Compose's interpolation of one value: `$$` -> `$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
// `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?err}`, `${VAR?err}` (nested in the
// default up to interpolation_max_depth). An unset variable is "". Throws Error{bad_input}
// "<origin>:<line>: ..." for an unterminated `${`, a bad name, a `:?` error, too deep nesting
// or a result over deploy_max_value.
[[nodiscard]] std::string interpolate(std::string_view text, const Variables& variables,
                                      const Origin& origin);

// Splits a command string as Compose does for `command:` / `entrypoint:` strings (shell-like
// words: blanks separate, '...' literal, "..." with \" \\ \$ \` escapes, a backslash escapes the
// next character outside quotes; no expansion). Throws Error{bad_input} "<origin>:<line>: ..."
// on an unterminated quote or more than deploy_max_entries words.
[[nodiscard]] std::vector<CommandArg> split_command(std::string_view command, const Origin& origin);

// One GPU request of deploy.resources.reservations.devices.
struct ComposeDevice {
  std::string driver;
  std::optional<std::int64_t> count;  // -1: "all"
  std::vector<std::string> device_ids;
  std::vector<std::string> capabilities;
  Origin origin;
};

struct ComposeService {
  std::string name;
  Origin origin;
  std::string image;
  std::optional<DeployEngine> engine;  // from the image (engine_of_image)
  // Whether the service runs the engine's server (an `ollama pull` one-shot does not).
  bool server = false;
  std::vector<std::string> env_files;  // as resolved: relative to the compose file's folder
  // env_file entries (files in order) then `environment:`: weakest first.
  std::vector<EnvEntry> environment;
  std::optional<std::vector<CommandArg>> command;
  std::optional<std::vector<CommandArg>> entrypoint;
  std::vector<ComposeDevice> gpus;
  std::optional<std::string> memory_limit;        // deploy.resources.limits.memory / mem_limit
  std::optional<std::string> memory_reservation;  // deploy.resources.reservations.memory
};

struct ComposeFile {
  std::string path;
  std::vector<ComposeService> services;  // in file order
};

// Reads env_file contents for parse_compose (a path as resolved -> its text); nullopt when the
// file does not exist.
using FileReader = std::optional<std::string> (*)(const std::string& path);

// Parses a compose file. `variables` interpolate it (the project `.env` overlaid by the shell
// environment, as Compose does). env_file paths are resolved against `base_dir` and read with
// `reader` (nullptr: env_file entries are listed but not read); a missing file is an error
// unless it is `required: false`. Throws Error{bad_input} "<origin>:<line>:<col>: ..." for
// malformed YAML, a file over the limits, a wrong type (a map where a list is due, ...), or an
// interpolation error.
[[nodiscard]] ComposeFile parse_compose(std::string_view text, const std::string& origin,
                                        const Variables& variables, const std::string& base_dir,
                                        FileReader reader);

// Reads `path` and the `.env` beside it (compose dialect, interpolated from `shell`), then
// parse_compose with that `.env` overlaid by `shell`, reading env_files from disk. Errors:
// Error{io} for a file that cannot be read, Error{bad_input} as above.
[[nodiscard]] ComposeFile read_compose(const std::string& path, const Variables& shell);

// The service to check: the one named (Error{usage} "no service '<name>' in <file>; the services
// are a, b" otherwise), or the only service that runs an engine's server (Error{bad_input} when
// none or several do, naming them).
[[nodiscard]] const ComposeService& select_service(const ComposeFile& file,
                                                   const std::optional<std::string>& name);

// What the engine of `service` sees: its image's ENV (image_environment), then the service's
// environment; its command as arguments. Throws Error{bad_input} when the service runs no known
// engine.
[[nodiscard]] DeploymentInput deployment_input(const ComposeService& service);

// A Modelfile (ollama parser/parser.go): commands FROM, PARAMETER, TEMPLATE, SYSTEM, ADAPTER,
// LICENSE, MESSAGE, DRAFT, RENDERER, PARSER, REQUIRES (any case); `#` comments; a value runs to
// the end of its line unless it starts with `"` or `"""`, which may span lines.
struct Modelfile {
  std::optional<ModelfileParameter> from;
  std::vector<ModelfileParameter> parameters;
};

// Throws Error{bad_input} "<origin>:<line>: ..." for an unknown command, an unterminated quote
// (the line where it opened), a missing FROM, or a file over the limits.
[[nodiscard]] Modelfile parse_modelfile(std::string_view text, const std::string& origin);

// A setting to write: a variable (.env, compose `environment:`) or a PARAMETER (Modelfile).
struct Change {
  std::string name;
  std::string value;
};

// The text of a `.env` with `changes` applied: the line that sets a name (its last assignment)
// gets the new value in place — indentation, `export` and an inline comment kept — and names the
// file does not set are appended after a "# added by vramplan" comment. Every other byte is
// kept; no change gives the same text. A name must be [A-Za-z_][A-Za-z0-9_]* and a value one
// plain word (plain_word_problem, text.hpp): otherwise Error{bad_input} naming it, and nothing
// is returned. `origin` names the file in errors (it is parsed first, as parse_env_file).
[[nodiscard]] std::string rewrite_env(std::string_view text, const std::vector<Change>& changes,
                                      const std::string& origin, EnvDialect dialect);

// The same for a Modelfile's PARAMETER lines (the last one of each name changes; new ones are
// appended). Names must be a PARAMETER name ([A-Za-z0-9_]+).
[[nodiscard]] std::string rewrite_modelfile(std::string_view text,
                                            const std::vector<Change>& changes,
                                            const std::string& origin);

// The same for the `environment:` of one compose service: a `- KEY=VALUE` item or a `KEY: VALUE`
// entry is rewritten on its line; new variables are added after the last entry, in the same
// form and indentation. Error{bad_input} when the service has no block-style `environment:`
// (flow style `[...]`/`{...}` and multi-line values are not rewritten).
[[nodiscard]] std::string rewrite_compose_environment(std::string_view text,
                                                      const std::string& service,
                                                      const std::vector<Change>& changes,
                                                      const std::string& origin);

// The same for the `command:` of one compose service: a change's name is a flag (`-c`,
// `--max-model-len`); the word after its last occurrence (or the value of `--flag=value`) is
// replaced; a flag the command lacks is appended (after the last list item, or after the last
// word of a string). A string command holding quotes or backslashes, a flow-style list and a
// value spanning lines are refused (Error{bad_input}): they are not rewritten.
[[nodiscard]] std::string rewrite_compose_command(std::string_view text, const std::string& service,
                                                  const std::vector<Change>& changes,
                                                  const std::string& origin);

}  // namespace vramplan::io
