"""The admin console under /console: server-rendered pages for IT administrators (issue 6)."""
