"""The MDM commands an administrator queues (reference §3a, §8), one module per job.

- `building`: `build_command` turns a RequestType and its keys (from the REST API, the CLI or a
  service) into the `Command` dictionary sent to the device, refusing unknown keys and wrong types
  (`key_checks` checks each key, `profile_payload` reads an InstallProfile Payload).
- `user_enrollment_check`: `check_for_user_enrollment` refuses, before anything is queued, what a
  user-enrolled device must not receive.
- `inventory`: what a command's result adds to the device inventory, as JSON.
- `json_codec`: a Command (which may hold data, e.g. a profile) through a JSON column and back.
"""
