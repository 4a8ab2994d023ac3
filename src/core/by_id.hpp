// Entries keyed by an id compared without case (private to src/core): the model catalog and
// the GPU catalog keep their entries the same way, a later entry replacing an earlier one.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include <vramplan/text.hpp>

namespace vramplan {

// Replaces the entry of `items` whose id equals item.id (ignoring case), else appends it.
template <typename T>
void put_by_id(std::vector<T>& items, T item) {
  for (T& existing : items) {
    if (iequals(existing.id, item.id)) {
      existing = std::move(item);
      return;
    }
  }
  items.push_back(std::move(item));
}

// The entry whose id equals `id` ignoring case, or nullptr.
template <typename T>
[[nodiscard]] const T* find_by_id(const std::vector<T>& items, std::string_view id) {
  for (const T& item : items) {
    if (iequals(item.id, id)) return &item;
  }
  return nullptr;
}

}  // namespace vramplan
