"""Use cases: each function combines domain rules and storage inside the caller's transaction.

Services never commit; the face that calls them (API route, CLI command) owns the transaction.
"""
