#!/usr/bin/python3
# eduinfo-pipeline, Licence Ouverte 2.0 / MIT: see README.md.
"""A loopback HTTP server for the tests and `make demo`, standard library only.

Static mode (--root DIR) serves files with a strong ETag, Last-Modified, Content-Length and 304
answers to If-None-Match / If-Modified-Since, like a well-behaved origin, and a directory as an
HTML index page whose links are absolute paths ending in "/" for subdirectories (as
files.data.gouv.fr lists geo-dvf's years); a directory asked without its final "/" is a 301 to it. Scripted mode
(--script FILE, a JSON object path -> list of responses) plays the misbehaving servers the tests
need: status sequences, ignored conditions, 429 + Retry-After, slow or cut bodies, redirects,
HTML error pages with status 200, gzip; a scripted path also answers POST, which makes the
server a Slack or SendGrid stand-in. Every request is logged as one JSON line (method, path,
headers, and a POST's body) to --log so a test can assert what the client sent. It never listens
beyond 127.0.0.1.

Usage: httpd.py [--root DIR] [--script FILE] [--log FILE] [--sent FILE] [--port N] [--port-file FILE] [--tls PEM]
With --sent FILE, each response is also logged there as one JSON line (path, status, body bytes
sent), so that a benchmark can count what a run downloaded.
With --tls PEM (a certificate and its key in one file) it speaks HTTPS instead. The chosen port is printed on stdout and written to --port-file (atomically) once listening.

A scripted response is an object; every key is optional:
  status        HTTP status (200)
  body          text body; "@BASE@" is replaced by http://127.0.0.1:PORT
  body_file     file (relative to the script's directory) to send instead of body, with
                "@BASE@" replaced too
  headers       extra headers {name: value}; a value "@NOW+N@" is the HTTP date N seconds after
                the request (a Retry-After date)
  etag, last_modified   validators to send; last_modified "@NOW@" is the time of the request
  conditional   true: answer 304 when If-None-Match / If-Modified-Since match the validators
  gzip          true: send the body gzip-encoded with Content-Encoding: gzip
  delay         seconds to sleep before answering (a slow server)
  cut           send only this many body bytes, then close (Content-Length stays the full size)
  stall         [bytes, seconds]: send this many body bytes, then wait before the rest (a stalled
                transfer, to time out or to interrupt)
  trickle       [bytes, seconds]: send the body this many bytes at a time, waiting in between
  hold          [bytes, file]: send this many body bytes, then hold the rest until file exists
                (a transfer held at a known point until the test says, at most 120 s)
  length        the Content-Length to announce instead of the body's (a lying server)
  location      Location header (use with a 3xx status)
  unordered     true: an Opendatasoft export, whose records are "not ordered" unless asked: the
                body's lines after the first (the header) in a new order at each request,
                unless the query string asks for an order_by; with order_by, as written
The list is played in order, one entry per request to that path; the last entry repeats. The
script file is re-read when it changes, which also restarts every sequence.
"""
import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import random
import ssl
import sys
import threading
import time

LOCK = threading.Lock()
STATE = {"mtime": None, "script": {}, "counts": {}}
TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".gz": "application/gzip",
         ".zip": "application/zip", ".txt": "text/plain; charset=utf-8", ".html": "text/html",
         ".tsv": "text/tab-separated-values"}


def load_script(path):
    """Returns the script and the response index for this request, re-reading a changed file."""
    st = os.stat(path)
    key = (st.st_mtime_ns, st.st_size)
    if STATE["mtime"] != key:
        with open(path, encoding="utf-8") as f:
            STATE["script"] = json.load(f)
        STATE["mtime"] = key
        STATE["counts"] = {}
    return STATE["script"]


def http_date_in(value):
    """ "@NOW+N@" -> the HTTP date N seconds from now; any other value unchanged."""
    if isinstance(value, str) and value.startswith("@NOW+") and value.endswith("@"):
        return email.utils.formatdate(time.time() + float(value[5:-1]), usegmt=True)
    return value


