"""Who may do what: admins, API keys, passwords, sign-in back-off and console sessions."""
