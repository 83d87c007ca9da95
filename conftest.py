"""Root conftest: thin on purpose; options, fixtures and hooks live in harness.plugin."""
pytest_plugins = ["harness.plugin"]
