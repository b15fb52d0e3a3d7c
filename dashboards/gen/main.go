// Command gen writes teamhealth's Grafana dashboards as JSON files.
//
//	cd dashboards && go run ./gen            # writes ./teamhealth-*.json
//	go run ./gen -out /etc/grafana/dashboards/teamhealth
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"teamhealth/dashboards"
)

func main() {
	out := flag.String("out", ".", "directory to write the dashboard JSON files into")
	flag.Parse()

	files, err := dashboards.All()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gen: %v\n", err)
		os.Exit(1)
	}
	for _, f := range files {
		path := filepath.Join(*out, f.Name)
		if err := os.WriteFile(path, f.JSON, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gen: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(path)
	}
}
