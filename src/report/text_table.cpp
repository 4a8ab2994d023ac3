#include <vramplan/report/text_table.hpp>

#include <algorithm>
#include <utility>

namespace vramplan::report {

std::size_t display_width(const std::string& text) {
  std::size_t width = 0;
  for (const char c : text) {
    // Count every byte that does not continue a UTF-8 sequence (10xxxxxx).
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++width;
  }
  return width;
}

void TextTable::add_row(std::vector<Cell> cells) {
  std::vector<std::string> row;
  row.reserve(cells.size());
  for (const Cell& cell : cells) row.push_back(cell.text());
  rows_.push_back(std::move(row));
}

std::string TextTable::render(std::size_t gap) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const Align align = i < columns_.size() ? columns_[i] : Align::left;
      const std::size_t pad = widths[i] - display_width(row[i]);
      if (i > 0) line.append(gap, ' ');
      if (align == Align::right) line.append(pad, ' ');
      line += row[i];
      if (align == Align::left) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace vramplan::report
