#!/usr/bin/env bash
# Checks the Prometheus and Alertmanager configuration, the rules and their unit tests, and
# the PromQL of the rules and dashboards. Exits non-zero on the first failure.
#
#   ops/prometheus/check.sh
#
# Needs promtool (Debian package prometheus), amtool (prometheus-alertmanager) and Go (the
# lint's modules come from the Go module proxy on first use; ops/setup.sh fetches them). The
# lint checks against the daemon's own catalogue: `build/teamhealth metrics`, or
# `$TEAMHEALTH_BIN metrics`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

for tool in promtool amtool go; do
  if ! command -v "$tool" > /dev/null; then
    echo "check.sh: $tool not found (promtool: apt-get install prometheus;" \
      "amtool: apt-get install prometheus-alertmanager; go: Go 1.26)" >&2
    exit 1
  fi
done

echo "== promtool check config"
promtool check config ops/prometheus/prometheus.yml

echo "== promtool check rules"
promtool check rules ops/prometheus/rules/recording.yml ops/prometheus/alerts.yml

echo "== promtool test rules"
promtool test rules ops/prometheus/tests/*.yml

echo "== amtool check-config"
amtool check-config ops/alertmanager/alertmanager.yml

echo "== alertmanager routes"
# alert labels -> the receiver that must get them
routes=(
  "teamhealth-team-channel|alertname=TeamhealthBurnoutRisk severity=warning team=payments"
  "teamhealth-team-channel|alertname=TeamhealthSleepDisruption severity=warning team=payments"
  "teamhealth-team-channel|alertname=TeamhealthWorkedTimeOff severity=info team=payments"
  "teamhealth-team-channel|alertname=TeamhealthOncallOverload severity=warning team=payments"
  "teamhealth-team-channel|alertname=TeamhealthOncallBypass severity=info team=payments"
  "teamhealth-team-channel|alertname=TeamhealthSlowAcknowledgement severity=info team=payments"
  "teamhealth-operators|alertname=TeamhealthDown severity=critical job=teamhealth"
  "teamhealth-operators|alertname=TeamhealthIngestStalled severity=critical"
  "teamhealth-operators|alertname=TeamhealthQuarantineRate severity=warning"
  "teamhealth-operators|alertname=TeamhealthProjectionLag severity=warning projection=flow"
  "teamhealth-operators|alertname=TeamhealthGatewayKafkaUnavailable severity=critical source=github"
  "teamhealth-operators|alertname=TeamhealthGatewayRejectingSignatures severity=warning source=jira"
  "teamhealth-operators|alertname=TeamhealthSchedulePollFailing severity=warning vendor=pagerduty"
)
for route in "${routes[@]}"; do
  receiver=${route%%|*}
  # shellcheck disable=SC2086 # the labels are separate arguments
  if ! amtool config routes test --config.file=ops/alertmanager/alertmanager.yml \
      --verify.receivers="$receiver" ${route#*|} > /dev/null 2>&1; then
    echo "check.sh: {${route#*|}} is not routed to $receiver" >&2
    exit 1
  fi
  echo "  ${route#*|} -> $receiver"
done

echo "== promlint: go test"
go -C ops/promlint test ./...

echo "== promlint: rules and dashboards"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go -C ops/promlint build -buildvcs=false -o "$work/promlint" .
# The daemon's own catalogue (`teamhealth metrics`): the one list of metric names. The
# fixture under ops/promlint/testdata serves the lint's unit tests only.
bin=${TEAMHEALTH_BIN:-build/teamhealth}
catalogue=$work/catalogue.txt
if ! "$bin" metrics > "$catalogue"; then
  echo "check.sh: cannot list the metrics with $bin metrics (build it, or set TEAMHEALTH_BIN)" >&2
  exit 1
fi
if ! diff -q <(grep -v '^#' ops/promlint/testdata/catalogue.txt | sort) \
    <(sort "$catalogue") > /dev/null; then
  echo "  note: $bin metrics differs from ops/promlint/testdata/catalogue.txt (update the fixture)"
fi
echo "  catalogue: $catalogue"
dashboards=()
[ -d dashboards ] && dashboards=(--dashboards dashboards)
"$work/promlint" --catalogue "$catalogue" \
  --rules ops/prometheus/rules/recording.yml --rules ops/prometheus/alerts.yml \
  "${dashboards[@]}" --runbook ops/RUNBOOK.md

echo "== ops/prometheus/check.sh: all checks passed"
