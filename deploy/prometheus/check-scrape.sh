#!/usr/bin/env bash
# Runs Debian's real Prometheus against a tensord on loopback and checks that the target is up
# and that a tensord metric can be queried. Installs the `prometheus` package when missing
# (about 100 MB, so CI does not run this; run it after changing the metrics):
#
#   deploy/prometheus/check-scrape.sh [path/to/tensord]     (default build/default/server/tensord)
#
# Everything binds 127.0.0.1 on free ports and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
server_bin="${1:-build/default/server/tensord}"
if ! command -v prometheus >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends prometheus
fi
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

"$server_bin" --listen=127.0.0.1:0 --port_file="$work/port" --metrics_listen=127.0.0.1:0 \
  --metrics_port_file="$work/metrics_port" >"$work/tensord.log" 2>&1 &
pids+=($!)
wait_for_file "$work/metrics_port" || { echo "tensord did not start:"; cat "$work/tensord.log"; exit 1; }
metrics_port="$(cat "$work/metrics_port")"
prom_port="$(free_port)"
sed -e "s/scrape_interval: 15s/scrape_interval: 1s/" \
    -e "s/127.0.0.1:9464/127.0.0.1:$metrics_port/" deploy/prometheus/prometheus.yml >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
pids+=($!)

api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 60); do
  health="$(curl -sf "$api/targets" | python3 -c '
import json, sys
targets = json.load(sys.stdin)["data"]["activeTargets"]
print(targets[0]["health"] if targets else "none")' 2>/dev/null || echo starting)"
  value="$(curl -sf "$api/query?query=tensord_sessions" | python3 -c '
import json, sys
result = json.load(sys.stdin)["data"]["result"]
print(result[0]["value"][1] if result else "")' 2>/dev/null || true)"
  if [ "$health" = "up" ] && [ -n "$value" ]; then
    echo "ok: Prometheus scrapes tensord on 127.0.0.1:$metrics_port (target up, tensord_sessions = $value)"
    exit 0
  fi
  sleep 1
done
echo "FAILED: target health '$health', tensord_sessions '$value'"
tail -20 "$work/prometheus.log"
exit 1
