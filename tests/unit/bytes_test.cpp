#include <vramplan/bytes.hpp>

#include <gtest/gtest.h>

#include <vramplan/error.hpp>

namespace vramplan {
namespace {

TEST(ParseSize, BinaryUnitsArePowersOfTwo) {
  EXPECT_EQ(parse_size("16G", "--vram"), 16 * gib);
  EXPECT_EQ(parse_size("16GiB", "--vram"), 16 * gib);
  EXPECT_EQ(parse_size("16gi", "--vram"), 16 * gib);
  EXPECT_EQ(parse_size("512M", "--vram"), 512 * mib);
  EXPECT_EQ(parse_size("1.5G", "--vram"), 1536 * mib);
  EXPECT_EQ(parse_size("2T", "--ram"), 2048 * gib);
}

TEST(ParseSize, DecimalUnitsArePowersOfTen) {
  EXPECT_EQ(parse_size("16GB", "--vram"), 16'000'000'000);
  EXPECT_EQ(parse_size("500MB", "--vram"), 500'000'000);
  EXPECT_EQ(parse_size("24 gb", "--vram"), 24'000'000'000);
}

void expect_usage_error(std::string_view text, std::string_view message) {
  try {
    (void)parse_size(text, "--vram");
    FAIL() << "no error for '" << text << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::invalid_setting);
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ParseSize, RejectsNonsense) {
  expect_usage_error("16",
                     "--vram: '16' needs a unit (G/GiB = 2^30 bytes, GB = 10^9 bytes, "
                     "M/MiB, MB)");
  expect_usage_error("16Q",
                     "--vram: unknown unit 'Q' in '16Q' (use B, K, M, G, T, KiB..TiB or "
                     "KB..TB)");
  expect_usage_error("0G", "--vram: size must be greater than zero, got '0G'");
  expect_usage_error("-8G", "--vram: size must be greater than zero, got '-8G'");
  expect_usage_error("abc", "--vram: 'abc' is not a size (examples: 16G, 8GiB, 24GB, 512M)");
  expect_usage_error("", "--vram: '' is not a size (examples: 16G, 8GiB, 24GB, 512M)");
  expect_usage_error("5000T", "--vram: '5000T' is larger than 1 PiB; check the unit");
}

TEST(FormatBytes, PicksBinaryUnitWithTwoDecimals) {
  EXPECT_EQ(format_bytes(gib), "1.00 GiB");
  EXPECT_EQ(format_bytes(544 * mib), "544.00 MiB");
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
  EXPECT_EQ(format_bytes(12), "12 B");
  EXPECT_EQ(format_bytes(-3 * gib / 2), "-1.50 GiB");
  EXPECT_EQ(format_mib(513024), "0.49");
}

TEST(Padding, RoundsUpToMultiples) {
  EXPECT_EQ(pad_to(8192, 256), 8192);
  EXPECT_EQ(pad_to(8193, 256), 8448);
  EXPECT_EQ(ceil_div(7, 2), 4);
}

}  // namespace
}  // namespace vramplan
