// A plain aligned text table (after ccache's util::TextTable): cells in, one string out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <vramplan/report/escape.hpp>

namespace vramplan::report {

enum class Align { left, right };

// One table cell. A string is escaped (escape_text) on the way in, so a value read from a
// file cannot put a control byte or a line break into the table; Styled text (a usage bar
// with colour codes) is kept as it is.
class Cell {
 public:
  // Implicit on purpose: rows are written as {"name", value, ...}.
  Cell(const char* text) : text_(escape_text(text)) {}
  Cell(const std::string& text) : text_(escape_text(text)) {}
  Cell(Styled styled) : text_(std::move(styled.text)) {}

  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class TextTable {
 public:
  // Alignment per column; columns beyond this list are left-aligned.
  explicit TextTable(std::vector<Align> columns = {}) : columns_(std::move(columns)) {}

  // Adds a row, aligned by the column setting; string cells are escaped (Cell).
  void add_row(const std::vector<Cell>& cells);

  // Renders every row, columns separated by `gap` spaces, each line ending in '\n' and with
  // no trailing spaces. Widths count UTF-8 code points, not bytes. An empty table is "".
  [[nodiscard]] std::string render(std::size_t gap = 2) const;

 private:
  std::vector<Align> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// `text`, escaped (escape_text), word-wrapped to `width` columns: the first line starts with
// `first`, the others with `rest`; every line ends in '\n'. Words are split at spaces and never
// broken, so a word longer than a line gets a line of its own. The one wrapper of the reports.
[[nodiscard]] std::string word_wrap(std::string_view text, const std::string& first,
                                    const std::string& rest, std::size_t width = 100);

// Display width of a UTF-8 string in code points (every code point is one column here;
// report text uses no wide characters).
[[nodiscard]] std::size_t display_width(const std::string& text);

}  // namespace vramplan::report
