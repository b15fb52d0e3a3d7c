package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Dashboard is what the lint needs of a Grafana dashboard JSON file.
type Dashboard struct {
	UID     string
	Title   string
	Targets []Target
	// Vars holds the current value of each templating variable that has one.
	Vars map[string]string
}

// Target is one query of one panel.
type Target struct {
	Where string // e.g. `panel "Pages per shift" (id 4) target A`
	Expr  string
}

// LoadDashboard reads a dashboard as exported from Grafana, or wrapped the way the HTTP API
// returns it ({"dashboard": {...}}).
func LoadDashboard(path string) (*Dashboard, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if inner, ok := doc["dashboard"].(map[string]any); ok {
		doc = inner
	}
	d := &Dashboard{Vars: map[string]string{}}
	d.UID, _ = doc["uid"].(string)
	d.Title, _ = doc["title"].(string)
	if templating, ok := doc["templating"].(map[string]any); ok {
		for _, v := range asList(templating["list"]) {
			name, _ := v["name"].(string)
			if value, ok := currentValue(v); ok && name != "" {
				d.Vars[name] = value
			}
		}
	}
	d.walk(asList(doc["panels"]), "")
	for _, row := range asList(doc["rows"]) { // dashboards older than schema 16
		d.walk(asList(row["panels"]), "")
	}
	return d, nil
}

// walk collects the targets of panels, and of the panels nested in collapsed rows.
func (d *Dashboard) walk(panels []map[string]any, inheritedDS string) {
	for _, p := range panels {
		title, _ := p["title"].(string)
		where := fmt.Sprintf("panel %q", title)
		if id, ok := p["id"].(float64); ok {
			where += fmt.Sprintf(" (id %d)", int(id))
		}
		panelDS := datasourceType(p["datasource"])
		if panelDS == "" {
			panelDS = inheritedDS
		}
		for i, t := range asList(p["targets"]) {
			ds := datasourceType(t["datasource"])
			if ds == "" || ds == "datasource" { // "-- Mixed --" defers to each target
				ds = panelDS
			}
			expr, hasExpr := t["expr"].(string)
			if !hasExpr || (ds != "" && ds != "prometheus") {
				continue
			}
			ref, _ := t["refId"].(string)
			if ref == "" {
				ref = fmt.Sprintf("#%d", i+1)
			}
			d.Targets = append(d.Targets, Target{Where: where + " target " + ref, Expr: expr})
		}
		d.walk(asList(p["panels"]), panelDS)
	}
}

func asList(v any) []map[string]any {
	items, _ := v.([]any)
	var out []map[string]any
	for _, item := range items {
		if m, ok := item.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// datasourceType is the plugin type of a datasource reference, "" when it does not say (a
// name or a ${DS_...} input, which the lint assumes is Prometheus).
func datasourceType(v any) string {
	switch ds := v.(type) {
	case map[string]any:
		t, _ := ds["type"].(string)
		return t
	case string:
		switch ds {
		case "-- Grafana --", "-- Dashboard --", "__expr__":
			return "grafana"
		}
	}
	return ""
}

func currentValue(v map[string]any) (string, bool) {
	current, ok := v["current"].(map[string]any)
	if !ok {
		return "", false
	}
	value := current["value"]
	if list, ok := value.([]any); ok && len(list) > 0 {
		value = list[0]
	}
	s, ok := value.(string)
	if !ok || s == "" || s == "$__all" {
		return "", false
	}
	return s, true
}

// builtinVars are Grafana's own variables, and the team every dashboard is drawn for.
var builtinVars = map[string]string{
	"__rate_interval":    "5m",
	"__rate_interval_ms": "300000",
	"__interval":         "1m",
	"__interval_ms":      "60000",
	"__range":            "1d",
	"__range_s":          "86400",
	"__range_ms":         "86400000",
	"__from":             "1767225600000",
	"__to":               "1767312000000",
	"__name":             "series",
	"__dashboard":        "dashboard",
	"__org":              "1",
	"__user":             "1",
	"team":               "payments",
}

// varPattern matches $name, ${name}, ${name:format} and the deprecated [[name]].
var varPattern = regexp.MustCompile(
	`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}|\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Substitute replaces Grafana variables so that the expression can be parsed: built-ins and
// `team` by fixed values, other variables by the dashboard's current value, else by a value
// that fits where the variable stands: a duration inside [...] or after `offset`, a word
// inside a string, a number elsewhere.
func Substitute(expr string, vars map[string]string) string {
	var out strings.Builder
	last := 0
	for _, loc := range varPattern.FindAllStringSubmatchIndex(expr, -1) {
		name := ""
		for g := 1; g <= 3; g++ {
			if loc[2*g] >= 0 {
				name = expr[loc[2*g]:loc[2*g+1]]
			}
		}
		out.WriteString(expr[last:loc[0]])
		out.WriteString(varValue(name, expr[:loc[0]], vars))
		last = loc[1]
	}
	out.WriteString(expr[last:])
	return out.String()
}

func varValue(name, before string, vars map[string]string) string {
	if v, ok := builtinVars[name]; ok {
		return v
	}
	if v, ok := vars[name]; ok {
		return v
	}
	switch {
	case insideString(before):
		return "value"
	case strings.LastIndex(before, "[") > strings.LastIndex(before, "]"),
		strings.HasSuffix(strings.TrimSpace(before), "offset"):
		return "5m"
	}
	return "1"
}

// insideString reports whether a PromQL string literal is open at the end of s.
func insideString(s string) bool {
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case quote != 0 && r == '\\' && quote != '`':
			escaped = true
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\'' || r == '`'):
			quote = r
		}
	}
	return quote != 0
}
