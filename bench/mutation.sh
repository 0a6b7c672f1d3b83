#!/usr/bin/env bash
# Mutation testing of the money paths with mutmut 3 (configuration: [tool.mutmut] in
# pyproject.toml; what it measures and the last score: docs/money-paths.md). Not part of CI: a
# full run takes hours on 2 cores (a mutant of ClickBank intake runs most of tests/clickbank).
#
#   bench/mutation.sh                      # every mutant, on SQLite
#   AFFSRV_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bench/mutation.sh
#   bench/mutation.sh --core               # only the functions that compute or move money
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
# The functions that compute, record, reverse or pay a commission (the rest of the five files
# parses, stores and reads; the full run covers it).
CORE=(
  'affsrv.clickbank.services.x__count_commissions__*'
  'affsrv.clickbank.services.x__reversal_already_received__*'
  'affsrv.clickbank.services.x__reverse__*'
  'affsrv.clickbank.services.x_commission_ref__*'
  'affsrv.clickbank.services.x__products_for_unknown_skus__*'
  'affsrv.clickbank.services.x_reapply_commissions__*'
  'affsrv.commissions.services.x_commission_amount__*'
  'affsrv.commissions.services.x_record_commission__*'
  'affsrv.commissions.services.x__insert__*'
  'affsrv.commissions.services.x__check_affiliate_may_earn__*'
  'affsrv.commissions.services.x_reverse_commission__*'
  'affsrv.payments.services.x_record_payment__*'
  'affsrv.payments.services.x_record_payout_batch__*'
  'affsrv.payments.services.x_balances__*'
  'affsrv.payments.services.x_owed_at_least__*'
  'affsrv.commissions.services.x_set_status__*'
  'affsrv.dataapi.services.x_commission_call__*'
  'affsrv.db.types.x_to_money__*'
)
if [ "${1:-}" = "--core" ]; then
  shift
  set -- "${CORE[@]}" "$@"
fi
start=$(date +%s)
mutmut run --max-children "${JOBS:-2}" "$@" || true  # exits non-zero when mutants survive
end=$(date +%s)
echo "mutmut ran $((end - start)) s"
# The score over the mutants asked for (all when none), and the survivors' names:
# `mutmut show NAME` shows one.
python bench/mutation_score.py "$@"
