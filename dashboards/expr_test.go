package dashboards

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// The metrics of docs/design.md section 7 the dashboards may use, by type.
var (
	counters = set(
		"teamhealth_oncall_interruptions_total", "teamhealth_oncall_sleep_disrupted_nights_total",
		"teamhealth_oncall_incidents_total", "teamhealth_oncall_unacknowledged_total",
		"teamhealth_oncall_escalations_total", "teamhealth_oncall_reassignments_total",
		"teamhealth_oncall_shift_seconds_total", "teamhealth_context_switches_total",
		"teamhealth_active_persondays_total", "teamhealth_work_items_touched_total",
		"teamhealth_direct_interruptions_total", "teamhealth_oncall_bypass_total",
		"teamhealth_focus_lost_seconds_total", "teamhealth_work_items_completed_total",
		"teamhealth_work_items_reopened_total", "teamhealth_reassignments_total",
		"teamhealth_priority_changes_total", "teamhealth_events_ingested_total",
		"teamhealth_events_duplicate_total", "teamhealth_events_quarantined_total",
		"teamhealth_events_ignored_total",
		"teamhealth_direct_interruptions_by_sender_team_total", "teamhealth_project_switches_total",
		"teamhealth_time_off_worked_days_total")
	histograms = set(
		"teamhealth_oncall_time_to_ack_seconds", "teamhealth_oncall_time_to_resolve_seconds",
		"teamhealth_cycle_time_seconds", "teamhealth_lead_time_seconds",
		"teamhealth_pr_pickup_seconds", "teamhealth_pr_review_seconds", "teamhealth_pulse_score")
	gauges = set(
		"teamhealth_oncall_open_incidents", "teamhealth_wip_items",
		"teamhealth_burnout_members_at_risk", "teamhealth_team_members",
		"teamhealth_consumer_lag_messages", "teamhealth_log_last_sequence",
		"teamhealth_projection_lag_events", "teamhealth_build_info",
		"teamhealth_privacy_suppressed_series", "up", "teamhealth_kafka_up",
		"teamhealth_ingest_last_batch_timestamp_seconds", "teamhealth_topic_missing",
		// recording rules (ops/prometheus/rules/recording.yml), labelled by team
		"team:teamhealth_burnout_at_risk:share",
		"team:teamhealth_oncall_interruptions_per_12h_shift:ratio_7d",
		"team:teamhealth_oncall_bypass:ratio_7d",
		"team:teamhealth_oncall_time_to_ack_seconds:p80_7d",
		"team:teamhealth_context_switches_per_active_day:ratio_7d")
	// unteamed have no team label: the daemon's own series.
	unteamed = set(
		"teamhealth_events_ingested_total", "teamhealth_events_duplicate_total",
		"teamhealth_events_quarantined_total", "teamhealth_events_ignored_total",
		"teamhealth_consumer_lag_messages", "teamhealth_log_last_sequence",
		"teamhealth_projection_lag_events", "teamhealth_build_info",
		"teamhealth_privacy_suppressed_series", "up", "teamhealth_kafka_up",
		"teamhealth_ingest_last_batch_timestamp_seconds", "teamhealth_topic_missing")
)

func set(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// selector finds metric selectors in the simple PromQL the dashboards use: a metric name, its
// optional {matchers}, and what opens right before it. Label names never start with
// "teamhealth_" and label values are quoted, so only metric names match.
var selector = regexp.MustCompile(`(\w+\()?\b(teamhealth_\w+|team:\w+:\w+|up)\b(\{[^}]*\})?`)

// checkExpr is a small stand-in for the PromQL lint of the ops tests: known metric names,
// counters and histogram series only under rate/increase, gauges never, and on the team
// dashboards every selector filtered on the team variable.
func checkExpr(expr string, teamDashboard bool) []string {
	var problems []string
	matches := selector.FindAllStringSubmatch(expr, -1)
	if len(matches) == 0 {
		problems = append(problems, "no metric selector")
	}
	for _, m := range matches {
		fn, name, matchers := strings.TrimSuffix(m[1], "("), m[2], m[3]
		underRate := fn == "rate" || fn == "increase"
		base := name
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if trimmed := strings.TrimSuffix(name, suffix); trimmed != name && histograms[trimmed] {
				base = trimmed
			}
		}
		switch {
		case counters[name]:
			if !underRate {
				problems = append(problems, fmt.Sprintf("counter %s outside rate/increase", name))
			}
		case histograms[base] && base != name:
			if !underRate {
				problems = append(problems, fmt.Sprintf("histogram series %s outside rate/increase", name))
			}
		case histograms[name]:
			problems = append(problems, fmt.Sprintf("histogram %s used by its plain name", name))
		case gauges[name]:
			if underRate {
				problems = append(problems, fmt.Sprintf("gauge %s under %s", name, fn))
			}
		default:
			problems = append(problems, fmt.Sprintf("unknown metric %s", name))
			continue
		}
		if teamDashboard && !unteamed[name] && !strings.Contains(matchers, `team=~"$team"`) {
			problems = append(problems, fmt.Sprintf("%s not filtered on team=~\"$team\"", name))
		}
		if teamDashboard && unteamed[name] {
			problems = append(problems, fmt.Sprintf("daemon metric %s on a team dashboard", name))
		}
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") {
		problems = append(problems, "unbalanced parentheses")
	}
	return problems
}

func TestExpressionsUseTheMetricContract(t *testing.T) {
	for _, uid := range wantUIDs {
		teamDashboard := uid != "teamhealth-daemon"
		eachPanel(readRaw(t, uid).Panels, func(p rawPanel) {
			for _, target := range p.Targets {
				for _, problem := range checkExpr(target.Expr, teamDashboard) {
					t.Errorf("%s / %s / %s: %s in %s", uid, p.Title, target.RefID, problem, target.Expr)
				}
			}
		})
	}
}

// The checker itself catches what it is there for.
func TestCheckExprRejectsMistakes(t *testing.T) {
	for _, tc := range []struct {
		expr string
		team bool
	}{
		{`sum(teamhealth_oncall_interruptions_total{team=~"$team"})`, true},
		{`rate(teamhealth_oncall_interruptions_total[5m])`, true},
		{`histogram_quantile(0.5, teamhealth_cycle_time_seconds{team=~"$team"})`, true},
		{`rate(teamhealth_wip_items{team=~"$team"}[1h])`, true},
		{`teamhealth_no_such_metric{team=~"$team"}`, true},
		{`rate(teamhealth_events_ingested_total[5m])`, true},
	} {
		if len(checkExpr(tc.expr, tc.team)) == 0 {
			t.Errorf("checkExpr accepted %s", tc.expr)
		}
	}
	for _, expr := range []string{
		`histogram_quantile(0.8, sum by (team, le) (rate(teamhealth_pr_pickup_seconds_bucket{team=~"$team"}[7d])))`,
		`sum by (team) (teamhealth_wip_items{team=~"$team"})`,
		`team:teamhealth_oncall_bypass:ratio_7d{team=~"$team"}`,
	} {
		if problems := checkExpr(expr, true); len(problems) != 0 {
			t.Errorf("checkExpr rejected %s: %v", expr, problems)
		}
	}
}
