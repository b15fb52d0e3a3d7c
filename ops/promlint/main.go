// Command promlint checks the PromQL of teamhealth's rule files and Grafana dashboards
// against the daemon's metric catalogue (the output of `teamhealth metrics`):
//
//	(a) every expression parses (dashboard variables substituted first);
//	(b) every metric name is in the catalogue, is `up`, or is a recording rule of the rule
//	    files; a histogram is read through its _bucket, _sum and _count series;
//	(c) counters (and histogram series) are read only through rate, increase, irate or
//	    resets, and those functions read only counters;
//	(d) on every dashboard but teamhealth-daemon, a selector of a team-labelled metric has a
//	    `team` matcher (= or =~).
//
// With --runbook it also checks that every alert has a severity, summary, description and
// a runbook_url whose anchor is a heading of the runbook.
//
//	go run . --catalogue FILE --rules FILE [--rules FILE ...] [--dashboards DIR ...]
//	         [--runbook FILE]
//
// It prints one line per problem and exits 1 when there is any, 2 on bad usage.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// daemonDashboard shows the daemon's own metrics, across teams: exempt from check (d).
const daemonDashboard = "teamhealth-daemon"

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Options are the command line.
type Options struct {
	Catalogue  string
	Rules      []string
	Dashboards []string // directories holding *.json
	Runbook    string
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promlint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var rules, dashboards listFlag
	fs.StringVar(&o.Catalogue, "catalogue", "", "metric catalogue: `NAME TYPE` lines (teamhealth metrics)")
	fs.Var(&rules, "rules", "Prometheus rule file (repeatable)")
	fs.Var(&dashboards, "dashboards", "directory of Grafana dashboard *.json (repeatable)")
	fs.StringVar(&o.Runbook, "runbook", "", "RUNBOOK.md whose headings the alerts' runbook_url must name")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Rules, o.Dashboards = rules, dashboards
	if o.Catalogue == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: promlint --catalogue FILE [--rules FILE]... [--dashboards DIR]... [--runbook FILE]")
		return 2
	}
	report, err := Lint(o)
	if err != nil {
		fmt.Fprintf(stderr, "promlint: %v\n", err)
		return 2
	}
	for _, f := range report.Findings {
		fmt.Fprintln(stdout, f)
	}
	fmt.Fprintf(stdout, "promlint: %d expressions in %d rule files and %d dashboards: %d problems\n",
		report.Expressions, len(o.Rules), report.Dashboards, len(report.Findings))
	if len(report.Findings) > 0 {
		return 1
	}
	return 0
}

// Report is the outcome of a lint run.
type Report struct {
	Findings    []string // "FILE: WHERE: [check] message", in file order
	Expressions int
	Dashboards  int
}

// Lint runs every check. An error means the inputs could not be read at all (the catalogue,
// a dashboards directory); a broken rule or dashboard file is a finding.
func Lint(o Options) (*Report, error) {
	catalogue, err := LoadCatalogue(o.Catalogue)
	if err != nil {
		return nil, err
	}
	var anchors map[string]bool
	if o.Runbook != "" {
		if anchors, err = LoadAnchors(o.Runbook); err != nil {
			return nil, err
		}
	}
	r := &Report{}
	note := func(file, where string, p Problem) {
		r.Findings = append(r.Findings, fmt.Sprintf("%s: %s: %s", file, where, p))
	}

	ruleFiles := map[string][]Rule{}
	var recorded []string
	for _, path := range o.Rules {
		rules, err := LoadRules(path)
		if err != nil {
			note(path, "file", Problem{CheckFile, err.Error()})
			continue
		}
		ruleFiles[path] = rules
		for _, rule := range rules {
			if rule.Record != "" {
				recorded = append(recorded, rule.Record)
			}
		}
	}
	linter := NewLinter(catalogue, recorded)

	for _, path := range o.Rules {
		for _, rule := range ruleFiles[path] {
			r.Expressions++
			for _, p := range linter.Check(rule.Expr, false) {
				note(path, rule.Name(), p)
			}
			if rule.Alert != "" {
				for _, p := range CheckAlertMetadata(rule, anchors) {
					note(path, rule.Name(), p)
				}
			}
		}
	}

	for _, dir := range o.Dashboards {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("--dashboards %s: not a directory", dir)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, path := range files {
			d, err := LoadDashboard(path)
			if err != nil {
				note(path, "file", Problem{CheckFile, err.Error()})
				continue
			}
			r.Dashboards++
			requireTeam := d.UID != daemonDashboard
			for _, t := range d.Targets {
				r.Expressions++
				if strings.TrimSpace(t.Expr) == "" {
					note(path, t.Where, Problem{CheckSyntax, "empty expression"})
					continue
				}
				for _, p := range linter.Check(Substitute(t.Expr, d.Vars), requireTeam) {
					note(path, t.Where, p)
				}
			}
		}
	}
	return r, nil
}
