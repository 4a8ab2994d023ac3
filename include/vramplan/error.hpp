// The one exception type of vramplan. Core and io throw it with a domain kind; cli::run catches
// it, puts the flag of the setting it names in its message, and maps the kind to the
// documented exit code (src/cli/exit_code.hpp, docs/cli.md "Exit codes").
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <vramplan/setting.hpp>

namespace vramplan {

enum class ErrorKind {
  usage,            // the command line only (src/cli): bad flag, unparsable value  -> exit 2
  invalid_setting,  // a setting the model or the engine cannot take              -> exit 2
  bad_input,        // unknown model, malformed GGUF/YAML/.env/manifest, overflow  -> exit 3
  io,               // cannot read/write a file, refusing to overwrite            -> exit 4
  internal,         // a broken invariant: a bug                                  -> exit 5
};

// A message that names one setting: `before`, the setting, `after`. Core words it with the
// setting's own name (text(): "give vram"); the command line with its flag (message_with).
struct SettingText {
  std::string before;
  Setting setting = Setting::none;
  std::string after;

  [[nodiscard]] std::string text() const { return text_with(to_string(setting)); }
  [[nodiscard]] std::string text_with(std::string_view setting_name) const {
    return setting == Setting::none ? before + after : before + std::string(setting_name) + after;
  }
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

  // A message about one setting: `before`, the setting, `after`. what() names the setting as
  // core does ("cpu_moe must be ..."); message_with() puts another name in its place (the CLI's
  // flag: "--cpu-moe must be ...").
  Error(ErrorKind kind, std::string before, Setting setting, std::string after)
      : std::runtime_error(before + std::string(to_string(setting)) + after),
        kind_(kind),
        setting_(setting),
        before_(std::move(before)),
        after_(std::move(after)) {}

  Error(ErrorKind kind, SettingText message)
      : Error(kind, std::move(message.before), message.setting, std::move(message.after)) {}

  [[nodiscard]] ErrorKind kind() const noexcept { return kind_; }
  [[nodiscard]] Setting setting() const noexcept { return setting_; }
  [[nodiscard]] std::string message_with(std::string_view setting_name) const {
    if (setting_ == Setting::none) return what();
    return before_ + std::string(setting_name) + after_;
  }

 private:
  ErrorKind kind_;
  Setting setting_ = Setting::none;
  std::string before_;
  std::string after_;
};

}  // namespace vramplan
