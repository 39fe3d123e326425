"""Enrollment: from a sign-in to the device's profile and certificate (DESIGN.md rules 1, 2, 4)."""
