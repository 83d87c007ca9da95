"""The pytest integration: options, hooks, fixtures, the breaker's stop, the controller's views.

The root conftest.py loads `options`, `hooks` and `fixtures` as plugins; the
schemathesis bridge lives beside this package (harness/bridge/).
"""
