#!/usr/bin/env bash
# deploy/replicas.sh N PORT: N replicas of the app behind Debian's nginx (deploy/nginx.conf), all on loopback.
#
# Starts N `streamlit run app.py` on free loopback ports, installs nginx-light if it is missing, writes the filled-in
# nginx config to a scratch run directory, starts nginx as the current user, waits until the proxy answers
# /_stcore/health, prints the proxy's URL (http://127.0.0.1:PORT) on stdout and runs until Ctrl-C or SIGTERM, which
# stop everything it started. The replicas' ports and the logs' locations go to stderr.
#
# Environment: REPLICAS_RUN_DIR=DIR uses DIR (created if needed, kept afterwards) instead of a mktemp directory
# (removed on exit); NGINX=PATH picks the nginx binary (default: /usr/sbin/nginx, else the one on PATH).
set -euo pipefail

usage() {
  echo "usage: $0 N PORT   (N replicas, 1-16, behind nginx on http://127.0.0.1:PORT)" >&2
  exit 2
}
log() { echo "replicas.sh: $*" >&2; }

[ "$#" -eq 2 ] || usage
n=$1 port=$2
[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 16 ] || usage
[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || usage

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"  # Streamlit reads .streamlit/config.toml from the working directory
py=$root/.venv/bin/python
if [ ! -x "$root/.venv/bin/streamlit" ]; then
  log "no virtual environment with Streamlit in $root/.venv; create it with"
  log "  python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"
  exit 1
fi

# ---------------------------------------------------------------------------------------------------- nginx
nginx=${NGINX:-}
if [ -z "$nginx" ]; then
  if [ -x /usr/sbin/nginx ]; then
    nginx=/usr/sbin/nginx
  elif command -v nginx >/dev/null; then
    nginx=$(command -v nginx)
  else
    log "nginx is missing: installing Debian's nginx-light"
    if [ "$(id -u)" -eq 0 ]; then
      sudo=()
    elif command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      log "not root and no sudo: install it with apt-get install -y nginx-light"
      exit 1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >&2
    # the package starts the system's nginx on port 80; this script does not need it (it runs its own)
    nginx=/usr/sbin/nginx
  fi
fi

# ---------------------------------------------------------------------------------------------------- run directory
if [ -n "${REPLICAS_RUN_DIR:-}" ]; then
  run=$(mkdir -p "$REPLICAS_RUN_DIR" && cd "$REPLICAS_RUN_DIR" && pwd)
  keep_run=1
else
  run=$(mktemp -d "${TMPDIR:-/tmp}/misc-replicas.XXXXXX")
  keep_run=0
fi
case $run in *[[:space:]\;\{\}\'\"\$\#]*)
  log "the run directory's path ($run) has a character nginx's configuration would misread"
  exit 1
  ;;
esac

pids=()
nginx_pid=
# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null
  [ "${#pids[@]}" -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  # give them 10 s to stop, then kill what is left
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 ${nginx_pid:+"$nginx_pid"} "${pids[@]}" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL ${nginx_pid:+"$nginx_pid"} "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
  if [ "$keep_run" -eq 0 ]; then
    rm -rf -- "$run"
  else
    log "logs kept in $run"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

healthy() {  # healthy URL: true if URL/_stcore/health answers "ok"
  "$py" - "$1" <<'EOF'
import sys
import urllib.request

try:
    ok = urllib.request.urlopen(sys.argv[1] + "/_stcore/health", timeout=2).read().strip() == b"ok"
except OSError:
    ok = False
sys.exit(0 if ok else 1)
EOF
}

# ---------------------------------------------------------------------------------------------------- replicas
# N free loopback ports other than PORT, held open together so that they differ
mapfile -t ports < <("$py" - "$n" "$port" <<'EOF'
import socket
import sys

n, avoid = int(sys.argv[1]), int(sys.argv[2])
held = []
while len(held) < n:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    if s.getsockname()[1] != avoid:
        held.append(s)
for s in held:
    print(s.getsockname()[1])
EOF
)
[ "${#ports[@]}" -eq "$n" ] || { log "could not find $n free ports"; exit 1; }
upstreams=
for ((i = 0; i < n; i++)); do
  p=${ports[$i]}
  "$root/.venv/bin/streamlit" run app.py --server.headless true --server.address 127.0.0.1 --server.port "$p" \
    >"$run/replica-$((i + 1)).log" 2>&1 &
  pids+=("$!")
  upstreams+="server 127.0.0.1:$p max_fails=0;"$'\n        '
  log "replica $((i + 1)): http://127.0.0.1:$p (pid $!, log $run/replica-$((i + 1)).log)"
done

for ((i = 0; i < n; i++)); do
  p=${ports[$i]}
  for ((t = 0; ; t++)); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      log "replica $((i + 1)) exited; the end of its log:"
      tail -n 30 "$run/replica-$((i + 1)).log" >&2
      exit 1
    fi
    healthy "http://127.0.0.1:$p" && break
    if [ "$t" -ge 240 ]; then
      log "replica $((i + 1)) is not healthy after 60 s; the end of its log:"
      tail -n 30 "$run/replica-$((i + 1)).log" >&2
      exit 1
    fi
    sleep 0.25
  done
done

# ---------------------------------------------------------------------------------------------------- the proxy
max_upload=$("$py" -c 'import tomllib; print(tomllib.load(open(".streamlit/config.toml", "rb")).get("server", {}).get("maxUploadSize", 200))')
# fill the placeholders outside comments (the header's comments name them)
while IFS= read -r line || [ -n "$line" ]; do
  if [[ ! $line =~ ^[[:space:]]*# ]]; then
    line=${line//@RUNDIR@/$run}
    line=${line//@LISTEN@/127.0.0.1:$port}
    line=${line//@UPSTREAMS@/$upstreams}
    line=${line//@MAX_BODY@/$((max_upload + 1))m}
  fi
  printf '%s\n' "$line"
done <"$root/deploy/nginx.conf" >"$run/nginx.conf"
nginx_args=(-p "$run" -c "$run/nginx.conf" -e "$run/error.log")
if ! "$nginx" "${nginx_args[@]}" -t -q; then
  log "nginx refused the configuration $run/nginx.conf"
  exit 1
fi
"$nginx" "${nginx_args[@]}" -g "daemon off;" &
nginx_pid=$!
log "nginx: pid $nginx_pid, config $run/nginx.conf, logs $run/access.log and $run/error.log"

url=http://127.0.0.1:$port
for ((t = 0; ; t++)); do
  if ! kill -0 "$nginx_pid" 2>/dev/null; then
    log "nginx exited; the end of its error log:"
    tail -n 30 "$run/error.log" >&2 || true
    exit 1
  fi
  healthy "$url" && break
  if [ "$t" -ge 80 ]; then
    log "the proxy does not answer on $url/_stcore/health after 20 s"
    exit 1
  fi
  sleep 0.25
done
echo "$url"

# Run until one of them exits (then stop the others) or a signal comes
set +e
wait -n "$nginx_pid" "${pids[@]}"
log "a replica or nginx exited (status $?): stopping"
exit 1
