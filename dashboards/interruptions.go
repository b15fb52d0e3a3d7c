package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// interruptions: context switching and direct interruptions (docs/design.md 7.3).
func interruptions() *dashboard.DashboardBuilder {
	return newDashboard("teamhealth-interruptions", "teamhealth / Interruptions and context switching",
		"Split attention and direct pings of the selected teams (design 7.3).",
		"now-30d", "5m").
		WithRow(row("Split attention")).
		WithPanel(graph("Context switches per active person-day, trailing 7 days",
			"Switches between different work items, pull requests or incidents less than 2 h apart, "+
				"divided by person-days with any work activity, over the 7 days ending at each point, "+
				"per team. Higher means each working day is cut into more pieces."+
				ruleNote(ruleSwitchesPerDay),
			"short",
			q(rule(ruleSwitchesPerDay), "{{team}}")).
			Decimals(1)).
		WithPanel(graph("Items touched per active day, trailing 7 days",
			"Distinct work items, pull requests and incidents a person acted on per day they worked, "+
				"averaged over the 7 days ending at each point, per team. Above 3 or 4, few things get "+
				"undivided attention.",
			"short",
			q(ratio("teamhealth_work_items_touched_total", "teamhealth_active_persondays_total", "7d"), "{{team}}")).
			Decimals(1)).
		WithPanel(switchesAcrossProjects().Span(fullWidth)).
		WithPanel(weeklyBars("Focus lost per week (ESTIMATE)",
			"ESTIMATE, not a measurement: (context switches + direct pings in business hours) × "+
				"switch_cost_minutes (default 15), in hours per week, per team. Off-hours pings are "+
				"left out: they cost rest, which the on-call and burnout panels show.",
			"h",
			q(byTeam("teamhealth_focus_lost_seconds_total", "1w")+" / 3600", "{{team}}"))).
		WithPanel(graph("Focus lost per active person-day, trailing 7 days (ESTIMATE)",
			"ESTIMATE: the focus-lost estimate divided by person-days with work activity, over the 7 "+
				"days ending at each point, per team. Read it as the order of magnitude of a working "+
				"day lost to switching, not as a timesheet.",
			"s",
			q(ratio("teamhealth_focus_lost_seconds_total", "teamhealth_active_persondays_total", "7d"), "{{team}}"))).
		WithRow(row("Direct pings")).
		WithPanel(weeklyBars("Direct pings per week, by kind",
			"Direct messages (dm) and mentions of the selected teams' members by someone else, per "+
				"week, bots and edits excluded. Empty for teams below privacy.min_group_size.",
			"short",
			q(by("kind", "teamhealth_direct_interruptions_total", "1w"), "{{kind}}"))).
		WithPanel(weeklyBars("Direct pings per week, by period",
			"The same pings by when they arrived in the recipient's own time zone: business hours, "+
				"off hours, sleep. Pings outside business hours cost rest rather than focus.",
			"short",
			q(by("period", "teamhealth_direct_interruptions_total", "1w"), "{{period}}"))).
		WithPanel(bars("Who pings us: direct pings by sender team, time range",
			"Direct messages and mentions of the selected teams' members in the dashboard's time "+
				"range, by the sender's team when they wrote, largest first. unmapped: senders not in "+
				"the directory (list support, sales or SOC people as teams of their own to see them "+
				"by name); other: sender teams beyond privacy.max_sender_teams. Empty for teams below "+
				"privacy.min_group_size. Read it with the bypass share next to it: the teams at the "+
				"top are the ones to show the way to the on-call engineer.",
			"short",
			instant("sort_desc("+by("sender_team", bySenderTeam, "$__range")+")", "{{sender_team}}")).
			Decimals(0)).
		WithPanel(withLimit(graph("Pings that bypassed the on-call engineer, trailing 7 days",
			"Share of direct pings, over the 7 days ending at each point, that went to someone not on "+
				"call, from outside their team, while a teammate was on call: work the rotation should "+
				"have absorbed. The dashed line is the 20 % of TeamhealthOncallBypass."+
				ruleNote(ruleBypassShare),
			"percentunit",
			q(rule(ruleBypassShare), "{{team}}")),
			bypassShareAlert))
}

// bySenderTeam counts direct pings by the sender's team (docs/design.md 7.6).
const bySenderTeam = "teamhealth_direct_interruptions_by_sender_team_total"

// switchesAcrossProjects puts the context switches of each week beside the part of them
// between two projects (Jira project, GitHub repository, Linear team), the expensive kind.
// The two are not stacked: project switches are a subset of context switches.
func switchesAcrossProjects() *timeseries.PanelBuilder {
	sum := func(counter string) string {
		return fmt.Sprintf("sum(increase(%s{%s}[1w]))", counter, team)
	}
	return graph("Context switches and switches across projects, per week",
		"All context switches of the selected teams per week, and the ones whose two subjects "+
			"belong to different projects (Jira project, GitHub repository, Linear team). Switching "+
			"projects costs more than switching items of one project: a high share means people are "+
			"spread over several projects at once.",
		"short",
		q(sum("teamhealth_context_switches_total"), "context switches"),
		q(sum("teamhealth_project_switches_total"), "across projects")).
		Interval("1w").
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		LineWidth(1)
}
