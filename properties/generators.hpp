// Small generator helpers shared by the property suites.
#pragma once

#include <rapidcheck.h>

#include <cstddef>
#include <utility>
#include <vector>

namespace chanfuzz::properties {

// RapidCheck's inRange and element narrow their range with the size (at
// size 0 they always give the first value). The generators here scale the
// dimensions that should grow with the size explicitly; each single pick is
// uniform over its whole range, whatever the size.

// An int in [low, high], shrinking towards low.
inline rc::Gen<int> uniform(int low, int high) {
  return rc::gen::resize(100, rc::gen::inRange(low, high + 1));
}

// One of the values, shrinking towards the first.
template <class T, class... Ts>
rc::Gen<T> any_of(T first, Ts... rest) {
  return rc::gen::resize(100, rc::gen::element(first, rest...));
}

// A vector of 1 to `max` elements, shrinking by dropping elements.
// (nonEmpty retries at a larger size, so the length is capped after.)
template <class T>
rc::Gen<std::vector<T>> gen_some(int max, rc::Gen<T> element) {
  return rc::gen::map(
      rc::gen::resize(max,
                      rc::gen::nonEmpty(rc::gen::container<std::vector<T>>(std::move(element)))),
      [max](std::vector<T> v) {
        if (v.size() > static_cast<std::size_t>(max)) v.resize(static_cast<std::size_t>(max));
        return v;
      });
}

}  // namespace chanfuzz::properties
