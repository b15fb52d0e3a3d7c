// ShiftBook (supersession of on-call shifts per slot) and ShiftLedger (a slot's bookings).
#include "teamhealth/projections/shift_book.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace teamhealth::projections {
namespace {

constexpr EpochMillis kHour = 3'600'000;

// Hour h of the test day, as epoch milliseconds (the day itself does not matter).
constexpr EpochMillis H(int h) { return 1'772'409'600'000 + h * kHour; }  // 2026-03-02T00:00Z

Shift Make(const std::string& slot, const std::string& person, int from, int to) {
  return Shift{slot, person, H(from), H(to)};
}

const std::string kS1 = std::string("S") + '\x1f' + "1";
const std::string kS2 = std::string("S") + '\x1f' + "2";

using Intervals = std::vector<std::pair<EpochMillis, EpochMillis>>;

Intervals Of(const ShiftBook& book, const std::string& person) {
  const auto& v = book.IntervalsOf(person);
  return Intervals(v.begin(), v.end());
}

Intervals Hours(std::initializer_list<std::pair<int, int>> hours) {
  Intervals out;
  for (const auto& [a, b] : hours) out.emplace_back(H(a), H(b));
  return out;
}

schema::Event ShiftEvent(const std::string& subject_id, const schema::Value& level) {
  schema::Event e;
  e.set_id("canonical:s");
  e.set_type("oncall.shift");
  e.mutable_subject()->set_kind("schedule");
  e.mutable_subject()->set_id(subject_id);
  auto add = [&](const char* name) {
    auto* a = e.add_attrs();
    a->set_name(name);
    return a;
  };
  add("end")->mutable_value()->set_int_value(H(21));
  *add("level")->mutable_value() = level;
  add("person")->mutable_value()->set_string_value("pagerduty:PA");
  add("start")->mutable_value()->set_int_value(H(9));
  return e;
}

TEST(ShiftBookTest, ShiftOfReadsTheSlotFromSubjectIdAndLevel) {
  schema::Value one;
  one.set_int_value(1);
  schema::Value one_text;
  one_text.set_string_value("1");
  const auto a = ShiftOf(ShiftEvent("PSCH1", one));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->slot, std::string("PSCH1") + '\x1f' + "1");
  EXPECT_EQ(a->person, "pagerduty:PA");
  EXPECT_EQ(a->start, H(9));
  EXPECT_EQ(a->end, H(21));
  // A level written as a number or as text is the same slot.
  EXPECT_EQ(ShiftOf(ShiftEvent("PSCH1", one_text))->slot, a->slot);
  // No subject id: no slot.
  EXPECT_EQ(ShiftOf(ShiftEvent("", one))->slot, "");
  // An empty interval puts nobody on call and supersedes nothing.
  schema::Event empty = ShiftEvent("PSCH1", one);
  empty.mutable_attrs(0)->mutable_value()->set_int_value(H(9));  // end = start
  EXPECT_FALSE(ShiftOf(empty).has_value());
}

// The example of docs/design.md section 7.2: A 09-21, then B 13-17.
TEST(ShiftBookTest, AShiftReplacesTheMiddleOfAnEarlierOne) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 9, 21));
  book.Apply(Make(kS1, "B", 13, 17));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 13}, {17, 21}}));
  EXPECT_EQ(Of(book, "B"), Hours({{13, 17}}));
  EXPECT_TRUE(book.OnCall("A", H(12)));
  EXPECT_FALSE(book.OnCall("A", H(13)));
  EXPECT_TRUE(book.OnCall("B", H(13)));
  EXPECT_TRUE(book.OnCall("B", H(17) - 1));
  EXPECT_FALSE(book.OnCall("B", H(17)));
  EXPECT_TRUE(book.OnCall("A", H(17)));
  // A 09-13 again (a new event id): the picture does not change, not even its bytes.
  const std::string before = book.Save();
  book.Apply(Make(kS1, "A", 9, 13));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 13}, {17, 21}}));
  EXPECT_EQ(Of(book, "B"), Hours({{13, 17}}));
  EXPECT_EQ(book.Save(), before);
  // A part of A's own piece again, at its start or its end: split, then merged back whole.
  book.Apply(Make(kS1, "A", 17, 19));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 13}, {17, 21}}));
  EXPECT_EQ(book.Save(), before);
  book.Apply(Make(kS1, "A", 19, 21));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 13}, {17, 21}}));
  EXPECT_EQ(book.Save(), before);
}

