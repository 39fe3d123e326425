"""Who and where: organization groups and their settings, users, user groups, imports."""
