"""Importing enrollment users from CSV, and the runs the console shows."""
