package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// overview: one row per team (the row repeats over the team variable), with the headline
// numbers of the last 7 days and the burnout signals now (docs/design.md 7.10).
func overview() *dashboard.DashboardBuilder {
	suppressed := "no series (team below privacy.min_group_size?)"

	return newDashboard("teamhealth-overview", "teamhealth / Overview",
		"One row per team: the last 7 days' headline numbers and who is at risk of burnout now.",
		"now-30d", "5m").
		WithRow(row("$team").Repeat(teamVar)).
		WithPanel(single("Interruptions, last 7 days",
			"On-call interruptions of the team's members in the 7 days ending now (pages less than "+
				"a minute apart count once), any time of day. Compare with the on-call dashboard for "+
				"how many fell in sleep hours.",
			"short",
			instant(fmt.Sprintf("sum(increase(teamhealth_oncall_interruptions_total{%s}[7d]))", team), "interruptions"))).
		WithPanel(single("Sleep-disrupted nights, last 7 days",
			"Person-nights in the last 7 days with at least one interruption in the person's own "+
				"sleep hours. Any value above 0 is a night someone lost; two for one person in a week "+
				"marks them at risk.",
			"short",
			instant(fmt.Sprintf("sum(increase(teamhealth_oncall_sleep_disrupted_nights_total{%s}[7d]))", team), "nights")).
			Thresholds(steps("green", step{1, "orange"}))).
		WithPanel(single("Context switches per active person-day, 7 days",
			"Switches between different work items, pull requests or incidents less than 2 h "+
				"apart, divided by the person-days with any work activity, over the last 7 days. "+
				"Higher means attention split more ways each working day."+
				ruleNote(ruleSwitchesPerDay),
			"short",
			instant(rule(ruleSwitchesPerDay), "switches per person-day")).
			Decimals(1)).
		WithPanel(single("Items completed, last 7 days",
			"Entries of work items into a done category in the last 7 days, every item type "+
				"(a reopened item that is finished again counts again).",
			"short",
			instant(fmt.Sprintf("sum(increase(teamhealth_work_items_completed_total{%s}[7d]))", team), "completed"))).
		WithPanel(single("Members at risk of burnout",
			"Share of the team's current members at risk on at least one burnout signal now "+
				"(signal \"any\" divided by team members). Red from 25 %, where the "+
				"TeamhealthBurnoutRisk alert fires. Empty when the team is smaller than "+
				"privacy.min_group_size: its burnout series are not exported."+
				ruleNote(ruleAtRiskShare),
			"percentunit",
			instant(rule(ruleAtRiskShare), "at risk")).
			NoValue(suppressed).
			Thresholds(steps("green", step{burnoutShareAlert, "red"}))).
		WithPanel(single("Team members",
			"Current members of the team in the directory: the denominator of the at-risk share.",
			"short",
			instant(fmt.Sprintf("sum(teamhealth_team_members{%s})", team), "members"))).
		WithPanel(bars("Members at risk, by burnout signal",
			"How many members are at risk on each signal now: sleep interruptions (7 d), "+
				"after-hours share (14 d), weekend days (28 d), no-rest streak, on-call share (28 d), "+
				"work in progress over the limit, always on (28 d), worked time off (28 d: a day "+
				"inside the person's own time off with work activity or a page). One person can be "+
				"at risk on several; the share above counts them once. Empty for teams below "+
				"privacy.min_group_size.",
			"short",
			instant(fmt.Sprintf(`sum by (signal) (teamhealth_burnout_members_at_risk{%s, signal!="any"})`, team),
				"{{signal}}")).
			Decimals(0).
			NoValue(suppressed).
			Thresholds(steps("green", step{1, "orange"}))).
		WithPanel(withLimit(graph("Share of members at risk over time",
			"Members at risk on at least one signal divided by team members, over the time range. "+
				"The dashed line is the 25 % at which the TeamhealthBurnoutRisk alert fires (after a "+
				"day above it). A rising line is a team being worn down."+
				ruleNote(ruleAtRiskShare),
			"percentunit",
			q(rule(ruleAtRiskShare), "at risk")), burnoutShareAlert)).
		// The team's own answer and the holidays it did not get, under the burnout signals.
		WithPanel(single("Team pulse, mean score over the time range",
			"The mean of the team's pulse responses (1 = bad week, 5 = great week) in the "+
				"dashboard's time range: sum of the scores divided by how many answered. Responses "+
				"name a team, never a person. Empty when nobody answered in the range or when the "+
				"team is smaller than privacy.min_group_size (its pulse is not exported).",
			"short",
			instant(fmt.Sprintf("sum(increase(teamhealth_pulse_score_sum{%s}[$__range])) / "+
				"(sum(increase(teamhealth_pulse_score_count{%s}[$__range])) > 0)", team, team), "mean score")).
			Decimals(1).
			NoValue("no responses (or team below privacy.min_group_size)").
			Thresholds(steps("red", step{3, "orange"}, step{3.5, "green"})).
			Span(halfWidth)).
		WithPanel(single("Days worked during time off, time range",
			"Person-days inside someone's time off (person.time_off) with work activity or a page, "+
				"in the dashboard's time range. Any value above 0 is a holiday someone did not get; "+
				"one such day in 28 marks the person at risk (time_off_worked_28d) and raises "+
				"TeamhealthWorkedTimeOff.",
			"short",
			instant(fmt.Sprintf("sum(increase(teamhealth_time_off_worked_days_total{%s}[$__range]))", team),
				"person-days")).
			Decimals(0).
			Thresholds(steps("green", step{1, "orange"})).
			Span(halfWidth))
}
