#!/usr/bin/env bash
# The main job against the embedded sandbox, for each example store (Dependent, then
# Independent): validate, plan, apply, plan again showing no changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-demo-out}
rm -rf "$out" && mkdir -p "$out"
bold=$'\033[1m' reset=$'\033[0m'
if [ -n "${NO_COLOR:-}" ]; then bold="" reset=""; fi   # no-color.org: set and non-empty
run() { printf '\n%s$ %s%s\n' "$bold" "$*" "$reset"; "$@"; }

for store in store independent-store; do
  dir="examples/$store"
  run b2b-reconcile validate "$dir"
  run b2b-reconcile sandbox init --db "$out/$store.db" --seed "$dir/sandbox-seed.yaml"
  run b2b-reconcile --sandbox "$out/$store.db" plan "$dir" --out "$out/$store-plan.json"
  run b2b-reconcile --sandbox "$out/$store.db" apply "$dir" --plan "$out/$store-plan.json" \
      --auto-approve --report "$out/$store-report.json"
  set +e
  run b2b-reconcile --sandbox "$out/$store.db" plan "$dir" --detailed-exitcode
  code=$?
  set -e
  if [ "$code" -ne 0 ]; then
    echo "demo: the second plan of $dir is not empty (exit $code)" >&2
    exit 1
  fi
done
echo
echo "demo: plan -> apply -> empty plan, for both example stores. Files in $out/."
