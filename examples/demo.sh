#!/usr/bin/env bash
# The main job against the embedded sandbox: validate, plan, apply, plan again showing no changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-demo-out}
rm -rf "$out" && mkdir -p "$out"
bold=$'\033[1m' reset=$'\033[0m'
if [ -n "${NO_COLOR:-}" ]; then bold="" reset=""; fi   # no-color.org: set and non-empty
run() { printf '\n%s$ %s%s\n' "$bold" "$*" "$reset"; "$@"; }

run b2b-reconcile validate examples/store
run b2b-reconcile sandbox init --db "$out/demo.db" --seed examples/store/sandbox-seed.yaml
run b2b-reconcile --sandbox "$out/demo.db" plan examples/store --out "$out/plan.json"
run b2b-reconcile --sandbox "$out/demo.db" apply examples/store --plan "$out/plan.json" \
    --auto-approve --report "$out/report.json"
set +e
run b2b-reconcile --sandbox "$out/demo.db" plan examples/store --detailed-exitcode
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "demo: the second plan is not empty (exit $code)" >&2
  exit 1
fi
echo
echo "demo: plan -> apply -> empty plan. Files in $out/."
