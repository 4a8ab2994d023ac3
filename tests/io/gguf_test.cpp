#include <array>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <vramplan/error.hpp>
#include <vramplan/io/byte_source.hpp>
#include <vramplan/io/gguf.hpp>
#include <vramplan/io/gguf_model.hpp>

#include <unistd.h>

#include "support/fifo.hpp"
#include "support/gguf_writer.hpp"
#include "support/time_budget.hpp"

namespace vramplan::io {
namespace {

namespace fs = std::filesystem;
using test::ByteWriter;
using test::GgufWriter;
using WType = test::GgufType;

constexpr const char* origin = "m.gguf";

// The whole file in memory: header plus a zeroed data section.
std::string file_bytes(const GgufWriter& w) {
  return w.header() + std::string(static_cast<std::size_t>(w.data_size()), '\0');
}

GgufFile read_bytes(const std::string& bytes) {
  MemorySource source(bytes);
  return read_gguf(source, origin);
}

// The message of the Error{bad_input} reading `bytes` throws; "" when it does not throw.
std::string error_of(const std::string& bytes) {
  try {
    (void)read_bytes(bytes);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input) << e.what();
    return e.what();
  }
  return "";
}

std::string u32_bytes(std::uint32_t v) {
  ByteWriter b;
  b.u32(v);
  return b.bytes();
}

std::string u64_bytes(std::uint64_t v) {
  ByteWriter b;
  b.u64(v);
  return b.bytes();
}

// A file with no key/values and one tensor info written field by field (for shapes, types
// and offsets the writer would not produce). The tensor info starts at offset 24; its
// n_dims field is at 24 + 8 + name.size().
std::string raw_tensor_file(const std::string& name, const std::vector<std::int64_t>& ne,
                            std::int32_t type, std::uint64_t offset, std::size_t data = 4096) {
  ByteWriter b;
  b.raw("GGUF");
  b.u32(3);
  b.u64(1);
  b.u64(0);
  b.str(name);
  b.u32(static_cast<std::uint32_t>(ne.size()));
  for (std::int64_t n : ne) b.i64(n);
  b.i32(type);
  b.u64(offset);
  b.pad_to(32);
  return b.bytes() + std::string(data, '\0');
}

GgufWriter sample_writer() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000U);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 18000000000000000000ULL);
  w.set_i64("t.i64", -9000000000000000000LL);
  w.set_f32("t.f32", 1.5F);
  w.set_f64("t.f64", -2.25);
  w.set_bool("t.bool", true);
  const std::array<std::int32_t, 3> kv{8, 0, 8};
  w.set_array_i32("t.arr_i32", kv);
  const std::array<std::string, 2> words{"hello", "world"};
  w.set_array_string("t.arr_str", words);
  w.set_array_bool("t.arr_bool", std::vector<bool>{true, false, true});
  const std::array<std::int64_t, 2> embd{64, 100};
  w.add_tensor("token_embd.weight", embd, GgmlType::f16);
  const std::array<std::int64_t, 2> q{256, 64};
  w.add_tensor("blk.0.attn_q.weight", q, GgmlType::q4_k);
  const std::array<std::int64_t, 1> norm{64};
  w.add_tensor("output_norm.weight", norm, GgmlType::f32);
  return w;
}

template <class T>
const T& scalar(const GgufFile& f, const char* key) {
  const GgufValue* v = f.find(key);
  if (v == nullptr) throw std::runtime_error(std::string("missing ") + key);
  return std::get<T>(v->data);
}

TEST(GgufReader, RoundTripsAWriterFile) {
  const GgufWriter w = sample_writer();
  const std::string bytes = file_bytes(w);
  const GgufFile f = read_bytes(bytes);

  EXPECT_EQ(f.version, 3U);
  EXPECT_EQ(f.alignment, 32U);
  EXPECT_EQ(f.file_size, bytes.size());
  EXPECT_EQ(f.data_offset, w.header().size());
  EXPECT_LE(f.header_size, f.data_offset);
  EXPECT_GT(f.header_size + 32, f.data_offset);
  ASSERT_EQ(f.metadata.size(), w.kv_count());
  EXPECT_EQ(f.metadata.front().key, "general.architecture");

  EXPECT_EQ(scalar<std::string>(f, "general.architecture"), "llama");
  EXPECT_EQ(scalar<std::uint64_t>(f, "t.u8"), 200U);
  EXPECT_EQ(scalar<std::int64_t>(f, "t.i8"), -100);
  EXPECT_EQ(scalar<std::uint64_t>(f, "t.u16"), 60000U);
  EXPECT_EQ(scalar<std::int64_t>(f, "t.i16"), -30000);
  EXPECT_EQ(scalar<std::uint64_t>(f, "t.u32"), 4000000000U);
  EXPECT_EQ(scalar<std::int64_t>(f, "t.i32"), -2000000000);
  EXPECT_EQ(scalar<std::uint64_t>(f, "t.u64"), 18000000000000000000ULL);
  EXPECT_EQ(scalar<std::int64_t>(f, "t.i64"), -9000000000000000000LL);
  EXPECT_EQ(scalar<double>(f, "t.f32"), 1.5);
  EXPECT_EQ(scalar<double>(f, "t.f64"), -2.25);
  EXPECT_TRUE(scalar<bool>(f, "t.bool"));
  EXPECT_EQ(f.find("t.u8")->type, GgufType::u8);
  EXPECT_EQ(f.find("t.f32")->type, GgufType::f32);
  EXPECT_EQ(f.find("t.u64")->as_int(), std::nullopt);  // above INT64_MAX
  EXPECT_EQ(f.find("t.i32")->as_int(), -2000000000);
  EXPECT_EQ(f.find("missing"), nullptr);

  const GgufArray& ints = scalar<GgufArray>(f, "t.arr_i32");
  EXPECT_EQ(ints.type, GgufType::i32);
  EXPECT_EQ(ints.count, 3U);
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(ints.elements),
            (std::vector<std::int64_t>{8, 0, 8}));
  const GgufArray& words = scalar<GgufArray>(f, "t.arr_str");
  EXPECT_EQ(std::get<std::vector<std::string>>(words.elements),
            (std::vector<std::string>{"hello", "world"}));
  const GgufArray& flags = scalar<GgufArray>(f, "t.arr_bool");
  EXPECT_EQ(std::get<std::vector<bool>>(flags.elements), (std::vector<bool>{true, false, true}));

  ASSERT_EQ(f.tensors.size(), 3U);
  const std::vector<std::uint64_t> offsets = w.tensor_offsets();
  EXPECT_EQ(f.tensors[0].info.name, "token_embd.weight");
  EXPECT_EQ(f.tensors[0].info.ne, (std::array<std::int64_t, 4>{64, 100, 1, 1}));
  EXPECT_EQ(f.tensors[0].info.type, GgmlType::f16);
  EXPECT_EQ(f.tensors[0].n_dims, 2U);
  EXPECT_EQ(f.tensors[1].info.type, GgmlType::q4_k);
  EXPECT_EQ(f.tensors[2].n_dims, 1U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(f.tensors[i].offset, offsets[i]) << i;
    EXPECT_EQ(f.tensors[i].split, 0U);
  }
  EXPECT_EQ(f.find_tensor("blk.0.attn_q.weight"), &f.tensors[1]);
}

