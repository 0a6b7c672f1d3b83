"""ClickBank Instant Notifications in: accounts, decryption, intake into orders and commissions."""
