package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// flow: cycle time, throughput and churn of work items and pull requests (docs/design.md 7.4).
func flow() *dashboard.DashboardBuilder {
	return newDashboard("teamhealth-flow", "teamhealth / Flow",
		"How work moves through the selected teams: cycle and lead time, throughput, WIP, churn, "+
			"pull request pickup and review (design 7.4).",
		"now-30d", "5m").
		WithRow(row("Work items")).
		WithPanel(graph("Cycle time, trailing 7 days",
			"p50, p80 and p95 of time spent in progress up to the first entry into done, over items "+
				"finished in the 7 days ending at each point, per team, every item type. Estimated from "+
				"histogram buckets (1 h to 90 d).",
			"s",
			quantiles("teamhealth_cycle_time_seconds", "7d")...)).
		WithPanel(graph("Lead time, trailing 7 days",
			"p50, p80 and p95 of the time from creation to the first entry into done, over items "+
				"finished in the 7 days ending at each point, per team. Lead time minus cycle time is "+
				"time spent waiting.",
			"s",
			quantiles("teamhealth_lead_time_seconds", "7d")...)).
		WithPanel(weeklyBars("Throughput per week, by item type",
			"Work items entering done per week over the selected teams, stacked by item type. A "+
				"reopened item finished again counts again (see reopen rate).",
			"short",
			q(by("item_type", "teamhealth_work_items_completed_total", "1w"), "{{item_type}}"))).
		WithPanel(graph("Work in progress",
			"Items in progress now with an assignee, under the assignee's team, at each point in "+
				"time. More WIP than people means work waits and attention splits.",
			"short",
			q(gauge("teamhealth_wip_items"), "{{team}}")).
			Decimals(0)).
		WithPanel(weeklyBars("Priority changes per week",
			"Work-item priority changes per week, per team. Much churn means plans keep moving "+
				"under people's feet.",
			"short",
			q(byTeam("teamhealth_priority_changes_total", "1w"), "{{team}}")).
			Span(thirdWidth)).
		WithPanel(weeklyBars("Work-item reassignments per week",
			"Work items handed from one person to another per week, per team (first assignments "+
				"and unassignments do not count). Frequent hand-offs lose context each time.",
			"short",
			q(byTeam("teamhealth_reassignments_total", "1w"), "{{team}}")).
			Span(thirdWidth)).
		WithPanel(graph("Reopen rate, trailing 7 days",
			"Items leaving done divided by items entering done, over the 7 days ending at each point, "+
				"per team. A rising rate means work is declared finished too early.",
			"percentunit",
			q(ratio("teamhealth_work_items_reopened_total", "teamhealth_work_items_completed_total", "7d"), "{{team}}")).
			Span(thirdWidth)).
		WithRow(row("Pull requests")).
		WithPanel(graph("PR pickup time, trailing 7 days",
			"p50, p80 and p95 of the time from ready for review (or opening) to the first review by "+
				"someone other than the author, over first reviews in the 7 days ending at each point, "+
				"per team. Long pickup means authors wait and switch away.",
			"s",
			quantiles("teamhealth_pr_pickup_seconds", "7d")...)).
		WithPanel(graph("PR review time, trailing 7 days",
			"p50, p80 and p95 of the time from the first review to the merge, over pull requests "+
				"merged in the 7 days ending at each point, per team.",
			"s",
			quantiles("teamhealth_pr_review_seconds", "7d")...))
}