TEST(GgufReader, ReadsVersion2AndACustomAlignment) {
  GgufWriter w = sample_writer();
  w.set_version(2);
  w.set_alignment(64);
  const GgufFile f = read_bytes(file_bytes(w));
  EXPECT_EQ(f.version, 2U);
  EXPECT_EQ(f.alignment, 64U);
  EXPECT_EQ(f.data_offset % 64, 0U);
  EXPECT_EQ(f.data_offset, w.header().size());
  EXPECT_EQ(f.tensors[1].offset, w.tensor_offsets()[1]);
}

TEST(GgufReader, KeepsOnlyTypeAndCountOfBigArrays) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  const std::vector<std::string> tokens(gguf_max_kept_array + 1, "tok");
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  const std::vector<float> scores(gguf_max_kept_array + 10, 0.5F);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  const std::vector<std::int32_t> small(gguf_max_kept_array, 1);
  w.set_array_i32("tokenizer.ggml.token_type", small);
  w.set_u32("after", 7);
  const GgufFile f = read_bytes(file_bytes(w));

  const GgufArray& t = scalar<GgufArray>(f, "tokenizer.ggml.tokens");
  EXPECT_EQ(t.type, GgufType::string);
  EXPECT_EQ(t.count, gguf_max_kept_array + 1);
  EXPECT_FALSE(t.kept());
  const GgufArray& s = scalar<GgufArray>(f, "tokenizer.ggml.scores");
  EXPECT_EQ(s.count, gguf_max_kept_array + 10);
  EXPECT_FALSE(s.kept());
  const GgufArray& k = scalar<GgufArray>(f, "tokenizer.ggml.token_type");
  EXPECT_TRUE(k.kept());
  EXPECT_EQ(std::get<std::vector<std::int64_t>>(k.elements).size(), gguf_max_kept_array);
  EXPECT_EQ(scalar<std::uint64_t>(f, "after"), 7U);  // the skip landed on the next key
}

// Issue 9 class 6: metadata strings and arrays are kept within a budget, not just capped in
// bytes (24 strings of 64 MiB took 1.5 GB). A long string keeps its first
// gguf_max_kept_string bytes; a string array over gguf_max_kept_array_bytes keeps its type
// and count only, and so does anything past gguf_max_kept_bytes in all.
TEST(GgufReader, BoundsTheMetadataItKeeps) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("long", std::string(gguf_max_kept_string + 5, 'a'));
  w.set_string("short", "s");
  const std::vector<std::string> big(17, std::string(1u << 20, 'b'));  // 17 MiB in all
  w.set_array_string("big", big);
  const std::vector<std::string> small(3, "tok");
  w.set_array_string("small", small);
  w.set_u32("after", 7);
  const GgufFile f = read_bytes(file_bytes(w));

  const GgufValue* v = f.find("long");
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(v->cut);
  EXPECT_EQ(*v->as_string(), std::string(gguf_max_kept_string, 'a'));
  EXPECT_FALSE(f.find("short")->cut);
  EXPECT_EQ(scalar<std::string>(f, "short"), "s");
  const GgufArray& b = scalar<GgufArray>(f, "big");
  EXPECT_EQ(b.count, 17U);
  EXPECT_FALSE(b.kept());
  EXPECT_EQ(std::get<std::vector<std::string>>(scalar<GgufArray>(f, "small").elements), small);
  EXPECT_EQ(scalar<std::uint64_t>(f, "after"), 7U);  // the skips landed on the next key
}

TEST(GgufReader, KeepsNothingPastTheMetadataBudget) {
  GgufWriter w;
  const std::uint64_t n = gguf_max_kept_bytes / gguf_max_kept_string + 2;
  for (std::uint64_t i = 0; i < n; ++i) {
    w.set_string(fmt::format("s{}", i), std::string(gguf_max_kept_string, 's'));
  }
  const std::vector<std::string> words(2, "w");
  w.set_array_string("late", words);
  const GgufFile f = read_bytes(file_bytes(w));
  EXPECT_FALSE(f.find("s0")->cut);
  EXPECT_TRUE(f.find(fmt::format("s{}", n - 1))->cut);
  std::uint64_t kept = 0;
  for (const GgufKv& kv : f.metadata) {
    kept += kv.value.as_string() != nullptr ? kv.value.as_string()->size() : 0;
  }
  EXPECT_LE(kept, gguf_max_kept_bytes);
  EXPECT_EQ(scalar<GgufArray>(f, "late").count, 2U);
  EXPECT_FALSE(scalar<GgufArray>(f, "late").kept());
}

// --- malformed input: exact messages and offsets ---------------------------------------------

TEST(GgufReaderErrors, BadMagic) {
  GgufWriter w = sample_writer();
  w.set_magic("GGML");
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 0: not a GGUF file (magic 'GGML')");
  w.set_magic(
      std::string("\x7f"
                  "ELF",
                  4));
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 0: not a GGUF file (magic '\\x7fELF')");
}

TEST(GgufReaderErrors, UnsupportedVersions) {
  GgufWriter w = sample_writer();
  w.set_version(1);
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 4: unsupported GGUF version 1");
  w.set_version(4);
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 4: unsupported GGUF version 4");
  w.set_version(0x03000000U);  // version 3 written big-endian
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 4: big-endian GGUF is not supported");
}

TEST(GgufReaderErrors, EmptyAndTinyFiles) {
  EXPECT_EQ(error_of(""),
            "m.gguf: offset 0: unexpected end of file reading the magic (4 bytes needed, 0 left)");
  EXPECT_EQ(error_of("GGUF\x03"),
            "m.gguf: offset 4: unexpected end of file reading the version (4 bytes needed, 1 "
            "left)");
  const std::string header = sample_writer().header();
  EXPECT_EQ(error_of(header.substr(0, 20)),
            "m.gguf: offset 16: unexpected end of file reading the key/value count (8 bytes "
            "needed, 4 left)");
}

TEST(GgufReaderErrors, EveryTruncationIsABadInputError) {
  const GgufWriter w = sample_writer();
  const std::string bytes = file_bytes(w);
  const std::size_t header_size = w.header().size();
  // Every cut inside the header, then every 101st inside the data section.
  for (std::size_t n = 0; n < bytes.size(); n += n < header_size ? 1 : 101) {
    SCOPED_TRACE(n);
    EXPECT_NE(error_of(bytes.substr(0, n)), "");
  }
}

TEST(GgufReaderErrors, TruncatedValue) {
  GgufWriter w;
  w.add_raw_kv("a", 4, "\x01\x02");  // a u32 with two bytes
  // key 'a' at 24: length (8) + "a" -> type at 33, value at 37.
  EXPECT_EQ(error_of(w.header().substr(0, 39)),
            "m.gguf: offset 37: unexpected end of file reading the value of key 'a' (4 bytes "
            "needed, 2 left)");
}

TEST(GgufReaderErrors, StringLengthPastTheEnd) {
  GgufWriter w;
  w.add_raw_kv("s", 8, u64_bytes(1000) + "abc");
  const std::string bytes = w.header();
  EXPECT_EQ(error_of(bytes),
            "m.gguf: offset 37: length 1000 of the value of key 's' exceeds the remaining " +
                std::to_string(bytes.size() - 45) + " bytes");
}

