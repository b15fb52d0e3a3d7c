package main

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v3"
)

// RuleFile is the part of a Prometheus rule file the lint reads.
type RuleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// Rule is a recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Name is "record NAME" or "alert NAME", for messages.
func (r Rule) Name() string {
	if r.Alert != "" {
		return "alert " + r.Alert
	}
	return "record " + r.Record
}

// LoadRules reads one rule file.
func LoadRules(path string) ([]Rule, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f RuleFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var rules []Rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules, nil
}

var severities = map[string]bool{"critical": true, "warning": true, "info": true}

// CheckAlertMetadata checks what every alert must carry (docs/design.md 7.9): a severity of
// critical, warning or info, and summary, description and runbook_url annotations. With a
// runbook's anchors it also checks that runbook_url points at RUNBOOK.md and at an anchor in
// it.
func CheckAlertMetadata(r Rule, anchors map[string]bool) []Problem {
	var problems []Problem
	add := func(format string, args ...any) {
		problems = append(problems, Problem{CheckAlert, fmt.Sprintf(format, args...)})
	}
	if !severities[r.Labels["severity"]] {
		add("severity is %q, want critical, warning or info", r.Labels["severity"])
	}
	for _, key := range []string{"summary", "description", "runbook_url"} {
		if strings.TrimSpace(r.Annotations[key]) == "" {
			add("annotation %s is missing", key)
		}
	}
	link := r.Annotations["runbook_url"]
	if link == "" || anchors == nil {
		return problems
	}
	u, err := url.Parse(link)
	switch {
	case err != nil:
		add("runbook_url %q: %v", link, err)
	case !strings.HasSuffix(u.Path, "RUNBOOK.md"):
		add("runbook_url %q does not point at RUNBOOK.md", link)
	case u.Fragment == "":
		add("runbook_url %q has no #anchor", link)
	case !anchors[u.Fragment]:
		add("runbook_url %q: RUNBOOK.md has no heading with anchor #%s", link, u.Fragment)
	}
	return problems
}

// LoadAnchors returns the anchors GitHub gives the headings of a Markdown file.
func LoadAnchors(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	anchors := map[string]bool{}
	counts := map[string]int{}
	inFence := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		if text == "" || !strings.HasPrefix(strings.TrimLeft(line, "#"), " ") {
			continue
		}
		slug := Slug(text)
		// GitHub numbers repeated headings: x, x-1, x-2, ...
		if n := counts[slug]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			anchors[slug] = true
		}
		counts[slug]++
	}
	return anchors, sc.Err()
}

// Slug is GitHub's heading anchor: lower case, punctuation dropped (but - and _), spaces
// turned into hyphens.
func Slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
