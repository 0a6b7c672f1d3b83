"""Affiliates: the people who send traffic and earn commissions."""
