"""Apple's wire formats, pure: service discovery, enrollment profiles, MachineInfo, CMS sign/verify.

No I/O and no frameworks here; the web faces and services call these functions.
"""
