"""A local stand-in for the Kaggle API, for tests that run the official kaggle client.

With KAGGLE_API_ENVIRONMENT=LOCALHOST the client posts to
http://localhost/api/v1/datasets.DatasetApiService/DownloadDataset and streams the body
it gets back into OWNER_SLUG.zip; given a fileName, it is redirected (as Kaggle redirects
to its storage) to that one file. ListDatasetFiles lists the archive's members, a page
at a time. :func:`serve_kaggle` answers on port 80 (root, or CAP_NET_BIND_SERVICE:
without it the test skips, and fails in CI).
"""

import base64
import contextlib
import http.server
import io
import json
import threading
import zipfile

from conftest import missing

USER, KEY = "ada", "s3cr3t-k3y-never-printed"


def make_zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


class KaggleHandler(http.server.BaseHTTPRequestHandler):
    """The one endpoint `KaggleApi.dataset_download_files` uses, on localhost:80."""

    state: dict = {}

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.state["requests"].append((self.path, body))
        expected = "Basic " + base64.b64encode(f"{USER}:{KEY}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._send(401, b'{"code": 401, "message": "Unauthenticated"}', "application/json")
        service = "/api/v1/datasets.DatasetApiService/"
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        if not self.path.startswith(service) or ref not in self.state["datasets"]:
            return self._send(404, b'{"code": 404, "message": "Not found"}', "application/json")
        bodies = self.state["datasets"][ref]
        if self.path == service + "ListDatasetFiles":
            names = zipfile.ZipFile(io.BytesIO(bodies[-1])).namelist()
            start, size = int(body.get("pageToken") or 0), int(body.get("pageSize") or 20)
            page = {"datasetFiles": [{"name": n, "totalBytes": 1} for n in names[start : start + size]]}
            if start + size < len(names):
                page["nextPageToken"] = str(start + size)
            return self._send(200, json.dumps(page).encode(), "application/json")
        if self.path != service + "DownloadDataset":
            return self._send(404, b'{"code": 404, "message": "Not found"}', "application/json")
        if body.get("fileName"):
            self.send_response(302)
            self.send_header("Location", f"/files/{ref}/{body['fileName']}")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        self._send(200, bodies.pop(0) if len(bodies) > 1 else bodies[0], "application/zip")

    def do_GET(self):  # noqa: N802 - the storage a single file's download is redirected to
        self.state["requests"].append((self.path, {}))
        owner, slug, name = self.path.removeprefix("/files/").split("/", 2)
        try:
            data = zipfile.ZipFile(io.BytesIO(self.state["datasets"][f"{owner}/{slug}"][-1])).read(name)
        except KeyError:
            return self._send(404, b"not found", "text/plain")
        self._send(200, data, "application/octet-stream")

    def _send(self, code, data, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_kaggle():
    """Serve the Kaggle API on localhost:80; yields the state: ``datasets`` {"owner/slug":
    [zip bodies, one a request, the last repeated]} to fill, ``requests`` as received."""
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 80), KaggleHandler)
    except OSError as e:
        missing(f"cannot serve the Kaggle API on localhost:80 ({e.strerror}); needs root or CAP_NET_BIND_SERVICE")
    KaggleHandler.state = {"requests": [], "datasets": {}}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield KaggleHandler.state
    finally:
        server.shutdown()
        server.server_close()
