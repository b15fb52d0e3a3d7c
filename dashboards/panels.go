package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The two template variables every dashboard carries.
const (
	datasourceVar = "datasource"
	teamVar       = "team"
	// team is the matcher every selector on the team dashboards carries. With the team
	// variable's "All", Grafana expands $team to a regex of every team.
	team = `team=~"$team"`
)

// Panel sizes on Grafana's 24-column grid.
const (
	fullWidth  = 24
	halfWidth  = 12
	thirdWidth = 8
	statWidth  = 4
	statH      = 4
	graphH     = 8
)

// Thresholds shared with the alert rules (ops/prometheus/alerts.yml, docs/design.md 7.9), so
// a line on a panel sits where the alert fires.
const (
	sreInterruptionsPer12h = 2.0   // TeamhealthOncallOverload: Google SRE's two per 12 h shift
	bypassShareAlert       = 0.2   // TeamhealthOncallBypass
	burnoutShareAlert      = 0.25  // TeamhealthBurnoutRisk
	slowAckSeconds         = 900   // TeamhealthSlowAcknowledgement: p80 over 15 min
	projectionLagAlert     = 10000 // TeamhealthProjectionLag
)

// provisionedDatasource is the name and uid of the datasource in
// ops/grafana/provisioning/datasources/teamhealth.yml, selected by default; where Grafana has
// no such datasource it falls back to its default Prometheus one.
const provisionedDatasource = "teamhealth-prometheus"

var promDatasource = common.DataSourceRef{
	Type: cog.ToPtr("prometheus"),
	Uid:  cog.ToPtr("${" + datasourceVar + "}"),
}

// newDashboard starts a dashboard with the settings all five share: uid, the datasource and
// team variables, read-only in the UI (the Go code is the source; a provisioned copy cannot be
// saved anyway), browser time zone and weeks starting on Monday.
func newDashboard(uid, title, description, from, refresh string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"teamhealth"}).
		Readonly().
		Timezone(common.TimeZoneBrowser).
		WeekStart("monday").
		Time(from, "now").
		Refresh(refresh).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("teamhealth").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"teamhealth"}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVar).
			Label("Data source").
			Type("prometheus").
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(provisionedDatasource)},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(provisionedDatasource)},
			})).
		WithVariable(dashboard.NewQueryVariableBuilder(teamVar).
			Label("Team").
			Description("Teams from the directory (teamhealth_team_members).").
			Datasource(promDatasource).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(teamhealth_team_members, team)")}).
			Definition("label_values(teamhealth_team_members, team)").
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			Current(dashboard.VariableOption{
				Selected: cog.ToPtr(true),
				Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
				Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
			}))
}

// row is a plain (expanded) row; the panels that follow it on the dashboard belong to it.
func row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title)
}

// q is a range query; legend is Grafana's legend template ("{{team}}").
func q(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(promDatasource).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instant is an instant query, for stat and bar-gauge panels that show one current value.
func instant(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(promDatasource).
		Expr(expr).
		LegendFormat(legend).
		Instant()
}

// targets gives the queries refIds A, B, C, ...
func targets(queries []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(queries))
	for i, query := range queries {
		out = append(out, query.RefId(string(rune('A'+i))))
	}
	return out
}

// graph is a time series panel of lines.
func graph(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDatasource).
		Targets(targets(queries)).
		Unit(unit).
		Min(0).
		Span(halfWidth).
		Height(graphH).
		LineWidth(2).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// weeklyBars is a stacked bar chart with one bar per week: each query is an increase over
// [1w] and the panel's minimum interval is 1w, so bars do not overlap. Grafana aligns the
// steps to multiples of 7 days since the Unix epoch, so a bar ends on a Thursday 00:00 UTC.
func weeklyBars(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return graph(title, description, unit, queries...).
		Interval("1w").
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		LineWidth(1).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
}

