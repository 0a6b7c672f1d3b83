"""Orders: customer transactions (sales, rebills, refunds, ...) from any source.

ClickBank Instant Notifications write them; the REST API's `orders2` and `shipping2` read them;
reports aggregate them. One row per transaction (account, receipt, transaction type), with its
line items.
"""
