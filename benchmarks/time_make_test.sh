#!/usr/bin/env bash
# Time `make test` part by part in a fresh clone of a commit (figures for RESULTS.md, never a test).
#   bash benchmarks/time_make_test.sh [COMMIT] [FOLDER]
# COMMIT defaults to HEAD; FOLDER (default /tmp/crps-bench-<commit>) is replaced. Each part runs
# as `make <part>` in the order `make test` runs them, so the install is counted once; a part
# that fails is reported with its exit code and the rest still run. Run it on a quiet machine,
# and compare two commits one after the other, not at the same time.
set -u
commit=$(git rev-parse --short "${1:-HEAD}")
folder=${2:-/tmp/crps-bench-$commit}
rm -rf "$folder"
git clone --quiet "$(git rev-parse --show-toplevel)" "$folder"
git -C "$folder" checkout --quiet "$commit"
cd "$folder" || exit 1
parts="install check-outputs check-index lint test-unit test-notebooks test-book"
grep -q '^check-outputs:' Makefile || parts=${parts/check-outputs /}
total=0
printf 'commit %s\npart\texit\tseconds\n' "$commit"
for part in $parts; do
  start=$(date +%s.%N)
  make "$part" > "$folder/.bench-$part.log" 2>&1
  code=$?
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  total=$(echo "$total + $seconds" | bc)
  printf '%s\t%s\t%.1f\n' "$part" "$code" "$seconds"
done
printf 'all\t-\t%.1f\n' "$total"
