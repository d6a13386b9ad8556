"""An emulator of the BigCommerce B2B Edition management API (and the few core endpoints the
reconciler reads), faithful to ``b2b-api.md``; state in SQLite; in-process or served.

Imports nothing from the rest of ``reconciler``.
"""

from .errors import SandboxError
from .log import LogEntry
from .quirks import DEFAULT_QUIRKS
from .sandbox import Sandbox
from .server import ServedSandbox

__all__ = ["DEFAULT_QUIRKS", "LogEntry", "Sandbox", "SandboxError", "ServedSandbox"]
