"""Apps and Apps and Books: the catalog, assignments, delivery and licences (rules 6, 7)."""
