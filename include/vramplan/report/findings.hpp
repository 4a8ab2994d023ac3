// The words for core's findings (finding.hpp): one sentence per decision, reason, suggestion
// or note, the same in every format; and the flag each setting is typed as, which is how the
// reports and the error messages name a setting.
#pragma once

#include <string>
#include <string_view>

#include <vramplan/finding.hpp>
#include <vramplan/setting.hpp>

namespace vramplan::report {

// The command-line flag that sets `setting`: Setting::ctx -> "--ctx", Setting::max_model_len
// -> "--max-model-len"; Setting::none -> "".
[[nodiscard]] std::string_view flag_of(Setting setting);

// The sentence for `finding`, escaped for the terminal (format_text): "context: 56832 is the
// largest that fits (the model's maximum is 131072)".
[[nodiscard]] std::string describe(const Finding& finding);

}  // namespace vramplan::report
