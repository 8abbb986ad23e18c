"""A local emulator of the Genesys Cloud CX API subset the Wrap-up Portal uses.

No Django here: run it as ``python -m integrations.genesys_sandbox`` or through
``manage.py run_sandbox``. See README.md in this folder for its choices and knobs.
"""

from __future__ import annotations

from .auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from .config import KnobError, OrgSpec, SandboxConfig
from .model import TIMEOUT_CODE
from .server import SandboxServer

__all__ = ["DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "KnobError", "OrgSpec", "SandboxConfig", "SandboxServer",
           "TIMEOUT_CODE"]
