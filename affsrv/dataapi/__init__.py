"""The JSON API at ``POST /api`` (and ``/index.php``): referral and commission calls, and
the Data API (`info`, `commissions`, `payments`, `referrals`)."""
