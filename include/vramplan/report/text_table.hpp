// A plain aligned text table (after ccache's util::TextTable): cells in, one string out.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace vramplan::report {

enum class Align { left, right };

class TextTable {
 public:
  // Alignment per column; columns beyond this list are left-aligned.
  explicit TextTable(std::vector<Align> columns = {}) : columns_(std::move(columns)) {}

  // Adds a row of plain strings, aligned by the column setting.
  void add_row(const std::vector<std::string>& cells);

  // Renders every row, columns separated by `gap` spaces, each line ending in '\n' and with
  // no trailing spaces. Widths count UTF-8 code points, not bytes. An empty table is "".
  [[nodiscard]] std::string render(std::size_t gap = 2) const;

 private:
  std::vector<Align> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of a UTF-8 string in code points (every code point is one column here;
// report text uses no wide characters).
[[nodiscard]] std::size_t display_width(const std::string& text);

}  // namespace vramplan::report
