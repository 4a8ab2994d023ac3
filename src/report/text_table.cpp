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

std::string word_wrap(std::string_view raw, const std::string& first, const std::string& rest,
                      std::size_t width) {
  const std::string text = escape_text(raw);
  std::string out;
  std::string line = first;
  std::size_t line_width = display_width(first);
  bool line_empty = true;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    const std::size_t w = display_width(word);
    if (!line_empty && line_width + 1 + w > width) {
      out += line + '\n';
      line = rest;
      line_width = display_width(rest);
      line_empty = true;
    }
    if (!line_empty) {
      line += ' ';
      ++line_width;
    }
    line += word;
    line_width += w;
    line_empty = false;
  }
  out += line + '\n';
  return out;
}

void TextTable::add_row(const std::vector<Cell>& cells) {
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
