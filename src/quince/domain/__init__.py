"""Pure rules of Quince: no I/O, no frameworks."""
