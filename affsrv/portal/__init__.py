"""The affiliate area (/affiliate): sign-up, sign-in, password reset, and each affiliate's own
links, commissions and payments."""