TEST(GgufReaderErrors, StringLengthOverTheCap) {
  GgufWriter w;
  w.add_raw_kv("s", 8, u64_bytes(gguf_max_string_length + 1));
  EXPECT_EQ(error_of(w.header()),
            "m.gguf: offset 37: length 67108865 of the value of key 's' exceeds the limit of "
            "67108864");
}

TEST(GgufReaderErrors, KeyLengthOverTheCap) {
  ByteWriter b;
  b.raw("GGUF");
  b.u32(3);
  b.u64(0);
  b.u64(1);
  b.u64(gguf_max_key_length + 1);
  b.raw(std::string(64, 'k'));
  EXPECT_EQ(error_of(b.bytes()),
            "m.gguf: offset 24: length 1048577 of a key exceeds the limit of 1048576");
}

TEST(GgufReaderErrors, EmptyKey) {
  GgufWriter w;
  w.add_raw_kv("", 4, u32_bytes(1));
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 24: empty key");
}

TEST(GgufReaderErrors, DuplicateKey) {
  GgufWriter w;
  w.set_u32("a", 1);
  w.add_raw_kv("a", 4, u32_bytes(2));  // second pair starts at 24 + 9 + 4 + 4
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 41: duplicate key 'a'");
}

TEST(GgufReaderErrors, UnknownValueType) {
  GgufWriter w;
  w.add_raw_kv("x", 13, u32_bytes(0));
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 33: unknown value type 13 for key 'x'");
}

TEST(GgufReaderErrors, KeysAreQuotedOnOneLine) {
  GgufWriter w;
  w.add_raw_kv("a\nb", 13, u32_bytes(0));
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 35: unknown value type 13 for key 'a\\x0ab'");
}

TEST(GgufReaderErrors, NestedArray) {
  GgufWriter w;
  w.add_raw_kv("arr", 9, u32_bytes(9) + u64_bytes(1));
  // key 'arr' at 24 -> type at 35, element type at 39.
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 39: nested array in key 'arr' is not supported");
}

TEST(GgufReaderErrors, UnknownArrayElementType) {
  GgufWriter w;
  w.add_raw_kv("arr", 9, u32_bytes(42) + u64_bytes(1));
  EXPECT_EQ(error_of(w.header()), "m.gguf: offset 39: unknown array element type 42 for key 'arr'");
}

TEST(GgufReaderErrors, ArrayCountThatWouldOverflow) {
  GgufWriter w;
  w.add_raw_kv(
      "arr", 9,
      u32_bytes(static_cast<std::uint32_t>(WType::u64)) + u64_bytes(std::uint64_t{1} << 62));
  const std::string bytes = w.header();
  EXPECT_EQ(error_of(bytes),
            "m.gguf: offset 43: array count 4611686018427387904 for key 'arr' "
            "exceeds what the remaining " +
                std::to_string(bytes.size() - 51) + " bytes can hold");
}

TEST(GgufReaderErrors, ArrayCountPastTheEnd) {
  GgufWriter w;
  w.add_raw_kv("arr", 9, u32_bytes(static_cast<std::uint32_t>(WType::string)) + u64_bytes(100));
  const std::string bytes = w.header();
  EXPECT_EQ(error_of(bytes),
            "m.gguf: offset 43: array count 100 for key 'arr' exceeds what the "
            "remaining " +
                std::to_string(bytes.size() - 51) + " bytes can hold");
}

TEST(GgufReaderErrors, CountsLargerThanTheFile) {
  GgufWriter w = sample_writer();
  w.override_kv_count(1000000);
  std::string bytes = file_bytes(w);
  EXPECT_EQ(error_of(bytes),
            "m.gguf: offset 16: key/value count 1000000 exceeds what the "
            "remaining " +
                std::to_string(bytes.size() - 24) + " bytes can hold");
  w = sample_writer();
  w.override_tensor_count(std::uint64_t{1} << 40);
  bytes = file_bytes(w);
  EXPECT_EQ(error_of(bytes),
            "m.gguf: offset 8: tensor count 1099511627776 exceeds what the "
            "remaining " +
                std::to_string(bytes.size() - 24) + " bytes can hold");
  w = sample_writer();
  w.override_tensor_count(~std::uint64_t{0});
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 8: negative tensor count -1");
  w = sample_writer();
  w.override_kv_count(~std::uint64_t{0} - 1);
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 16: negative key/value count -2");
}

TEST(GgufReaderErrors, Alignment) {
  GgufWriter w = sample_writer();
  w.set_alignment(24);
  const std::string bytes = file_bytes(w);
  const GgufFile probe = [&] {
    GgufWriter ok = sample_writer();
    ok.set_alignment(64);
    return read_bytes(file_bytes(ok));
  }();
  const std::uint64_t at = probe.find("general.alignment")->offset;
  EXPECT_EQ(error_of(bytes), "m.gguf: offset " + std::to_string(at) +
                                 ": general.alignment 24 is not a power of two");
  w.set_alignment(0);
  EXPECT_EQ(error_of(w.header()),
            "m.gguf: offset " + std::to_string(at) + ": general.alignment 0 is not a power of two");
  GgufWriter s;
  s.set_string("general.alignment", "32");
  EXPECT_EQ(error_of(s.header()), "m.gguf: offset 53: general.alignment must be u32, got string");
}

TEST(GgufReaderErrors, TensorShapes) {
  // Tensor 't': name at 24, n_dims at 33, ne[0] at 37, ne[1] at 45.
  EXPECT_EQ(error_of(raw_tensor_file("t", {1, 1, 1, 1, 1}, 0, 0)),
            "m.gguf: offset 33: tensor 't': n_dims 5 exceeds 4");
  EXPECT_EQ(error_of(raw_tensor_file("t", {32, -1}, 0, 0)),
            "m.gguf: offset 45: tensor 't': dimension 1 must be positive, got -1");
  EXPECT_EQ(error_of(raw_tensor_file("t", {0}, 0, 0)),
            "m.gguf: offset 37: tensor 't': dimension 0 must be positive, got 0");
  EXPECT_EQ(error_of(raw_tensor_file("t", {std::int64_t{1} << 40, std::int64_t{1} << 40}, 0, 0)),
            "m.gguf: offset 45: tensor 't': element count overflows");
}

TEST(GgufReaderErrors, TensorTypes) {
  // One dimension: the type field is at 24 + 9 + 4 + 8 = 45.
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 4, 0)),
            "m.gguf: offset 45: tensor 't': unknown ggml type 4");
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 99, 0)),
            "m.gguf: offset 45: tensor 't': unknown ggml type 99");
  EXPECT_EQ(error_of(raw_tensor_file("t", {100}, static_cast<std::int32_t>(GgmlType::q4_k), 0)),
            "m.gguf: offset 45: tensor 't': row length 100 is not a multiple of the q4_K block "
            "size 256");
}

