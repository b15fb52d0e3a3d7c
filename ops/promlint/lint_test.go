package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func testLinter(t *testing.T) *Linter {
	t.Helper()
	c, err := LoadCatalogue("testdata/catalogue.txt")
	if err != nil {
		t.Fatal(err)
	}
	return NewLinter(c, []string{
		"team:teamhealth_burnout_at_risk:share",
		"job:teamhealth_records_quarantined:ratio_1h",
	})
}

func checks(problems []Problem) []Check {
	out := []Check{}
	for _, p := range problems {
		out = append(out, p.Check)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Each expression breaks exactly the listed checks, and no other.
func TestCheckFindsEachProblem(t *testing.T) {
	l := testLinter(t)
	cases := []struct {
		name        string
		expr        string
		requireTeam bool
		want        []Check
	}{
		{"syntax error", `sum(rate(teamhealth_oncall_incidents_total[5m])`, false,
			[]Check{CheckSyntax}},
		{"unknown name", `sum(teamhealth_happiness_index)`, false, []Check{CheckName}},
		{"not in the catalogue", `increase(teamhealth_meeting_hours_total[5m])`, false, []Check{CheckName}},
		{"no metric name", `sum({__name__=~"teamhealth_.*"})`, false, []Check{CheckName}},
		{"histogram family name", `teamhealth_oncall_time_to_ack_seconds`, false,
			[]Check{CheckName}},
		{"bare counter", `teamhealth_oncall_incidents_total`, false, []Check{CheckCounter}},
		{"counter under sum", `sum by (team) (teamhealth_oncall_incidents_total)`, false,
			[]Check{CheckCounter}},
		{"counter under delta", `delta(teamhealth_oncall_incidents_total[1h])`, false,
			[]Check{CheckCounter}},
		{"counter in a subquery of an aggregation",
			`rate(sum(teamhealth_oncall_incidents_total)[1h:5m])`, false, []Check{CheckCounter}},
		{"bare histogram count", `teamhealth_cycle_time_seconds_count`, false,
			[]Check{CheckCounter}},
		{"bare histogram bucket",
			`histogram_quantile(0.8, sum by (le) (teamhealth_cycle_time_seconds_bucket))`, false,
			[]Check{CheckCounter}},
		{"gauge under rate", `rate(teamhealth_wip_items[5m])`, false, []Check{CheckRate}},
		{"gauge under increase", `sum(increase(teamhealth_consumer_lag_messages[1h]))`, false,
			[]Check{CheckRate}},
		{"up under irate", `irate(up[5m])`, false, []Check{CheckRate}},
		{"recording rule under rate", `rate(team:teamhealth_burnout_at_risk:share[1h])`, false,
			[]Check{CheckRate}},
		{"gauge in a subquery under rate", `rate(max(teamhealth_wip_items)[1h:])`, false,
			[]Check{CheckRate}},
		{"missing team matcher",
			`sum(rate(teamhealth_oncall_incidents_total[5m]))`, true, []Check{CheckTeam}},
		{"negative team matcher is no selection",
			`teamhealth_wip_items{team!="payments"}`, true, []Check{CheckTeam}},
		{"team recording rule without team", `team:teamhealth_burnout_at_risk:share`, true,
			[]Check{CheckTeam}},
		{"histogram bucket without team",
			`histogram_quantile(0.8, sum by (le) (rate(teamhealth_pr_pickup_seconds_bucket[1d])))`,
			true, []Check{CheckTeam}},
		{"two problems in one expression",
			`rate(teamhealth_wip_items[5m]) / teamhealth_oncall_incidents_total`, false,
			[]Check{CheckCounter, CheckRate}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := l.Check(c.expr, c.requireTeam)
			if !reflect.DeepEqual(checks(got), c.want) {
				t.Errorf("Check(%q) = %v, want checks %v", c.expr, got, c.want)
			}
		})
	}
}

func TestCheckAcceptsGoodExpressions(t *testing.T) {
	l := testLinter(t)
	for _, expr := range []string{
		`sum by (team) (increase(teamhealth_oncall_interruptions_total{team="payments"}[7d]))`,
		`histogram_quantile(0.8, sum by (team, le) (rate(teamhealth_oncall_time_to_ack_seconds_bucket{team=~"payments"}[7d])))`,
		`sum(rate(teamhealth_pr_review_seconds_sum{team="a"}[1d])) / sum(rate(teamhealth_pr_review_seconds_count{team="a"}[1d]))`,
		`resets(teamhealth_work_items_completed_total{team="a"}[1d])`,
		`irate(teamhealth_context_switches_total{team="a"}[5m])`,
		`rate(teamhealth_focus_lost_seconds_total{team="a"}[1h:5m])`,
		`rate((teamhealth_focus_lost_seconds_total{team="a"})[1h:5m])`,
		`max by (team) (teamhealth_burnout_members_at_risk{team="a",signal="any"})`,
		`team:teamhealth_burnout_at_risk:share{team="a"} >= 0.25`,
		`absent(teamhealth_events_ingested_total)`,
		`absent_over_time(teamhealth_oncall_incidents_total{team="a"}[1d])`,
		`up{job="teamhealth"} == 0`,
		`job:teamhealth_records_quarantined:ratio_1h > 0.01`,
		`max(changes(teamhealth_log_last_sequence[10m])) == 0`,
		`deriv(teamhealth_consumer_lag_messages[10m])`,
		`teamhealth_build_info`,
		`sum(teamhealth_privacy_suppressed_series)`,
	} {
		if got := l.Check(expr, true); len(got) > 0 {
			t.Errorf("Check(%q) = %v, want no problems", expr, got)
		}
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"quantile": "0.9", "team": "ignored: team is always payments"}
	cases := map[string]string{
		`rate(x{team="$team"}[$__rate_interval])`:      `rate(x{team="payments"}[5m])`,
		`rate(x{team=~"${team}"}[$__interval])`:        `rate(x{team=~"payments"}[1m])`,
		`increase(x{team=~"${team:regex}"}[$__range])`: `increase(x{team=~"payments"}[1d])`,
		`x{team="[[team]]"}`:                           `x{team="payments"}`,
		`histogram_quantile($quantile, y)`:             `histogram_quantile(0.9, y)`,
		`x{service="$service"} > $limit`:               `x{service="value"} > 1`,
		`rate(x[$window]) offset $shift`:               `rate(x[5m]) offset 5m`,
		`x{a="\"$q"}`:                                  `x{a="\"value"}`,
		`x / $__range_s`:                               `x / 86400`,
	}
	for in, want := range cases {
		if got := Substitute(in, vars); got != want {
			t.Errorf("Substitute(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoodDashboardsPass(t *testing.T) {
	// The fixture reads a recording rule: it is known only through --rules.
	r, err := Lint(Options{Catalogue: "testdata/catalogue.txt",
		Rules:      []string{"../prometheus/rules/recording.yml"},
		Dashboards: []string{"testdata/dashboards/good"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) > 0 {
		t.Errorf("findings: %q", r.Findings)
	}
	// 6 recording rules; 6 Prometheus targets in the on-call fixture (its 2 Loki targets
	// skipped) and 3 in the daemon's.
	if r.Dashboards != 2 || r.Expressions != 6+9 {
		t.Errorf("got %d dashboards, %d expressions; want 2, 15", r.Dashboards, r.Expressions)
	}
}

// Every broken target is found, including the one inside a collapsed row, and a file that is
// not JSON is reported rather than skipped.
func TestBadDashboardsFail(t *testing.T) {
	r, err := Lint(Options{Catalogue: "testdata/catalogue.txt",
		Dashboards: []string{"testdata/dashboards/bad"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`broken.json: file: [file]`,
		`panel "Top level" (id 1) target A: [rate-of-gauge] rate() of teamhealth_wip_items`,
		`panel "Top level" (id 1) target B: [bare-counter] teamhealth_oncall_incidents_total`,
		`panel "Top level" (id 1) target C: [unknown-metric] teamhealth_meeting_hours_total`,
		`panel "Top level" (id 1) target D: [syntax]`,
		`panel "Top level" (id 1) target E: [syntax] empty expression`,
		`panel "Nested in the row" (id 3) target A: [no-team-matcher] teamhealth_oncall_interruptions_total`,
	}
	if len(r.Findings) != len(want) {
		t.Errorf("got %d findings, want %d:\n%s", len(r.Findings), len(want),
			strings.Join(r.Findings, "\n"))
	}
	for _, w := range want {
		found := false
		for _, f := range r.Findings {
			found = found || strings.Contains(f, w)
		}
		if !found {
			t.Errorf("no finding contains %q; findings:\n%s", w, strings.Join(r.Findings, "\n"))
		}
	}
}

func TestRuleFileProblems(t *testing.T) {
	r, err := Lint(Options{Catalogue: "testdata/catalogue.txt",
		Rules: []string{"testdata/rules/bad.yml"}, Runbook: "testdata/runbook.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`record team:teamhealth_wip:rate5m: [rate-of-gauge] rate() of teamhealth_wip_items`,
		`alert NoSeverity: [alert-metadata] severity is ""`,
		`alert NoSeverity: [alert-metadata] runbook_url "https://github.com/teamhealth/teamhealth/blob/main/ops/RUNBOOK.md#no-such-heading": RUNBOOK.md has no heading`,
	}
	if len(r.Findings) != len(want) {
		t.Errorf("got findings:\n%s", strings.Join(r.Findings, "\n"))
	}
	for i, w := range want {
		if i >= len(r.Findings) || !strings.Contains(r.Findings[i], w) {
			t.Errorf("finding %d should contain %q; findings:\n%s", i, w,
				strings.Join(r.Findings, "\n"))
		}
	}
}

// The repository's own rule files pass, with every runbook_url anchor present in
// ops/RUNBOOK.md.
func TestRepositoryRulesPass(t *testing.T) {
	r, err := Lint(Options{
		Catalogue: "testdata/catalogue.txt",
		Rules: []string{
			"../prometheus/rules/recording.yml",
			"../prometheus/alerts.yml",
		},
		Runbook: "../RUNBOOK.md",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) > 0 {
		t.Errorf("findings:\n%s", strings.Join(r.Findings, "\n"))
	}
	if r.Expressions != 20 {
		t.Errorf("checked %d rules, want 6 recording + 14 alerting", r.Expressions)
	}
}

func TestAnchors(t *testing.T) {
	got, err := LoadAnchors("testdata/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"runbook-fixture":           true,
		"teamhealthdown":            true,
		"what-a-team-lead-can-do":   true,
		"what-a-team-lead-can-do-1": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("anchors = %v, want %v", got, want)
	}
	if s := Slug("TeamhealthIngestStalled: no new events (`lag > 0`)"); s != "teamhealthingeststalled-no-new-events-lag--0" {
		t.Errorf("Slug = %q", s)
	}
}

func TestCatalogue(t *testing.T) {
	c, err := ParseCatalogue(strings.NewReader(
		"# comment\n\nx_total counter\ny gauge team,signal\nz gauge -\nteamhealth_build_info gauge\nh histogram\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c["x_total"].TeamLabelled || !c["y"].TeamLabelled || c["z"].TeamLabelled ||
		c["teamhealth_build_info"].TeamLabelled || c["h"].Kind != KindHistogram {
		t.Errorf("catalogue = %+v", c)
	}
	for _, bad := range []string{"x summary\n", "x counter\nx gauge\n", "x\n", "", "a b c d\n"} {
		if _, err := ParseCatalogue(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseCatalogue(%q) accepted", bad)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "dashboards")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--catalogue", "testdata/catalogue.txt", "--dashboards", empty}, 0},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--dashboards", "testdata/dashboards/good"}, 1},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--rules", "../prometheus/rules/recording.yml",
			"--dashboards", "testdata/dashboards/good"}, 0},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--dashboards", "testdata/dashboards/bad"}, 1},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--rules", "testdata/rules/bad.yml"}, 1},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--rules", "no/such/file.yml"}, 1},
		{[]string{"--dashboards", empty}, 2},
		{[]string{"--catalogue", "no/such/catalogue"}, 2},
		{[]string{"--catalogue", "testdata/catalogue.txt", "--dashboards", "no/such/dir"}, 2},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		if got := run(c.args, &out, &errOut); got != c.want {
			t.Errorf("run(%q) = %d, want %d\nstdout: %s\nstderr: %s", c.args, got, c.want,
				out.String(), errOut.String())
		}
	}
}
