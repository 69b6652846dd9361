#!/usr/bin/python3
"""IMAPS folder checks for the upgrade test (run on the lab's remote host):
python3 imap_folders.py COMMAND JSON-ARGS, one JSON object out, exit 0.

  append   login, APPEND a message with args.token to args.folder (e.g. Sent)
  folders  login, LIST every folder, and for each: its message count and which of
           args.tokens its messages contain
TLS is verified against the lab CA (args.ca) for mail.example.test.
"""
import email.utils
import imaplib
import json
import re
import ssl
import sys

args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
HOST = args.get('host', 'mail.example.test')


def connect():
    m = imaplib.IMAP4_SSL(HOST, 993, ssl_context=ssl.create_default_context(cafile=args['ca']), timeout=30)
    m.login(args['user'], args['password'])
    return m


def append():
    m = connect()
    msg = ('From: <%s>\r\nTo: <bob@remote.test>\r\nSubject: sent before the upgrade %s\r\nMessage-ID: <%s@lab.test>\r\nDate: %s\r\n\r\nkept in Sent\r\ntoken %s\r\n' % (
        args['user'], args['token'], args['token'], email.utils.formatdate(), args['token'])).encode()
    typ, data = m.append(args['folder'], '(\\Seen)', None, msg)
    m.logout()
    return {'ok': typ == 'OK', 'append': [typ, [d.decode() if isinstance(d, bytes) else str(d) for d in data]]}


def folders():
    m = connect()
    typ, data = m.list()
    out = {'folders': {}, 'list': [d.decode() for d in data if d]}
    for line in out['list']:
        mm = re.match(r'\((?P<flags>[^)]*)\) "(?P<sep>[^"]*)" (?P<name>.*)$', line)
        if not mm:
            continue
        name = mm.group('name').strip('"')
        typ, d = m.select('"%s"' % name, readonly=True)
        count = int(d[0]) if typ == 'OK' else None
        found = []
        for tok in args.get('tokens', []):
            typ, s = m.search(None, 'BODY', '"%s"' % tok)
            if typ == 'OK' and s[0].split():
                found.append(tok)
        out['folders'][name] = {'flags': mm.group('flags'), 'messages': count, 'tokens': found}
    m.logout()
    out['ok'] = True
    return out


try:
    result = {'append': append, 'folders': folders}[sys.argv[1]]()
except Exception as e:
    result = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
print(json.dumps(result))
