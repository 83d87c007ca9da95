"""The embedded reference server for `POST /v2/runtimes`."""
from mock.app import MockSettings, create_app
from mock.server import ServerProcess, ServerThread

__all__ = ["MockSettings", "ServerProcess", "ServerThread", "create_app"]
