#include "teamhealth/http/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace teamhealth::http {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Label values: backslash, double quote and line feed are escaped (text format 0.0.4).
void AppendLabelValue(std::string& out, std::string_view v) {
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(v.data() + start, i - start);
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    start = i + 1;
  }
  out.append(v.data() + start, v.size() - start);
}

// HELP text: backslash and line feed are escaped (double quotes are not).
void AppendHelp(std::string& out, std::string_view v) {
  for (const char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

void AppendUint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string_view TypeName(projections::MetricType type) {
  switch (type) {
    case projections::MetricType::kCounter: return "counter";
    case projections::MetricType::kGauge: return "gauge";
    case projections::MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

void AppendSampleValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buf[40];
  // Most values are whole numbers (counts, seconds): below 1e16 %.16g writes all their digits,
  // as the integer conversion does, only slower.
  if (std::fabs(value) < 1e16 && value == std::trunc(value)) {
    if (value == 0 && std::signbit(value)) {
      out += "-0";
      return;
    }
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    out.append(buf, r.ptr);
    return;
  }
  // chars_format::general with a precision is printf's %g in the C locale: %.16g, as
  // prometheus-cpp 1.0.1 writes (precision max_digits10 - 1).
  const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
  out.append(buf, r.ptr);
}

void ExpositionWriter::Header(std::string_view name, std::string_view help,
                              projections::MetricType type) {
  if (!help.empty()) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    AppendHelp(out_, help);
    out_ += '\n';
  }
  out_ += "# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += TypeName(type);
  out_ += '\n';
}

void ExpositionWriter::RenderLabels(const projections::Labels& labels) {
  labels_.clear();
  for (const auto& [k, v] : labels) {
    if (!labels_.empty()) labels_ += ',';
    labels_ += k;
    labels_ += "=\"";
    AppendLabelValue(labels_, v);
    labels_ += '"';
  }
}

void ExpositionWriter::Head(std::string_view name, std::string_view suffix) {
  out_ += name;
  out_ += suffix;
  if (!labels_.empty()) {
    out_ += '{';
    out_ += labels_;
    out_ += '}';
  }
  out_ += ' ';
}

void ExpositionWriter::Sample(std::string_view name, const projections::Labels& labels,
                              double value) {
  RenderLabels(labels);
  Head(name, {});
  AppendSampleValue(out_, value);
  out_ += '\n';
}

void ExpositionWriter::Histogram(std::string_view name, const projections::Labels& labels,
                                 const std::vector<double>& bounds,
                                 const projections::HistogramData& h) {
  RenderLabels(labels);
  Head(name, "_count");
  AppendUint(out_, h.count);
  out_ += '\n';
  Head(name, "_sum");
  AppendSampleValue(out_, h.sum);
  out_ += '\n';
  auto bucket = [&](double upper_bound, uint64_t cumulative) {
    out_ += name;
    out_ += "_bucket{";
    out_ += labels_;
    if (!labels_.empty()) out_ += ',';
    out_ += "le=\"";
    AppendSampleValue(out_, upper_bound);
    out_ += "\"} ";
    AppendUint(out_, cumulative);
    out_ += '\n';
  };
  // As prometheus-cpp: a bucket per count (the one past `bounds` is +Inf), and a +Inf bucket
  // holding the count when the last one written was not +Inf.
  double last = -kInf;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bucket_counts.size(); ++i) {
    cumulative += h.bucket_counts[i];
    last = i < bounds.size() ? bounds[i] : kInf;
    bucket(last, cumulative);
  }
  if (last != kInf) bucket(kInf, h.count);
}

void ExpositionWriter::Families(const projections::Accumulator& acc) {
  for (const auto& spec : projections::AllSpecs()) {
    Header(spec.name, spec.help, spec.type);
    const std::string name(spec.name);
    switch (spec.type) {
      case projections::MetricType::kCounter:
        if (auto it = acc.counters().find(name); it != acc.counters().end()) {
          for (const auto& [labels, v] : it->second) Sample(name, labels, v);
        }
        break;
      case projections::MetricType::kGauge:
        if (auto it = acc.gauges().find(name); it != acc.gauges().end()) {
          for (const auto& [labels, v] : it->second) Sample(name, labels, v);
        }
        break;
      case projections::MetricType::kHistogram:
        if (auto it = acc.histograms().find(name); it != acc.histograms().end()) {
          for (const auto& [labels, h] : it->second) Histogram(name, labels, spec.buckets, h);
        }
        break;
    }
  }
}

}  // namespace teamhealth::http
