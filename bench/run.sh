#!/usr/bin/env bash
# Builds the project, runs every benchmark in one go and writes the figures, with the machine
# they were measured on, to docs/benchmarks.md.
#
#   bench/run.sh [--rows N] [--runs N]     (defaults: 1,000,000 misclassified rows, 15 runs)
set -euo pipefail
cd "$(dirname "$0")/.."

rows=1000000
runs=15
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: bench/run.sh [--rows N] [--runs N]" >&2; exit 2 ;;
  esac
done

make build >/dev/null
out=docs/benchmarks.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`bench/run.sh --rows $rows --runs $runs\` on $(date -u +%Y-%m-%d):"
  echo "$(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"),"
  echo "PostgreSQL $(/usr/lib/postgresql/*/bin/postgres --version | awk '{print $3}'), orchestrator $(build/orchestrator --version | awk '{print $2}')."
  echo "The machine is shared: each figure is a median of interleaved runs, and ratios compare runs made side by side."
  echo
  echo "## A pass with nothing to do, on a large PostgreSQL database"
  echo
  echo "$rows reviewed misclassifications and $((2 * rows)) complaints, with an index on"
  echo "\`misclassified_complaints.complaint_id\`. The orchestrator's whole process (start, connect,"
  echo "count, decide, summary, exit) against \`psql\` running the very same queries alone (its own start"
  echo "and connection included). How each table is read: the scan nodes of PostgreSQL's plans for the"
  echo "queries the pass sends (one node per query that reads the table, whatever the number of labels),"
  echo "and which tables one pass touched at all (\`pg_stat_user_tables\` scans). Peak RSS is the peak the pass"
  echo "reports itself (\`VmHWM\`, on its last log line)."
  echo
  build/bench_counts --rows "$rows" --runs "$runs"
  echo
  echo "## Waiting for many labels"
  echo
  echo "Every label above its threshold; after the prepare restart the fake Hub (loopback HTTP, in the"
  echo "benchmark process) publishes each label's dataset at a random moment. The pass should end when"
  echo "the slowest dataset appears plus at most one poll interval, whatever the number of labels."
  echo
  build/bench_many_labels --labels 2 --labels 100 --labels 1000 --runs 3
  echo
  echo "## A hostile Hub: how long past POLL_TIMEOUT, and how fast SIGTERM stops it"
  echo
  echo "The pass waits for a dataset against a Hub that misbehaves on purpose (\`tests/support/hostile_server.h\`):"
  echo "at the metadata reads, or at the prepare Space's runtime reads. The first two columns are how long"
  echo "after POLL_TIMEOUT (counted from the prepare restart) the process has exited, against the bound"
  echo "\`docs/manual.md\` states (three requests of (HTTP_RETRIES + 1) x HTTP_TIMEOUT + HTTP_RETRIES x"
  echo "HTTP_RETRY_MAX). The last three are how long SIGTERM, sent while the server keeps the pass waiting"
  echo "(with POLL_TIMEOUT and HTTP_TIMEOUT at 600 s), takes to end it with exit 143."
  echo
  build/bench_hostile --runs 3 || echo "(bench_hostile exits 1 when a pass does not end as documented)"
  echo
  echo "## The reference prepare worker"
  echo
  echo "\`orchestrator prepare\` end to end, on PostgreSQL and on SQLite holding the same rows: 2,000,000"
  echo "complaints (Nepali and English texts with URLs, HTML and line breaks to clean), 1,000,000 of them"
  echo "with a reviewed misclassification, the pool being the other 1,000,000; pinned to one CPU, 1,500,000"
  echo "rows published per run (the misclassified rows and a 0.5 sample). The goals are at least 300,000"
  echo "rows per second by wall time and a peak RSS under 64 MiB on both engines."
  echo
  build/bench_prepare --rows 1000000 --runs 5 || echo "(bench_prepare exits 1 when a goal is missed or the engines' files differ)"
  echo
  echo "## The reference retrain worker"
  echo
  echo "\`orchestrator retrain\` on 100,000 synthetic training rows (2 threads), its macro-F1 on the test split"
  echo "against the \`fasttext\` command-line tool's common settings on the same split. Goals: under 30 s,"
  echo "and a macro-F1 no more than 0.01 below the tool's."
  echo
  build/bench_retrain --rows 100000 --runs 3 || echo "(bench_retrain exits 1 when a goal is missed)"
  echo
  echo "## The demo"
  echo
  echo "\`orchestrator demo --fresh\`: three passes, two prepares and four retrains with local workers."
  echo
  demo_dir=$(mktemp -d)
  start=$(date +%s.%N)
  build/orchestrator demo --fresh --dir "$demo_dir" >/dev/null
  echo "Completed in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s (goal: under 30 s)."
  rm -rf "$demo_dir"
  echo
  echo "## orchestrator serve"
  echo
  echo "\`orchestrator serve\` with 1,000 labels and 10,000 passes in \`orchestrator_runs\`, on SQLite and"
  echo "PostgreSQL. Every label counts 100,000 reviewed misclassifications and 100,000 correct complaints,"
  echo "with thresholds spread so that some are ready and their pool is counted; one label in fifty is"
  echo "preparing and one retraining. The newest 200 passes carry a summary of all 1,000 labels (retrain"
  echo "decisions included, about 300 KB each), the 9,800 older ones a small one: the server reads only the"
  echo "newest 50. The client asks on loopback, one connection per request; each figure is the median (and"
  echo "90th percentile) of 101 requests. Goals: under 50 ms per answer, a page under 200 KiB, under 20 MiB"
  echo "and no CPU while idle."
  echo
  build/bench_serve --idle 10
  echo
  echo "- **Answers come from the snapshot.** The endpoints answer in a few milliseconds whatever counting"
  echo "  costs. The last column asks with \`SERVE_REFRESH=0.001\`, so that every request has a new count"
  echo "  started in the background: the answers take no longer."
  echo "- **The page** is compressed with gzip when the browser asks (the second figure of its weight)."
  echo "- **Idle**: the resident set once warmed up (\`VmRSS\`), of which the process's own memory"
  echo "  (\`RssAnon\`); the rest is pages of the shared libraries. CPU time and context switches of all the"
  echo "  server's threads over the idle seconds (\`/proc/<pid>/task/*/status\`). The peak (\`VmHWM\`) is while"
  echo "  a snapshot reads the 50 newest summaries of 300 KB each."
  echo "- \`serve\` runs in \`orchestrator-serve\`, the one program that loads cpp-httplib (which sets up"
  echo "  OpenSSL when loaded): the other commands do not pay for it."
  echo
  echo "## Soak: kills, faults, lost answers, stale cycles and passes started together"
  echo
  echo "Passes run against PostgreSQL, the fake Hub and a webhook receiver, with both labels, each with its"
  echo "own retrain worker of one kind: Spaces, \`command:\` workers, \`webhook:\` workers, or mixed (a prepare"
  echo "Space, a \`command:\` retrain worker for department and a \`webhook:\` one for urgency). New corrections"
  echo "arrive before most passes. The prepare worker publishes each label's dataset at a random moment within"
  echo "its cycle, or one time in ten never, so that the cycle goes stale (\`STALE_AFTER=3\`) and is prepared"
  echo "anew. One group of passes in three meets an injected fault: 5xx bursts, 429, 502 or 504, a dropped"
  echo "connection, or a request carried out whose answer is then lost (the connection closed, or a gateway's"
  echo "502 or 504), on a restart, a runtime or metadata read, or a webhook delivery. One group in six is two or"
  echo "three passes started at once; three in ten have a pass killed with SIGKILL at a random moment. Retrain"
  echo "jobs end, and their Spaces pause, at random times within a second. Calm passes then finish every cycle."
  echo "A retrain counts once for each Space restart the fake Hub carried out (its answer lost or not), and once"
  echo "for each request a \`command:\` or \`webhook:\` worker acted on (a repeat of its Idempotency-Key is"
  echo "dropped, as those workers do): a duplicate is a second retrain of one version; an untrained version is"
  echo "one published and never retrained. Each run exits 1 naming the invariant that broke."
  for workers in space command webhook mixed; do
    echo
    build/bench_soak --passes 1000 --seed 1 --workers "$workers" 2>/dev/null ||
      echo "(bench_soak exits 1 when an invariant breaks)"
  done
} >"$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "bench: wrote $out"
