"""A small shop: prices, a cart that totals them, and an unrelated inventory."""