TEST(GgufReaderErrors, TensorOffsets) {
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 0, 7)),
            "m.gguf: offset 49: tensor 't': offset 7 is not a multiple of the alignment 32");
  // 32 f32 = 128 bytes at data offset 64 + 4096 > 64 + 4096 bytes of file.
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 0, 4096)),
            "m.gguf: offset 49: tensor 't': data (128 bytes at offset 4096) extends past the end "
            "of the file (4160 bytes)");
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 0, ~std::uint64_t{31})),
            "m.gguf: offset 49: tensor 't': data (128 bytes at offset 18446744073709551584) "
            "extends past the end of the file (4160 bytes)");
  EXPECT_EQ(error_of(raw_tensor_file("t", {32}, 0, 3968)), "");  // ends exactly at the end
}

TEST(GgufReaderErrors, TensorDataPastTheEnd) {
  const GgufWriter w = sample_writer();
  const std::string header = w.header();  // no data section at all
  const std::string message = error_of(header);
  EXPECT_EQ(message.rfind("m.gguf: offset ", 0), 0U) << message;
  EXPECT_NE(message.find(": tensor 'token_embd.weight': data (12800 bytes at offset 0) extends "
                         "past the end of the file (" +
                         std::to_string(header.size()) + " bytes)"),
            std::string::npos)
      << message;
}

// Issue 9: a tensor count one too high read the last tensor info from the alignment padding
// and the zeroed data after it (an empty name, no dimensions, offset 0) instead of failing.
TEST(GgufReaderErrors, TensorCountOneTooHigh) {
  GgufWriter w = sample_writer();
  w.override_tensor_count(w.tensor_count() + 1);
  const std::string message = error_of(file_bytes(w));
  EXPECT_EQ(message.rfind("m.gguf: offset ", 0), 0U) << message;
  EXPECT_NE(message.find(": tensor 4 of 4 has an empty name (is the tensor count too high?)"),
            std::string::npos)
      << message;
  // Also when the tensor infos end exactly on the alignment: no padding, the data follows.
  EXPECT_EQ(error_of(raw_tensor_file("", {32}, 0, 0)),
            "m.gguf: offset 24: tensor 1 of 1 has an empty name (is the tensor count too high?)");
}

// Issue 9 class 6: the tensor infos kept are bounded by a count, not only by the file's bytes.
TEST(GgufReaderErrors, TensorCountOverTheLimit) {
  ByteWriter b;
  b.raw("GGUF");
  b.u32(3);
  b.u64(gguf_max_tensors + 1);
  b.u64(0);
  const std::string bytes = b.bytes() + std::string((gguf_max_tensors + 1) * 32, '\0');
  EXPECT_EQ(error_of(bytes),
            fmt::format("m.gguf: offset 8: tensor count {} exceeds the limit of {}",
                        gguf_max_tensors + 1, gguf_max_tensors));
}

TEST(GgufReaderErrors, TensorNames) {
  EXPECT_EQ(error_of(raw_tensor_file(std::string(64, 'n'), {32}, 0, 0)),
            "m.gguf: offset 24: length 64 of a tensor name exceeds the limit of 63");
  GgufWriter w;
  const std::array<std::int64_t, 1> ne{32};
  w.add_tensor("t", ne, GgmlType::f32);
  w.add_tensor("t", ne, GgmlType::f32);
  // tensor infos of 't' with one dimension are 8 + 1 + 4 + 8 + 4 + 8 = 33 bytes.
  EXPECT_EQ(error_of(file_bytes(w)), "m.gguf: offset 57: duplicate tensor name 't'");
}

// --- byte sources ---------------------------------------------------------------------------

class GgufFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("vramplan-gguf-test-") + info->name() + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST(GgufByteSource, MemorySourceCountsAndChecksBounds) {
  MemorySource source(std::string_view("abcdef"));
  EXPECT_EQ(source.size(), 6U);
  std::array<std::byte, 3> out{};
  source.read(2, out);
  EXPECT_EQ(static_cast<char>(out[0]), 'c');
  EXPECT_EQ(static_cast<char>(out[2]), 'e');
  EXPECT_EQ(source.bytes_read(), 3U);
  try {
    source.read(5, out);
    FAIL() << "read past the end";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_STREQ(e.what(), "'<memory>': read of 3 bytes at offset 5 is past the end (6 bytes)");
  }
  EXPECT_EQ(source.bytes_read(), 3U);
}

TEST_F(GgufFileTest, FileSourceReportsAMissingFile) {
  const std::string missing = path("missing.gguf");
  try {
    FileSource source(missing);
    FAIL() << "opened a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::io);
    EXPECT_EQ(std::string(e.what()), "'" + missing + "': cannot open: No such file or directory");
  }
  try {
    FileSource source(dir_.string());
    FAIL() << "opened a directory";
  } catch (const Error& e) {
    const std::string dir = dir_.string();  // a named string: "'" + temporary trips -Wrestrict
    EXPECT_EQ(std::string(e.what()), "'" + dir + "': cannot open: is a directory");
  }
}

// docs/reliability.md §2: a FIFO named like a GGUF (or a split part, --mmproj) is refused at
// once; opening it for reading would wait for a writer forever.
TEST_F(GgufFileTest, FileSourceRefusesAFifoWithoutBlocking) {
  const std::string fifo = path("model.gguf");
  ASSERT_TRUE(test::make_fifo(fifo));
  std::string message;
  EXPECT_TRUE(test::bounded(fifo, [&] {
    try {
      FileSource source(fifo);
      ADD_FAILURE() << "opened a FIFO";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::io);
      message = e.what();
    }
  }));
  EXPECT_EQ(message, "'" + fifo + "': cannot open: is a FIFO");
}

// A 40 GB model whose data section is a hole: reading it touches only the header.
TEST_F(GgufFileTest, PlanningA40GbFileReadsOnlyItsHeader) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 200);
  std::vector<std::string> tokens(32000);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = "token" + std::to_string(i);
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  const std::vector<float> scores(tokens.size(), 0.0F);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  const std::array<std::int64_t, 2> ne{8192, 12800};  // 200 MiB in f16
  for (int il = 0; il < 200; ++il) {
    w.add_tensor("blk." + std::to_string(il) + ".ffn_up.weight", ne, GgmlType::f16);
  }
  const std::string file = path("big.gguf");
  w.write_sparse(file);
  ASSERT_GT(w.file_size(), 40'000'000'000ULL);

  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), w.file_size());
  EXPECT_LT(static_cast<std::uint64_t>(st.st_blocks) * 512, 8ULL << 20);  // a hole on disk

  const double start = vramplan::test::thread_cpu_ms();
  FileSource source(file);
  const GgufFile f = read_gguf(source, file);
  const double ms = vramplan::test::thread_cpu_ms() - start;

  EXPECT_EQ(f.tensors.size(), 200U);
  EXPECT_EQ(f.file_size, w.file_size());
  EXPECT_EQ(f.data_offset, w.header().size());
  EXPECT_LT(source.bytes_read(), 2ULL << 20);
  EXPECT_LE(source.bytes_read(), f.header_size + gguf_read_chunk);
  EXPECT_LT(ms, 1000 * vramplan::test::time_budget(1.0));
}

// --- split models ---------------------------------------------------------------------------

