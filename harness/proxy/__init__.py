"""A validating reverse proxy: forward live traffic unchanged, judge a copy of each exchange."""
from harness.proxy.forward import HOP_BY_HOP, ProxyApp, create_proxy_app
from harness.proxy.offload import JudgeFailure, JudgeProcess
from harness.proxy.server import ProxyServer, run_until_signalled

__all__ = ["HOP_BY_HOP", "JudgeFailure", "JudgeProcess", "ProxyApp", "ProxyServer", "create_proxy_app",
           "run_until_signalled"]
