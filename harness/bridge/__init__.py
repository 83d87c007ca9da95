"""The schemathesis bridge: our checks as its custom checks, its requests through our transport."""
from harness.bridge.bridge import (DISABLED_BUILTIN_CHECKS, Bridge, RoutedTransport, activate, bridge_for, build_schema,
                                   classify, deactivate, dry_requests, register_custom_checks, route_through)
from harness.bridge.compat import install_nodeid_shim

__all__ = ["DISABLED_BUILTIN_CHECKS", "Bridge", "RoutedTransport", "activate", "bridge_for", "build_schema", "classify",
           "deactivate", "dry_requests", "install_nodeid_shim", "register_custom_checks", "route_through"]
