#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "teamhealth/projections/accumulator.h"

namespace teamhealth::http {

// Writes the Prometheus text exposition format 0.0.4 straight into one string: no per-series
// objects, no ostream. Its output is byte for byte prometheus-cpp's TextSerializer's (1.0.1, what
// /metrics wrote before) for the same families: HELP and TYPE lines (HELP escaped per the
// format, which changes nothing for our texts), label values escaped (\\, \", \n), histograms
// as _count, _sum, then cumulative _bucket lines with an le label, values as %.16g.
// Borrows `out`, which must outlive it. Not thread-safe; one writer per scrape.
class ExpositionWriter {
 public:
  explicit ExpositionWriter(std::string& out) : out_(out) {}

  // The # HELP (when `help` is not empty) and # TYPE lines of a family.
  void Header(std::string_view name, std::string_view help, projections::MetricType type);
  // One counter or gauge sample.
  void Sample(std::string_view name, const projections::Labels& labels, double value);
  // One histogram series: `h.bucket_counts` per bucket (not cumulative), the last past
  // `bounds` being +Inf.
  void Histogram(std::string_view name, const projections::Labels& labels,
                 const std::vector<double>& bounds, const projections::HistogramData& h);
  // Every team-health family of docs/design.md section 7 (projections::AllSpecs(), in that
  // order, each with its HELP and TYPE lines even when it has no series) with the series of
  // `acc` in its order. Families of `acc` not in AllSpecs() are not written.
  void Families(const projections::Accumulator& acc);

 private:
  // Renders `labels` as `k="v",k2="v2"` into labels_, once per series.
  void RenderLabels(const projections::Labels& labels);
  // `name` + `suffix`, then `{labels_}` unless there are none, then a space.
  void Head(std::string_view name, std::string_view suffix);

  std::string& out_;
  std::string labels_;  // scratch: the rendered label pairs of the current series
};

// Appends a sample value as the exposition writes it: Nan, +Inf, -Inf, else %.16g in the C
// locale (prometheus-cpp's precision). That reads back as `value` unless `value` needs all 17
// significant digits (a sum of fractional seconds can), which it rounds to 16, as before.
void AppendSampleValue(std::string& out, double value);

}  // namespace teamhealth::http
