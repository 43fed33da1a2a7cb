"""The bots' HTTP API (Starlette, served by uvicorn). See api/README.md."""

from api.app import create_app
from api.secret_file import load_or_create_secret
from api.server import ApiServer

__all__ = ["ApiServer", "create_app", "load_or_create_secret"]
