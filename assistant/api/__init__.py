"""The HTTP API: FastAPI app factory, dependencies and routes."""

from assistant.api.main import create_app

__all__ = ["create_app"]
