#!/usr/bin/env bash
# Mutation testing of the money paths with mutmut 3 (configuration: [tool.mutmut] in
# pyproject.toml; what it measures and the last score: docs/money-paths.md). Not part of CI: a
# full run takes most of an hour on 2 cores.
#
#   bench/mutation.sh                      # every mutant, on SQLite
#   AFFSRV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bench/mutation.sh
#   bench/mutation.sh 'affsrv.clickbank.services*'   # only these mutants (mutmut's globs)
#
# mutmut remembers results in mutants/ and re-tests only functions changed since; remove
# mutants/ for a run from scratch. JOBS (default 2) is the number of mutants tested at once.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ]; then
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -c 'import mutmut' 2>/dev/null || pip install -q 'mutmut>=3.8,<4'
start=$(date +%s)
mutmut run --max-children "${JOBS:-2}" "$@" || true  # exits non-zero when mutants survive
end=$(date +%s)
mutmut results
mutmut export-cicd-stats >/dev/null
python - "$((end - start))" <<'PY'
import json, sys
s = json.load(open("mutants/mutmut-cicd-stats.json"))
tested = s["total"] - s["skipped"]
score = 100 * (s["killed"] + s["timeout"]) / tested if tested else 0.0
print(f"{s['killed']} killed, {s['survived']} survived, {s['timeout']} timed out, "
      f"{s['no_tests']} without tests, {s['skipped']} skipped of {s['total']}: "
      f"score {score:.1f}% in {sys.argv[1]} s")
PY
