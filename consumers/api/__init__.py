"""The HTTP API and dashboard (see :func:`consumers.api.app.create_app`)."""
