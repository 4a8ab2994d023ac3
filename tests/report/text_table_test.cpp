#include <vramplan/report/text_table.hpp>

#include <gtest/gtest.h>

#include <vramplan/report/table.hpp>

namespace vramplan::report {
namespace {

TEST(TextTable, AlignsColumnsLeftAndRight) {
  TextTable table({Align::left, Align::right});
  table.add_row({"device", "total"});
  table.add_row({"CUDA0", "7.49 GiB"});
  table.add_row({"CPU", "532.00 MiB"});
  EXPECT_EQ(table.render(),
            "device       total\n"
            "CUDA0     7.49 GiB\n"
            "CPU     532.00 MiB\n");
}

TEST(TextTable, NoTrailingSpacesAndCustomGap) {
  TextTable table;
  table.add_row({"a", "bbb", ""});
  table.add_row({"cc", "d"});
  EXPECT_EQ(table.render(1), "a  bbb\ncc d\n");
}

TEST(TextTable, CountsUtf8CodePointsNotBytes) {
  TextTable table;
  table.add_row({"é", "x"});
  table.add_row({"ab", "y"});
  EXPECT_EQ(table.render(), "é   x\nab  y\n");
  EXPECT_EQ(display_width("—"), 1u);
}

TEST(TextTable, EmptyTableRendersNothing) { EXPECT_EQ(TextTable().render(), ""); }

TEST(UsageBar, ShowsFillAndPercent) {
  EXPECT_EQ(usage_bar(8 * gib, 16 * gib, 10), "[#####-----]  50 %");
  EXPECT_EQ(usage_bar(0, 16 * gib, 4), "[----]   0 %");
  EXPECT_EQ(usage_bar(16 * gib, 16 * gib, 4), "[####] 100 %");
}

TEST(UsageBar, NeverShowsAFullDeviceThatIsNotFull) {
  EXPECT_EQ(usage_bar(16 * gib - 1, 16 * gib, 4), "[####]  99 %");
}

TEST(UsageBar, OverCapacityFillsTheBarAndShowsTheRealPercent) {
  EXPECT_EQ(usage_bar(24 * gib, 16 * gib, 4), "[####] 150 %");
}

TEST(UsageBar, UnknownCapacityHasNoBar) { EXPECT_EQ(usage_bar(gib, 0, 10), ""); }

TEST(UsageBar, ColourOnlyWhenAsked) {
  EXPECT_EQ(usage_bar(8 * gib, 16 * gib, 2, true), "[\033[32m#\033[0m-]  50 %");
  EXPECT_EQ(usage_bar(8 * gib, 16 * gib, 2, false).find('\033'), std::string::npos);
}

TEST(WordWrap, BreaksAtSpacesWithinTheWidthAndIndentsTheRest) {
  EXPECT_EQ(word_wrap("one two three four", "  - ", "    ", 14), "  - one two\n    three four\n");
  // A word longer than a line gets its own line, unbroken; runs of spaces collapse.
  EXPECT_EQ(word_wrap("a  verylongword b", "- ", "  ", 8), "- a\n  verylongword\n  b\n");
  // Widths count code points; control bytes are escaped before wrapping.
  EXPECT_EQ(word_wrap("éé éé", "", "", 5), "éé éé\n");
  EXPECT_EQ(word_wrap("x\ny", "", ""), "x\\ny\n");
}

}  // namespace
}  // namespace vramplan::report
