"""Raw HTTP for tests of `rfdreid serve`: paths go out exactly as written (no client-side
`..` clean-up)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

MAX_UPLOAD = 64 * 1024  # the upload cap of the test servers


def request(base_url: str, path: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of one request to the live server at `base_url`."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body holding one file, and its headers."""
    boundary = "rfdreid-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
