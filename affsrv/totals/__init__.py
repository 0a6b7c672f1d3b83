"""Totals kept beside the rows they sum (the Data API's commission, payment and click
counts): rebuilding them from the rows and checking them against the rows."""
