#!/usr/bin/env bash
# The main job on its embedded default: bring up the local testbed (the real
# HPA controller at a tenth of real time), validate the seed's HPA against the
# five promises scaled the same way, print the report, take the testbed down.
# The exit code is validate's.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${DEMO_DIR:-.cache/demo}
go run ./cmd/testbed up --dir "$dir" > "$dir.env" || { echo "demo: the testbed did not start (see above)" >&2; exit 4; }
trap 'go run ./cmd/testbed down --dir "$dir" >/dev/null' EXIT
# shellcheck disable=SC1090
source "$dir.env"

out=runs/demo-$(date -u +%Y%m%d-%H%M%S)
set +e
"$dir/bin/scalegate" validate \
  --kubeconfig "$KUBECONFIG" --endpoint "$SCALEGATE_ENDPOINT" --profile "$SCALEGATE_PROFILE" \
  --users 100 --duration 12 --time-scale 10 --sample-interval 1s --out "$out" "$@"
rc=$?
set -e
echo "demo: validate exited $rc; the run folder is $out" >&2
exit "$rc"
