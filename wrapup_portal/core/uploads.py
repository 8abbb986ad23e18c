"""An upload handler that stops storing a file once it passes PORTAL_UPLOAD_MAX_BYTES.

Django otherwise writes an upload of any size to a temporary file before a view can say no. The
only upload the portal takes is the assignment CSV (2 MB); a bigger one is skipped while the body
streams in, and the page says why (``assignments.forms.UploadForm``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile

TOO_LARGE_ATTRIBUTE = "portal_upload_too_large"


class SizeLimitedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes chunks on until the file passes the limit, then skips it."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.PORTAL_UPLOAD_MAX_BYTES:
            setattr(self.request, TOO_LARGE_ATTRIBUTE, True)
            raise SkipFile  # the rest of this file is read off the wire and dropped, never stored
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file


def upload_too_large(request: Any) -> bool:
    """Whether this request's upload was skipped for its size."""
    return bool(getattr(request, TOO_LARGE_ATTRIBUTE, False))
