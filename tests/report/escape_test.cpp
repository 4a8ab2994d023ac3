// The escaping rules of report/escape.hpp (issue 9; docs/cli.md "Text from files").
#include <vramplan/report/escape.hpp>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vramplan/error.hpp>
#include <vramplan/report/text_table.hpp>

#include "../../src/report/json_text.hpp"  // private to the report layer

namespace vramplan::report {
namespace {

TEST(EscapeText, KeepsPrintableAsciiAndTheBackslash) {
  EXPECT_EQ(escape_text("llama3.1:8b-q8_0 C:\\models ~!@#$%^&*()"),
            "llama3.1:8b-q8_0 C:\\models ~!@#$%^&*()");
  EXPECT_EQ(escape_text(""), "");
}

TEST(EscapeText, LineBreaksAndTabsBecomeVisible) {
  EXPECT_EQ(escape_text("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_text("evil\nOLLAMA_ORIGINS=*\n#"), "evil\\nOLLAMA_ORIGINS=*\\n#");
}

TEST(EscapeText, OtherC0BytesAndDelBecomeHex) {
  EXPECT_EQ(escape_text(std::string("\0\x01\x1f\x7f", 4)), "\\x00\\x01\\x1f\\x7f");
  // ESC starts every CSI and OSC sequence: escaped, none can reach the terminal.
  EXPECT_EQ(escape_text("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(escape_text("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(escape_text("\x1b]8;;http://x\x1b\\"), "\\x1b]8;;http://x\\x1b\\");
}

TEST(EscapeText, C1ControlsSeparatorsAndBidiControlsBecomeCodePoints) {
  EXPECT_EQ(escape_text("\xc2\x80|\xc2\x9b"
                        "2J|\xc2\x9d"),
            "\\u0080|\\u009b2J|\\u009d");
  EXPECT_EQ(escape_text("a\xe2\x80\xa8"
                        "b\xe2\x80\xa9"
                        "c"),
            "a\\u2028b\\u2029c");
  EXPECT_EQ(escape_text("\xe2\x80\xaa\xe2\x80\xae\xe2\x81\xa6\xe2\x81\xa9"),
            "\\u202a\\u202e\\u2066\\u2069");
}

TEST(EscapeText, KeepsValidNonAsciiText) {
  const std::string chinese = "通义千问 Qwen2.5 7B";
  EXPECT_EQ(escape_text(chinese), chinese);
  EXPECT_EQ(escape_text("café — naïve ü ß €"), "café — naïve ü ß €");
  EXPECT_EQ(escape_text("\xc2\xa0nbsp \xf0\x9f\xa6\x99 emoji"),
            "\xc2\xa0nbsp \xf0\x9f\xa6\x99 emoji");
  EXPECT_EQ(escape_text("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");  // U+10FFFF
}

TEST(EscapeText, BytesThatAreNotUtf8BecomeHex) {
  EXPECT_EQ(escape_text("a\xff"
                        "b\xfe"),
            "a\\xffb\\xfe");
  EXPECT_EQ(escape_text("\x80\xbf"), "\\x80\\xbf");                    // lone continuations
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(escape_text("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");           // overlong
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate U+D800
  EXPECT_EQ(escape_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(escape_text("\xe4\xb8"
                        "a"),
            "\\xe4\\xb8a");                   // cut short
  EXPECT_EQ(escape_text("x\xe4"), "x\\xe4");  // cut at the end
}

TEST(EscapeText, IsIdempotentAndItsResultIsPlain) {
  const std::string hostile =
      std::string("n\x1b]0;t\x07\xff\r\n\xc2\x9b\xe2\x80\xae\0z", 15) + "通义 \\x41";
  const std::string once = escape_text(hostile);
  EXPECT_EQ(escape_text(once), once);
  EXPECT_TRUE(is_plain_text(once));
  EXPECT_FALSE(is_plain_text(hostile));
  EXPECT_TRUE(is_plain_text("通义千问"));
  EXPECT_FALSE(is_plain_text("\xc2\x85"));  // NEL, a C1 control
}

TEST(FormatText, EscapesStringArgumentsButNotTheFormatOrNumbers) {
  const std::string arch = "evil\nOLLAMA_HOST=x";
  EXPECT_EQ(format_text("# model: {} ({} layers, {:.1f} B)\n", arch, 32, 8.03),
            "# model: evil\\nOLLAMA_HOST=x (32 layers, 8.0 B)\n");
  EXPECT_EQ(format_text("{:<6}|", std::string_view("a\tb")), "a\\tb  |");
  EXPECT_EQ(format_text("{}", "\x1b"), "\\x1b");
}

TEST(FormatText, StyledTextPassesUnescaped) {
  EXPECT_EQ(format_text("{}{}{}", Styled{"\x1b[32m"}, "ok\x1b", Styled{"\x1b[0m"}),
            "\x1b[32mok\\x1b\x1b[0m");
}

TEST(TextTable, EscapesCellsButKeepsStyledCells) {
  TextTable table;
  table.add_row({"name", "evil\nOLLAMA_HOST=x"});
  table.add_row({"bar", Styled{"\x1b[32m#\x1b[0m"}});
  EXPECT_EQ(table.render(), "name  evil\\nOLLAMA_HOST=x\nbar   \x1b[32m#\x1b[0m\n");
}

TEST(EnvValue, KeepsOnePlainWord) {
  EXPECT_EQ(env_value("MODEL", "meta-llama/Llama-3.1-8B-Instruct"),
            "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(env_value("MODEL", "/models/qwen2.5-7b@v1,a+b=c%20.gguf"),
            "/models/qwen2.5-7b@v1,a+b=c%20.gguf");
  EXPECT_EQ(env_value("MODEL", "/模型/通义千问.gguf"), "/模型/通义千问.gguf");
}

// The message of the Error{bad_input} that env_value throws for `value`.
std::string env_refusal(const std::string& value) {
  try {
    static_cast<void>(env_value("MODEL", value));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::bad_input);
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << value;
  return {};
}

TEST(EnvValue, RefusesWhatCouldSplitQuoteOrInterpolate) {
  EXPECT_EQ(env_refusal("x\nOLLAMA_HOST=0.0.0.0"),
            "cannot write MODEL to the .env file: 'x\\nOLLAMA_HOST=0.0.0.0' contains '\\n' (a "
            ".env value must be one word of letters, digits and - . _ / : @ + = , %)");
  EXPECT_NE(env_refusal("/my models/x.gguf").find("contains ' '"), std::string::npos);
  for (const char* bad : {"a'b",
                          "a\"b",
                          "a$b",
                          "${HOME}",
                          "a#b",
                          "a`b`",
                          "a\\b",
                          "a;b",
                          "a|b",
                          "a\tb",
                          "a\rb",
                          "a\x1b[2J",
                          "a\xff",
                          "a\xc2\x9b",
                          "a\xe2\x80\xa8",
                          "a*b",
                          "a b",
                          "a\xc2\xa0"
                          "b",
                          "a\xe3\x80\x80"
                          "b",
                          "a\xe2\x80\x8a"
                          "b"}) {
    EXPECT_FALSE(env_refusal(bad).empty()) << bad;
  }
  EXPECT_NE(env_refusal("--trust-remote-code").find("starts with '-'"), std::string::npos);
  EXPECT_NE(env_refusal("").find("is empty"), std::string::npos);
  // The refusal quotes the value escaped: the message is one safe line too.
  EXPECT_TRUE(is_plain_text(env_refusal("a\xff\x1b]0;t\x07")));
}

TEST(JsonText, ReplacesBytesThatAreNotUtf8) {
  nlohmann::ordered_json j;
  j["name"] = std::string(
      "a\xff"
      "b\nc\x1b");
  j["ok"] = "通义";
  EXPECT_EQ(json_text(j),
            "{\n  \"name\": \"a\xef\xbf\xbd"
            "b\\nc\\u001b\",\n  \"ok\": \"通义\"\n}\n");
}

}  // namespace
}  // namespace vramplan::report
