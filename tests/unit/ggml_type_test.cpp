#include <vramplan/ggml_type.hpp>

#include <gtest/gtest.h>

namespace vramplan {
namespace {

TEST(GgmlType, BlockSizesMatchGgmlCommon) {
  EXPECT_EQ(row_bytes(GgmlType::f16, 4096), 8192);
  EXPECT_EQ(row_bytes(GgmlType::q8_0, 1024), 1088);  // 32 blocks of 34 bytes
  EXPECT_EQ(row_bytes(GgmlType::q4_0, 1024), 576);
  EXPECT_EQ(row_bytes(GgmlType::q4_k, 4096), 2304);  // 16 super-blocks of 144 bytes
  EXPECT_EQ(row_bytes(GgmlType::q6_k, 256), 210);
  EXPECT_EQ(row_bytes(GgmlType::mxfp4, 2880), 90 * 17);
  EXPECT_TRUE(row_fits(GgmlType::q8_0, 2880));
  EXPECT_FALSE(row_fits(GgmlType::q4_k, 2880));
}

TEST(GgmlType, UnknownAndRemovedIdsAreRejected) {
  EXPECT_EQ(find_ggml_type(4), nullptr);
  EXPECT_EQ(find_ggml_type(31), nullptr);
  EXPECT_EQ(find_ggml_type(43), nullptr);
  EXPECT_EQ(find_ggml_type(-1), nullptr);
  ASSERT_NE(find_ggml_type(39), nullptr);
  EXPECT_EQ(find_ggml_type(39)->name, "mxfp4");
}

// find_ggml_type and find_file_type index their tables by id: every id, known or not, in
// range of the index or past it, finds what a scan of the table finds.
TEST(GgmlType, IndexedLookupIsTheTableScan) {
  for (std::int64_t id = -3; id < 200; ++id) {
    const GgmlTypeInfo* scanned = nullptr;
    for (const GgmlTypeInfo& t : ggml_types()) {
      if (static_cast<std::int64_t>(t.type) == id) {
        scanned = &t;
        break;
      }
    }
    EXPECT_EQ(find_ggml_type(id), scanned) << "ggml type " << id;
    const FileTypeInfo* scanned_file = nullptr;
    for (const FileTypeInfo& f : file_types()) {
      if (static_cast<std::int64_t>(f.type) == id) {
        scanned_file = &f;
        break;
      }
    }
    EXPECT_EQ(find_file_type(id), scanned_file) << "file type " << id;
  }
  EXPECT_NE(find_ggml_type(static_cast<std::int64_t>(GgmlType::q4_k)), nullptr);
  EXPECT_NE(find_file_type(static_cast<std::int64_t>(FileType::mostly_q4_k_m)), nullptr);
}

TEST(GgmlType, ParsesCaseInsensitively) {
  EXPECT_EQ(parse_ggml_type("Q8_0"), GgmlType::q8_0);
  EXPECT_EQ(parse_ggml_type("q4_k"), GgmlType::q4_k);
  EXPECT_EQ(parse_ggml_type("F16"), GgmlType::f16);
  EXPECT_EQ(parse_ggml_type("q9_0"), std::nullopt);
}

TEST(GgmlType, KvCacheTypesAreLlamaCppsList) {
  EXPECT_TRUE(is_kv_cache_type(GgmlType::q8_0));
  EXPECT_TRUE(is_kv_cache_type(GgmlType::iq4_nl));
  EXPECT_FALSE(is_kv_cache_type(GgmlType::q4_k));
  EXPECT_FALSE(is_kv_cache_type(GgmlType::mxfp4));
}

TEST(FileType, ParsesWhatPeopleType) {
  EXPECT_EQ(parse_file_type("q8"), FileType::mostly_q8_0);
  EXPECT_EQ(parse_file_type("q4"), FileType::mostly_q4_k_m);
  EXPECT_EQ(parse_file_type("fp16"), FileType::mostly_f16);
  EXPECT_EQ(parse_file_type("Q4_K_M"), FileType::mostly_q4_k_m);
  EXPECT_EQ(parse_file_type("q5_k_s"), FileType::mostly_q5_k_s);
  EXPECT_EQ(parse_file_type("q4_0"), FileType::mostly_q4_0);
  EXPECT_EQ(parse_file_type("instruct"), std::nullopt);
  EXPECT_EQ(to_string(FileType::mostly_mxfp4_moe), "MXFP4_MOE");
}

}  // namespace
}  // namespace vramplan
