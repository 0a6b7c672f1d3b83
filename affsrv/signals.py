"""Domain events, sent inside the database transaction that records them.

Receivers (the notification outbox, for one) write their rows in the same transaction, so an
event is stored if and only if the record it describes is. Receivers must not do network I/O.
"""

from blinker import Namespace

_signals = Namespace()

#: sender: the Commission just created; kwargs: ``emails`` (dict), ``custom`` (dict),
#: ``order`` (the Order it was recorded for, e.g. by ClickBank intake, or None)
commission_recorded = _signals.signal("commission-recorded")
#: sender: the sale Commission; kwargs: ``reversal`` (the negative Commission or None),
#: ``reason`` ("refund", "chargeback", ...), ``order`` (as for ``commission_recorded``)
commission_reversed = _signals.signal("commission-reversed")
#: sender: the Order (a transaction such as a ClickBank SALE or RFND) just stored, or one that
#: just got more line items; kwargs: ``items`` (the OrderLineItems new in this transaction)
order_recorded = _signals.signal("order-recorded")
#: sender: the Payment just recorded
payment_recorded = _signals.signal("payment-recorded")
