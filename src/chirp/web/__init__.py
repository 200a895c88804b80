"""Server-rendered web UI plumbing: templates, login cookies, CSRF, htmx helpers."""
