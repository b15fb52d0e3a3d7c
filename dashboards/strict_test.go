package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// strictDecode reads a dashboard file strictly into the SDK's types: no unknown or mistyped
// field anywhere (panels, queries, options and field config included) and the SDK's
// validation rules met. It returns the dashboard and every problem found.
func strictDecode(raw []byte) (dashboard.Dashboard, []error) {
	plugins.RegisterDefaultPlugins()
	var problems []error
	var d dashboard.Dashboard
	if err := realError(d.UnmarshalJSONStrict(raw)); err != nil {
		problems = append(problems, fmt.Errorf("strict unmarshal: %w", err))
	}

	// In SDK v0.0.22 Dashboard.UnmarshalJSONStrict reports the panels' errors but keeps nil
	// panels (PanelOrRowPanel returns the typed-nil error list before storing the panel), so
	// each panel is decoded again on its own, strictly, and put back.
	var shape struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		return d, append(problems, err)
	}
	d.Panels = nil
	for i, rawPanel := range shape.Panels {
		panel, panelProblems := strictPanel(rawPanel)
		for _, problem := range panelProblems {
			problems = append(problems, fmt.Errorf("panels[%d]: %w", i, problem))
		}
		d.Panels = append(d.Panels, panel)
	}
	if err := realError(d.Validate()); err != nil {
		problems = append(problems, fmt.Errorf("validate: %w", err))
	}
	return d, problems
}

// strictPanel decodes one panel or row strictly.
func strictPanel(raw json.RawMessage) (dashboard.PanelOrRowPanel, []error) {
	var problems []error
	var parts struct {
		Type        string            `json:"type"`
		Title       string            `json:"title"`
		Targets     []json.RawMessage `json:"targets"`
		Options     json.RawMessage   `json:"options"`
		FieldConfig json.RawMessage   `json:"fieldConfig"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return dashboard.PanelOrRowPanel{}, []error{err}
	}
	fail := func(what string, err error) {
		problems = append(problems, fmt.Errorf("%q: %s%w", parts.Title, what, err))
	}
	if parts.Type == "row" {
		row := &dashboard.RowPanel{}
		if err := realError(row.UnmarshalJSONStrict(raw)); err != nil {
			fail("", err)
		}
		if row.Panels == nil { // an empty "panels" array decodes as nil
			row.Panels = []dashboard.Panel{}
		}
		return dashboard.PanelOrRowPanel{RowPanel: row}, problems
	}

	panel := &dashboard.Panel{}
	if err := realError(panel.UnmarshalJSONStrict(raw)); err != nil {
		fail("", err)
	}
	// The same typed nil loses the queries, options and custom field config that the SDK
	// decodes with the datasource's and the panel type's own types (their errors are still
	// reported above), so those are decoded again, strictly, with those types.
	panel.Targets = nil
	for j, rawTarget := range parts.Targets {
		var target prometheus.Dataquery
		if err := realError(target.UnmarshalJSONStrict(rawTarget)); err != nil {
			fail(fmt.Sprintf("targets[%d]: ", j), err)
		}
		panel.Targets = append(panel.Targets, target)
	}
	decoders, known := panelTypes[panel.Type]
	if !known {
		fail("", fmt.Errorf("panel type %q not covered by this test", panel.Type))
		return dashboard.PanelOrRowPanel{Panel: panel}, problems
	}
	options := decoders.options()
	if err := realError(options.UnmarshalJSONStrict(parts.Options)); err != nil {
		fail("options: ", err)
	}
	panel.Options = options
	if parts.FieldConfig != nil {
		// Panel.UnmarshalJSONStrict reads fieldConfig leniently apart from its custom part.
		var fc dashboard.FieldConfigSource
		if err := realError(fc.UnmarshalJSONStrict(parts.FieldConfig)); err != nil {
			fail("fieldConfig: ", err)
		}
		if fc.Defaults.Custom != nil {
			if decoders.custom == nil {
				fail("", fmt.Errorf("panel type %q has no custom field config", panel.Type))
			} else {
				customRaw, _ := json.Marshal(fc.Defaults.Custom)
				custom := decoders.custom()
				if err := realError(custom.UnmarshalJSONStrict(customRaw)); err != nil {
					fail("fieldConfig.defaults.custom: ", err)
				}
				panel.FieldConfig.Defaults.Custom = custom
			}
		}
	}
	return dashboard.PanelOrRowPanel{Panel: panel}, problems
}

type strictUnmarshaler interface{ UnmarshalJSONStrict(raw []byte) error }

// panelTypes are the SDK types of the panels the dashboards use: their options and, where the
// panel has one, the custom part of their field config.
var panelTypes = map[string]struct{ options, custom func() strictUnmarshaler }{
	"stat":     {options: func() strictUnmarshaler { return &stat.Options{} }},
	"bargauge": {options: func() strictUnmarshaler { return &bargauge.Options{} }},
	"timeseries": {
		options: func() strictUnmarshaler { return &timeseries.Options{} },
		custom:  func() strictUnmarshaler { return &timeseries.FieldConfig{} },
	},
}

// Each committed file reads back strictly into the SDK's types and renders back to the same
// bytes: the SDK's types hold everything the file says.
func TestCommittedFilesUnmarshalStrictly(t *testing.T) {
	for _, uid := range wantUIDs {
		raw := committed(t, uid+".json")
		d, problems := strictDecode(raw)
		for _, problem := range problems {
			t.Errorf("%s: %v", uid, problem)
		}
		if len(problems) > 0 {
			continue
		}
		again, err := Render(d)
		if err != nil {
			t.Errorf("%s: render: %v", uid, err)
		} else if !bytes.Equal(again, raw) {
			t.Errorf("%s: rendering the strictly decoded dashboard does not give the file back", uid)
		}
	}
}

// The strict decoding does reach into panels: an unknown key in a panel's options, its field
// config or a query is an error.
func TestStrictDecodeRejectsUnknownFields(t *testing.T) {
	raw := committed(t, "teamhealth-overview.json")
	for _, tc := range []struct{ anchor, inject string }{
		{`"graphMode": "none",`, `"graphMode": "none", "bogusOption": 1,`},
		{`"unit": "short",`, `"unit": "short", "bogusField": 1,`},
		{`"legendFormat": "interruptions",`, `"legendFormat": "interruptions", "bogusQuery": 1,`},
		{`"repeat": "team"`, `"repeat": "team", "bogusRow": 1`},
	} {
		if !bytes.Contains(raw, []byte(tc.anchor)) {
			t.Fatalf("anchor %s not in the overview", tc.anchor)
		}
		bad := bytes.Replace(raw, []byte(tc.anchor), []byte(tc.inject), 1)
		if _, problems := strictDecode(bad); len(problems) == 0 {
			t.Errorf("strict decoding accepted %s", tc.inject)
		}
	}
}

// realError undoes a typed nil: the SDK's strict unmarshallers return their error list, of
// type cog.BuildErrors, even when it is empty, which is a non-nil error interface.
func realError(err error) error {
	if errs, ok := err.(cog.BuildErrors); ok && len(errs) == 0 {
		return nil
	}
	return err
}
