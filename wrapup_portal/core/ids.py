"""The shape of a Genesys id (a UUID), for forms and URLs that must refuse anything else early."""

from __future__ import annotations

import re

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