GgufWriter split_part(std::uint16_t no, std::uint16_t count, std::int32_t tensors) {
  GgufWriter w;
  if (no == 0) w.set_string("general.architecture", "llama");
  w.set_u16("split.no", no);
  w.set_u16("split.count", count);
  w.set_i32("split.tensors.count", tensors);
  const std::array<std::int64_t, 2> ne{64, 64};
  for (int i = 0; i < (no == 0 ? 2 : 1); ++i) {
    w.add_tensor("blk." + std::to_string(no * 2 + i) + ".attn_q.weight", ne, GgmlType::q8_0);
  }
  return w;
}

TEST_F(GgufFileTest, SplitFilesMerge) {
  split_part(0, 2, 3).write_sparse(path("m-00001-of-00002.gguf"));
  split_part(1, 2, 3).write_sparse(path("m-00002-of-00002.gguf"));
  for (const char* named : {"m-00001-of-00002.gguf", "m-00002-of-00002.gguf"}) {
    const GgufModelFiles files = read_gguf_model_files(path(named));
    ASSERT_EQ(files.paths.size(), 2U);
    EXPECT_EQ(files.paths[0], path("m-00001-of-00002.gguf"));
    EXPECT_EQ(files.paths[1], path("m-00002-of-00002.gguf"));
    ASSERT_EQ(files.file.tensors.size(), 3U);
    EXPECT_EQ(files.file.tensors[0].info.name, "blk.0.attn_q.weight");
    EXPECT_EQ(files.file.tensors[2].info.name, "blk.2.attn_q.weight");
    EXPECT_EQ(files.file.tensors[0].split, 0U);
    EXPECT_EQ(files.file.tensors[2].split, 1U);
    EXPECT_EQ(files.file.tensors[2].offset, 0U);  // offsets are per file
    EXPECT_EQ(*files.file.find("general.architecture")->as_string(), "llama");
    EXPECT_EQ(files.total_size, fs::file_size(files.paths[0]) + fs::file_size(files.paths[1]));
    EXPECT_GT(files.bytes_read, 0U);
  }
}

TEST_F(GgufFileTest, SplitFilesMustAgree) {
  const std::string first = path("m-00001-of-00002.gguf");
  const std::string second = path("m-00002-of-00002.gguf");
  split_part(0, 2, 3).write_sparse(first);
  auto message = [&] {
    try {
      (void)read_gguf_model_files(first);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };

  split_part(0, 2, 3).write_sparse(second);  // split.no 0 again
  const std::uint64_t no_at = read_gguf_file(second).find("split.no")->offset;
  EXPECT_EQ(message(),
            second + ": offset " + std::to_string(no_at) + ": split.no is 0, expected 1");

  split_part(1, 3, 3).write_sparse(second);
  const std::uint64_t count_at = read_gguf_file(second).find("split.count")->offset;
  EXPECT_EQ(message(), second + ": offset " + std::to_string(count_at) +
                           ": split.count is 3, but the file name says 2");

  split_part(1, 2, 4).write_sparse(second);
  const std::uint64_t tensors_at = read_gguf_file(second).find("split.tensors.count")->offset;
  EXPECT_EQ(message(), second + ": offset " + std::to_string(tensors_at) +
                           ": split.tensors.count is 4, but part 1 says 3");

  split_part(0, 2, 4).write_sparse(first);
  split_part(1, 2, 4).write_sparse(second);
  const std::uint64_t first_at = read_gguf_file(first).find("split.tensors.count")->offset;
  EXPECT_EQ(message(), first + ": offset " + std::to_string(first_at) +
                           ": split.tensors.count is 4, but the 2 parts hold 3 tensors");

  fs::remove(second);
  EXPECT_EQ(message(), "'" + second + "': cannot open: No such file or directory");
}

TEST_F(GgufFileTest, SingleFileThatSaysItIsSplit) {
  const std::string file = path("model.gguf");
  split_part(0, 2, 3).write_sparse(file);
  const std::uint64_t at = read_gguf_file(file).find("split.count")->offset;
  try {
    (void)read_gguf_model_files(file);
    FAIL() << "accepted part of a split model under a plain name";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              file + ": offset " + std::to_string(at) +
                  ": file is part of a split model (split.count 2) but its name does not follow "
                  "'<prefix>-00001-of-00002.gguf'");
  }
  sample_writer().write_sparse(file);
  const GgufModelFiles single = read_gguf_model_files(file);
  EXPECT_EQ(single.paths, std::vector<std::string>{file});
  EXPECT_EQ(single.file.tensors.size(), 3U);
}

// --- fuzz seed corpus -----------------------------------------------------------------------

// An mmproj's header and tower keys as every converter writes them (clip.cpp's hparams): 64
// wide, 4 heads.
GgufWriter clip_tower(const std::string& type, std::uint32_t layers, std::uint32_t ffn,
                      std::uint32_t patch, std::uint32_t image) {
  GgufWriter m;
  m.set_string("general.architecture", "clip");
  m.set_string("clip.projector_type", type);
  m.set_u32("clip.vision.block_count", layers);
  m.set_u32("clip.vision.embedding_length", 64);
  m.set_u32("clip.vision.feed_forward_length", ffn);
  m.set_u32("clip.vision.attention.head_count", 4);
  m.set_u32("clip.vision.patch_size", patch);
  m.set_u32("clip.vision.image_size", image);
  return m;
}

// Llama 4 (conversion/llama4.py's layout: a 2-D patch embedding, the pixel-shuffle MLP) and
// moondream2 (create_gguf.py: an "mlp" file with a SigLIP tower, read as mlp_siglip), small.
GgufWriter llama4_or_moondream_mmproj(bool llama4) {
  GgufWriter m = clip_tower(llama4 ? "llama4" : "mlp", 3, 128, 4, 32);
  const auto vec = [&](const std::string& t, std::int64_t n) {
    m.add_tensor(TensorInfo{t, {n, 1, 1, 1}, GgmlType::f32});
  };
  const auto mat = [&](const std::string& t, std::int64_t a, std::int64_t b) {
    m.add_tensor(TensorInfo{t, {a, b, 1, 1}, GgmlType::f16});
  };
  vec("v.post_ln.weight", 64);
  if (llama4) {
    m.set_u32("clip.vision.projector.scale_factor", 2);
    mat("v.patch_embd.weight", 48, 64);
    vec("v.class_embd", 64);
    m.add_tensor(TensorInfo{"v.position_embd.weight", {64, 65, 1, 1}, GgmlType::f32});
    vec("v.pre_ln.weight", 64);
    vec("v.blk.0.attn_q.bias", 64);
    vec("v.blk.0.ffn_up.bias", 128);
    mat("mm.model.mlp.1.weight", 256, 96);
    mat("mm.model.mlp.2.weight", 96, 96);
    mat("mm.model.fc.weight", 96, 128);
  } else {
    m.add_tensor(TensorInfo{"v.patch_embd.weight", {4, 4, 3, 64}, GgmlType::f16});
    vec("v.patch_embd.bias", 64);
    mat("mm.0.weight", 64, 160);
    mat("mm.2.weight", 160, 128);
  }
  return m;
}

std::optional<VisionEncoder> encoder_of(const GgufWriter& w) {
  return vision_encoder_from_gguf(read_bytes(file_bytes(w)));
}

