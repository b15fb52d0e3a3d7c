package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Kind is what a metric name denotes for the counter and gauge checks.
type Kind int

const (
	KindUnknown Kind = iota
	KindCounter
	KindGauge
	// KindHistogram is a classic histogram family: only its _bucket, _sum and _count series
	// exist, so the bare family name selects nothing.
	KindHistogram
	// KindHistogramPart is a histogram's _bucket, _sum or _count series: a counter.
	KindHistogramPart
)

func (k Kind) String() string {
	switch k {
	case KindCounter:
		return "counter"
	case KindGauge:
		return "gauge"
	case KindHistogram:
		return "histogram"
	case KindHistogramPart:
		return "histogram series (a counter)"
	}
	return "unknown"
}

// isCounter reports whether the series only ever grow and must go through a range function.
func (k Kind) isCounter() bool { return k == KindCounter || k == KindHistogramPart }

// Metric is one entry of the catalogue.
type Metric struct {
	Name string
	Kind Kind // KindCounter, KindGauge or KindHistogram
	// TeamLabelled: its series carry a `team` label, so a per-team dashboard must select one.
	TeamLabelled bool
}

// nonTeamMetrics are the daemon's and the gateway's own metrics and the privacy counter
// (docs/design.md 7.7, 7.11, section 11): the only catalogue metrics without a `team` label. Every team-health
// series carries one (7.1). A catalogue line with a third column overrides this list.
var nonTeamMetrics = map[string]bool{
	"teamhealth_events_ingested_total":                           true,
	"teamhealth_events_duplicate_total":                          true,
	"teamhealth_events_quarantined_total":                        true,
	"teamhealth_events_ignored_total":                            true,
	"teamhealth_consumer_lag_messages":                           true,
	"teamhealth_log_last_sequence":                               true,
	"teamhealth_log_indexed_sequence":                            true,
	"teamhealth_projection_lag_events":                           true,
	"teamhealth_build_info":                                      true,
	"teamhealth_privacy_suppressed_series":                       true,
	"teamhealth_kafka_up":                                        true,
	"teamhealth_ingest_last_batch_timestamp_seconds":             true,
	"teamhealth_topic_missing":                                   true,
	"teamhealth_ingest_disk_full":                                true,
	"teamhealth_gateway_requests_total":                          true,
	"teamhealth_gateway_request_duration_seconds":                true,
	"teamhealth_gateway_build_info":                              true,
	"teamhealth_gateway_schedule_polls_total":                    true,
	"teamhealth_gateway_schedule_retries_total":                  true,
	"teamhealth_gateway_shifts_produced_total":                   true,
	"teamhealth_gateway_schedule_last_success_timestamp_seconds": true,
}

// Catalogue is the set of metrics expressions may use.
type Catalogue map[string]Metric

// LoadCatalogue reads a file in the format `teamhealth metrics` prints: one metric per line,
// `NAME TYPE`, TYPE one of counter, gauge, histogram. An optional third column lists the
// metric's labels separated by commas (`-` for none) and then decides whether it is
// team-labelled. Blank lines and lines starting with # are skipped.
func LoadCatalogue(path string) (Catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c, err := ParseCatalogue(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseCatalogue parses the catalogue format described at LoadCatalogue.
func ParseCatalogue(r io.Reader) (Catalogue, error) {
	c := Catalogue{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("line %d: want `NAME TYPE [LABELS]`, got %q", line, text)
		}
		m := Metric{Name: fields[0]}
		switch fields[1] {
		case "counter":
			m.Kind = KindCounter
		case "gauge":
			m.Kind = KindGauge
		case "histogram":
			m.Kind = KindHistogram
		default:
			return nil, fmt.Errorf("line %d: type of %s is %q, want counter, gauge or histogram",
				line, m.Name, fields[1])
		}
		if len(fields) == 3 {
			for _, l := range strings.Split(fields[2], ",") {
				m.TeamLabelled = m.TeamLabelled || l == "team"
			}
		} else {
			m.TeamLabelled = !nonTeamMetrics[m.Name]
		}
		if _, dup := c[m.Name]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", line, m.Name)
		}
		c[m.Name] = m
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(c) == 0 {
		return nil, fmt.Errorf("no metrics in the catalogue")
	}
	return c, nil
}
