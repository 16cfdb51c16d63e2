#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need: Debian's packages, and for one
# test the official Hugging Face JavaScript client, from npm, into NODE_PREFIX.
# Usage: scripts/install-deps.sh [NODE_PREFIX]   (default: build/node in the repository; the Makefile
# passes $(BUILD)/node, which is where CMake's ORCH_NODE_PREFIX looks).
# Idempotent: packages already present are left alone, and apt-get and npm run only when something
# is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_prefix="${1:-$repo_root/build/node}"

packages=(
  build-essential cmake pkg-config git ca-certificates
  libcurl4-openssl-dev      # HTTP client: the Hub, redirects, timeouts, concurrent polling
  libssl-dev                # libcrypto's SHA-1 and SHA-256: repository ids here and in the fake Hub
  libpq-dev                 # PostgreSQL client
  libsqlite3-dev            # SQLite, the embedded default database
  sqlite3                   # the sqlite3 shell, to look into a SQLite database (README examples)
  nlohmann-json3-dev        # JSON: metadata, summary, logs
  libcli11-dev              # command line: subcommands, --help
  libtomlplusplus-dev       # the optional TOML configuration file
  libfasttext-dev           # the reference retrain worker's text classifier (orchestrator retrain/predict)
  fasttext                  # the fastText command-line tool: the retrain quality benchmark's yardstick
  libgtest-dev libgmock-dev # unit and end-to-end tests
  python3-yaml              # the dataset card tests read the card's YAML back with PyYAML, as the Hub's tools do
  libcpp-httplib-dev        # orchestrator serve's HTTP server, and the fake Hub's inside the tests
  postgresql                # a real PostgreSQL server for the tests (started on loopback)
  clang libclang-rt-14-dev  # libFuzzer and the sanitizers of `make fuzz` (not needed by make test)
  prometheus-pushgateway    # a real Pushgateway for the metrics push tests (started on loopback)
  lowdown                   # builds the man page from the manual (docs/manual.md)
  dpkg-dev file             # make package: dpkg-shlibdeps writes the package's Depends, file finds its binaries
  groff-base                # the package test renders the installed man page
  zsh                       # the completion test parses the zsh completion script (zsh -n)
  clang-format              # make format, and the test that the tree follows .clang-format
  chromium                  # the serve tests load the status page in headless Chromium, at a phone's size
  prometheus                # promtool: the serve tests check GET /metrics with `promtool check metrics`
  openssl                   # the HTTPS tests make a certificate authority of their own
  time                      # GNU time: bench_prepare's peak memory of prepare beside an in-process fake Hub
)
# Node.js and npm run the official Hub client against the fake Hub (tests only). A machine whose
# node comes from elsewhere (NodeSource bundles npm) keeps it.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# @huggingface/hub at the versions tests/js/package-lock.json pins, for the test that runs the
# official client against the fake Hub; installed again only when the lock file changed.
lock="$repo_root/tests/js/package-lock.json"
if [ -f "$node_prefix/node_modules/@huggingface/hub/package.json" ] && cmp -s "$lock" "$node_prefix/package-lock.json"; then
  echo "install-deps: @huggingface/hub present in $node_prefix"
else
  echo "install-deps: installing @huggingface/hub into $node_prefix"
  mkdir -p "$node_prefix"
  cp "$repo_root/tests/js/package.json" "$lock" "$node_prefix/"
  npm ci --prefix "$node_prefix" --no-audit --no-fund --loglevel=error >/dev/null
fi
