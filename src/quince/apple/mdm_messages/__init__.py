"""What a device PUTs to the check-in and connect endpoints (reference §1, §2), and Quince's replies.

A device body is hostile until parsed. Every way it can be wrong (not a plist, not a dictionary,
a missing or mistyped key, an oversized string, a tree too deep or too big) raises
`MalformedMessage` with a readable reason and nothing else, so the endpoints answer 400 (never 500,
and never 401, which a device takes for "you are unenrolled").

- `identity`: the one typed identity each message carries, read from `UDID` or `EnrollmentID`.
- `checkin`: the check-in messages and `parse_checkin`.
- `command_report`: what a device reports on the connect endpoint, and `parse_report`.
- `replies`: what Quince answers on the connect endpoint (a command, or "unrecognized device").
- `fields`: reading one key of a device message, typed and bounded.
"""