TEST(GgufVision, ReadsLlama4AndMoondream2) {
  for (const bool llama4 : {true, false}) {
    const std::optional<VisionEncoder> e = encoder_of(llama4_or_moondream_mmproj(llama4));
    ASSERT_TRUE(e.has_value()) << llama4;
    EXPECT_EQ(e->kind, llama4 ? VisionEncoderKind::llama4 : VisionEncoderKind::mlp_siglip);
    EXPECT_EQ(e->layers, 3);
    EXPECT_EQ(e->image, 32);  // both warm up at clip.vision.image_size
    EXPECT_EQ(e->merge, llama4 ? 2 : 4);
    EXPECT_EQ(e->adapter, llama4 ? 96 : 160);  // mm.model.mlp.1's / mm.0's rows
    // llama4: mm.model.mlp.1 must take 2 x 2 patches of 64 (256), not 4 x 4; an "mlp" file
    // with a class embedding and a post-LN is neither llava's layout nor moondream's.
    GgufWriter broken = llama4_or_moondream_mmproj(llama4);
    if (llama4) {
      broken.set_u32("clip.vision.projector.scale_factor", 4);
    } else {
      broken.add_tensor(TensorInfo{"v.class_embd", {64, 1, 1, 1}, GgmlType::f32});
    }
    EXPECT_FALSE(encoder_of(broken).has_value()) << llama4;
  }
  // "mlp_siglip" is vramplan's name, not a projector type a file can give.
  GgufWriter named = llama4_or_moondream_mmproj(false);
  named.set_string("clip.projector_type", "mlp_siglip");
  EXPECT_FALSE(encoder_of(named).has_value());
}

// Qwen2-VL as conversion/qwenvl.py writes it (make_mmproj.py's qwen2vl layout), small:
// LayerNorms and the merger's norm with bias, separate biased Q/K/V, an ungated FFN four times
// the width, feed_forward_length the text width (the converter's vision_config.hidden_size).
// `up`: ffn_up's ne (an old file has up and down swapped: {256, 64}).
GgufWriter qwen2vl_mmproj(std::array<std::int64_t, 2> up = {64, 256}) {
  GgufWriter m = clip_tower("qwen2vl_merger", 3, 96, 2, 560);
  for (const char* t : {"v.patch_embd.weight", "v.patch_embd.weight.1"})
    m.add_tensor(TensorInfo{t, {2, 2, 3, 64}, GgmlType::f16});
  const auto vec = [&](const std::string& t, std::int64_t n) {
    m.add_tensor(TensorInfo{t, {n, 1, 1, 1}, GgmlType::f32});
  };
  for (const char* t : {"v.post_ln.weight", "v.post_ln.bias", "v.blk.0.ln1.bias",
                        "v.blk.0.attn_q.bias", "v.blk.0.attn_out.bias", "v.blk.0.ffn_down.bias"})
    vec(t, 64);
  vec("v.blk.0.ffn_up.bias", 256);
  m.add_tensor(TensorInfo{"v.blk.0.ffn_up.weight", {up[0], up[1], 1, 1}, GgmlType::f16});
  for (const char* t : {"mm.0", "mm.2"}) {
    m.add_tensor(TensorInfo{std::string(t) + ".weight", {256, 256, 1, 1}, GgmlType::f16});
    vec(std::string(t) + ".bias", 256);
  }
  return m;
}

TEST(GgufVision, ReadsQwen2Vl) {
  const std::optional<VisionEncoder> e = encoder_of(qwen2vl_mmproj());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, VisionEncoderKind::qwen2vl);
  EXPECT_EQ(e->ffn, 256);           // ffn_up's rows, not feed_forward_length (96)
  EXPECT_EQ(e->image, 46 * 2 * 2);  // 46 x 46 merged tokens, not image_size
  EXPECT_EQ(e->merge, 2);
  EXPECT_EQ(e->window, 0);
  // An old file with up and down swapped (clip.cpp swaps them back) and no FFN length: the
  // same width.
  GgufWriter swapped = qwen2vl_mmproj({256, 64});
  swapped.set_u32("clip.vision.feed_forward_length", 0);
  ASSERT_TRUE(encoder_of(swapped).has_value());
  EXPECT_EQ(encoder_of(swapped)->ffn, 256);
  // A window pattern is taken, as clip.cpp takes it; one out of range is not.
  GgufWriter windowed = qwen2vl_mmproj();
  windowed.set_u32("clip.vision.n_wa_pattern", 2);
  ASSERT_TRUE(encoder_of(windowed).has_value());
  EXPECT_EQ(encoder_of(windowed)->window, 2);
  windowed.set_u32("clip.vision.n_wa_pattern", 1000);
  EXPECT_FALSE(encoder_of(windowed).has_value());
  // Not Qwen2-VL's layout: a gate (Qwen2.5-VL's SwiGLU), no norm bias, an FFN whose weight
  // does not take the width, or none.
  GgufWriter gated = qwen2vl_mmproj();
  gated.add_tensor(TensorInfo{"v.blk.0.ffn_gate.weight", {64, 256, 1, 1}, GgmlType::f16});
  EXPECT_FALSE(encoder_of(gated).has_value());
  EXPECT_FALSE(encoder_of(qwen2vl_mmproj({48, 256})).has_value());
  GgufWriter as25 = qwen2vl_mmproj();
  as25.set_string("clip.projector_type", "qwen2.5vl_merger");
  as25.set_u32("clip.vision.n_wa_pattern", 2);
  EXPECT_FALSE(encoder_of(as25).has_value());  // LayerNorm biases are not Qwen2.5-VL's
}

// SmolVLM as conversion/smolvlm.py writes it (make_mmproj.py's idefics3 layout), small: the
// patch embedding F32, a 3 x 3 pixel shuffle of 9 x 9 patches, mm.model.fc.
GgufWriter idefics3_mmproj(GgmlType patch = GgmlType::f32) {
  // image 38: 9 patches a side, 2 pixels dropped.
  GgufWriter m = clip_tower("idefics3", 2, 128, 4, 38);
  m.set_u32("clip.vision.projector.scale_factor", 3);
  m.add_tensor(TensorInfo{"v.patch_embd.weight", {4, 4, 3, 64}, patch});
  m.add_tensor(TensorInfo{"v.position_embd.weight", {64, 81, 1, 1}, GgmlType::f32});
  for (const char* t : {"v.patch_embd.bias", "v.post_ln.weight", "v.blk.0.attn_q.bias"})
    m.add_tensor(TensorInfo{t, {64, 1, 1, 1}, GgmlType::f32});
  m.add_tensor(TensorInfo{"mm.model.fc.weight", {576, 96, 1, 1}, GgmlType::f16});
  return m;
}

TEST(GgufVision, ReadsIdefics3) {
  const std::optional<VisionEncoder> e = encoder_of(idefics3_mmproj());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, VisionEncoderKind::idefics3);
  EXPECT_EQ(e->image, 38);  // the tower's image_size
  EXPECT_EQ(e->merge, 3);
  EXPECT_EQ(e->ffn, 128);
  // An F16 patch kernel is not the converter's (the im2col copy would be F16).
  EXPECT_FALSE(encoder_of(idefics3_mmproj(GgmlType::f16)).has_value());
  // The scale factor must be above 1, bounded, and match mm.model.fc's input (9 x 64).
  for (const std::uint32_t merge : {0U, 1U, 2U, 65U, 4000000000U}) {
    GgufWriter w = idefics3_mmproj();
    w.set_u32("clip.vision.projector.scale_factor", merge);
    EXPECT_FALSE(encoder_of(w).has_value()) << merge;
  }
}

