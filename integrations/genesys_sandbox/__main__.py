"""``python -m integrations.genesys_sandbox [--port 8765] [--login-port 8766] [--seed N] [--speed X] …``"""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
