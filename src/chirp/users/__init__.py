"""Accounts: sign-up, credentials, profiles and the directory."""
