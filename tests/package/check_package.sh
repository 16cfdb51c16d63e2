#!/usr/bin/env bash
# The Debian package installs and runs: builds it with CPack into a scratch directory, unpacks it into
# a scratch root (the system's dpkg database is not touched), and checks what a user of a clean
# Debian 12 machine gets from `apt-get install ./orchestrator_<version>_<arch>.deb`:
#   - the package's name, file name, fields and contents (the program, its man page, completions and
#     documentation; no tests, benchmarks, libraries or headers);
#   - Depends: every library the program loads directly comes from a package it names, none is a
#     -dev package, and apt can install them all on a machine where nothing is installed;
#   - the installed program: --version, --help, `serve` starts orchestrator-serve, the man page
#     renders, the bash completion loads, and `orchestrator demo` runs the whole loop.
# Usage: check_package.sh <build>/CPackConfig.cmake <version>
# Quiet on success but for one line; on a failure, says what failed and exits 1.
set -uo pipefail

config=${1:?usage: check_package.sh <build>/CPackConfig.cmake <version>}
version=${2:?usage: check_package.sh <build>/CPackConfig.cmake <version>}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-package.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

failures=0
fail() {
  echo "package: FAILED: $*" >&2
  failures=$((failures + 1))
}
# A failure after which nothing else can be checked.
die() {
  echo "package: FAILED: $*" >&2
  exit 1
}
show() {  # the last lines of a log, indented
  tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2
}

for tool in cpack dpkg-deb dpkg-query groff gzip; do
  command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
done
[ -f "$config" ] || die "$config does not exist (is cmake/packaging.cmake included?)"

# --- Build the package ----------------------------------------------------------------------------
if ! cpack --config "$config" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1; then
  show "$scratch/cpack.log"
  die "cpack could not build the package"
fi
shopt -s nullglob
debs=("$scratch"/out/*.deb)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || die "cpack made ${#debs[@]} .deb files, not 1: ${debs[*]##*/}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
expected_name="orchestrator_${version}_${arch}.deb"
[ "${deb##*/}" = "$expected_name" ] || fail "the package is named ${deb##*/}, not $expected_name"

# --- Fields ---------------------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = orchestrator ] || fail "Package is '$(field Package)', not orchestrator"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', not $arch"
[ "$(field Section)" = utils ] || fail "Section is '$(field Section)', not utils"
[ -n "$(field Maintainer)" ] || fail "no Maintainer field"
[ -n "$(field Description)" ] || fail "no Description field"

depends=$(field Depends)
# The package names of Depends, without versions and alternatives' bars: one per line.
depends_names=$(printf '%s\n' "$depends" | tr ',|' '\n' | sed -E 's/\(.*\)//; s/^ +//; s/ +$//; s/:[a-z0-9]+$//' | sed '/^$/d')
for library in libcurl libpq libsqlite3; do
  grep -q "^$library" <<<"$depends_names" || fail "Depends names no $library package: '$depends'"
done
if grep -q -- '-dev$' <<<"$depends_names"; then
  fail "Depends names a -dev package: '$depends'"
fi

# --- Contents -------------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$scratch/contents"
allowed='^/(usr/?|usr/bin/?|usr/bin/orchestrator|usr/libexec(/orchestrator)?/?|usr/libexec/orchestrator/orchestrator-serve|usr/share/?|usr/share/man(/man1)?/?|usr/share/man/man1/orchestrator\.1\.gz'
allowed+='|usr/share/bash-completion(/completions)?/?|usr/share/bash-completion/completions/orchestrator'
allowed+='|usr/share/zsh(/vendor-completions)?/?|usr/share/zsh/vendor-completions/_orchestrator'
allowed+='|usr/share/doc(/orchestrator)?/?|usr/share/doc/orchestrator/README\.md|usr/share/doc/orchestrator/docs/?'
allowed+='|usr/share/doc/orchestrator/docs/[^/]+\.md)$'
unexpected=$(grep -Ev "$allowed" "$scratch/contents")
[ -z "$unexpected" ] || fail "the package holds files it should not: $(tr '\n' ' ' <<<"$unexpected")"

