"""The bots' HTTP API (Starlette, served by uvicorn). See api/README.md."""

from api.app import create_app
from api.secret_file import write_secret_file
from api.server import ApiServer

__all__ = ["ApiServer", "create_app", "write_secret_file"]
