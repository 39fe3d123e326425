"""The MDM channel: check-in, the command queue and APNs pushes."""