def shuffled(body, n):
    """The body's lines but the first in the order the n-th random permutation gives; every line
    ends with the header's line end, so that no line is joined to the next."""
    lines = body.splitlines(keepends=True)
    if len(lines) < 3:
        return body
    eol = b"\r\n" if lines[0].endswith(b"\r\n") else b"\n"
    rows = [line if line.endswith(b"\n") else line + eol for line in lines[1:]]
    random.Random(n).shuffle(rows)
    return lines[0] + b"".join(rows)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "edu-test-httpd"

    def log_message(self, fmt, *args):  # the JSON log replaces the default stderr chatter
        pass

    def log_request_json(self):
        if not self.server.log:
            return
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "time": time.time()}
        if self.command == "POST":
            entry["body"] = self.posted
        line = json.dumps(entry, ensure_ascii=False)
        with LOCK, open(self.server.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.posted = self.rfile.read(length).decode("utf-8", "replace")
        self.handle_any(head=False)

    def handle_any(self, head):
        self.log_request_json()
        path = self.path.split("?", 1)[0] if self.server.script_ignores_query else self.path
        resp = None
        if self.server.script:
            with LOCK:
                script = load_script(self.server.script)
                seq = script.get(self.path) or script.get(path)
                if seq is not None:
                    if isinstance(seq, dict):
                        seq = [seq]
                    n = STATE["counts"].get(self.path, 0)
                    STATE["counts"][self.path] = n + 1
                    resp = seq[min(n, len(seq) - 1)]
        if resp is not None:
            self.scripted(resp, head)
        elif self.server.root:
            self.static(path, head)
        else:
            self.send_body(404, {"Content-Type": "text/plain"}, b"no such path\n", head)

    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def send_body(self, status, headers, body, head, cut=None, stall=None, trickle=None,
                  hold=None, length=None):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if status != 304:
            self.send_header("Content-Length", str(len(body) if length is None else int(length)))
        if length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        if cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.server.sent:
            n = 0 if head or status == 304 else len(body) if cut is None else min(cut, len(body))
            line = json.dumps({"path": self.path, "status": status, "bytes": n})
            with LOCK, open(self.server.sent, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        if head or status == 304:
            return
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        if hold is not None:
            self.wfile.write(body[:hold[0]])
            self.wfile.flush()
            deadline = time.time() + 120
            while not os.path.exists(hold[1]) and time.time() < deadline:
                time.sleep(0.05)
            body = body[hold[0]:]
        if stall is not None:
            self.wfile.write(body[:stall[0]])
            self.wfile.flush()
            time.sleep(float(stall[1]))
            body = body[stall[0]:]
        if trickle is not None:
            # [bytes, seconds]: a server that never stalls outright but crawls
            try:
                while body:
                    self.wfile.write(body[:trickle[0]])
                    self.wfile.flush()
                    body = body[trickle[0]:]
                    time.sleep(float(trickle[1]))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.wfile.write(body)

    def scripted(self, r, head):
        if r.get("delay"):
            time.sleep(float(r["delay"]))
        status = int(r.get("status", 200))
        headers = {k: http_date_in(v) for k, v in r.get("headers", {}).items()}
        if "body_file" in r:
            with open(os.path.join(os.path.dirname(self.server.script), r["body_file"]), "rb") as f:
                body = f.read().replace(b"@BASE@", self.base().encode())
        else:
            body = r.get("body", "").replace("@BASE@", self.base()).encode("utf-8")
        if "location" in r:
            headers["Location"] = r["location"].replace("@BASE@", self.base())
        if "etag" in r:
            headers["ETag"] = r["etag"]
        lm = r.get("last_modified")
        if lm == "@NOW@":  # a server that lies: the content is "new" at every request
            lm = email.utils.formatdate(time.time(), usegmt=True)
        if lm is not None:
            headers["Last-Modified"] = lm
        if r.get("conditional") and self.not_modified(r.get("etag"), lm):
            status = 304
        if r.get("unordered") and "order_by=" not in self.path.partition("?")[2]:
            body = shuffled(body, STATE["counts"].get(self.path, 0))
        if r.get("gzip"):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        self.send_body(status, headers, body, head, r.get("cut"), r.get("stall"), r.get("trickle"),
                       r.get("hold"), r.get("length"))

    def not_modified(self, etag, last_modified):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag is not None and etag in [t.strip() for t in inm.split(",")] or inm == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and last_modified is not None:
            try:
                return (email.utils.parsedate_to_datetime(last_modified)
                        <= email.utils.parsedate_to_datetime(ims))
            except (TypeError, ValueError):
                return False
        return False

    def index(self, path, full, head):
        """A directory: an HTML page linking each entry, subdirectories first-class ("2023/")."""
        if not path.endswith("/"):
            self.send_body(301, {"Location": path + "/", "Content-Type": "text/plain"}, b"", head)
            return
        names = sorted(os.listdir(full))
        links = ['<a href="../">../</a>'] + [
            '<a href="%s%s%s">%s%s</a>' % (path, n, "/" * os.path.isdir(os.path.join(full, n)), n,
                                          "/" * os.path.isdir(os.path.join(full, n)))
            for n in names]
        body = ("<html>\n<head><title>Index of %s</title></head>\n<body>\n<h1>Index of %s</h1><hr><pre>"
                "%s\n</pre><hr></body>\n</html>\n" % (path, path, "\n".join(links))).encode()
        self.send_body(200, {"Content-Type": "text/html"}, body, head)

    def static(self, path, head):
        root = os.path.realpath(self.server.root)
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if (full == root or full.startswith(root + os.sep)) and os.path.isdir(full):
            self.index(path, full, head)
            return
        if not (full == root or full.startswith(root + os.sep)) or not os.path.isfile(full):
            self.send_body(404, {"Content-Type": "text/plain"}, b"not found\n", head)
            return
        st = os.stat(full)
        etag = '"%s"' % hashlib.sha1(("%d-%d" % (st.st_size, st.st_mtime_ns)).encode()).hexdigest()[:16]
        lm = email.utils.formatdate(int(st.st_mtime), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": lm,
                   "Content-Type": TYPES.get(os.path.splitext(full)[1], "application/octet-stream")}
        if self.not_modified(etag, lm):
            self.send_body(304, headers, b"", head)
            return
        with open(full, "rb") as f:
            body = f.read()
        self.send_body(200, headers, body, head)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="loopback HTTP server for eduinfo-pipeline tests")
    ap.add_argument("--root", help="serve the files of this directory")
    ap.add_argument("--script", help="JSON script of responses per path")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    ap.add_argument("--sent", help="append one JSON line per response (path, status, bytes)")
    ap.add_argument("--port", type=int, default=0, help="port (0 = any free port)")
    ap.add_argument("--port-file", help="write the chosen port to this file")
    ap.add_argument("--match-query", action="store_true",
                    help="script paths include the query string exactly")
    ap.add_argument("--tls", help="serve HTTPS with this PEM file (certificate and key)")
    a = ap.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.root = a.root
    srv.script = os.path.abspath(a.script) if a.script else None
    srv.log = a.log
    srv.sent = a.sent
    srv.script_ignores_query = not a.match_query
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, a.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
