"""Recording ship notices."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from affsrv.errors import DomainError, NotFound
from affsrv.extensions import db
from affsrv.orders.models import SHIPPING_TRANSACTION_TYPES, Order, OrderLineItem
from affsrv.shipping.models import ShipNotice


def _physical_items(order: Order) -> list[str]:
    items = [li.item_no for li in order.line_items if li.shippable]
    return items or [li.item_no for li in order.line_items]


def record_ship_notice(receipt: str, *, ship_date: date, carrier: str, tracking: str,
                       item: str | None = None, comments: str = "", fill_order: bool = False,
                       accounts: Collection[str]) -> list[ShipNotice]:
    """Mark the physical order on ``receipt`` shipped (the oldest one not yet shipped, when a
    receipt has several physical transactions, such as rebills). Returns the notices made.

    ``item`` names the line item; it is needed when the order has several physical items,
    unless ``fill_order`` asks for one notice per item. Sending the same notice twice records
    it once. Only orders of ``accounts`` are found."""
    orders = list(db.session.scalars(
        select(Order).where(Order.receipt == receipt, Order.physical.is_(True),
                            Order.account.in_(sorted(accounts)))
        .order_by(Order.transaction_time, Order.id)
    ))
    if not orders:
        raise NotFound(f"no physical order with receipt {receipt}")
    shipped = set(db.session.scalars(
        select(ShipNotice.order_id).where(ShipNotice.order_id.in_([o.id for o in orders]))
    ))
    order = next((o for o in orders if o.id not in shipped), orders[-1])
    items = _physical_items(order)
    if item is not None:
        if items and item not in items:
            raise DomainError(f"order {receipt} has no physical item {item}; "
                              f"its items are {', '.join(items)}")
        targets = [item]
    elif len(items) > 1 and not fill_order:
        raise DomainError(f"order {receipt} has several physical items ({', '.join(items)}): "
                          "name one with item, or send fillOrder=true")
    else:
        targets = items or [""]
    made = []
    for item_no in targets:
        same = select(ShipNotice).where(
            ShipNotice.order_id == order.id, ShipNotice.item_no == item_no,
            ShipNotice.carrier == carrier, ShipNotice.tracking == tracking,
        )
        notice = db.session.scalar(same)
        if notice is None:
            notice = ShipNotice(order_id=order.id, receipt=receipt, item_no=item_no,
                                ship_date=ship_date, carrier=carrier, tracking=tracking,
                                comments=comments)
            try:
                with db.session.begin_nested():
                    db.session.add(notice)
            except IntegrityError:  # the same notice, sent twice at the same moment
                notice = db.session.scalar(same)
        made.append(notice)
    db.session.commit()
    return made


def ship_notices_for(receipt: str, accounts: Collection[str]) -> list[ShipNotice]:
    """The notices on ``receipt``'s orders of ``accounts`` (another account's: none)."""
    return list(db.session.scalars(
        select(ShipNotice).join(Order, Order.id == ShipNotice.order_id)
        .where(ShipNotice.receipt == receipt, Order.account.in_(sorted(accounts)))
        .order_by(ShipNotice.id)
    ))


def refresh_physical() -> int:
    """Recompute ``Order.physical`` for every order in SQL (the same rule as
    ``Order.compute_physical``), for orders written with Core inserts that did not set it.
    Returns how many orders changed."""
    items = select(OrderLineItem.id).where(OrderLineItem.order_id == Order.id)
    value = and_(
        Order.transaction_type.in_(SHIPPING_TRANSACTION_TYPES),
        or_(
            exists(items.where(OrderLineItem.shippable.is_(True))),
            and_(or_(Order.source != "clickbank", ~exists(items)),
                 func.coalesce(Order.shipping_address1, "") != ""),
        ),
    )
    result = db.session.execute(
        update(Order).where(Order.physical.is_distinct_from(value)).values(physical=value)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0