// withLimit draws a red dashed line at limit on a graph: the line an alert or a published
// guideline draws.
func withLimit(panel *timeseries.PanelBuilder, limit float64) *timeseries.PanelBuilder {
	return panel.
		Thresholds(steps("green", step{limit, "red"})).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().
			Mode(common.GraphThresholdsStyleModeDashed))
}

// single is a stat panel showing the last value of one instant query.
func single(title, description, unit string, query *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDatasource).
		Targets(targets([]*prometheus.DataqueryBuilder{query})).
		Unit(unit).
		NoValue("0").
		Span(statWidth).
		Height(statH).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeValue).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"}).
			Values(false)).
		Thresholds(steps("text"))
}

// step is a coloured threshold: values at or above at take color.
type step struct {
	at    float64
	color string
}

// steps colours values: base below the first step, then each step's colour from its bound up.
func steps(base string, from ...step) *dashboard.ThresholdsConfigBuilder {
	list := []dashboard.Threshold{{Value: nil, Color: base}}
	for _, s := range from {
		list = append(list, dashboard.Threshold{Value: cog.ToPtr(s.at), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(list)
}

// bars is a horizontal bar gauge of current values, one bar per series.
func bars(title, description, unit string, query *prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDatasource).
		Targets(targets([]*prometheus.DataqueryBuilder{query})).
		Unit(unit).
		Min(0).
		Span(halfWidth).
		Height(graphH).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ShowUnfilled(true).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"}).
			Values(false))
}

// quantiles are the p50, p80 and p95 of a histogram over window, one series per team. A team
// with no observation in the window (its histogram is exported at 0 from the start) would get
// NaN; `>= 0` drops it, so the panel shows no value rather than NaN.
func quantiles(histogram, window string) []*prometheus.DataqueryBuilder {
	out := []*prometheus.DataqueryBuilder{}
	for _, p := range []struct {
		q    string
		name string
	}{{"0.5", "p50"}, {"0.8", "p80"}, {"0.95", "p95"}} {
		out = append(out, q(fmt.Sprintf(
			"histogram_quantile(%s, sum by (team, le) (rate(%s_bucket{%s}[%s]))) >= 0",
			p.q, histogram, team, window), "{{team}} "+p.name))
	}
	return out
}

// byTeam sums a counter's increase over window per team.
func byTeam(counter, window string) string {
	return fmt.Sprintf("sum by (team) (increase(%s{%s}[%s]))", counter, team, window)
}

// by sums a counter's increase over window by the given labels, over the selected teams.
func by(labels, counter, window string) string {
	return fmt.Sprintf("sum by (%s) (increase(%s{%s}[%s]))", labels, counter, team, window)
}

// ratio divides two per-team counter increases over the same window. A team with nothing to
// divide by has no point rather than NaN or +Inf, as in the recording rules.
func ratio(numerator, denominator, window string) string {
	return byTeam(numerator, window) + " / (" + byTeam(denominator, window) + " > 0)"
}

// rule selects a recording rule of ops/prometheus/rules/recording.yml for the selected teams.
// The panels an alert watches read the alert's own series, so the line and the alert agree.
func rule(name string) string {
	return fmt.Sprintf("%s{%s}", name, team)
}

// The recording rules the dashboards read (each labelled by team only).
const (
	ruleAtRiskShare    = "team:teamhealth_burnout_at_risk:share"
	rulePer12hShift    = "team:teamhealth_oncall_interruptions_per_12h_shift:ratio_7d"
	ruleBypassShare    = "team:teamhealth_oncall_bypass:ratio_7d"
	ruleSwitchesPerDay = "team:teamhealth_context_switches_per_active_day:ratio_7d"
)

// gauge sums a gauge per team over the selected teams.
func gauge(name string, matchers ...string) string {
	return fmt.Sprintf("sum by (team) (%s{%s})", name, strings.Join(append([]string{team}, matchers...), ", "))
}

// ruleNote ends the description of a panel that reads a recording rule: without the rules
// loaded in Prometheus the panel is empty, and this says why.
func ruleNote(name string) string {
	return " Series: recording rule " + name + "."
}
