"""Ship notices for physical orders: an order with a ship notice is shipped."""
