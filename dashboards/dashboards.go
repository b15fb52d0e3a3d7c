// Package dashboards builds teamhealth's five Grafana dashboards as code, with the Grafana
// Foundation SDK, and renders them as the raw dashboard JSON that Grafana's file provisioning
// loads (docs/design.md 7.10). The metric names and labels used here are the contract of
// docs/design.md section 7; the uids are a contract too.
//
// The committed JSON files next to this package are generated: `go run ./gen` rewrites them,
// and the tests fail when they differ from what this package renders.
package dashboards

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// File is one rendered dashboard.
type File struct {
	UID  string // the dashboard uid, a contract (links and bookmarks use it)
	Name string // file name in the dashboards directory: UID + ".json"
	JSON []byte // indented JSON, ending with a newline
}

// builders lists the dashboards in the order they are written and documented.
var builders = []func() *dashboard.DashboardBuilder{
	overview,
	oncall,
	interruptions,
	flow,
	daemon,
}

// All builds and renders every dashboard. The output is deterministic: the same code gives
// byte-identical files.
func All() ([]File, error) {
	files := make([]File, 0, len(builders))
	for _, build := range builders {
		d, err := build().Build()
		if err != nil {
			return nil, err
		}
		raw, err := Render(d)
		if err != nil {
			return nil, err
		}
		uid := ""
		if d.Uid != nil {
			uid = *d.Uid
		}
		files = append(files, File{UID: uid, Name: uid + ".json", JSON: raw})
	}
	return files, nil
}

// provisioned writes a dashboard in the shape file provisioning expects: `"id": null` first
// (the id is Grafana's own, per instance; the uid identifies the dashboard), then the SDK's
// fields. The SDK omits a nil id, and its Dashboard has no MarshalJSON of its own, so the
// shallower field wins under encoding/json's embedding rules.
type provisioned struct {
	ID *int64 `json:"id"`
	dashboard.Dashboard
}

// Render numbers the panels (ids unique within the dashboard, in grid order; set in place, as
// the panels are shared with the caller) and returns the dashboard as indented JSON with
// `"id": null`.
func Render(d dashboard.Dashboard) ([]byte, error) {
	if d.Uid == nil || *d.Uid == "" {
		return nil, fmt.Errorf("dashboard %q has no uid", deref(d.Title))
	}
	d.Id = nil
	// The SDK's link builder always sets placement "inControlsMenu", which newer Grafana
	// versions fold into a menu; without it the dashboards dropdown sits above the panels.
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	var next uint32 = 1
	for i := range d.Panels {
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			id := next
			p.Panel.Id = &id
		case p.RowPanel != nil:
			p.RowPanel.Id = next
		}
		next++
	}
	raw, err := json.MarshalIndent(provisioned{Dashboard: d}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", *d.Uid, err)
	}
	return append(raw, '\n'), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
