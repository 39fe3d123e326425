"""Apple's Apps and Books (VPP) v2 wire format, pure: the typed values, the JSON both ways, the errors.

- `records`: limits, users, assets, assignments, events, as dataclasses and enums.
- `json_format`: the request bodies Quince sends and Apple's answers read into records.
- `errors`: Apple's error numbers in Quince's words, `VppError`, reading an error answer.

The HTTP client that sends these is `quince.clients.vpp`.
"""
