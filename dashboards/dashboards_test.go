package dashboards

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The uids are a contract (docs/design.md 7.10): links and bookmarks point at them.
var wantUIDs = []string{
	"teamhealth-overview",
	"teamhealth-oncall",
	"teamhealth-interruptions",
	"teamhealth-flow",
	"teamhealth-daemon",
}

const regenerate = "regenerate with `cd dashboards && go run ./gen` and commit the JSON files"

func generated(t *testing.T) []File {
	t.Helper()
	files, err := All()
	if err != nil {
		t.Fatalf("building the dashboards: %v", err)
	}
	return files
}

func committed(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%s: %v (%s)", name, err, regenerate)
	}
	return raw
}

func TestGeneratesTheFiveDashboards(t *testing.T) {
	files := generated(t)
	if len(files) != len(wantUIDs) {
		t.Fatalf("got %d dashboards, want %d", len(files), len(wantUIDs))
	}
	for i, f := range files {
		if f.UID != wantUIDs[i] || f.Name != wantUIDs[i]+".json" {
			t.Errorf("dashboard %d: uid %q file %q, want uid %q", i, f.UID, f.Name, wantUIDs[i])
		}
	}
}

// The committed JSON is exactly what the generator writes, so nobody edits it by hand.
func TestCommittedFilesMatchGenerator(t *testing.T) {
	for _, f := range generated(t) {
		got := committed(t, f.Name)
		if bytes.Equal(got, f.JSON) {
			continue
		}
		gotLines := strings.Split(string(got), "\n")
		wantLines := strings.Split(string(f.JSON), "\n")
		line := 0
		for line < len(gotLines) && line < len(wantLines) && gotLines[line] == wantLines[line] {
			line++
		}
		at := func(lines []string) string {
			if line < len(lines) {
				return lines[line]
			}
			return "<end of file>"
		}
		t.Errorf("%s differs from the generator's output at line %d:\n  committed: %s\n  generated: %s\n%s",
			f.Name, line+1, at(gotLines), at(wantLines), regenerate)
	}
}

// rawDashboard is the provisioning-relevant part of a dashboard file, read without the SDK.
type rawDashboard struct {
	ID         json.RawMessage `json:"id"`
	UID        string          `json:"uid"`
	Templating struct {
		List []struct {
			Type       string          `json:"type"`
			Name       string          `json:"name"`
			Query      json.RawMessage `json:"query"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			Multi      bool `json:"multi"`
			IncludeAll bool `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
	Panels []rawPanel `json:"panels"`
}

type rawPanel struct {
	ID          *int   `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Datasource  *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []rawPanel `json:"panels"`
}

func readRaw(t *testing.T, uid string) rawDashboard {
	t.Helper()
	var d rawDashboard
	if err := json.Unmarshal(committed(t, uid+".json"), &d); err != nil {
		t.Fatalf("%s: %v", uid, err)
	}
	return d
}

// Provisioning shape: id null, the uid, a Prometheus datasource variable and the team variable.
func TestProvisioningShape(t *testing.T) {
	for _, uid := range wantUIDs {
		d := readRaw(t, uid)
		if string(d.ID) != "null" {
			t.Errorf("%s: id is %s, want an explicit null", uid, d.ID)
		}
		if d.UID != uid {
			t.Errorf("%s: uid is %q", uid, d.UID)
		}
		vars := map[string]int{}
		for i, v := range d.Templating.List {
			vars[v.Name] = i
		}
		if i, ok := vars[datasourceVar]; !ok {
			t.Errorf("%s: no %q variable", uid, datasourceVar)
		} else if v := d.Templating.List[i]; v.Type != "datasource" || string(v.Query) != `"prometheus"` {
			t.Errorf("%s: variable %q is type %q query %s, want a prometheus datasource variable",
				uid, datasourceVar, v.Type, v.Query)
		}
		if i, ok := vars[teamVar]; !ok {
			t.Errorf("%s: no %q variable", uid, teamVar)
		} else {
			v := d.Templating.List[i]
			if v.Type != "query" || string(v.Query) != `"label_values(teamhealth_team_members, team)"` {
				t.Errorf("%s: variable %q is type %q query %s", uid, teamVar, v.Type, v.Query)
			}
			if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
				t.Errorf("%s: variable %q does not query the datasource variable", uid, teamVar)
			}
			if !v.Multi || !v.IncludeAll {
				t.Errorf("%s: variable %q should be multi-select with All", uid, teamVar)
			}
		}
	}
}

func eachPanel(panels []rawPanel, visit func(rawPanel)) {
	for _, p := range panels {
		visit(p)
		eachPanel(p.Panels, visit)
	}
}

// Every panel says what it shows, queries the datasource variable and has an expression.
func TestPanelsAreDescribedAndQueried(t *testing.T) {
	for _, uid := range wantUIDs {
		d := readRaw(t, uid)
		ids := map[int]bool{}
		panels := 0
		eachPanel(d.Panels, func(p rawPanel) {
			if p.ID == nil || ids[*p.ID] {
				t.Errorf("%s / %s: missing or duplicate panel id", uid, p.Title)
			} else {
				ids[*p.ID] = true
			}
			if p.Type == "row" {
				return
			}
			panels++
			if strings.TrimSpace(p.Title) == "" {
				t.Errorf("%s: a %s panel has no title", uid, p.Type)
			}
			if len(strings.TrimSpace(p.Description)) < 20 {
				t.Errorf("%s / %s: no description (say what it shows and how to read it)", uid, p.Title)
			}
			if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
				t.Errorf("%s / %s: panel datasource is not the datasource variable", uid, p.Title)
			}
			exprs := 0
			for _, target := range p.Targets {
				if strings.TrimSpace(target.Expr) != "" {
					exprs++
				}
			}
			if exprs == 0 {
				t.Errorf("%s / %s: no target with an expression", uid, p.Title)
			}
		})
		if panels == 0 {
			t.Errorf("%s: no panels", uid)
		}
	}
	// Focus lost is an estimate by construction (docs/design.md 7.3) and must say so.
	eachPanel(readRaw(t, "teamhealth-interruptions").Panels, func(p rawPanel) {
		for _, target := range p.Targets {
			if strings.Contains(target.Expr, "teamhealth_focus_lost_seconds_total") &&
				(!strings.Contains(p.Title, "ESTIMATE") || !strings.Contains(p.Description, "ESTIMATE")) {
				t.Errorf("focus lost panel %q must say ESTIMATE in its title and description", p.Title)
			}
		}
	})
}
