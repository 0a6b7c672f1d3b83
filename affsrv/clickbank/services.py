"""ClickBank intake: decrypt or verify, parse, store the transaction, count commissions.

Everything one notification causes (the order and its line items, the stored notification, the
commissions, the outbox rows written by signal receivers) is one database transaction.
Idempotency comes from the unique constraints on ``orders`` (account, receipt, transaction_type)
and ``order_line_items`` (order_id, item_no): a retry or a racing twin adds nothing.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from marshmallow import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from affsrv.affiliates.models import Affiliate
from affsrv.affiliates.services import clickbank_nickname_key
from affsrv.clickbank.crypto import (
    SECRET_KEY_PATTERN,
    InsCryptoError,
    open_notification,
    verify_legacy,
)
from affsrv.clickbank.models import NICKNAME_PATTERN, ClickbankAccount, InsNotification
from affsrv.clickbank.schemas import NotificationSchema
from affsrv.commissions.models import Commission, CommissionKind, CommissionStatus
from affsrv.commissions.services import (
    check_sale_total,
    ledger_currency,
    record_commission,
    reverse_commission,
)
from affsrv.db.locks import lock_until_commit
from affsrv.db.session import commit_or_conflict
from affsrv.db.types import utcnow
from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.logs import get_log
from affsrv.orders.models import CONTACT_FIELDS, Order, OrderLineItem
from affsrv.products.models import Product
from affsrv.products.services import add_clickbank_product
from affsrv.reports.rollups import roll_up_order
from affsrv.signals import commission_recorded, commission_reversed, order_recorded
from affsrv.text import replace_surrogates
from affsrv.validation import format_errors

#: Types that earn a commission for the affiliate.
EARNING_TYPES = frozenset({"SALE", "BILL"})
#: Types that reverse one, with the core's reason.
REVERSING_TYPES = {"RFND": "refund", "CGBK": "chargeback", "INSF": "chargeback"}
# A legacy ctranstime in Unix seconds (ASCII digits: str.isdigit() also accepts "²").
_EPOCH_SECONDS = re.compile(r"^[0-9]{1,11}\Z")

_schema = NotificationSchema()
# Notifications to an unknown account are decrypted (or verified) with this key, so that they
# cost what any other refused notification costs.
_NO_ACCOUNT_KEY = secrets.token_hex(8)


class InsRejected(Exception):
    """The notification cannot be accepted; the message is one line, for the log only (every
    refusal is answered alike: a reason would tell a forger which step failed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Outcome:
    order_id: int | None
    duplicate: bool


# --- accounts ------------------------------------------------------------------------------

def add_account(nickname: str, secret_key: str, legacy_cverify: bool = False
                ) -> ClickbankAccount:
    nickname = nickname.strip().lower()
    if not re.match(NICKNAME_PATTERN, nickname):
        raise DomainError("nickname: letters, digits, '.', '_' or '-', at most 64")
    if not SECRET_KEY_PATTERN.match(secret_key):
        raise DomainError("secret key: letters and digits only, at most 64 (ClickBank: 16)")
    account = ClickbankAccount(nickname=nickname, secret_key=secret_key,
                               legacy_cverify=legacy_cverify)
    db.session.add(account)
    commit_or_conflict(f"account {nickname!r} already exists")
    return account


def find_account(nickname: str) -> ClickbankAccount | None:
    return db.session.scalar(
        select(ClickbankAccount).where(ClickbankAccount.nickname == nickname.strip().lower())
    )


def set_legacy_cverify(nickname: str, allowed: bool) -> ClickbankAccount:
    """Accept (or refuse) the account's legacy form posts proved by ``cverify``."""
    account = find_account(nickname)
    if account is None:
        raise NotFound(f"unknown account {nickname!r}")
    account.legacy_cverify = allowed
    db.session.commit()
    return account


def remove_account(nickname: str) -> None:
    account = find_account(nickname)
    if account is None:
        raise NotFound(f"unknown account {nickname!r}")
    db.session.delete(account)
    db.session.commit()


def set_refuse_unknown_skus(nickname: str, refuse: bool) -> ClickbankAccount:
    """Whether a sale naming an unknown SKU creates its product (and earns) or is only stored."""
    account = find_account(nickname)
    if account is None:
        raise NotFound(f"unknown account {nickname!r}")
    account.refuse_unknown_skus = refuse
    db.session.commit()
    return account


def list_accounts() -> list[ClickbankAccount]:
    return list(db.session.scalars(select(ClickbankAccount).order_by(ClickbankAccount.id)))


# --- intake --------------------------------------------------------------------------------

def receive_notification(nickname: str, body: bytes, content_type: str = "") -> Outcome:
    """Decrypt (or verify), parse and store one notification; ``InsRejected`` when it cannot
    be. Database failures propagate (the view answers 503 so ClickBank retries)."""
    account = find_account(nickname) if re.match(NICKNAME_PATTERN, nickname) else None
    secret_key = account.secret_key if account is not None else _NO_ACCOUNT_KEY
    account_id = account.id if account is not None else None
    account_name = account.nickname if account is not None else ""
    legacy_allowed = account is not None and account.legacy_cverify
    create_products = account is not None and not account.refuse_unknown_skus
    db.session.rollback()  # end the read; the store below is its own transaction
    document: Any
    if _is_form(body, content_type):
        fields = _form_fields(body)
        try:
            verify_legacy(fields, secret_key)
        except InsCryptoError as exc:
            raise InsRejected(_unknown(nickname) if account is None else str(exc)) from None
        if not legacy_allowed:
            raise InsRejected(_unknown(nickname) if account is None else
                              "legacy cverify posts are off for this account "
                              "(affsrv account set NICKNAME --legacy-cverify)")
        raw = json.dumps(fields, ensure_ascii=False, sort_keys=True)
        document = legacy_to_notification(fields)
    else:
        try:
            envelope = json.loads(body)
        except (ValueError, RecursionError):
            raise InsRejected("body is not JSON") from None
        try:
            raw, document = open_notification(envelope, secret_key)
        except InsCryptoError as exc:
            raise InsRejected(_unknown(nickname) if account is None else str(exc)) from None
        if account is None:  # only a forger can reach this: the key is a random one
            raise InsRejected(_unknown(nickname))
        if "\\u" in raw:  # only a JSON escape can bring one: the plaintext is strict UTF-8
            try:
                document = replace_surrogates(document)
            except RecursionError:
                raise InsRejected("notification is nested too deeply") from None
    try:
        data = _schema.load(document)
    except ValidationError as exc:
        raise InsRejected("invalid notification: " + format_errors(exc.messages)) from None
    for _attempt in range(2):
        try:
            return _store(account_id, account_name, data, raw, create_products)
        except IntegrityError:
            # A racing twin committed the same transaction first: look again.
            db.session.rollback()
    # Refused a third time, it is no twin: the error reaches the view, which answers 503 so
    # that ClickBank retries (a 200 "duplicate" would lose the notification).
    return _store(account_id, account_name, data, raw, create_products)


def _unknown(nickname: str) -> str:
    return f"unknown account {nickname[:64]!r}"


def _is_form(body: bytes, content_type: str) -> bool:
    if "x-www-form-urlencoded" in content_type.lower():
        return True
    return not body.lstrip().startswith(b"{") and b"cverify=" in body


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")  # the oldest senders used Latin-1
    try:
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
    except ValueError:
        raise InsRejected("form body cannot be parsed") from None


def _legacy_amount(value: str | None) -> str | None:
    """Legacy amounts are in cents; a value with a decimal point is taken as written."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if "." in text:
        return text
    try:
        cents = Decimal(text)
        if cents.is_finite() and cents.adjusted() < 20:  # 1E+1000000 / 100 would overflow
            return format(cents / 100, "f")
    except InvalidOperation:
        pass
    return text  # refused by the schema with a clear message


def legacy_to_notification(f: dict[str, str]) -> dict[str, Any]:
    """A legacy (1.0 to 4.0) form post in the 6.0 shape."""
    when: str | None = None
    if _EPOCH_SECONDS.match(f.get("ctranstime", "").strip()):
        when = datetime.fromtimestamp(int(f["ctranstime"]), UTC).isoformat()
    elif f.get("ctranstime"):
        when = f["ctranstime"]

    def contact(prefix: str) -> dict[str, Any]:
        return {
            "firstName": f.get(f"{prefix}firstname"), "lastName": f.get(f"{prefix}lastname"),
            "fullName": f.get(f"{prefix}name"), "email": f.get(f"{prefix}email"),
            "phoneNumber": f.get(f"{prefix}phone"),
            "address": {
                "address1": f.get(f"{prefix}addr1"), "address2": f.get(f"{prefix}addr2"),
                "city": f.get(f"{prefix}city"), "county": f.get(f"{prefix}county"),
                "state": f.get(f"{prefix}state"), "postalCode": f.get(f"{prefix}zip"),
                "country": f.get(f"{prefix}cc") or f.get(f"{prefix}country"),
            },
        }

    amount = _legacy_amount(f.get("caccountamount"))
    order_amount = _legacy_amount(f.get("corderamount"))
    items = []
    if f.get("cproditem"):
        items.append({
            "itemNo": f["cproditem"], "productTitle": f.get("cprodtitle"),
            "recurring": f.get("cprodtype", "").upper() == "RECURRING",
            "shippable": f.get("cprodtype", "").upper() == "PHYSICAL",
            "accountAmount": amount, "productPrice": order_amount, "quantity": 1,
            "lineItemType": "UPSELL" if f.get("cupsellreceipt") else "ORIGINAL",
        })
    return {
        "transactionTime": when,
        "receipt": f.get("ctransreceipt"),
        "transactionType": f.get("ctransaction"),
        "vendor": f.get("ctransvendor"),
        "affiliate": f.get("ctransaffiliate"),
        "role": f.get("ctransrole"),
        "paymentMethod": f.get("ctranspaymentmethod"),
        "totalAccountAmount": amount,
        "totalOrderAmount": order_amount,
        "currency": f.get("ccurrency") or "USD",
        "trackingCodes": [f["ctid"]] if f.get("ctid") else [],
        "vendorVariables": dict(parse_qsl(f.get("cvendthru", ""), keep_blank_values=True)),
        "version": f.get("cnoticeversion") or "legacy",
        "attemptCount": 1,
        "lineItems": items,
        "customer": {"billing": contact("ccust"), "shipping": contact("ccustshipping")},
    }


def is_test_type(transaction_type: str) -> bool:
    return "TEST" in transaction_type


def _contact_values(prefix: str, contact: dict[str, Any] | None) -> dict[str, str]:
    contact = contact or {}
    address = contact.get("address") or {}
    source = {
        "first_name": contact.get("firstName"), "last_name": contact.get("lastName"),
        "full_name": contact.get("fullName"), "phone": contact.get("phoneNumber"),
        "email": contact.get("email"), "address1": address.get("address1"),
        "address2": address.get("address2"), "city": address.get("city"),
        "county": address.get("county"), "state": address.get("state"),
        "postal_code": address.get("postalCode"), "country": (address.get("country") or "").upper(),
    }
    return {f"{prefix}_{name}": source[name] or "" for name in CONTACT_FIELDS}


def _match_affiliate(nickname: str) -> Affiliate | None:
    if not nickname:
        return None
    alias = clickbank_nickname_key(nickname)
    found = list(db.session.scalars(
        select(Affiliate).where(
            or_(Affiliate.clickbank_nickname == alias, Affiliate.code == nickname)
        )
    ))
    # An explicit ClickBank alias wins over an affiliate whose code happens to match.
    found.sort(key=lambda a: a.clickbank_nickname != alias)
    return found[0] if found else None


def _new_order(account: str, data: dict[str, Any], affiliate: Affiliate | None) -> Order:
    when, offset = data["transactionTime"] or (utcnow(), 0)
    customer = data["customer"] or {}
    return Order(
        source="clickbank",
        account=account,
        receipt=data["receipt"],
        transaction_type=data["transactionType"],
        vendor=data["vendor"],
        affiliate_nickname=data["affiliate"],
        affiliate_id=affiliate.id if affiliate else None,
        role=data["role"],
        payment_method=data["paymentMethod"],
        currency=data["currency"],
        total_order_amount=data["totalOrderAmount"],
        total_account_amount=data["totalAccountAmount"],
        total_tax_amount=data["totalTaxAmount"],
        total_shipping_amount=data["totalShippingAmount"],
        transaction_time=when,
        utc_offset_minutes=offset,
        order_language=data["orderLanguage"],
        declined_consent=data["declinedConsent"],
        is_test=is_test_type(data["transactionType"]),
        tracking_codes=list(data["trackingCodes"]),
        vendor_variables=dict(data["vendorVariables"]),
        **_contact_values("billing", customer.get("billing")),
        **_contact_values("shipping", customer.get("shipping")),
    )


def _new_item(item: dict[str, Any], product: Product | None) -> OrderLineItem:
    return OrderLineItem(
        item_no=item["itemNo"],
        product_id=product.id if product else None,
        product_title=item["productTitle"],
        line_item_type=item["lineItemType"] or "ORIGINAL",
        shippable=item["shippable"],
        recurring=item["recurring"],
        quantity=item["quantity"],
        product_price=item["productPrice"],
        product_discount=item["productDiscount"],
        account_amount=item["accountAmount"],
        tax_amount=item["taxAmount"],
        shipping_amount=item["shippingAmount"],
        affiliate_payout=item["affiliatePayout"],
        jv_payout=item["jvPayout"],
        download_url=item["downloadUrl"],
    )


def _store(account_id: int | None, account: str, data: dict[str, Any], raw: str,
           create_products: bool) -> Outcome:
    # One receipt's notifications are stored one after the other: a refund stored while its
    # sale is being stored would find no commission to reverse, and the sale no refund to
    # apply, and the refund would be lost (ClickBank is answered 200 and never resends it).
    _lock_receipt(account, data["receipt"])
    order = db.session.scalar(
        select(Order).where(
            Order.account == account,
            Order.receipt == data["receipt"],
            Order.transaction_type == data["transactionType"],
        )
    )
    is_new_order = order is None
    if order is None:
        affiliate = _match_affiliate(data["affiliate"])
        order = _new_order(account, data, affiliate)
        db.session.add(order)
    else:
        affiliate = db.session.get(Affiliate, order.affiliate_id) if order.affiliate_id else None
    known = {item.item_no for item in order.line_items}
    wanted = [item for item in data["lineItems"] if item["itemNo"] not in known]
    if not is_new_order and not wanted:
        db.session.rollback()
        return Outcome(order.id, duplicate=True)
    skus = [item["itemNo"] for item in wanted]
    products = {
        p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))
    } if skus else {}
    if create_products and data["transactionType"] in EARNING_TYPES and not is_test_type(
            data["transactionType"]):
        products.update(_products_for_unknown_skus(account, data, wanted, products))
    new_items = []
    for item in wanted:
        line = _new_item(item, products.get(item["itemNo"]))
        order.line_items.append(line)
        new_items.append(line)
    db.session.flush()  # a racing twin's order or line item fails here (IntegrityError)
    db.session.add(InsNotification(
        account_id=account_id, account=account, receipt=data["receipt"],
        transaction_type=data["transactionType"], version=data["version"],
        attempt_count=data["attemptCount"], raw=raw, order_id=order.id,
    ))
    order_recorded.send(order, items=new_items)
    if is_new_order:
        roll_up_order(order)
    _count_commissions(order, affiliate, new_items, products)
    db.session.commit()
    return Outcome(order.id, duplicate=False)


def _products_for_unknown_skus(account: str, data: dict[str, Any], items: list[dict[str, Any]],
                               known: dict[str, Product]) -> dict[str, Product]:
    """A product for each SKU of a sale that none has yet, made from the notification (a racing
    notification creating the same SKU makes the flush fail: intake then looks again)."""
    created = {}
    for item in items:
        if item["itemNo"] in known:
            continue
        product = add_clickbank_product(item["itemNo"], item["productTitle"])
        created[product.sku] = product
        get_log("commission").info("ins: product created for an unknown SKU", account=account,
                                   receipt=data["receipt"], item=item["itemNo"],
                                   product=product.id)
    return created


def _lock_receipt(account: str, receipt: str) -> None:
    """Until commit, the one writer of this receipt's orders and commissions."""
    lock_until_commit("ins-receipt", f"{account}\x1f{receipt}")


def commission_ref(receipt: str, transaction_type: str) -> str:
    """The commission's ``order_ref``: the receipt for a SALE; a rebill gets its own."""
    return receipt if transaction_type == "SALE" else f"{receipt}/BILL"


def _count_commissions(order: Order, affiliate: Affiliate | None, items: list[OrderLineItem],
                       products: dict[str, Product]) -> None:
    kind = order.transaction_type
    if order.is_test or affiliate is None or (
        kind not in EARNING_TYPES and kind not in REVERSING_TYPES
    ):
        return
    log = get_log("commission")
    known: list[tuple[Product, OrderLineItem]] = []
    for item in items:
        if item.item_no in products:
            known.append((products[item.item_no], item))
        else:
            log.warning("ins: no product with this SKU; no commission", account=order.account,
                        receipt=order.receipt, type=kind, item=item.item_no)
    # In product order: each commission's trigger holds its kept totals row until commit, and
    # writers of several rows take them in (affiliate, currency, product) order (see
    # ``affsrv.commissions.services.set_status``), so none waits for another on PostgreSQL.
    for product, item in sorted(known, key=lambda known_item: known_item[0].id):
        try:
            if kind in EARNING_TYPES:
                sale_total = item.product_price if item.product_price is not None else (
                    item.account_amount if item.account_amount is not None
                    else order.total_order_amount
                )
                if sale_total is None or sale_total <= 0:
                    raise DomainError("the line item has no positive price")
                # The order is stored (ClickBank made the sale; refusing the notification would
                # only make it resend it), but no commission comes of an absurd order.
                if order.total_order_amount is not None:
                    check_sale_total(order.total_order_amount)
                ref = commission_ref(order.receipt, kind)
                reason = _reversal_already_received(order, affiliate, product, item.item_no)
                recorded = record_commission(
                    affiliate, product, sale_total, None,
                    currency=order.currency, order_ref=ref,
                    notes=f"ClickBank {kind} {order.receipt} item {item.item_no}",
                    source="clickbank", fallback_amount=item.affiliate_payout,
                    custom=dict(order.vendor_variables or {}), commit=False, order=order,
                )
                ledger = ledger_currency()
                if recorded.created and recorded.commission.currency != ledger:
                    log.warning("ins: commission recorded in the order's currency, not in the "
                                "Data API's totals", account=order.account,
                                receipt=order.receipt, type=kind, item=item.item_no,
                                affiliate=affiliate.code, currency=order.currency,
                                ledger_currency=ledger)
                if reason and recorded.created:
                    # The refund (or chargeback) arrived first, e.g. while this sale was
                    # being retried by ClickBank: it applies to this commission now.
                    reverse_commission(affiliate, product, ref, reason,
                                       notes=f"ClickBank reversal received before {kind}",
                                       commit=False, order=order)
            else:
                _reverse(affiliate, product, order, REVERSING_TYPES[kind])
        except DomainError as exc:
            log.warning("ins: commission not changed", account=order.account,
                        receipt=order.receipt, type=kind, item=item.item_no,
                        affiliate=affiliate.code, reason=exc.message)


def _reversal_already_received(order: Order, affiliate: Affiliate, product: Product,
                               item_no: str) -> str | None:
    """The reason of a refund/chargeback of this receipt's line item ``item_no`` stored before
    its sale, when it has not reversed that product's commission yet. (A refund of one item
    of a cart names only that item.)"""
    kinds = list(db.session.scalars(select(Order.transaction_type).join(OrderLineItem).where(
        Order.account == order.account, Order.receipt == order.receipt,
        Order.transaction_type.in_(list(REVERSING_TYPES)),
        OrderLineItem.item_no == item_no,
    ).order_by(Order.id)))
    if not kinds:
        return None
    refs = [commission_ref(order.receipt, "SALE"), commission_ref(order.receipt, "BILL")]
    applied = db.session.scalar(select(Commission.id).where(
        Commission.affiliate_id == affiliate.id, Commission.product_id == product.id,
        Commission.order_ref.in_(refs),
        or_(Commission.status == CommissionStatus.REVERSED,
            Commission.kind == CommissionKind.REVERSAL),
    ).limit(1))
    return None if applied is not None else REVERSING_TYPES[kinds[0]]


def _reverse(affiliate: Affiliate, product: Product, order: Order, reason: str) -> None:
    """Reverse the receipt's rebill commission when one stands, else its sale's."""
    bill_ref = commission_ref(order.receipt, "BILL")
    bill = db.session.scalar(select(Commission).where(
        Commission.affiliate_id == affiliate.id, Commission.product_id == product.id,
        Commission.order_ref == bill_ref, Commission.kind == CommissionKind.SALE,
    ))
    standing = bill is not None and bill.status != CommissionStatus.REVERSED and (
        db.session.scalar(select(Commission.id).where(Commission.reverses_id == bill.id))
        is None
    )
    reverse_commission(
        affiliate, product, bill_ref if standing else commission_ref(order.receipt, "SALE"),
        reason, notes=f"ClickBank {order.transaction_type} {order.receipt}",
        commit=False, order=order,
    )


# --- re-applying the commission rules ------------------------------------------------------

@dataclass(frozen=True)
class Reapplied:
    orders: int  # orders with a line item that found its product
    items: int  # such line items
    commissions: int  # commissions (and clawbacks) recorded


def reapply_commissions(receipt: str | None = None, start: datetime | None = None,
                        end: datetime | None = None) -> Reapplied:
    """Run the commission rules again for stored ClickBank orders (one receipt's, or those of
    transaction times in [start, end)) whose line items named a SKU no product had then and
    one has now. Each line item found its product once: a second run changes nothing."""
    query = (
        select(Order.id, Order.account, Order.receipt)
        .where(Order.source == "clickbank",
               Order.id.in_(select(OrderLineItem.order_id).where(
                   OrderLineItem.product_id.is_(None),
                   OrderLineItem.item_no.in_(select(Product.sku)))))
        .order_by(Order.id)  # as they arrived: a refund stored first is found by its sale
    )
    if receipt is not None:
        query = query.where(Order.receipt == receipt)
    if start is not None:
        query = query.where(Order.transaction_time >= start)
    if end is not None:
        query = query.where(Order.transaction_time < end)
    found = db.session.execute(query).all()
    db.session.rollback()
    orders = items = commissions = 0
    for order_id, account, order_receipt in found:
        _lock_receipt(account, order_receipt)  # not while intake stores one of its notifications
        order = db.session.get(Order, order_id)
        unmatched = [i for i in order.line_items if i.product_id is None]
        products = {p.sku: p for p in db.session.scalars(
            select(Product).where(Product.sku.in_([i.item_no for i in unmatched])))}
        # Linked by a conditional update, written before anything is credited: of two runs
        # racing for an item only one links it (on SQLite, where the receipt lock is no lock
        # and what was read above may predate the other run's commit, the update waits for
        # that commit and then changes nothing).
        matched = [i for i in unmatched if i.item_no in products and db.session.execute(
            update(OrderLineItem)
            .where(OrderLineItem.id == i.id, OrderLineItem.product_id.is_(None))
            .values(product_id=products[i.item_no].id)
        ).rowcount]
        if not matched:  # linked meanwhile by a concurrent run
            db.session.rollback()
            continue
        affiliate = db.session.get(Affiliate, order.affiliate_id) if order.affiliate_id else None
        with _counting_new_commissions(order) as recorded:
            _count_commissions(order, affiliate, matched, products)
        db.session.commit()
        orders, items = orders + 1, items + len(matched)
        commissions += recorded[0]
    return Reapplied(orders, items, commissions)


@contextmanager
def _counting_new_commissions(order: Order) -> Iterator[list[int]]:
    """Counts the commission rows (sales and clawbacks) recorded for ``order`` inside the
    block: not those a concurrent run or intake records meanwhile, as a count of the table
    would."""
    recorded = [0]

    def sale(_commission: Commission, **kw: Any) -> None:
        if kw.get("order") is order:
            recorded[0] += 1

    def clawback(_sale: Commission, **kw: Any) -> None:
        if kw.get("order") is order and kw.get("reversal") is not None:
            recorded[0] += 1

    with commission_recorded.connected_to(sale), commission_reversed.connected_to(clawback):
        yield recorded
