package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// daemon: the daemon's own health (docs/design.md 7.11 and 11). Its metrics carry no team
// label; the dashboard keeps the team variable only so that all five share their variables.
func daemon() *dashboard.DashboardBuilder {
	upDown := []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr("DOWN"), Color: cog.ToPtr("red"), Index: cog.ToPtr[int32](0)},
			"1": {Text: cog.ToPtr("UP"), Color: cog.ToPtr("green"), Index: cog.ToPtr[int32](1)},
		},
	}}}

	return newDashboard("teamhealth-daemon", "teamhealth / Daemon",
		"The teamhealth daemon itself: scrape health, ingest from Kafka, quarantine, the event log "+
			"and how far the projections trail it.",
		"now-6h", "30s").
		WithRow(row("Status")).
		WithPanel(single("Up",
			"Whether Prometheus could scrape the daemon's /metrics just now (up{job=\"teamhealth\"}). "+
				"DOWN for 5 minutes fires TeamhealthDown. Readiness itself is /readyz, not a metric.",
			"none",
			instant(`min(up{job="teamhealth"})`, "up")).
			NoValue("not scraped").
			Mappings(upDown).
			Thresholds(steps("red", step{1, "green"}))).
		WithPanel(single("Kafka",
			"Whether the daemon reaches Kafka and every assigned partition is fetching "+
				"(teamhealth_kafka_up; DOWN after 30 s of not). While DOWN, /readyz answers 503 with "+
				"the reason; for 10 minutes it fires TeamhealthIngestStalled.",
			"none",
			instant(`min(teamhealth_kafka_up)`, "kafka")).
			NoValue("not scraped").
			Mappings(upDown).
			Thresholds(steps("red", step{1, "green"}))).
		WithPanel(single("Since the last durable batch",
			"Time since the daemon last wrote a batch to the event log "+
				"(time() - teamhealth_ingest_last_batch_timestamp_seconds). Long is normal when nothing "+
				"arrives; long while the consumer lag is above 0 means ingest is stalled.",
			"s",
			instant(`time() - max(teamhealth_ingest_last_batch_timestamp_seconds)`, "since"))).
		WithPanel(single("Missing topics",
			"Configured Kafka topics the brokers do not know (teamhealth_topic_missing): a typo in "+
				"kafka.topics or a topic not created yet. The daemon polls for them every 5 s and "+
				"ingests the other topics meanwhile.",
			"short",
			instant(`sum(teamhealth_topic_missing)`, "topics")).
			Thresholds(steps("green", step{1, "orange"}))).
		WithPanel(single("Version",
			"The running build (teamhealth_build_info{version}). Two versions at once mean two "+
				"daemons are being scraped.",
			"none",
			instant("teamhealth_build_info", "{{version}}")).
			NoValue("unknown").
			TextMode(common.BigValueTextModeName)).
		WithPanel(single("Log last sequence",
			"Sequence number of the newest event in the RocksDB event log: how many events the log "+
				"holds. It only grows while events arrive.",
			"none",
			instant("max(teamhealth_log_last_sequence)", "sequence"))).
		WithPanel(single("Consumer lag",
			"Kafka messages not yet consumed, summed over the configured topics. It should return "+
				"to near 0 between bursts; a lag that only grows means ingest is stalled.",
			"short",
			instant("sum(teamhealth_consumer_lag_messages)", "messages")).
			Thresholds(steps("green", step{1000, "orange"}))).
		WithPanel(single("Projection lag, worst",
			"Events in the log not yet applied by the slowest projection. Over 10k for 15 minutes "+
				"fires TeamhealthProjectionLag; a projection rebuilding from the start shows here.",
			"short",
			instant("max(teamhealth_projection_lag_events)", "events")).
			Thresholds(steps("green", step{1000, "orange"}, step{projectionLagAlert, "red"}))).
		WithPanel(single("Privacy-suppressed series",
			"Burnout and direct-interruption series not exported because their team is smaller than "+
				"privacy.min_group_size. Not an error: it explains empty panels on the team dashboards.",
			"short",
			instant("max(teamhealth_privacy_suppressed_series)", "series"))).
		WithRow(row("Ingest")).
		WithPanel(graph("Events ingested, by source",
			"Events appended to the log per second, by source (jira, github, slack, pagerduty, ...). "+
				"A source at 0 while its vendor is busy points at its topic or webhook bridge.",
			"ops",
			q("sum by (source) (rate(teamhealth_events_ingested_total[$__rate_interval]))", "{{source}}"))).
		WithPanel(graph("Duplicates dropped, by source",
			"Events per second dropped because their id was already in the log: vendor redeliveries "+
				"and replays. Some are normal; a sustained level equal to ingest means a replay loop.",
			"ops",
			q("sum by (source) (rate(teamhealth_events_duplicate_total[$__rate_interval]))", "{{source}}"))).
		WithPanel(graph("Records quarantined, by source and reason",
			"Records per second that could not be normalised, kept by reference (never the body) "+
				"with a reason. Inspect them with `teamhealth inspect quarantine`. Any steady rate "+
				"is a mapping to fix.",
			"ops",
			q("sum by (source, reason) (rate(teamhealth_events_quarantined_total[$__rate_interval]))",
				"{{source}}: {{reason}}"))).
		WithPanel(graph("Payloads ignored, by source",
			"Valid payloads per second that carry nothing for team health (a service change, a link "+
				"unfurl). Expected; a jump can mean a vendor started sending a new event type.",
			"ops",
			q("sum by (source) (rate(teamhealth_events_ignored_total[$__rate_interval]))", "{{source}}"))).
		WithPanel(graph("Consumer lag, by topic",
			"Kafka messages not yet consumed, per topic. Spikes that drain are bursts; a topic whose "+
				"lag only grows is stuck.",
			"short",
			q("sum by (topic) (teamhealth_consumer_lag_messages)", "{{topic}}"))).
		WithPanel(graph("Event log last sequence",
			"Newest sequence in the event log over time: the slope is the append rate, a flat line "+
				"means nothing new is being stored.",
			"none",
			q("max(teamhealth_log_last_sequence)", "sequence"))).
		WithRow(row("Projections and scraping")).
		WithPanel(withLimit(graph("Projection lag, by projection",
			"Events appended but not yet applied, per projection (oncall_load, context_switching, "+
				"flow, burnout). The dashed line is the 10k of TeamhealthProjectionLag. A rebuild after "+
				"a definition change starts high and drains.",
			"short",
			q("sum by (projection) (teamhealth_projection_lag_events)", "{{projection}}")),
			projectionLagAlert)).
		WithPanel(graph("Scrape up",
			"1 while Prometheus scrapes the daemon, 0 when it cannot (up{job=\"teamhealth\"}), per "+
				"instance.",
			"none",
			q(`up{job="teamhealth"}`, "{{instance}}")).
			Max(1).
			Mappings(upDown))
}
