// CountedKeys: strings interned with reference counts.
#include "teamhealth/projections/counted_keys.h"

#include <gtest/gtest.h>

namespace teamhealth::projections {
namespace {

TEST(CountedKeysTest, AKeyKeepsItsIdWhileHeldAndIsForgottenAtZero) {
  CountedKeys keys;
  EXPECT_FALSE(keys.Find("a").has_value());
  const auto a = keys.Acquire("a");
  EXPECT_EQ(keys.Acquire("a"), a);  // two holders
  const auto b = keys.Acquire("b");
  EXPECT_NE(a, b);
  EXPECT_EQ(keys.Key(a), "a");
  EXPECT_EQ(keys.refs(a), 2u);
  EXPECT_EQ(keys.size(), 2u);

  keys.Release(a);  // one holder left
  EXPECT_EQ(keys.Find("a"), a);
  keys.Retain(a);
  keys.Release(a);
  keys.Release(a);  // none
  EXPECT_FALSE(keys.Find("a").has_value());
  EXPECT_EQ(keys.size(), 1u);

  // The freed id goes to the next new key, with a count of its own.
  const auto c = keys.Acquire("a long key that does not fit a short string's buffer");
  EXPECT_EQ(c, a);
  EXPECT_EQ(keys.refs(c), 1u);
  EXPECT_EQ(keys.Key(c), "a long key that does not fit a short string's buffer");
  EXPECT_EQ(keys.Key(b), "b");
}

TEST(CountedKeysTest, ACopyKeepsTheIdsAndIsIndependent) {
  CountedKeys keys;
  const auto a = keys.Acquire("a");
  CountedKeys copy = keys;
  keys.Release(a);
  EXPECT_FALSE(keys.Find("a").has_value());
  EXPECT_EQ(copy.Find("a"), a);
  EXPECT_EQ(copy.Key(a), "a");
}

}  // namespace
}  // namespace teamhealth::projections
