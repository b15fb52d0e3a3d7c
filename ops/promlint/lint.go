package main

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Check names one rule of the lint; every Problem says which one it broke.
type Check string

const (
	CheckSyntax  Check = "syntax"          // (a) the expression does not parse
	CheckName    Check = "unknown-metric"  // (b) a name that is not in the catalogue
	CheckCounter Check = "bare-counter"    // (c) a counter outside rate/increase/irate/resets
	CheckRate    Check = "rate-of-gauge"   // (c) rate/increase/irate/resets of a non-counter
	CheckTeam    Check = "no-team-matcher" // (d) a team-labelled selector without `team`
	CheckAlert   Check = "alert-metadata"  // an alert without severity, annotations or anchor
	CheckFile    Check = "file"            // a file that cannot be read
)

// Problem is one finding, tied to the expression it was found in by the caller.
type Problem struct {
	Check Check
	Msg   string
}

func (p Problem) String() string { return fmt.Sprintf("[%s] %s", p.Check, p.Msg) }

// counterFuncs are the range functions made for counters: the only places a counter (or a
// histogram's _bucket, _sum, _count) may be read, and the only ones that may read one.
var counterFuncs = map[string]bool{"rate": true, "increase": true, "irate": true, "resets": true}

// existenceFuncs look at whether series exist, never at their values, so any kind may be
// their argument.
var existenceFuncs = map[string]bool{
	"absent": true, "absent_over_time": true, "present_over_time": true,
}

// prometheusMetrics are the series Prometheus itself writes for a scrape target.
var prometheusMetrics = map[string]Metric{
	"up": {Name: "up", Kind: KindGauge},
}

// Linter checks PromQL expressions against a catalogue and the recording rules.
type Linter struct {
	catalogue Catalogue
	recorded  map[string]bool
	parser    parser.Parser
}

// NewLinter returns a linter that also knows the given recording-rule names.
func NewLinter(c Catalogue, recorded []string) *Linter {
	l := &Linter{catalogue: c, recorded: map[string]bool{}, parser: parser.NewParser(parser.Options{})}
	for _, r := range recorded {
		l.recorded[r] = true
	}
	return l
}

// resolve says what a metric name is. ok is false for a name nobody defines.
func (l *Linter) resolve(name string) (m Metric, ok bool) {
	if m, ok := l.catalogue[name]; ok {
		return m, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if m, ok := l.catalogue[base]; found && ok && m.Kind == KindHistogram {
			return Metric{Name: name, Kind: KindHistogramPart, TeamLabelled: m.TeamLabelled}, true
		}
	}
	if m, ok := prometheusMetrics[name]; ok {
		return m, true
	}
	if l.recorded[name] {
		// A recorded series is a sampled result (a ratio, a quantile): a gauge. Its labels
		// follow the naming convention level:metric:operations, so "team:..." keeps `team`.
		level, _, _ := strings.Cut(name, ":")
		team := false
		for _, part := range strings.Split(level, "_") {
			team = team || part == "team"
		}
		return Metric{Name: name, Kind: KindGauge, TeamLabelled: team}, true
	}
	return Metric{}, false
}

// Check parses expr and applies checks (a) to (c); with requireTeam also (d).
func (l *Linter) Check(expr string, requireTeam bool) []Problem {
	ast, err := l.parser.ParseExpr(expr)
	if err != nil {
		return []Problem{{CheckSyntax, err.Error()}}
	}
	var problems []Problem
	seen := map[string]bool{}
	add := func(c Check, format string, args ...any) {
		p := Problem{c, fmt.Sprintf(format, args...)}
		if !seen[p.String()] {
			seen[p.String()] = true
			problems = append(problems, p)
		}
	}
	parser.Inspect(ast, func(node parser.Node, path []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			l.checkSelector(n, path, requireTeam, add)
		case *parser.Call:
			if counterFuncs[n.Func.Name] && len(n.Args) > 0 {
				l.checkRateArgument(n, add)
			}
		}
		return nil
	})
	return problems
}

type addFunc func(c Check, format string, args ...any)

func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func (l *Linter) checkSelector(vs *parser.VectorSelector, path []parser.Node, requireTeam bool,
	add addFunc) {
	name := metricName(vs)
	if name == "" {
		add(CheckName, "%s selects no single metric name; name the metric", vs)
		return
	}
	m, ok := l.resolve(name)
	if !ok {
		add(CheckName, "%s is not in the catalogue, not a recording rule and not `up`", name)
		return
	}
	switch {
	case m.Kind == KindHistogram:
		add(CheckName, "%s is a histogram: only %s_bucket, %s_sum and %s_count exist",
			name, name, name, name)
	case m.Kind.isCounter() && !readByCounterFunc(path):
		add(CheckCounter, "%s is a %s: read it only through rate(), increase(), irate() or resets()",
			name, m.Kind)
	}
	if requireTeam && m.TeamLabelled && !hasTeamMatcher(vs) {
		add(CheckTeam, "%s has a team label: select one with team=\"$team\" or team=~\"$team\"",
			vs)
	}
}

// readByCounterFunc reports whether the selector at the end of path is the range argument of
// a counter function, or the argument of an existence check.
func readByCounterFunc(path []parser.Node) bool {
	i := len(path) - 1
	skipParens := func() {
		for i >= 0 {
			if _, ok := path[i].(*parser.ParenExpr); !ok {
				return
			}
			i--
		}
	}
	skipParens()
	if i < 0 {
		return false
	}
	switch n := path[i].(type) {
	case *parser.Call: // absent(x)
		return existenceFuncs[n.Func.Name]
	case *parser.MatrixSelector, *parser.SubqueryExpr: // f(x[5m]), f(x[5m:1m])
		i--
	default:
		return false
	}
	skipParens()
	if i < 0 {
		return false
	}
	call, ok := path[i].(*parser.Call)
	return ok && (counterFuncs[call.Func.Name] || existenceFuncs[call.Func.Name])
}

// checkRateArgument reports every non-counter series read by a counter function.
func (l *Linter) checkRateArgument(call *parser.Call, add addFunc) {
	parser.Inspect(call.Args[0], func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if m, ok := l.resolve(metricName(vs)); ok && !m.Kind.isCounter() && m.Kind != KindHistogram {
			add(CheckRate, "%s() of %s, a %s: %s() is only meaningful for counters",
				call.Func.Name, m.Name, m.Kind, call.Func.Name)
		}
		return nil
	})
}

func hasTeamMatcher(vs *parser.VectorSelector) bool {
	for _, m := range vs.LabelMatchers {
		if m.Name == "team" && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) {
			return true
		}
	}
	return false
}
