#!/usr/bin/env bash
# Installs the Debian packages groupd needs to build and run, when any is
# missing; with --tests, also those the test suite needs.  Runs apt-get as
# root (directly, or through sudo).
set -euo pipefail

packages=(
  build-essential autoconf automake pkg-config   # the toolchain
  libfcgi-dev liblmdb-dev libjson-c-dev check    # the fixed stack
  libsodium-dev     # API key hashing, random keys and UUIDs (BLAKE2b, SHA-256, getrandom)
  libutf8proc-dev   # Unicode case folding and accent removal for sorting and search
  libarchive-dev    # the zip of a OneRoster export (POST /group/bulkImportOneRoster)
  lmdb-utils        # mdb_stat / mdb_dump for operators
  nginx             # the web server in front
  python3 curl      # the quick start's example (and the integration tests)
)
if [ "${1:-}" = --tests ]; then
  packages+=(
    apache2 libapache2-mod-fcgid  # the second supported web server (deploy/apache)
    clang libclang-rt-14-dev  # the libFuzzer harnesses (tests/fuzz)
    clang-format      # the suite checks that every C file keeps .clang-format's layout
    groff-base man-db # rendering the man pages (docs/man)
    systemd           # systemd-analyze: the unit is verified offline
    prometheus        # promtool check metrics
    python3-jsonschema  # every answer is checked against docs/openapi.json
    iproute2          # ip netns and veth pairs: two shards and a router on one machine (a tenant moved under load)
    chromium          # the /docs/ page, loaded headless
    debhelper dpkg-dev lintian fakeroot adduser  # the Debian package is built, checked and installed (its postinst uses adduser; dpkg -i installs no dependency)
  )
fi
# npm fetches the pinned Redoc for the /docs/ page (and, for the tests,
# @redocly/cli); Debian's nodejs and npm only when there is no npm at all.
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
