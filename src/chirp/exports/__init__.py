"""Archives of a user's own data ("Download your data"), built by a job."""
