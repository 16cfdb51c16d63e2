#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need, from Debian's packages only.
# Idempotent: packages already present are left alone, and apt-get runs only when one is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libcurl4-openssl-dev      # HTTP client: the Hub, redirects, timeouts, concurrent polling
  libssl-dev                # libcrypto's SHA-1: commit and file ids of the dataset repositories
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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