TEST(ShiftBookTest, AShiftCoveringAnEarlierOneReplacesAllOfIt) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 10, 14));
  book.Apply(Make(kS1, "B", 9, 21));
  EXPECT_EQ(Of(book, "A"), Intervals{});
  EXPECT_FALSE(book.OnCall("A", H(10)));
  EXPECT_EQ(Of(book, "B"), Hours({{9, 21}}));
  EXPECT_EQ(book.holders().size(), 1u);
  // Exactly the same interval is replaced too.
  book.Apply(Make(kS1, "C", 9, 21));
  EXPECT_EQ(Of(book, "B"), Intervals{});
  EXPECT_EQ(Of(book, "C"), Hours({{9, 21}}));
}

TEST(ShiftBookTest, AShiftAcrossTwoShiftsKeepsTheirOuterParts) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 0, 12));
  book.Apply(Make(kS1, "B", 12, 24));
  book.Apply(Make(kS1, "C", 10, 14));
  EXPECT_EQ(Of(book, "A"), Hours({{0, 10}}));
  EXPECT_EQ(Of(book, "B"), Hours({{14, 24}}));
  EXPECT_EQ(Of(book, "C"), Hours({{10, 14}}));
  // Over three pieces, the middle one entirely.
  book.Apply(Make(kS1, "D", 5, 20));
  EXPECT_EQ(Of(book, "A"), Hours({{0, 5}}));
  EXPECT_EQ(Of(book, "B"), Hours({{20, 24}}));
  EXPECT_EQ(Of(book, "C"), Intervals{});
  EXPECT_EQ(Of(book, "D"), Hours({{5, 20}}));
}

TEST(ShiftBookTest, AnotherLevelOrScheduleIsNotTouched) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 9, 21));
  book.Apply(Make(kS2, "B", 13, 17));                             // level 2 of the same schedule
  book.Apply(Make(std::string("T") + '\x1f' + "1", "C", 9, 21));  // level 1 of another schedule
  EXPECT_EQ(Of(book, "A"), Hours({{9, 21}}));
  EXPECT_EQ(Of(book, "B"), Hours({{13, 17}}));
  EXPECT_EQ(Of(book, "C"), Hours({{9, 21}}));
  // The same person on two levels at once: both intervals, overlapping.
  book.Apply(Make(kS2, "A", 10, 11));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 21}, {10, 11}}));
}

TEST(ShiftBookTest, ShiftsWithoutASlotAreNeverSuperseded) {
  ShiftBook book;
  book.Apply(Make("", "A", 9, 21));
  book.Apply(Make("", "B", 13, 17));
  book.Apply(Make("", "A", 9, 21));  // the same interval of the same person: kept once
  EXPECT_EQ(Of(book, "A"), Hours({{9, 21}}));
  EXPECT_EQ(Of(book, "B"), Hours({{13, 17}}));
  // Nor does a shift without a slot supersede one with a slot, or the other way round.
  book.Apply(Make(kS1, "C", 8, 22));
  book.Apply(Make("", "D", 8, 22));
  EXPECT_EQ(Of(book, "A"), Hours({{9, 21}}));
  EXPECT_EQ(Of(book, "C"), Hours({{8, 22}}));
  EXPECT_EQ(Of(book, "D"), Hours({{8, 22}}));
}

TEST(ShiftBookTest, PruneForgetsPiecesThatEndedAndEmptySlots) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 0, 12));
  book.Apply(Make(kS1, "B", 12, 24));
  book.Apply(Make("", "C", 0, 6));
  book.Prune(H(12));
  EXPECT_EQ(Of(book, "A"), Intervals{});
  EXPECT_EQ(Of(book, "C"), Intervals{});
  EXPECT_EQ(Of(book, "B"), Hours({{12, 24}}));
  EXPECT_EQ(book.holders().size(), 1u);
  book.Prune(H(24));
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(book.Save(), ShiftBook{}.Save());
}

