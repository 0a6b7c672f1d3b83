"""Outbound instant notifications and e-mails: subscriptions, the outbox, delivery.

Signal receivers (connected when this module is imported) turn every recorded transaction
into outbox rows in the same database transaction: one ``ins`` row per matching subscription
and ``email`` rows for a new commission. The worker claims due rows, delivers them outside any
transaction and records the outcome; a failure is retried with growing back-off and a higher
``attemptCount`` until ``[notifications] max_attempts``.
"""

from __future__ import annotations

import random
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from affsrv.affiliates.models import Affiliate
from affsrv.clickbank.crypto import SECRET_KEY_PATTERN, dumps_exact, encrypt_payload
from affsrv.commissions.models import Commission
from affsrv.db.types import utcnow
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.notifications.destinations import (
    RefusedDestination,
    check_receiver_url,
    describe_failure,
    guarded_session,
    private_ranges,
    safe_url,
)
from affsrv.notifications.mail import UndeliverableMail, mail_text, send_mail
from affsrv.notifications.models import (
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Subscription,
    WorkerHeartbeat,
)
from affsrv.orders.models import Order
from affsrv.payments.models import Payment
from affsrv.products.models import Product
from affsrv.settings import settings
from affsrv.signals import (
    commission_recorded,
    commission_reversed,
    order_recorded,
    payment_recorded,
)

VERSION = "6.0"
#: Payload keys written as JSON numbers (stored as strings so the JSON column stays exact).
NUMBER_KEYS = frozenset({
    "totalAccountAmount", "totalOrderAmount", "totalTaxAmount", "totalShippingAmount",
    "accountAmount", "productPrice", "productDiscount", "taxAmount", "shippingAmount",
    "jvPayout", "affiliatePayout", "version",
})
REVERSAL_TYPES = {"refund": "RFND", "chargeback": "CGBK"}
_KEY_ALPHABET = string.ascii_uppercase + string.digits


# --- subscriptions -------------------------------------------------------------------------

def add_subscription(url: str, secret_key: str | None = None, affiliate_code: str | None = None,
                     product_id: int | None = None) -> tuple[Subscription, str]:
    """Add an endpoint; returns it and its secret key (generated when not given). The URL's
    host must be public unless ``[notifications] allow_private`` names its range."""
    check_receiver_url(url, allowed_private_ranges())
    key = secret_key or "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    if not SECRET_KEY_PATTERN.match(key):
        raise DomainError("secret key: letters and digits only, at most 64")
    affiliate_id = None
    if affiliate_code is not None:
        affiliate = db.session.scalar(select(Affiliate).where(Affiliate.code == affiliate_code))
        if affiliate is None:
            raise NotFound(f"unknown affiliate code {affiliate_code!r}")
        affiliate_id = affiliate.id
    if product_id is not None and db.session.get(Product, product_id) is None:
        raise NotFound(f"unknown product {product_id}")
    subscription = Subscription(url=url, secret_key=key, affiliate_id=affiliate_id,
                                product_id=product_id, enabled=True)
    db.session.add(subscription)
    db.session.commit()
    return subscription, key


def allowed_private_ranges() -> tuple[Any, ...]:
    return private_ranges(settings("notifications")["allow_private"])


def remove_subscription(subscription_id: int) -> None:
    """Stop sending to an endpoint. Its delivery history stays (``affsrv notify log``); what
    was still waiting for it is marked failed, so nothing more goes there."""
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None or subscription.removed_at is not None:
        raise NotFound(f"no subscription {subscription_id}")
    now = utcnow()
    subscription.enabled = False
    subscription.removed_at = now
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.subscription_id == subscription_id,
               OutboxMessage.status == OutboxStatus.PENDING,
               or_(OutboxMessage.claimed_until.is_(None),
                   OutboxMessage.claimed_until < now))
        # A message a worker holds right now is left to it: it records that try's outcome,
        # and a retry finds the subscription removed.
        .values(status=OutboxStatus.FAILED, last_error="the subscription was removed")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def list_subscriptions(include_removed: bool = False) -> list[Subscription]:
    query = select(Subscription).order_by(Subscription.id)
    if not include_removed:
        query = query.where(Subscription.removed_at.is_(None))
    return list(db.session.scalars(query))


