#!/usr/bin/env bash
# Installs what teamhealth needs on Debian 12 (only what is missing), resolves the Kafka broker
# jars through Maven, and builds into build/. Idempotent; safe to run on every invocation.
#
#   ops/setup.sh            install + configure + build (build/teamhealth)
#   BUILD_TYPE=Debug ops/setup.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

packages=(
  build-essential cmake ninja-build pkg-config
  librdkafka-dev librocksdb-dev prometheus-cpp-dev libsimdjson-dev libspdlog-dev libfmt-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev protobuf-compiler libprotobuf-dev
  libxxhash-dev libcpp-httplib-dev libhowardhinnant-date-dev tzdata libssl-dev
  # the projections' per-person ordered maps are Abseil B-trees (projections/README.md)
  libabsl-dev
  # the gateway's schedule poller calls the PagerDuty and Opsgenie APIs (daemon/gateway/README.md)
  libcurl4-openssl-dev
  # the daemon allocates through jemalloc (CMakeLists.txt, TEAMHEALTH_JEMALLOC)
  libjemalloc-dev
  kcat prometheus prometheus-alertmanager maven openjdk-17-jre-headless python3 python3-pytest
  python3-jsonschema curl
  # tests/integration/test_retro_page.py renders the HTML retro page (screenshots, PDF).
  chromium
  clang libclang-rt-14-dev
  # tests/integration/test_privacy.py decompresses the SSTs with the system liblz4 (ctypes,
  # liblz4.so.1) and fails without it; RocksDB pulls it in today, this keeps it explicit.
  liblz4-1
)
# A package is skipped when it is installed, or when the tool it provides already works
# (pytest from pip, a JDK or Maven installed another way).
provided() {
  case "$1" in
    python3-pytest) python3 -c 'import pytest' 2>/dev/null ;;
    python3-jsonschema) python3 -c 'import jsonschema' 2>/dev/null ;;
    openjdk-17-jre-headless) java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' ;;
    maven) command -v mvn > /dev/null ;;
    *) return 1 ;;
  esac
}
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" &&
     ! provided "$p"; then
    missing+=("$p")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" > /dev/null
fi

# Python test libraries for the interpreter the tests run with (it may not be Debian's).
for module in pytest jsonschema; do
  python3 -c "import $module" 2>/dev/null ||
    python3 -m pip install --quiet "$module" ||
    python3 -m pip install --quiet --break-system-packages "$module"
done

# Go (the dashboards generator and the PromQL lint are Go, the field's libraries): the
# machine's Go, on PATH or in /usr/local/go; their modules come from the Go module proxy.
go=$(command -v go || echo /usr/local/go/bin/go)
if [ ! -x "$go" ]; then
  echo "ops/setup.sh: Go is needed (go on PATH or /usr/local/go/bin/go)" >&2
  exit 1
fi
echo "== fetching Go modules (dashboards/, ops/promlint/)"
for module in dashboards ops/promlint; do
  [ -f "$module/go.mod" ] && (cd "$module" && "$go" mod download)
done

echo "== resolving the Kafka broker jars (Maven Central)"
ops/kafka/broker.sh jars

echo "== building into build/"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" > /dev/null
ninja -C build
echo "== built build/teamhealth"
