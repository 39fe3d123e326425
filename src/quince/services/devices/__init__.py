"""Device records as administrators see them: search, clean-up, dashboard figures."""