# A clean Debian 12 machine: apt, told that nothing at all is installed, still finds every package
# the .deb needs in the archive. Needs the package lists (apt-get update); without them, not checked.
resolved="apt: not checked (no package lists)"
if compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null && command -v apt-get >/dev/null; then
  : >"$scratch/empty-status"
  if apt-get -s -o Dir::State::status="$scratch/empty-status" -o Dir::Cache::pkgcache= \
       -o Dir::Cache::srcpkgcache= install --no-install-recommends "$deb" >"$scratch/apt.log" 2>&1 &&
     grep -q '^Inst orchestrator ' "$scratch/apt.log"; then
    resolved="apt installs it with $(grep -c '^Inst ' "$scratch/apt.log") packages on an empty system"
  else
    show "$scratch/apt.log" 15
    fail "apt cannot install the package on an empty system: a dependency is missing from the archive"
  fi
fi

mkdir "$scratch/root"
dpkg-deb -x "$deb" "$scratch/root" || die "dpkg-deb -x could not unpack ${deb##*/}"
root=$scratch/root
program=$root/usr/bin/orchestrator
serve_program=$root/usr/libexec/orchestrator/orchestrator-serve
[ -x "$program" ] || die "the package has no executable /usr/bin/orchestrator"
[ -x "$serve_program" ] || fail "the package has no executable /usr/libexec/orchestrator/orchestrator-serve"
[ -f "$root/usr/share/doc/orchestrator/README.md" ] || fail "no /usr/share/doc/orchestrator/README.md"

