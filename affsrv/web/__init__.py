"""What every page of the merchant's dashboard and the affiliate area shares: the layout, the
vendored scripts and the stylesheet, the session cookie and its secret, CSRF protection and the
security headers."""
