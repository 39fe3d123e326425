"""The demo tenant `make run` seeds on a fresh install."""
