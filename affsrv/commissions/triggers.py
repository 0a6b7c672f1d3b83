"""Triggers keeping the Data API's `commissions` totals (``CommissionTotal``) as the commissions
change.

They run in the transaction and statement of every write
that changes an approved commission or makes or unmakes one, whoever writes it: a recorded,
approved, rejected or reversed commission, a negative twin, ClickBank intake, a CLI command, a
migration, or an operator's SQL. Each adds to its row with one atomic statement (``INSERT ...
ON CONFLICT DO UPDATE SET n = n + excluded.n``, the latest time raised with ``GREATEST``), so
racing writers cannot lose each other's update.

A commission leaving the approved ones (reversed, deleted, changed) is subtracted; its time
cannot be subtracted from a maximum, so when it was the latest, the latest approved commission
left is read again (from ``ix_commissions_affiliate_totals``), after the row's update: on
PostgreSQL that update waits for any writer holding the row, and the next statement of the
trigger sees what it committed; SQLite runs one writer at a time.
"""

# The columns whose change moves a commission between totals rows or changes its part.
_FOLLOWED = ("affiliate_id, product_id, currency, kind, status, sale_total, commission_total, "
             "created_at")
_KEY_OF = ("affiliate_id = {row}.affiliate_id AND currency = {row}.currency "
           "AND product_id = {row}.product_id")
_LATEST_APPROVED = (
    "(SELECT max(c.created_at) FROM commissions AS c WHERE c.affiliate_id = {row}.affiliate_id "
    "AND c.currency = {row}.currency AND c.product_id = {row}.product_id "
    "AND c.status = 'approved')"
)
_COUNT_OF = "CASE WHEN {row}.kind = 'reversal' THEN -1 ELSE 1 END"
_COLUMNS = ("affiliate_id, currency, product_id, commissions, sale_total, commission_total, "
            "approved_rows, last_at")
_VALUES = (f"NEW.affiliate_id, NEW.currency, NEW.product_id, {_COUNT_OF.format(row='NEW')}, "
           "NEW.sale_total, NEW.commission_total, 1, NEW.created_at")
_ADDED = ("commissions = commission_totals.commissions + excluded.commissions, "
          "sale_total = commission_totals.sale_total + excluded.sale_total, "
          "commission_total = commission_totals.commission_total + excluded.commission_total, "
          "approved_rows = commission_totals.approved_rows + excluded.approved_rows, ")
_SUBTRACTED = (f"commissions = commissions - {_COUNT_OF.format(row='OLD')}, "
               "sale_total = sale_total - OLD.sale_total, "
               "commission_total = commission_total - OLD.commission_total, "
               "approved_rows = approved_rows - 1")

_SQLITE_ADD = (
    f"INSERT INTO commission_totals ({_COLUMNS}) SELECT {_VALUES} "
    "WHERE NEW.status = 'approved' "
    "ON CONFLICT (affiliate_id, currency, product_id) DO UPDATE SET " + _ADDED +
    # SQLite's two-argument max() is NULL when either is; its UTC text orders as time.
    "last_at = max(coalesce(commission_totals.last_at, excluded.last_at), excluded.last_at);"
)
_SQLITE_SUBTRACT = (
    f"UPDATE commission_totals SET {_SUBTRACTED}, last_at = CASE WHEN last_at > OLD.created_at "
    f"THEN last_at ELSE {_LATEST_APPROVED.format(row='OLD')} END "
    f"WHERE OLD.status = 'approved' AND {_KEY_OF.format(row='OLD')};"
)

TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS commission_totals_on_insert AFTER INSERT ON commissions "
        f"BEGIN {_SQLITE_ADD} END",
        "CREATE TRIGGER IF NOT EXISTS commission_totals_on_delete AFTER DELETE ON commissions "
        f"BEGIN {_SQLITE_SUBTRACT} END",
        "CREATE TRIGGER IF NOT EXISTS commission_totals_on_update "
        f"AFTER UPDATE OF {_FOLLOWED} ON commissions "
        f"BEGIN {_SQLITE_SUBTRACT} {_SQLITE_ADD} END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION commission_totals_follow() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "DECLARE kept_last timestamptz;\n"
        "BEGIN\n"
        "  IF TG_OP <> 'INSERT' AND OLD.status = 'approved' THEN\n"
        f"    UPDATE commission_totals SET {_SUBTRACTED} WHERE {_KEY_OF.format(row='OLD')}\n"
        "      RETURNING last_at INTO kept_last;\n"
        "    IF FOUND AND (kept_last IS NULL OR kept_last <= OLD.created_at) THEN\n"
        f"      UPDATE commission_totals SET last_at = {_LATEST_APPROVED.format(row='OLD')}\n"
        f"        WHERE {_KEY_OF.format(row='OLD')};\n"
        "    END IF;\n"
        "  END IF;\n"
        "  IF TG_OP <> 'DELETE' AND NEW.status = 'approved' THEN\n"
        f"    INSERT INTO commission_totals ({_COLUMNS}) VALUES ({_VALUES})\n"
        f"      ON CONFLICT (affiliate_id, currency, product_id) DO UPDATE SET {_ADDED}"
        "last_at = GREATEST(commission_totals.last_at, excluded.last_at);\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$",
        # Made again as it stands (PostgreSQL has no CREATE TRIGGER IF NOT EXISTS).
        "DROP TRIGGER IF EXISTS commission_totals_follow ON commissions",
        f"CREATE TRIGGER commission_totals_follow AFTER INSERT OR DELETE OR UPDATE OF {_FOLLOWED} "
        "ON commissions FOR EACH ROW EXECUTE FUNCTION commission_totals_follow()",
    ],
}
