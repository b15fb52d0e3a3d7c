#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, controller + broker in one JVM) on loopback, for
# tests and local use. The jars come from Maven Central through ops/kafka/pom.xml.
#
#   ops/kafka/broker.sh start DIR   formats DIR, starts the broker on free loopback ports,
#                                   waits until it answers, prints its bootstrap address
#                                   (also written to DIR/bootstrap) and returns. On a DIR that
#                                   already ran a broker (stopped), starts it again with the
#                                   same ports and data: a broker restart.
#   ops/kafka/broker.sh stop DIR    stops the broker started in DIR and waits for it to exit.
#   ops/kafka/broker.sh jars        resolves the jars only (into ops/kafka/target/jars).
#
# Environment: KAFKA_HEAP (default -Xmx512m), KAFKA_START_TIMEOUT seconds (default 90).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jars="$here/target/jars"

resolve_jars() {
  if [ ! -f "$jars/.complete" ]; then
    mkdir -p "$jars"
    mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$jars" -DincludeScope=runtime >&2
    touch "$jars/.complete"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1
  resolve_jars
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local port cport
  if [ -f "$dir/server.properties" ]; then
    # A restart: the same listeners and data.
    port=$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*|\1|p' "$dir/server.properties")
    cport=$(sed -n 's|^controller.quorum.voters=1@127.0.0.1:\([0-9]*\)$|\1|p' "$dir/server.properties")
  else
    port=$(free_port)
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    write_properties "$dir" "$port" "$cport"
  fi
  start_jvm "$dir" "$port"
}

write_properties() {
  local dir=$1 port=$2 cport=$3
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=-1
log.segment.bytes=268435456
# Record batches up to 16 MiB: the daemon's default kafka.max_record_bytes (10 MiB) and records
# above it (tests/integration/test_poison.py).
message.max.bytes=16777216
PROPS
  cat > "$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

start_jvm() {
  local dir=$1 port=$2
  local cp="$jars/*"
  local jvm=(java ${KAFKA_HEAP:--Xmx512m -Xms256m} -XX:+UseG1GC -Djava.awt.headless=true
             "-Dlog4j.configuration=file:$dir/log4j.properties" -cp "$cp")
  if [ ! -f "$dir/data/meta.properties" ]; then  # formatted once; a restart keeps its data
    "${jvm[@]}" kafka.tools.StorageTool format -t "$(uuid_of "$dir")" \
      -c "$dir/server.properties" --ignore-formatted > "$dir/format.log" 2>&1
  fi
  setsid "${jvm[@]}" kafka.Kafka "$dir/server.properties" > "$dir/stdout.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-90} ))
  until python3 - "$port" <<'PY' 2>/dev/null
import socket, struct, sys
# An ApiVersions request (key 18, v0): a broker that answers it is serving requests.
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
body = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
s.sendall(struct.pack(">i", len(body)) + body)
n = struct.unpack(">i", s.recv(4))[0]
data = b""
while len(data) < n:
    data += s.recv(n - len(data))
assert struct.unpack(">h", data[4:6])[0] == 0
PY
  do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "kafka broker exited during start; see $dir/stdout.log" >&2
      tail -20 "$dir/stdout.log" >&2
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "kafka broker did not answer within ${KAFKA_START_TIMEOUT:-90}s" >&2
      stop "$dir"
      exit 1
    fi
    sleep 0.5
  done
  echo "127.0.0.1:$port" > "$dir/bootstrap"
  echo "127.0.0.1:$port"
}

uuid_of() {
  # KRaft cluster ids are 16 random bytes, base64url without padding.
  # Never starting with "-": StorageTool would read such an id as an option.
  python3 -c 'import base64,os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"): print(s); break'
}

stop() {
  local dir=$1
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/pid"
}

case "${1:-}" in
  start) start "${2:?usage: broker.sh start DIR}" ;;
  stop) stop "${2:?usage: broker.sh stop DIR}" ;;
  jars) resolve_jars ;;
  *) echo "usage: broker.sh start DIR | stop DIR | jars" >&2; exit 2 ;;
esac
