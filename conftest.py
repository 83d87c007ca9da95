"""Root conftest: thin on purpose; options, hooks and fixtures live in harness/plugin/."""
pytest_plugins = ["harness.plugin.options", "harness.plugin.hooks", "harness.plugin.fixtures"]
