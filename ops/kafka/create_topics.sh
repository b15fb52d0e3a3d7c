#!/usr/bin/env bash
# Creates the topics teamhealth reads: one per webhook source (what `teamhealth gateway`
# produces to) and the canonical topic (on-call shifts and other canonical producers), with
# settings that suit them. Idempotent (--if-not-exists). Uses kafka-topics.sh of the Kafka
# installation (on PATH, or $KAFKA_HOME/bin).
#
#   ops/kafka/create_topics.sh --bootstrap-server kafka-1:9092 [--replication-factor 3]
#                              [--prefix webhooks.] [--retention-days 90] [--dry-run]
#                              [--command-config FILE]
#
# Why these settings:
#   partitions 1 (webhook topics): the gateway keys every body by its source, so a vendor's
#     bodies stay in arrival order (the normalisers learn status categories in that order, and
#     pairing metrics want event order); one partition carries thousands of webhooks a second,
#     far above what an organisation's vendors send.
#   partitions 3 (canonical): canonical producers key by what they like; the daemon reads all.
#   replication factor 3, min.insync.replicas 2: the gateway answers 2xx only after acks=all,
#     so an acknowledged body survives the loss of one broker.
#   retention 90 days: the daemon keeps its own offsets and log, so Kafka's copy is for a new
#     replica or a rebuilt state directory to catch up from; longer is safer, the bodies are small.
#   max.message.bytes 2 MiB: above the gateway's default max_body_bytes (1 MiB) plus headers.
set -euo pipefail

bootstrap=""
rf=3
prefix="webhooks."
retention_days=90
dry_run=false
command_config=()
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bootstrap-server) bootstrap=${2:?--bootstrap-server needs a value}; shift 2 ;;
    --replication-factor) rf=${2:?--replication-factor needs a value}; shift 2 ;;
    --prefix) prefix=${2?--prefix needs a value}; shift 2 ;;
    --retention-days) retention_days=${2:?--retention-days needs a value}; shift 2 ;;
    --command-config) command_config=(--command-config "${2:?--command-config needs a value}"); shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "create_topics.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$bootstrap" ] || { echo "create_topics.sh: missing --bootstrap-server" >&2; exit 2; }
[[ "$rf" =~ ^[1-9][0-9]*$ ]] || { echo "create_topics.sh: --replication-factor $rf: not a number" >&2; exit 2; }
[[ "$retention_days" =~ ^[1-9][0-9]*$ ]] || { echo "create_topics.sh: --retention-days $retention_days: not a number" >&2; exit 2; }
min_isr=$(( rf >= 3 ? 2 : 1 ))
retention_ms=$(( retention_days * 86400000 ))

kafka_topics=$(command -v kafka-topics.sh || command -v kafka-topics || true)
if [ -z "$kafka_topics" ] && [ -n "${KAFKA_HOME:-}" ]; then kafka_topics=$KAFKA_HOME/bin/kafka-topics.sh; fi
if [ -z "$kafka_topics" ] && [ "$dry_run" = false ]; then
  echo "create_topics.sh: kafka-topics.sh not found (put it on PATH or set KAFKA_HOME); --dry-run prints the commands" >&2
  exit 1
fi

create() {
  local topic=$1 partitions=$2
  local cmd=("${kafka_topics:-kafka-topics.sh}" --bootstrap-server "$bootstrap" "${command_config[@]}"
             --create --if-not-exists --topic "$topic" --partitions "$partitions"
             --replication-factor "$rf"
             --config "min.insync.replicas=$min_isr" --config "retention.ms=$retention_ms"
             --config "max.message.bytes=2097152" --config "cleanup.policy=delete")
  if [ "$dry_run" = true ]; then
    printf '%q ' "${cmd[@]}"; echo
  else
    "${cmd[@]}"
  fi
}

for source in github slack pagerduty jira linear opsgenie; do
  create "${prefix}${source}" 1
done
create teamhealth.canonical 3
