"""The embedded reference server for `POST /v2/runtimes`."""
from mock.app import MockSettings, create_app
from mock.server import ServerThread

__all__ = ["MockSettings", "ServerThread", "create_app"]
