// The command line's own pieces (src/cli/flags.hpp): --headroom's values, the flag each core
// setting is spelled as, and an error naming a setting as its flag.
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vramplan/bytes.hpp>
#include <vramplan/error.hpp>
#include <vramplan/report/findings.hpp>

#include "../../src/cli/common.hpp"
#include "../../src/cli/flags.hpp"

namespace vramplan::cli {
namespace {

TEST(Headroom, ProfilesAndCustomValues) {
  EXPECT_EQ(parse_headroom("fit").for_device(16 * gib), 1 * gib);
  EXPECT_EQ(parse_headroom("stable").for_device(24 * gib),
            static_cast<Bytes>(0.1 * 24 * static_cast<double>(gib) + 0.5));
  EXPECT_EQ(parse_headroom("stable").for_device(8 * gib), 1536 * mib);
  EXPECT_EQ(parse_headroom("conservative").for_device(24 * gib),
            static_cast<Bytes>(0.2 * 24 * static_cast<double>(gib) + 0.5));
  EXPECT_EQ(parse_headroom("none").for_device(24 * gib), 0);
  EXPECT_EQ(parse_headroom("2G").for_device(24 * gib), 2 * gib);
  EXPECT_EQ(parse_headroom("25%").for_device(16 * gib), 4 * gib);
  EXPECT_THROW((void)parse_headroom("lots"), Error);
  EXPECT_THROW((void)parse_headroom("150%"), Error);
  EXPECT_THROW((void)parse_headroom("nan%"), Error);
}

// Sizes and percentages read back exactly in every unit spelling.
TEST(Headroom, SizesAndPercentagesRoundTrip) {
  for (std::int64_t n : {1, 3, 16, 24, 80, 512}) {
    for (const auto& [suffix, factor] : {std::pair<const char*, Bytes>{"K", kib},
                                         {"MiB", mib},
                                         {"mb", 1000 * 1000},
                                         {"G", gib},
                                         {"GB", Bytes{1000} * 1000 * 1000},
                                         {"T", 1024 * gib}}) {
      const std::string text = fmt::format("{}{}", n, suffix);
      EXPECT_EQ(parse_headroom(text).for_device(1 << 20), n * factor) << text;
    }
    const Headroom pct = parse_headroom(fmt::format("{}%", n % 100));
    EXPECT_EQ(pct.for_device(100 * gib), static_cast<Bytes>(n % 100) * gib);
  }
}

TEST(Flags, EverySettingHasAFlag) {
  for (int i = static_cast<int>(Setting::model); i <= static_cast<int>(Setting::tensor_parallel);
       ++i) {
    const auto setting = static_cast<Setting>(i);
    const std::string_view flag = report::flag_of(setting);
    EXPECT_TRUE(flag.starts_with("--")) << to_string(setting);
  }
  EXPECT_EQ(report::flag_of(Setting::max_model_len), "--max-model-len");
  EXPECT_EQ(report::flag_of(Setting::cpu_moe), "--cpu-moe");
}

TEST(Flags, AnErrorNamesItsSettingAsTheFlag) {
  const Error e(ErrorKind::invalid_setting, "use ", Setting::ubatch, " 4 or more");
  EXPECT_STREQ(e.what(), "use ubatch 4 or more");
  EXPECT_EQ(message_of(e), "use --ubatch 4 or more");
  const Error plain(ErrorKind::bad_input, "unknown model 'x'");
  EXPECT_EQ(message_of(plain), "unknown model 'x'");
}

TEST(Flags, FormatIsParsedAgainstTheCommandsValues) {
  EXPECT_EQ(parse_format("env", {Format::table, Format::json, Format::env}), Format::env);
  EXPECT_EQ(format_list({Format::table, Format::json}), "table|json");
  try {
    (void)parse_format("env", {Format::table, Format::json});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_STREQ(e.what(), "--format: unknown format 'env' (use table or json)");
  }
  try {
    (void)parse_format("yaml", {Format::table, Format::json, Format::env});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--format: unknown format 'yaml' (use table, json or env)");
  }
}

}  // namespace
}  // namespace vramplan::cli
