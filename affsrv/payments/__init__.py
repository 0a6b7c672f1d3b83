"""Payments: payouts made to affiliates."""