// InternVL as conversion/internvl.py writes it (make_mmproj.py's internvl layout), small.
GgufWriter internvl_mmproj() {
  GgufWriter m = clip_tower("internvl", 2, 128, 4, 32);
  m.set_u32("clip.vision.projector.scale_factor", 2);
  m.add_tensor(TensorInfo{"v.patch_embd.weight", {4, 4, 3, 64}, GgmlType::f16});
  m.add_tensor(TensorInfo{"v.position_embd.weight", {64, 65, 1, 1}, GgmlType::f32});
  for (const char* t : {"v.patch_embd.bias", "v.class_embd", "v.blk.0.attn_q.bias",
                        "v.blk.0.ln1.bias", "v.blk.0.ls1.weight", "v.blk.0.ls2.weight"})
    m.add_tensor(TensorInfo{t, {64, 1, 1, 1}, GgmlType::f32});
  m.add_tensor(TensorInfo{"v.blk.0.attn_q.weight", {64, 64, 1, 1}, GgmlType::f16});
  m.add_tensor(TensorInfo{"mm.model.mlp.0.weight", {256, 1, 1, 1}, GgmlType::f32});
  m.add_tensor(TensorInfo{"mm.model.mlp.1.weight", {256, 96, 1, 1}, GgmlType::f16});
  m.add_tensor(TensorInfo{"mm.model.mlp.3.weight", {96, 96, 1, 1}, GgmlType::f16});
  return m;
}

TEST(GgufVision, ReadsInternVl) {
  const std::optional<VisionEncoder> e = encoder_of(internvl_mmproj());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, VisionEncoderKind::internvl);
  EXPECT_EQ(e->image, 32);  // the tower's image_size
  EXPECT_EQ(e->merge, 2);
  // The scale factor must match mlp1's input (4 x 64), be bounded and fit the 8 x 8 patches.
  for (const std::uint32_t merge : {0U, 1U, 3U, 65U, 4000000000U}) {
    GgufWriter w = internvl_mmproj();
    w.set_u32("clip.vision.projector.scale_factor", merge);
    EXPECT_FALSE(encoder_of(w).has_value()) << merge;
  }
  // Q/K norms are the 6B ViT's (45 blocks of 3200), not this shape's; a gated FFN is not
  // InternViT's.
  GgufWriter normed = internvl_mmproj();
  normed.add_tensor(TensorInfo{"v.blk.0.attn_q_norm.weight", {64, 1, 1, 1}, GgmlType::f32});
  EXPECT_FALSE(encoder_of(normed).has_value());
  GgufWriter gated = internvl_mmproj();
  gated.add_tensor(TensorInfo{"v.blk.0.ffn_gate.weight", {64, 128, 1, 1}, GgmlType::f16});
  EXPECT_FALSE(encoder_of(gated).has_value());
}

