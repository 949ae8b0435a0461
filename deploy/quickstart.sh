#!/usr/bin/env bash
# Sets up and runs groupd behind nginx on http://127.0.0.1:8080 with a demo key.
#   deploy/quickstart.sh          install packages if missing, build, start, print the key
#   deploy/quickstart.sh stop     stop what it started (by the PIDs it recorded)
# The database and the key live in var/ (GROUPD_DEMO_VAR); sockets, pid files,
# logs and the /docs/ page in $RUN (GROUPD_DEMO_RUN); the port is 8080
# (GROUPD_DEMO_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
RUN=${GROUPD_DEMO_RUN:-/tmp/groupd-demo-$(id -u)}
VAR=${GROUPD_DEMO_VAR:-$top/var}
DB=$VAR/demo-db
PORT=${GROUPD_DEMO_PORT:-8080}

stop() {
  for f in "$RUN/nginx.pid" "$RUN/groupd.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}
if [ "${1:-}" = stop ]; then
  stop
  echo "stopped"
  exit 0
fi

deploy/install-deps.sh
[ -x configure ] || autoreconf -fi >/dev/null
# The API reference page: Redoc at the version package-lock.json pins.
[ -f docs/site/node_modules/redoc/bundles/redoc.standalone.js ] ||
  npm ci --omit=dev --prefix docs/site --no-audit --no-fund --loglevel=error
mkdir -p build
(cd build && { [ -f Makefile ] || "$top/configure" -q; } && make -s -j2 src/groupd src/groupctl docs-site)

stop
mkdir -p "$RUN/nginx-tmp" "$VAR"
chmod 755 "$RUN"
rm -rf "$RUN/docs" && cp -r build/docs-site "$RUN/docs" && chmod -R a+rX "$RUN/docs"
if [ ! -s "$VAR/demo-key" ]; then
  build/src/groupctl --db "$DB" key create --top-organisation 100 --organisation 101 \
    --role admin --name demo > "$VAR/demo-key"
fi
KEY=$(head -n1 "$VAR/demo-key")

build/src/groupd --db "$DB" --listen "unix:$RUN/groupd.sock" --log "$RUN/groupd.log" \
  </dev/null >/dev/null 2>>"$RUN/groupd.log" &
echo $! > "$RUN/groupd.pid"
for _ in $(seq 50); do [ -S "$RUN/groupd.sock" ] && break; sleep 0.1; done

sed -e "s|@RUN@|$RUN|g" -e "s|@PORT@|$PORT|g" -e "s|@PARAMS@|$top/deploy/nginx/groupd_fastcgi_params|g" \
  deploy/nginx/quickstart.conf.in > "$RUN/nginx.conf"
nginx -c "$RUN/nginx.conf" -p "$RUN"
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done

cat <<MSG
groupd is running behind nginx on http://127.0.0.1:$PORT (log: $RUN/groupd.log)
API reference: http://127.0.0.1:$PORT/docs/
Demo API key (admin, topOrganisation 100, organisation 101):
$KEY

Try:
  curl -s -H 'api-key: $KEY' -H 'Content-Type: application/json' \\
       -d '{"name":"Klas 1A","externalId":"1A-2025"}' http://127.0.0.1:$PORT/group
  curl -s -H 'api-key: $KEY' http://127.0.0.1:$PORT/group/1A-2025
Stop with: deploy/quickstart.sh stop
MSG