TEST(ShiftBookTest, SaveAndLoadRoundTrip) {
  ShiftBook book;
  book.Apply(Make(kS1, "A", 9, 21));
  book.Apply(Make(kS1, "B", 13, 17));
  book.Apply(Make(kS2, "A", 10, 11));
  book.Apply(Make("", "C", 0, 6));
  const std::string bytes = book.Save();
  ShiftBook loaded;
  ASSERT_TRUE(loaded.Load(bytes));
  EXPECT_EQ(loaded.Save(), bytes);
  EXPECT_EQ(Of(loaded, "A"), Hours({{9, 13}, {10, 11}, {17, 21}}));
  EXPECT_EQ(Of(loaded, "B"), Hours({{13, 17}}));
  EXPECT_EQ(Of(loaded, "C"), Hours({{0, 6}}));
  // The loaded book supersedes like the original: the slot's pieces came back as pieces.
  book.Apply(Make(kS1, "D", 12, 18));
  loaded.Apply(Make(kS1, "D", 12, 18));
  EXPECT_EQ(loaded.Save(), book.Save());
  EXPECT_EQ(Of(loaded, "A"), Hours({{9, 12}, {10, 11}, {18, 21}}));
  EXPECT_EQ(Of(loaded, "B"), Intervals{});

  // Every truncation and a trailing byte are rejected, and leave the book as it was.
  const std::string good = loaded.Save();
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(loaded.Load(good.substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(loaded.Load(good + "x"));
  EXPECT_EQ(loaded.Save(), good);
}

TEST(ShiftBookTest, LoadRejectsOverlappingPiecesInASlot) {
  // What Save() would write for slot S with pieces A 09-21 and B 13-17 overlapping.
  ShiftBook a;
  a.Apply(Make(kS1, "A", 9, 21));
  ShiftBook b;
  b.Apply(Make(kS1, "B", 13, 17));
  // Both bytes begin with: 1 slot, its name, 1 piece. Build the two-piece slot by hand.
  const std::string one = a.Save();
  const std::string piece_b = b.Save();
  // Layout: [slots=1][len][slot][pieces=1][start][end][len][person][unslotted=0]
  const size_t header = 1 + 1 + kS1.size();
  std::string two = one.substr(0, header) + '\x02' +
                    one.substr(header + 1, one.size() - header - 2) +
                    piece_b.substr(header + 1, piece_b.size() - header - 2) + '\x00';
  ShiftBook c;
  EXPECT_FALSE(c.Load(two));
  // The same construction with B after A's end is accepted (a control for the layout).
  ShiftBook d;
  d.Apply(Make(kS1, "B", 21, 23));
  const std::string after = d.Save();
  std::string ok = one.substr(0, header) + '\x02' +
                   one.substr(header + 1, one.size() - header - 2) +
                   after.substr(header + 1, after.size() - header - 2) + '\x00';
  EXPECT_TRUE(c.Load(ok));
  EXPECT_EQ(Of(c, "B"), Hours({{21, 23}}));
}

// ---- ShiftLedger ---------------------------------------------------------------------------

TEST(ShiftLedgerTest, BooksOnlyWhatTheSlotHasNotBookedForTheTeam) {
  ShiftLedger ledger;
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 9, 21), "payments"), 12 * kHour);
  // An override within the team: nothing more.
  EXPECT_EQ(ledger.Book(Make(kS1, "B", 13, 17), "payments"), 0);
  // The same slot time handed to another team: that team's time.
  EXPECT_EQ(ledger.Book(Make(kS1, "C", 13, 17), "search"), 4 * kHour);
  // Back to the first team: booked for it already.
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 13, 17), "payments"), 0);
  // Partly new: 19-21 booked, 21-23 not.
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 19, 23), "payments"), 2 * kHour);
  // Across two booked stretches with a gap between: only the gap.
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 0, 2), "payments"), 2 * kHour);
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 1, 10), "payments"), 7 * kHour);  // 2-9
  // Another level, another schedule: their own bookings.
  EXPECT_EQ(ledger.Book(Make(kS2, "A", 9, 21), "payments"), 12 * kHour);
  // No slot: the whole length, every time, nothing remembered.
  EXPECT_EQ(ledger.Book(Make("", "A", 9, 21), "payments"), 12 * kHour);
  EXPECT_EQ(ledger.Book(Make("", "A", 9, 21), "payments"), 12 * kHour);
}

TEST(ShiftLedgerTest, SaveLoadAndPrune) {
  ShiftLedger ledger;
  ledger.Book(Make(kS1, "A", 9, 21), "payments");
  ledger.Book(Make(kS1, "C", 13, 17), "search");
  ledger.Book(Make(kS2, "A", 0, 3), "payments");
  ShiftLedger loaded;
  ASSERT_TRUE(loaded.Load(ledger.Save()));
  EXPECT_EQ(loaded.Save(), ledger.Save());
  EXPECT_EQ(loaded.Book(Make(kS1, "B", 8, 22), "payments"), 2 * kHour);
  const std::string good = ledger.Save();
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(loaded.Load(good.substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(loaded.Load(good + "x"));
  // Bookings that ended are forgotten: the same time books again.
  ledger.Prune(H(17));
  EXPECT_EQ(ledger.Book(Make(kS2, "A", 0, 3), "payments"), 3 * kHour);
  EXPECT_EQ(ledger.Book(Make(kS1, "C", 13, 17), "search"), 4 * kHour);
  EXPECT_EQ(ledger.Book(Make(kS1, "A", 9, 21), "payments"), 0);  // ends after the cut: kept
  ledger.Prune(H(24));
  EXPECT_TRUE(ledger.empty());
}

}  // namespace
}  // namespace teamhealth::projections
