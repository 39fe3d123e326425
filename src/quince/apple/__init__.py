"""Apple's wire formats, pure: service discovery, enrollment profiles, MachineInfo, CMS sign/verify,
device messages, MDM commands and the Apps and Books (VPP) wire format.

No I/O and no frameworks here; the web faces and services call these functions.
"""