# Every library the programs need directly is in a package that Depends names (or in an essential
# package such as libc6, which Depends names too since dpkg-shlibdeps lists it). Transitive libraries
# come with those packages.
# The package that owns a library file, whichever of /lib and /usr/lib (the same since /usr was
# merged) dpkg has it under.
owner_of() {
  local path=$1 candidate owner
  for candidate in "$path" "${path#/usr}" "/usr$path" "$(readlink -f "$path")"; do
    owner=$(dpkg-query -S "$candidate" 2>/dev/null | grep -v '^diversion' | sed -n '1s/[:,].*//p')
    if [ -n "$owner" ]; then
      echo "$owner"
      return
    fi
  done
}
for binary in "$program" "$serve_program"; do
  [ -x "$binary" ] || continue
  name=${binary##*/}
  ldd "$binary" >"$scratch/ldd" 2>&1 || { show "$scratch/ldd"; fail "ldd cannot read the installed $name"; }
  if grep -q 'not found' "$scratch/ldd"; then
    fail "the installed $name needs libraries this machine lacks: $(grep 'not found' "$scratch/ldd" | tr -s ' \t\n' ' ')"
  fi
  needed=$(LC_ALL=C readelf -d "$binary" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [ -n "$needed" ] || fail "readelf finds no NEEDED library in the installed $name"
  for soname in $needed; do
    path=$(awk -v soname="$soname" '$1 == soname && $2 == "=>" {print $3}' "$scratch/ldd")
    owner=
    [ -z "$path" ] || owner=$(owner_of "$path")
    if [ -z "$owner" ]; then
      fail "$soname, which $name needs, comes from no installed Debian package"
    elif ! grep -qx "$owner" <<<"$depends_names"; then
      fail "$soname comes from $owner, which Depends does not name: '$depends'"
    fi
  done
done
# Only orchestrator-serve loads the HTTP server's library.
if LC_ALL=C readelf -d "$program" 2>/dev/null | grep -q 'NEEDED.*httplib'; then
  fail "/usr/bin/orchestrator loads cpp-httplib, which only orchestrator-serve needs"
fi

# --- The installed program ------------------------------------------------------------------------
out=$("$program" --version 2>&1) || fail "orchestrator --version exits with $?: $out"
[ "$out" = "orchestrator $version" ] || fail "orchestrator --version prints '$out', not 'orchestrator $version'"

if out=$("$program" --help 2>&1); then
  grep -q 'demo' <<<"$out" || fail "orchestrator --help does not list the demo command"
else
  fail "orchestrator --help exits with non-zero status: $(head -n 3 <<<"$out")"
fi

# `orchestrator serve` starts the installed orchestrator-serve: a bad --listen is refused there, by the
# code that serves (exit 2, naming SERVE_LISTEN), before anything listens.
out=$(cd "$scratch" && "$program" serve --listen no-port-here 2>&1)
status=$?
if [ "$status" -ne 2 ] || ! grep -q 'SERVE_LISTEN' <<<"$out"; then
  fail "orchestrator serve --listen no-port-here exits with $status, not 2 naming SERVE_LISTEN: $(head -n 3 <<<"$out")"
fi

manpage=$root/usr/share/man/man1/orchestrator.1.gz
if [ ! -f "$manpage" ]; then
  fail "no man page /usr/share/man/man1/orchestrator.1.gz"
elif ! gzip -t "$manpage" 2>/dev/null; then
  fail "the man page is not a valid gzip file"
else
  rendered=$(gzip -dc "$manpage" | groff -man -Tutf8 -P -c 2>"$scratch/groff.log" | sed 's/.\x08//g')
  grep -q '^NAME' <<<"$rendered" || fail "the man page renders without a NAME section"
  grep -q 'orchestrator' <<<"$rendered" || fail "the man page does not name orchestrator"
  [ ! -s "$scratch/groff.log" ] || { show "$scratch/groff.log" 10; fail "groff warns about the man page"; }
fi

bash_completion=$root/usr/share/bash-completion/completions/orchestrator
if [ ! -s "$bash_completion" ]; then
  fail "no bash completion /usr/share/bash-completion/completions/orchestrator"
elif ! out=$(bash --norc --noprofile -c 'source "$1" && complete -p orchestrator' _ "$bash_completion" 2>&1); then
  fail "the bash completion does not load: $(head -n 3 <<<"$out")"
else
  # `orchestrator de<TAB>` offers demo.
  out=$(bash --norc --noprofile -c '
    source "$1"; spec=$(complete -p orchestrator); function=${spec#*-F }; function=${function%% *}
    COMP_WORDS=(orchestrator de); COMP_CWORD=1; COMP_LINE="orchestrator de"; COMP_POINT=${#COMP_LINE}
    "$function" orchestrator de orchestrator && printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_completion" 2>&1)
  grep -qx demo <<<"$out" || fail "the bash completion does not complete 'orchestrator de' to demo: $out"
fi

zsh_completion=$root/usr/share/zsh/vendor-completions/_orchestrator
if [ ! -s "$zsh_completion" ]; then
  fail "no zsh completion /usr/share/zsh/vendor-completions/_orchestrator"
elif ! head -n 1 "$zsh_completion" | grep -q '^#compdef .*orchestrator'; then
  fail "the zsh completion does not start with '#compdef orchestrator'"
elif command -v zsh >/dev/null && ! zsh -n "$zsh_completion" 2>"$scratch/zsh.log"; then
  show "$scratch/zsh.log" 10
  fail "the zsh completion is not valid zsh"
fi

# The whole loop from the installed program, with local files only.
started=$(date +%s)
if ! "$program" demo --fresh --dir "$scratch/demo" >"$scratch/demo.log" 2>&1; then
  show "$scratch/demo.log"
  fail "orchestrator demo from the installed program failed"
fi
demo_seconds=$(($(date +%s) - started))

if [ "$failures" -gt 0 ]; then
  echo "package: $failures check(s) failed for ${deb##*/}" >&2
  exit 1
fi
size_kib=$(( ($(stat -c %s "$deb") + 1023) / 1024 ))
echo "package: ${deb##*/} (${size_kib} KiB, Depends: $depends) installs and runs; $resolved; demo ${demo_seconds} s"
