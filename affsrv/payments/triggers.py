"""Triggers keeping the Data API's `payments` totals (``PaymentTotal``) as the payments change:
in the statement of every write, whoever writes it, each an atomic upsert (``n = n +
excluded.n``), as ``commissions.triggers`` keeps the commission totals (which explains how a
removed latest time is found again). Payouts are normally only added."""

_FOLLOWED = "affiliate_id, currency, method, amount, created_at"
_KEY_OF = ("affiliate_id = {row}.affiliate_id AND currency = {row}.currency "
           "AND method = {row}.method")
_LATEST = ("(SELECT max(p.created_at) FROM payments AS p WHERE p.affiliate_id = OLD.affiliate_id "
           "AND p.currency = OLD.currency AND p.method = OLD.method)")
_COLUMNS = "affiliate_id, currency, method, payments, total, last_at"
_VALUES = "NEW.affiliate_id, NEW.currency, NEW.method, 1, NEW.amount, NEW.created_at"
_ADDED = ("payments = payment_totals.payments + excluded.payments, "
          "total = payment_totals.total + excluded.total, ")
_SUBTRACTED = "payments = payments - 1, total = total - OLD.amount"

_SQLITE_ADD = (
    f"INSERT INTO payment_totals ({_COLUMNS}) SELECT {_VALUES} WHERE true "
    f"ON CONFLICT (affiliate_id, currency, method) DO UPDATE SET {_ADDED}"
    "last_at = max(coalesce(payment_totals.last_at, excluded.last_at), excluded.last_at);"
)
_SQLITE_SUBTRACT = (
    f"UPDATE payment_totals SET {_SUBTRACTED}, last_at = CASE WHEN last_at > OLD.created_at "
    f"THEN last_at ELSE {_LATEST} END WHERE {_KEY_OF.format(row='OLD')};"
)

TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS payment_totals_on_insert AFTER INSERT ON payments "
        f"BEGIN {_SQLITE_ADD} END",
        "CREATE TRIGGER IF NOT EXISTS payment_totals_on_delete AFTER DELETE ON payments "
        f"BEGIN {_SQLITE_SUBTRACT} END",
        "CREATE TRIGGER IF NOT EXISTS payment_totals_on_update "
        f"AFTER UPDATE OF {_FOLLOWED} ON payments "
        f"BEGIN {_SQLITE_SUBTRACT} {_SQLITE_ADD} END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION payment_totals_follow() RETURNS trigger "
        "LANGUAGE plpgsql AS $$\n"
        "DECLARE kept_last timestamptz;\n"
        "BEGIN\n"
        "  IF TG_OP <> 'INSERT' THEN\n"
        f"    UPDATE payment_totals SET {_SUBTRACTED} WHERE {_KEY_OF.format(row='OLD')}\n"
        "      RETURNING last_at INTO kept_last;\n"
        "    IF FOUND AND (kept_last IS NULL OR kept_last <= OLD.created_at) THEN\n"
        f"      UPDATE payment_totals SET last_at = {_LATEST} WHERE {_KEY_OF.format(row='OLD')};\n"
        "    END IF;\n"
        "  END IF;\n"
        "  IF TG_OP <> 'DELETE' THEN\n"
        f"    INSERT INTO payment_totals ({_COLUMNS}) VALUES ({_VALUES})\n"
        f"      ON CONFLICT (affiliate_id, currency, method) DO UPDATE SET {_ADDED}"
        "last_at = GREATEST(payment_totals.last_at, excluded.last_at);\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$",
        # Made again as it stands (PostgreSQL has no CREATE TRIGGER IF NOT EXISTS).
        "DROP TRIGGER IF EXISTS payment_totals_follow ON payments",
        f"CREATE TRIGGER payment_totals_follow AFTER INSERT OR DELETE OR UPDATE OF {_FOLLOWED} "
        "ON payments FOR EACH ROW EXECUTE FUNCTION payment_totals_follow()",
    ],
}
