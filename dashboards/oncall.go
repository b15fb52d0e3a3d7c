package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// oncall: on-call load (docs/design.md 7.2).
func oncall() *dashboard.DashboardBuilder {
	return newDashboard("teamhealth-oncall", "teamhealth / On-call load",
		"Pages, broken nights, response times and shift load of the selected teams (design 7.2).",
		"now-30d", "5m").
		WithRow(row("Load")).
		WithPanel(weeklyBars("Interruptions per week, by period",
			"On-call interruptions per week over the selected teams, stacked by when they began in "+
				"the paged person's own time zone: business hours, off hours, sleep. Pages to one "+
				"person less than a minute apart are one interruption. Sleep is the costliest part.",
			"short",
			q(by("period", "teamhealth_oncall_interruptions_total", "1w"), "{{period}}"))).
		WithPanel(weeklyBars("Sleep-disrupted nights per week",
			"Person-nights per week with at least one interruption in the person's sleep hours, "+
				"per team. Each is a night someone was woken; two in a week for one person is a "+
				"burnout signal.",
			"short",
			q(byTeam("teamhealth_oncall_sleep_disrupted_nights_total", "1w"), "{{team}}"))).
		WithPanel(withLimit(graph("Interruptions per 12 h of on-call shift, trailing 7 days",
			"Interruptions divided by on-call shift time in 12-hour units, over the 7 days ending "+
				"at each point, per team. The dashed line is Google SRE's limit of 2 per 12 h shift, "+
				"where TeamhealthOncallOverload fires. Shift time is booked when a shift starts."+
				ruleNote(rulePer12hShift),
			"short",
			q(rule(rulePer12hShift), "{{team}}")).
			Decimals(2), sreInterruptionsPer12h)).
		WithPanel(weeklyBars("On-call hours per week",
			"Hours of on-call shifts (any level) starting in each week, per team: the time people "+
				"spent carrying the pager.",
			"h",
			q(byTeam("teamhealth_oncall_shift_seconds_total", "1w")+" / 3600", "{{team}}"))).
		WithRow(row("Incidents")).
		WithPanel(weeklyBars("Incidents per week, by urgency",
			"Incidents counted at their first trigger, per week, over the selected teams, by the "+
				"urgency the pager reported (unknown when it did not).",
			"short",
			q(by("urgency", "teamhealth_oncall_incidents_total", "1w"), "{{urgency}}"))).
		WithPanel(graph("Open incidents",
			"Incidents triggered and not resolved yet, per team, at each point in time. A level "+
				"that never returns to 0 means incidents left open, not necessarily ongoing work.",
			"short",
			q(gauge("teamhealth_oncall_open_incidents"), "{{team}}")).
			Decimals(0)).
		WithPanel(withLimit(graph("Time to acknowledge, trailing 7 days",
			"p50, p80 and p95 of the time from trigger to first acknowledgement, over incidents "+
				"acknowledged in the 7 days ending at each point, per team. The dashed line is the "+
				"15 min p80 of TeamhealthSlowAcknowledgement. Gaps mean no acknowledgements.",
			"s",
			quantiles("teamhealth_oncall_time_to_ack_seconds", "7d")...), slowAckSeconds)).
		WithPanel(graph("Time to resolve, trailing 7 days",
			"p50, p80 and p95 of the time from trigger to first resolve, over incidents resolved in "+
				"the 7 days ending at each point, per team. Percentiles are estimated from histogram "+
				"buckets (5 min to 7 d).",
			"s",
			quantiles("teamhealth_oncall_time_to_resolve_seconds", "7d")...)).
		WithPanel(weeklyBars("Unacknowledged incidents per week",
			"Incidents resolved without anyone acknowledging them, per week and team: pages nobody "+
				"answered, or noise that resolved itself. Either is worth a look.",
			"short",
			q(byTeam("teamhealth_oncall_unacknowledged_total", "1w"), "{{team}}")).
			Span(thirdWidth)).
		WithPanel(weeklyBars("Escalations per week",
			"Incident escalations per week and team: the pager moved on to the next level, usually "+
				"because nobody acknowledged in time.",
			"short",
			q(byTeam("teamhealth_oncall_escalations_total", "1w"), "{{team}}")).
			Span(thirdWidth)).
		WithPanel(weeklyBars("Incident reassignments per week",
			"Incidents handed from one responder to another per week and team. Many hand-offs mean "+
				"incidents land on the wrong person first.",
			"short",
			q(byTeam("teamhealth_oncall_reassignments_total", "1w"), "{{team}}")).
			Span(thirdWidth))
}
