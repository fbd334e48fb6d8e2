"""The built book served on 127.0.0.1 for headless Chromium (handout printer, browser tests).

Both drive Debian's ``/usr/bin/chromium`` through Playwright with the same flags, against
pages served from a local port, so that no request needs a network.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Debian's Chromium, which Playwright drives (``apt-get install chromium``).
CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a quiet, offline, unsandboxed (container) Chromium.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: The only host the served pages may reach.
LOCAL_HOST = "127.0.0.1"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(directory: Path, name: str = "book-http") -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread and yield its base URL.

    Parameters
    ----------
    directory : Path
        The folder to serve (e.g. ``_build/html``).
    name : str, optional
        Name of the server thread.

    Yields
    ------
    str
        ``http://127.0.0.1:<port>/``.

    Examples
    --------
    >>> import tempfile, urllib.request
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("hello")
    >>> with serve(folder) as base:
    ...     urllib.request.urlopen(base + "a.txt").read()
    b'hello'
    """
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((LOCAL_HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
