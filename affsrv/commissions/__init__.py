"""Commissions: sales credited to affiliates, their approval and their reversal."""
