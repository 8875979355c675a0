"""Optional add-ons for frameworks, each imported only by programs that use it."""
