#!/usr/bin/env python3
"""An HTTP proxy for apt that records, then replays, what apt fetched.

    apt-proxy.py record DIR HOST PORT   fetch from the real mirror, store every answer in DIR
    apt-proxy.py replay DIR HOST PORT   answer only from DIR: a miss is a 404 (and a line on stderr)

PORT 0 picks a free port; the port is printed on stdout ("port N") once listening.
While the file FAIL_FILE (/run/apt-proxy-fail) holds a number N, the mirror "goes away" after
N more packages: every further .deb is answered 503 (apt failing midway, issue 20).
apt reaches it through http_proxy=http://HOST:PORT, so the lab's fresh Debian 12 server
installs real Debian packages (InRelease signed by Debian, Packages, .debs, all
verified by apt as usual) while the test itself never leaves the machine.
Only http:// mirrors can be recorded (apt's https goes through CONNECT).
"""
import hashlib
import http.server
import json
import os
import sys
import urllib.error
import urllib.request

MODE, DIR, HOST, PORT = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
FAIL_FILE = '/run/apt-proxy-fail'
served_debs = {'count': 0}


def mirror_gone(url):
    """True once FAIL_FILE's number of packages has been served (the count restarts without the file)."""
    try:
        with open(FAIL_FILE) as f:
            allowed = int(f.read().strip() or '0')
    except (OSError, ValueError):
        served_debs['count'] = 0
        return False
    if not url.endswith('.deb'):
        return False
    served_debs['count'] += 1
    return served_debs['count'] > allowed
os.makedirs(DIR, exist_ok=True)


def key(url):
    return hashlib.sha256(url.encode()).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, ctype='application/octet-stream', head=False):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def fetch(self, head):
        url = self.path
        if not url.startswith('http://'):
            return self.answer(400, b'a proxy request needs an absolute http:// URL\n', 'text/plain', head)
        if mirror_gone(url):
            print(f'{MODE} GONE 503 {url}', file=sys.stderr, flush=True)
            return self.answer(503, b'the lab mirror went away\n', 'text/plain', head)
        k = key(url)
        meta_file, body_file = os.path.join(DIR, k + '.json'), os.path.join(DIR, k + '.body')
        if os.path.exists(meta_file):
            with open(meta_file) as f:
                meta = json.load(f)
            body = b''
            if meta['status'] == 200:
                with open(body_file, 'rb') as f:
                    body = f.read()
            print(f'{MODE} hit {meta["status"]} {url}', file=sys.stderr, flush=True)
            return self.answer(meta['status'], body, meta.get('type', 'application/octet-stream'), head)
        if MODE != 'record':
            print(f'replay MISS {url}', file=sys.stderr, flush=True)
            return self.answer(404, b'not recorded\n', 'text/plain', head)
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers={'User-Agent': 'mailwizard-test-apt-proxy'}), timeout=120) as r:
                status, body, ctype = r.status, r.read(), r.headers.get('Content-Type', 'application/octet-stream')
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, b'', 'text/plain'
        except Exception as e:  # the mirror cannot be reached: not recorded, apt sees a 502
            print(f'record ERROR {url}: {e}', file=sys.stderr, flush=True)
            return self.answer(502, str(e).encode(), 'text/plain', head)
        if status in (200, 404):
            if status == 200:
                with open(body_file + '.tmp', 'wb') as f:
                    f.write(body)
                os.replace(body_file + '.tmp', body_file)
            with open(meta_file + '.tmp', 'w') as f:
                json.dump({'url': url, 'status': status, 'type': ctype, 'size': len(body)}, f)
            os.replace(meta_file + '.tmp', meta_file)
        print(f'record {status} {len(body)} {url}', file=sys.stderr, flush=True)
        return self.answer(status, body, ctype, head)

    def do_GET(self):
        self.fetch(False)

    def do_HEAD(self):
        self.fetch(True)


server = http.server.ThreadingHTTPServer((HOST, PORT), Handler)
print(f'port {server.server_address[1]}', flush=True)
server.serve_forever()
