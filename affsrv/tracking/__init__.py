"""Tracking: landing links, the affiliate cookie and click (referral) records."""
