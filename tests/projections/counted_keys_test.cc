// CountedKeys: strings interned with reference counts.
#include "teamhealth/projections/counted_keys.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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

// Keys up to SubjectInlineKey::kMaxSize bytes live in a flat table of inline keys, longer ones
// by string: on either side of the boundary, and for keys that differ only in length (a trailing
// NUL), each key keeps its own id until released, and a released key is found no more.
TEST(CountedKeysTest, ShortAndLongKeysAreKeptApart) {
  const std::string k47(SubjectInlineKey::kMaxSize, 'k'), k48(SubjectInlineKey::kMaxSize + 1, 'k');
  const std::string k47b = k47.substr(0, 46) + "b";
  const std::string nul("k\0", 2);
  const std::vector<std::string> all = {k47, k48, k47b, "k", nul, ""};
  CountedKeys keys;
  std::vector<CountedKeys::Id> ids;
  for (const auto& k : all) ids.push_back(keys.Acquire(k));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(keys.Find(all[i]), ids[i]) << "key " << i;
    EXPECT_EQ(keys.Key(ids[i]), all[i]) << "key " << i;
    for (size_t j = 0; j < i; ++j) EXPECT_NE(ids[i], ids[j]) << i << " " << j;
  }
  EXPECT_EQ(keys.size(), all.size());
  EXPECT_EQ(keys.Acquire(k48), ids[1]);  // a second holder of the long key
  keys.Release(ids[0]);
  keys.Release(ids[1]);
  EXPECT_FALSE(keys.Find(k47).has_value());
  EXPECT_EQ(keys.Find(k48), ids[1]);  // still held once
  keys.Release(ids[1]);
  EXPECT_FALSE(keys.Find(k48).has_value());
  EXPECT_EQ(keys.size(), all.size() - 2);
  EXPECT_EQ(keys.Find(nul), ids[4]);
  EXPECT_EQ(keys.Find("k"), ids[3]);
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
