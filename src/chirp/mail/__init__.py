"""Outgoing mail: plain-text messages sent by a job, over SMTP or to the log."""