// Writes seed inputs for tests/fuzz/gguf_fuzz.cpp into $VRAMPLAN_GGUF_CORPUS_DIR
// (docs/gguf.md "Fuzzing"); skipped when the variable is not set.
TEST(GgufCorpus, WritesSeedFiles) {
  const char* dir = std::getenv("VRAMPLAN_GGUF_CORPUS_DIR");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "VRAMPLAN_GGUF_CORPUS_DIR not set";
  fs::create_directories(dir);
  auto put = [&](const std::string& name, const std::string& bytes) {
    GgufWriter::write_bytes(fs::path(dir) / name, bytes);
  };
  const GgufWriter valid = sample_writer();
  put("valid.gguf", file_bytes(valid));
  GgufWriter v2 = sample_writer();
  v2.set_version(2);
  v2.set_alignment(64);
  put("valid_v2_align64.gguf", file_bytes(v2));
  put("header_only.gguf", valid.header());
  put("truncated.gguf", valid.header().substr(0, 100));
  GgufWriter nested;
  nested.add_raw_kv("arr", 9, u32_bytes(9) + u64_bytes(1));
  put("nested_array.gguf", nested.header());
  put("tensor_q4k.gguf",
      raw_tensor_file("t", {256, 2}, static_cast<std::int32_t>(GgmlType::q4_k), 0, 512));
  // Small but complete models, so the fuzzer reaches spec_from_gguf's per-arch rules.
  auto model = [](const std::string& arch) {
    GgufWriter m;
    m.set_string("general.architecture", arch);
    m.set_u32(arch + ".block_count", 4);
    m.set_u32(arch + ".context_length", 4096);
    m.set_u32(arch + ".embedding_length", 64);
    m.set_u32(arch + ".feed_forward_length", 128);
    m.set_u32(arch + ".attention.head_count", 4);
    m.set_u32(arch + ".attention.head_count_kv", 2);
    m.set_u32(arch + ".attention.sliding_window", 16);
    m.set_u32("general.file_type", 7);
    const std::array<std::int64_t, 2> embd{64, 32};
    m.add_tensor("token_embd.weight", embd, GgmlType::q8_0);
    return m;
  };
  GgufWriter mla = model("deepseek2");
  mla.set_u32("deepseek2.attention.key_length", 24);
  mla.set_u32("deepseek2.attention.key_length_mla", 24);
  mla.set_u32("deepseek2.attention.value_length_mla", 16);
  mla.set_u32("deepseek2.attention.kv_lora_rank", 16);
  mla.set_u32("deepseek2.expert_count", 4);
  mla.set_u32("deepseek2.expert_used_count", 2);
  GgufWriter hybrid = model("qwen35");
  hybrid.set_u32("qwen35.full_attention_interval", 2);
  hybrid.set_u32("qwen35.ssm.conv_kernel", 4);
  hybrid.set_u32("qwen35.ssm.inner_size", 128);
  hybrid.set_u32("qwen35.ssm.state_size", 16);
  hybrid.set_u32("qwen35.ssm.group_count", 2);
  GgufWriter lfm2 = model("lfm2");
  const std::array<std::int32_t, 4> kv{0, 2, 0, 2};
  lfm2.set_array_i32("lfm2.attention.head_count_kv", kv);
  // mllama's cross-attention block list and the vision keys that size its image cache.
  GgufWriter mllama = model("mllama");
  const std::array<std::int32_t, 2> cross{1, 3};
  mllama.set_array_i32("mllama.attention.cross_attention_layers", cross);
  mllama.set_u32("mllama.vision.image_size", 560);
  mllama.set_u32("mllama.vision.patch_size", 14);
  mllama.set_u32("mllama.vision.max_num_tiles", 4);
  const std::vector<std::pair<std::string, GgufWriter>> models{
      {"model_llama.gguf", model("llama")},
      {"model_gemma2.gguf", model("gemma2")},
      {"model_deepseek2.gguf", mla},
      {"model_qwen35.gguf", hybrid},
      {"model_lfm2.gguf", lfm2},
      {"model_mllama.gguf", mllama}};
  for (const auto& [name, writer] : models) {
    const std::string bytes = file_bytes(writer);
    MemorySource source(bytes);
    EXPECT_NO_THROW((void)spec_from_gguf(read_gguf(source, name), name)) << name;
    put(name, bytes);
  }
  // Small mmproj files of each encoder kind, so the fuzzer reaches vision_encoder_from_gguf
  // and the encoder graph's rebuild.
  auto mmproj = [](const std::string& type) {
    GgufWriter m = clip_tower(type, 2, 128, 4, 32);
    m.add_tensor(TensorInfo{"v.patch_embd.weight", {4, 4, 3, 64}, GgmlType::f16});
    if (type == "gemma3") {
      m.set_u32("clip.vision.projector.scale_factor", 2);
      m.add_tensor(TensorInfo{"v.patch_embd.bias", {64, 1, 1, 1}, GgmlType::f32});
      m.add_tensor(TensorInfo{"v.post_ln.weight", {64, 1, 1, 1}, GgmlType::f32});
      m.add_tensor(TensorInfo{"mm.input_projection.weight", {96, 64, 1, 1}, GgmlType::f16});
    } else if (type == "resampler") {
      m.add_tensor(TensorInfo{"v.position_embd.weight", {64, 64, 1, 1}, GgmlType::f16});
      m.add_tensor(TensorInfo{"v.blk.0.attn_q.weight", {64, 64, 1, 1}, GgmlType::f16});
      m.add_tensor(TensorInfo{"v.post_ln.weight", {64, 1, 1, 1}, GgmlType::f32});
      m.add_tensor(TensorInfo{"resampler.query", {128, 8, 1, 1}, GgmlType::f32});
      m.set_u32("clip.minicpmv_query_num", 8);
    } else if (type == "pixtral") {
      m.set_u32("clip.vision.spatial_merge_size", 2);
      for (const char* t : {"v.blk.0.attn_q.weight", "v.blk.0.ffn_gate.weight",
                            "mm.patch_merger.weight", "mm.1.weight", "mm.2.weight"}) {
        m.add_tensor(TensorInfo{t, {64, 64, 1, 1}, GgmlType::f16});
      }
      for (const char* t : {"v.pre_ln.weight", "mm.input_norm.weight", "v.token_embd.img_break"}) {
        m.add_tensor(TensorInfo{t, {64, 1, 1, 1}, GgmlType::f32});
      }
    } else {
      m.add_tensor(TensorInfo{"v.class_embd", {64, 1, 1, 1}, GgmlType::f32});
      m.add_tensor(TensorInfo{"v.pre_ln.weight", {64, 1, 1, 1}, GgmlType::f32});
    }
    return m;
  };
  for (const std::string type : {"gemma3", "mlp", "pixtral", "resampler"}) {
    const std::string name = "mmproj_" + type + ".gguf";
    const std::string bytes = file_bytes(mmproj(type));
    MemorySource source(bytes);
    EXPECT_TRUE(vision_encoder_from_gguf(read_gguf(source, name)).has_value()) << name;
    put(name, bytes);
  }
  // And the Qwen-VL towers as convert_hf_to_gguf.py writes them (make_mmproj.py's layout).
  auto qwen = [](bool v3) {
    GgufWriter m = clip_tower(v3 ? "qwen3vl_merger" : "qwen2.5vl_merger", 3, 128, 2, 32);
    for (const char* t : {"v.patch_embd.weight", "v.patch_embd.weight.1"})
      m.add_tensor(TensorInfo{t, {2, 2, 3, 64}, GgmlType::f16});
    const auto vec = [&](const std::string& t, std::int64_t n) {
      m.add_tensor(TensorInfo{t, {n, 1, 1, 1}, GgmlType::f32});
    };
    vec("v.post_ln.weight", 64);
    for (const char* t : {"mm.0", "mm.2"}) {
      m.add_tensor(TensorInfo{std::string(t) + ".weight", {256, 256, 1, 1}, GgmlType::f16});
      vec(std::string(t) + ".bias", 256);
    }
    for (const char* t : {"attn_out", "ffn_up", "ffn_down"})
      vec(std::string("v.blk.0.") + t + ".bias", 64);
    if (v3) {
      vec("v.patch_embd.bias", 64);
      vec("v.post_ln.bias", 64);
      vec("v.blk.0.ln1.bias", 64);
      vec("v.blk.0.attn_qkv.bias", 192);
      m.add_tensor(TensorInfo{"v.position_embd.weight", {64, 64, 1, 1}, GgmlType::f32});
      m.add_tensor(TensorInfo{"v.deepstack.1.fc1.weight", {256, 256, 1, 1}, GgmlType::f16});
    } else {
      m.set_u32("clip.vision.n_wa_pattern", 2);
      vec("v.blk.0.attn_q.bias", 64);
      m.add_tensor(TensorInfo{"v.blk.0.ffn_gate.weight", {64, 128, 1, 1}, GgmlType::f16});
    }
    return m;
  };
  for (const bool v3 : {false, true}) {
    const std::string name = v3 ? "mmproj_qwen3vl.gguf" : "mmproj_qwen25vl.gguf";
    const std::string bytes = file_bytes(qwen(v3));
    MemorySource source(bytes);
    const std::optional<VisionEncoder> e = vision_encoder_from_gguf(read_gguf(source, name));
    ASSERT_TRUE(e.has_value()) << name;
    // Warmed up at 46 x 46 merged tokens, not at clip.vision.image_size.
    EXPECT_EQ(e->image, 46 * 2 * 2) << name;
    EXPECT_EQ(e->window, v3 ? 0 : 2) << name;
    EXPECT_EQ(e->positions, v3 ? 8 : 0) << name;
    EXPECT_EQ(e->deepstack, v3 ? std::vector<std::int32_t>{1} : std::vector<std::int32_t>{})
        << name;
    put(name, bytes);
    // A merge other than 2 x 2 is not a tower the builder takes.
    GgufWriter broken = qwen(v3);
    broken.set_u32("clip.vision.spatial_merge_size", 3);
    const std::string broken_bytes = file_bytes(broken);
    MemorySource broken_source(broken_bytes);
    EXPECT_FALSE(vision_encoder_from_gguf(read_gguf(broken_source, name)).has_value()) << name;
  }
  put("mmproj_qwen2vl.gguf", file_bytes(qwen2vl_mmproj()));    // GgufVision.ReadsQwen2Vl
  put("mmproj_idefics3.gguf", file_bytes(idefics3_mmproj()));  // GgufVision.ReadsIdefics3
  put("mmproj_internvl.gguf", file_bytes(internvl_mmproj()));  // GgufVision.ReadsInternVl
  // Llama 4 and moondream2 (checked in GgufVision.ReadsLlama4AndMoondream2).
  for (const bool llama4 : {true, false}) {
    put(llama4 ? "mmproj_llama4.gguf" : "mmproj_moondream.gguf",
        file_bytes(llama4_or_moondream_mmproj(llama4)));
  }
  EXPECT_TRUE(fs::exists(fs::path(dir) / "valid.gguf"));
}

}  // namespace
}  // namespace vramplan::io