def outbox_log(status: str | None = None, limit: int = 100,
               subscription_id: int | None = None, offset: int = 0) -> list[OutboxMessage]:
    query = (select(OutboxMessage).order_by(OutboxMessage.id.desc())
             .limit(limit).offset(offset))
    if status:
        query = query.where(OutboxMessage.status == status)
    if subscription_id is not None:
        query = query.where(OutboxMessage.subscription_id == subscription_id)
    return list(db.session.scalars(query))


def retry_failed(ids: Iterable[int] | None = None, subscription_id: int | None = None) -> int:
    """Queue failed messages again (all, or those in ``ids``; only ``subscription_id``'s when
    given) with a fresh attempt budget."""
    query = update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    if subscription_id is not None:
        query = query.where(OutboxMessage.subscription_id == subscription_id)
    changed = db.session.execute(
        query.values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
                     claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed


def prune_outbox(older_than: timedelta, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete delivered and failed messages created more than ``older_than`` ago (pending ones
    are never deleted); the number deleted. In transactions of ``batch`` rows, so a large
    backlog never holds the table for long."""
    cutoff = (now or utcnow()) - older_than
    finished = select(OutboxMessage.id).where(
        OutboxMessage.status.in_([OutboxStatus.DELIVERED, OutboxStatus.FAILED]),
        OutboxMessage.created_at < cutoff,
    ).order_by(OutboxMessage.id).limit(batch)
    deleted = 0
    while True:
        ids = list(db.session.scalars(finished))
        if ids:
            db.session.execute(
                delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted


def prune_outbox_as_configured() -> int:
    """``prune_outbox`` with ``[notifications] keep_days`` (0: keep everything)."""
    days = settings("notifications")["keep_days"]
    return prune_outbox(timedelta(days=days)) if days > 0 else 0


# --- building notifications ----------------------------------------------------------------

def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _time(value: datetime, offset_minutes: int = 0) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    return value.astimezone(zone).isoformat(timespec="seconds")


def _envelope(**fields: Any) -> dict[str, Any]:
    base = {
        "transactionTime": None, "receipt": "", "transactionType": "", "vendor": "",
        "affiliate": "", "role": "VENDOR", "totalAccountAmount": None, "paymentMethod": "",
        "totalOrderAmount": None, "totalTaxAmount": "0.00", "totalShippingAmount": "0.00",
        "currency": "USD", "orderLanguage": "", "lineItems": [], "customer": None,
        "trackingCodes": [], "vendorVariables": {}, "declinedConsent": False,
    }
    base.update(fields)
    base["version"] = VERSION
    return base


def _contact(order: Order, prefix: str, role: str) -> dict[str, Any]:
    def get(name: str) -> str:
        return getattr(order, f"{prefix}_{name}")

    address = {"state": get("state"), "postalCode": get("postal_code"),
               "country": get("country")}
    if role == "AFFILIATE":
        # An affiliate learns where the customer is, not who (no name, e-mail, street).
        return {"address": address}
    address = {"address1": get("address1"), "address2": get("address2"), "city": get("city"),
               "county": get("county"), **address}
    return {"firstName": get("first_name"), "lastName": get("last_name"),
            "fullName": get("full_name"), "phoneNumber": get("phone"), "email": get("email"),
            "address": address}


def order_notification(order: Order, role: str) -> dict[str, Any]:
    """A stored transaction (e.g. from ClickBank intake) as a 6.0 notification."""
    items = []
    for item in order.line_items:
        account_amount = item.account_amount
        if role == "AFFILIATE":
            account_amount = item.affiliate_payout
        items.append({
            "itemNo": item.item_no, "productTitle": item.product_title,
            "shippable": item.shippable, "recurring": item.recurring,
            "accountAmount": _money(account_amount), "quantity": item.quantity,
            "downloadUrl": item.download_url, "lineItemType": item.line_item_type,
            "productPrice": _money(item.product_price),
            "productDiscount": _money(item.product_discount),
            "taxAmount": _money(item.tax_amount), "shippingAmount": _money(item.shipping_amount),
            "jvPayout": _money(item.jv_payout), "affiliatePayout": _money(item.affiliate_payout),
        })
    total_account = order.total_account_amount
    if role == "AFFILIATE":
        payouts = [i.affiliate_payout for i in order.line_items if i.affiliate_payout is not None]
        total_account = sum(payouts, Decimal("0.00")) if payouts else None
    return _envelope(
        transactionTime=_time(order.transaction_time, order.utc_offset_minutes),
        receipt=order.receipt, transactionType=order.transaction_type,
        vendor=order.vendor or settings("notifications")["vendor"],
        affiliate=order.affiliate_nickname, role=role,
        totalAccountAmount=_money(total_account), paymentMethod=order.payment_method,
        totalOrderAmount=_money(order.total_order_amount),
        totalTaxAmount=_money(order.total_tax_amount),
        totalShippingAmount=_money(order.total_shipping_amount),
        currency=order.currency, orderLanguage=order.order_language,
        lineItems=items,
        customer={"shipping": _contact(order, "shipping", role),
                  "billing": _contact(order, "billing", role)},
        trackingCodes=list(order.tracking_codes or []),
        vendorVariables=dict(order.vendor_variables or {}),
        declinedConsent=order.declined_consent,
    )


def commission_notification(commission: Commission, transaction_type: str, role: str,
                            amounts_from: Commission | None = None) -> dict[str, Any]:
    """A commission recorded through the API (a sale) or its reversal, as a notification.
    A refund or chargeback carries negative amounts, as ClickBank's do."""
    source = amounts_from or commission
    affiliate = db.session.get(Affiliate, commission.affiliate_id)
    product = db.session.get(Product, commission.product_id)
    sign = -1 if transaction_type != "SALE" else 1
    sale = abs(source.sale_total) * sign
    earned = abs(source.commission_total) * sign
    account = earned if role == "AFFILIATE" else sale - earned
    item_no = (product.sku if product and product.sku else str(commission.product_id))
    return _envelope(
        transactionTime=_time(source.created_at),
        receipt=commission.order_ref or f"AFFSRV{commission.id}",
        transactionType=transaction_type, vendor=settings("notifications")["vendor"],
        affiliate=affiliate.code if affiliate else "", role=role,
        totalAccountAmount=_money(account), totalOrderAmount=_money(sale),
        currency=commission.currency,
        lineItems=[{
            "itemNo": item_no, "productTitle": product.name if product else "",
            "shippable": False, "recurring": False, "accountAmount": _money(account),
            "quantity": 1, "downloadUrl": "", "lineItemType": "ORIGINAL",
            "productPrice": _money(sale), "productDiscount": "0.00", "taxAmount": "0.00",
            "shippingAmount": "0.00", "jvPayout": "0.00", "affiliatePayout": _money(earned),
        }],
        customer={"shipping": {"address": {}}, "billing": {"address": {}}},
    )


def payment_notification(payment: Payment, role: str) -> dict[str, Any]:
    """A payout to an affiliate, as a notification of type ``PAYMENT``."""
    affiliate = db.session.get(Affiliate, payment.affiliate_id)
    return _envelope(
        transactionTime=_time(payment.created_at), receipt=f"PAYMENT{payment.id}",
        transactionType="PAYMENT", vendor=settings("notifications")["vendor"],
        affiliate=affiliate.code if affiliate else "", role=role,
        totalAccountAmount=_money(payment.amount if role == "AFFILIATE" else -payment.amount),
        totalOrderAmount=_money(payment.amount), paymentMethod=payment.method,
        currency=payment.currency, vendorVariables={"reference": payment.reference},
    )


# --- writing the outbox (inside the recording transaction) ---------------------------------

def matching_subscriptions(affiliate_id: int | None, product_ids: Iterable[int]
                           ) -> list[Subscription]:
    """Merchant-wide subscriptions, those for this affiliate, those for one of the products."""
    products = [p for p in product_ids if p is not None]
    affiliate_ok = Subscription.affiliate_id.is_(None)
    if affiliate_id is not None:
        affiliate_ok = or_(affiliate_ok, Subscription.affiliate_id == affiliate_id)
    product_ok = Subscription.product_id.is_(None)
    if products:
        product_ok = or_(product_ok, Subscription.product_id.in_(products))
    return list(db.session.scalars(
        select(Subscription)
        .where(Subscription.enabled.is_(True), Subscription.removed_at.is_(None),
               and_(affiliate_ok, product_ok))
        .order_by(Subscription.id)
    ))


def enqueue_ins(build: Callable[[str], dict[str, Any]], affiliate_id: int | None,
                product_ids: Iterable[int], summary: str) -> int:
    count = 0
    for subscription in matching_subscriptions(affiliate_id, product_ids):
        role = "AFFILIATE" if subscription.affiliate_id is not None else "VENDOR"
        db.session.add(OutboxMessage(
            kind=OutboxKind.INS, subscription_id=subscription.id, payload=build(role),
            summary=summary[:200], status=OutboxStatus.PENDING, attempts=0,
            next_attempt_at=utcnow(),
        ))
        count += 1
    return count


def enqueue_email(to: str, subject: str, body: str, summary: str) -> None:
    db.session.add(OutboxMessage(
        kind=OutboxKind.EMAIL, subscription_id=None,
        payload={"to": to, "subject": subject, "body": body}, summary=summary[:200],
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow(),
    ))


def _on_order_recorded(order: Order, items: list[Any] | None = None, **_: Any) -> None:
    enqueue_ins(lambda role: order_notification(order, role), order.affiliate_id,
                [item.product_id for item in order.line_items],
                f"{order.transaction_type} {order.receipt}")


def _on_commission_recorded(commission: Commission, emails: dict[str, Any] | None = None,
                            custom: dict[str, Any] | None = None, order: Any = None,
                            **_: Any) -> None:
    if order is None:  # a transaction stored as an Order is announced by _on_order_recorded
        enqueue_ins(lambda role: commission_notification(commission, "SALE", role),
                    commission.affiliate_id, [commission.product_id],
                    f"SALE {commission.order_ref or commission.id}")
    _commission_emails(commission, emails or {}, custom or {})


def _on_commission_reversed(sale: Commission, reversal: Commission | None = None,
                            reason: str = "refund", order: Any = None, **_: Any) -> None:
    if order is not None:
        return
    kind = REVERSAL_TYPES.get(reason, "RFND")
    enqueue_ins(lambda role: commission_notification(sale, kind, role, amounts_from=reversal),
                sale.affiliate_id, [sale.product_id], f"{kind} {sale.order_ref or sale.id}")


def _on_payment_recorded(payment: Payment, **_: Any) -> None:
    enqueue_ins(lambda role: payment_notification(payment, role), payment.affiliate_id, [],
                f"PAYMENT {payment.id}")


def _commission_emails(commission: Commission, emails: dict[str, Any],
                       custom: dict[str, Any]) -> None:
    mail = settings("mail")
    if not mail["enabled"]:
        return
    affiliate = db.session.get(Affiliate, commission.affiliate_id)
    product = db.session.get(Product, commission.product_id)
    if affiliate is None or product is None:
        return
    values = {
        "code": affiliate.code, "fname": affiliate.fname, "lname": affiliate.lname,
        "email": affiliate.email, "product": product.name, "product_id": product.id,
        "sale": f"{commission.sale_total:.2f}", "currency": commission.currency,
        "amount": f"{commission.commission_total:.2f} {commission.currency}",
        "status": commission.status, "ref": commission.order_ref or "-",
        "time": _time(commission.created_at), "source": commission.source,
    }
    if mail["affiliate_emails"] and emails.get("affiliate", True) and affiliate.email:
        enqueue_email(
            affiliate.email, mail_text("New commission: {amount}", **values),
            mail_text(_AFFILIATE_MAIL, **values), f"e-mail to affiliate {affiliate.code}",
        )
    if mail["admin"] and mail["admin_emails"] and emails.get("admin", True):
        lines = "".join(mail_text("  {key}: {value}\n", key=key, value=value)
                        for key, value in custom.items())
        enqueue_email(
            mail["admin"], mail_text("New commission for {code}: {amount}", **values),
            mail_text(_ADMIN_MAIL, **values) + (f"\nCustom fields:\n{lines}" if lines else ""),
            f"e-mail to admin about {affiliate.code}",
        )


# The commission e-mails (see mail_text: the values cannot add lines).
_FACTS = (
    "Product: {product} (id {product_id})\n"
    "Sale total: {sale} {currency}\n"
    "Commission: {amount}\n"
    "Status: {status}\n"
    "Reference: {ref}\n"
    "Time: {time}\n"
)
_AFFILIATE_MAIL = "Hello {fname},\n\nYou earned a new commission.\n\n" + _FACTS
_ADMIN_MAIL = (
    "A commission was recorded.\n\nAffiliate: {code} ({fname} {lname}, {email})\n"
    + _FACTS + "Source: {source}\n"
)


commission_recorded.connect(_on_commission_recorded)
commission_reversed.connect(_on_commission_reversed)
payment_recorded.connect(_on_payment_recorded)
order_recorded.connect(_on_order_recorded)


# --- delivering (the worker) ---------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]


def outbox_backlog(now: datetime | None = None) -> tuple[int, float]:
    """Messages due for delivery that no worker holds, and how many seconds the oldest of them
    has been due (0 when none): a worker that runs keeps both near zero."""
    now = now or utcnow()
    count, oldest = db.session.execute(
        select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(_due(now))
    ).one()
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    return count, max(waited, 0.0)


def record_heartbeat(worker: str, started_at: datetime, now: datetime | None = None) -> None:
    """This worker is alive now. Rows of workers silent for a day are dropped on the way."""
    now = now or utcnow()
    changed = db.session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(beat_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.add(WorkerHeartbeat(worker=worker, started_at=started_at, beat_at=now))
    db.session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def drop_heartbeat(worker: str) -> None:
    """A worker that stops cleanly says so."""
    db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def last_heartbeat_age(now: datetime | None = None) -> float | None:
    """Seconds since any worker last said it was alive; None when none ever did."""
    latest = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if latest is None:
        return None
    return max(((now or utcnow()) - latest).total_seconds(), 0.0)


def _due(now: datetime) -> Any:
    return and_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim_due(batch: int | None = None, now: datetime | None = None) -> Claim:
    """Take up to ``batch`` due messages for this worker: each is then this worker's until its
    lease ends, and counts one more attempt. On PostgreSQL rows another worker is claiming
    are skipped (``FOR UPDATE SKIP LOCKED``); everywhere the claim itself is a conditional
    UPDATE, so two workers never both win a message."""
    config = settings("notifications")
    batch = batch or config["batch_size"]
    now = now or utcnow()
    lease = timedelta(seconds=60 + batch * (config["timeout_seconds"] + 5))
    token = secrets.token_hex(16)
    query = (select(OutboxMessage.id).where(_due(now))
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(batch))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for message_id in list(db.session.scalars(query)):
        changed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, _due(now))
            .values(claimed_until=now + lease, claim_token=token,
                    attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            claimed.append(message_id)
    db.session.commit()
    return Claim(token, claimed)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed try: first_retry_seconds doubling, capped,
    with +-20% jitter so many failures do not retry in step."""
    config = settings("notifications")
    base = min(config["first_retry_seconds"] * 2 ** max(attempts - 1, 0),
               config["max_retry_seconds"])
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


def _deliver_ins(message: OutboxMessage) -> int:
    """Send one notification; the receiver's HTTP status when it is 2xx."""
    subscription = db.session.get(Subscription, message.subscription_id)
    if (subscription is None or not subscription.enabled
            or subscription.removed_at is not None):
        raise _Permanent("the subscription was removed or disabled")
    payload = _as_numbers(dict(message.payload))
    payload["attemptCount"] = message.attempts
    body = encrypt_payload(dumps_exact(payload), subscription.secret_key)
    url, timeout = subscription.url, settings("notifications")["timeout_seconds"]
    allowed = allowed_private_ranges()
    db.session.rollback()  # hold no transaction during the network call
    # The session connects only to an address it has just checked (destinations.py): a
    # receiver whose name now resolves to a private address is not contacted.
    try:
        with guarded_session(allowed) as session:
            response = session.post(url, json=body, timeout=timeout, allow_redirects=False,
                                    headers={"User-Agent": "affsrv-ins/1.0"})
    except RefusedDestination as exc:
        raise _Permanent(f"{exc.message} ({safe_url(url)})") from None
    except Exception as exc:  # noqa: BLE001 - the receiver failed: retried, described safely
        raise _Retry(describe_failure(exc, url)) from None
    if not 200 <= response.status_code < 300:
        raise _Refused(f"HTTP {response.status_code} from {safe_url(url)}",
                       response.status_code)
    return response.status_code


def _deliver_email(message: OutboxMessage) -> None:
    mail = settings("mail")
    if not mail["enabled"]:
        raise _Permanent("e-mail is disabled in the configuration ([mail] enabled)")
    payload = dict(message.payload)
    db.session.rollback()
    try:
        send_mail(mail, payload["to"], payload["subject"], payload["body"])
    except UndeliverableMail as exc:
        raise _Permanent(str(exc)) from None


class _Permanent(Exception):
    """A failure no retry can fix."""


class _Refused(Exception):
    """The receiver answered, but not 2xx."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class _Retry(Exception):
    """The receiver could not be reached; the message (already safe to log) says why."""


def _as_numbers(value: Any) -> Any:
    """The stored payload with its amounts as ``Decimal`` again (written as JSON numbers).
    Free-form objects (vendor variables, customer) are left as they are."""
    if isinstance(value, dict):
        return {k: _number(v) if k in NUMBER_KEYS else
                (v if k in {"vendorVariables", "customer"} else _as_numbers(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_as_numbers(v) for v in value]
    return value


def _number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def deliver(message_id: int, token: str, now: datetime | None = None) -> bool:
    """Deliver one claimed message and record the outcome; True when delivered. ``now``
    (default: the clock after the attempt) is when a retry's wait starts."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.claim_token != token:
        db.session.rollback()
        return False
    attempts, kind = message.attempts, message.kind
    error, permanent, code = "", False, None
    try:
        if kind == OutboxKind.INS:
            code = _deliver_ins(message)
        else:
            _deliver_email(message)
    except _Permanent as exc:
        error, permanent = str(exc), True
    except _Refused as exc:
        error, code = str(exc), exc.status_code
    except _Retry as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of the receiver is retried
        error = f"{type(exc).__name__}: {exc}"[:1000]
    now = now or utcnow()
    mine = and_(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
    if not error:
        values: dict[str, Any] = {"status": OutboxStatus.DELIVERED, "delivered_at": now,
                                  "last_error": ""}
    elif permanent or attempts >= settings("notifications")["max_attempts"]:
        values = {"status": OutboxStatus.FAILED, "last_error": error}
    else:
        values = {"next_attempt_at": now + retry_delay(attempts), "last_error": error}
    db.session.execute(
        update(OutboxMessage).where(mine)
        .values(claimed_until=None, claim_token=None, response_code=code, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if error:
        get_log("general").warning("notification delivery failed", message=message_id,
                                   kind=kind, attempt=attempts, error=error)
    return not error


def process_due(batch: int | None = None, now: datetime | None = None,
                alive: Callable[[], None] | None = None) -> int:
    """Claim and deliver one batch; the number of messages tried. ``alive`` is called between
    messages (the worker's heartbeat: a batch of slow receivers takes a while)."""
    claim = claim_due(batch, now)
    for message_id in claim.ids:
        deliver(message_id, claim.token, now)
        if alive is not None:
            alive()
    return len(claim.ids)
