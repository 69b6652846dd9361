#!/usr/bin/python3
"""The lab's test clients (run on the remote host): python3 client.py COMMAND JSON-ARGS.

Every command prints one JSON object and exits 0; protocol failures are data, not
exceptions, so the ava test can assert on them and show them. TLS is verified against
the lab CA (args.ca) and the server's name; DNS lookups go to the lab's NSD (args.dns).
"""
import email
import errno
import email.utils
import imaplib
import json
import re
import smtplib
import socket
import ssl
import sys
import time

args = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
HOST = args.get('host', 'mail.example.test')

# args.family 6 (or 4): every connection by name uses only that address family, as a client
# on an IPv6-only (or IPv4-only) network would; TLS still verifies the name.
if args.get('family') in (4, 6):
    _family = socket.AF_INET6 if args['family'] == 6 else socket.AF_INET
    _getaddrinfo = socket.getaddrinfo

    def _only_family(host, port, family=0, *rest, **kw):
        return [ai for ai in _getaddrinfo(host, port, family, *rest, **kw) if ai[0] == _family]

    socket.getaddrinfo = _only_family


def tls_context():
    ctx = ssl.create_default_context(cafile=args['ca'])
    return ctx


def resp(e):
    """(code, text) of an smtplib exception, or None."""
    if isinstance(e, smtplib.SMTPResponseException):
        return [e.smtp_code, e.smtp_error.decode('utf-8', 'replace') if isinstance(e.smtp_error, bytes) else str(e.smtp_error)]
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return [list(e.recipients.values())[0][0], list(e.recipients.values())[0][1].decode('utf-8', 'replace')]
    return None


def err(e):
    return {'error': '%s: %s' % (type(e).__name__, e), 'response': resp(e)}


def message(sender, to, subject, token, body='lab test message'):
    return ('From: <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@lab.test>\r\nDate: %s\r\n\r\n%s\r\ntoken %s\r\n' % (
        sender, ', '.join('<%s>' % t for t in to), subject, token, email.utils.formatdate(), body, token)).encode()


def submit():
    """Authenticated submission: mode starttls (587) or smtps (465)."""
    out = {'stage': 'connect'}
    try:
        if args['mode'] == 'smtps':
            s = smtplib.SMTP_SSL(HOST, args['port'], context=tls_context(), timeout=30)
            s.ehlo('client.remote.test')
        else:
            s = smtplib.SMTP(HOST, args['port'], timeout=30)
            s.ehlo('client.remote.test')
            out['stage'] = 'starttls'
            s.starttls(context=tls_context())
            s.ehlo('client.remote.test')
        out['tls'] = s.sock.version()
        out['stage'] = 'auth'
        code, text = s.login(args['user'], args['password'])
        out['auth'] = [code, text.decode()]
        out['stage'] = 'send'
        refused = s.sendmail(args['from'], args['to'], message(args.get('header_from', args['from']), args['to'], args['subject'], args['token']))
        out['refused'] = {k: [v[0], v[1].decode()] for k, v in refused.items()}
        out['stage'] = 'done'
        s.quit()
        out['ok'] = True
    except Exception as e:
        out.update(err(e))
        out['ok'] = False
    return out


def session():
    """An SMTP session from the remote host (port 25 by default), each reply recorded.
    args: port, source (local address), helo, from, rcpts, data (bool), starttls (bool)."""
    out = {'rcpts': []}
    s = smtplib.SMTP(timeout=30, source_address=(args['source'], 0) if args.get('source') else None)
    try:
        code, text = s.connect(HOST, args.get('port', 25))
        out['banner'] = [code, text.decode('utf-8', 'replace')]
    except Exception as e:
        out['banner'] = resp(e) or [0, str(e)]
        out['error'] = '%s: %s' % (type(e).__name__, e)
        return out
    try:
        code, text = s.ehlo(args.get('helo', 'mx.remote.test'))
        out['ehlo'] = [code, text.decode('utf-8', 'replace')]
        if args.get('starttls'):
            s.starttls(context=tls_context())
            s.ehlo(args.get('helo', 'mx.remote.test'))
        if args.get('auth'):
            # AUTH PLAIN by hand: smtplib refuses to try when AUTH is not advertised.
            import base64
            blob = base64.b64encode(('\0%s\0%s' % (args['auth']['user'], args['auth']['password'])).encode()).decode()
            code, text = s.docmd('AUTH', 'PLAIN ' + blob)
            out['auth'] = [code, text.decode('utf-8', 'replace')]
            out['ehlo_advertises_auth'] = s.has_extn('auth')
            s.quit()
            return out
        code, text = s.mail(args['from'])
        out['mail'] = [code, text.decode('utf-8', 'replace')]
        accepted = []
        for r in args['rcpts']:
            code, text = s.rcpt(r)
            out['rcpts'].append([code, text.decode('utf-8', 'replace')])
            if code < 300:
                accepted.append(r)
        if args.get('data', True) and accepted:
            code, text = s.data(message(args['from'], accepted, args.get('subject', 'lab'), args.get('token', 'none')))
            out['data'] = [code, text.decode('utf-8', 'replace')]
        s.quit()
    except Exception as e:
        out.update(err(e))
    return out


def imap():
    """IMAPS login and search for a token in the INBOX; returns the matching messages' headers."""
    out = {}
    try:
        m = imaplib.IMAP4_SSL(HOST, args.get('port', 993), ssl_context=tls_context(), timeout=30)
        out['tls'] = m.sock.version()
        typ, data = m.login(args['user'], args['password'])
        out['login'] = [typ, [d.decode() for d in data]]
        m.select('INBOX', readonly=True)
        found = []
        deadline = time.time() + args.get('wait', 0)
        while True:
            typ, data = m.search(None, 'BODY', '"%s"' % args['token'])
            ids = data[0].split()
            if ids or time.time() >= deadline:
                break
            time.sleep(0.5)
            m.noop()
        for i in ids:
            typ, msg = m.fetch(i, '(RFC822)')
            parsed = email.message_from_bytes(msg[0][1])
            found.append({'subject': parsed['Subject'], 'to': parsed['To'], 'delivered_to': parsed.get_all('Delivered-To'), 'return_path': parsed['Return-Path']})
        out['messages'] = found
        m.logout()
        out['ok'] = True
    except imaplib.IMAP4.error as e:
        out['ok'] = False
        out['error'] = 'IMAP4.error: %s' % e
    except Exception as e:
        out.update(err(e))
        out['ok'] = False
    return out


def imap_plain():
    """Port 143 without TLS: closed, or LOGIN refused."""
    out = {}
    try:
        m = imaplib.IMAP4(HOST, args.get('port', 143), timeout=15)
    except Exception as e:
        out['connected'] = False
        out['error'] = '%s: %s' % (type(e).__name__, e)
        # The symbolic errno (ECONNREFUSED, ETIMEDOUT, ...): the test tells a closed port from other failures.
        code = getattr(e, 'errno', None)
        if isinstance(code, int):
            out['errno'] = errno.errorcode.get(code, str(code))
        return out
    out['connected'] = True
    out['capabilities'] = list(m.capabilities)
    try:
        typ, data = m.login(args['user'], args['password'])
        out['login'] = [typ, [d.decode() for d in data]]
    except Exception as e:
        out['login'] = ['NO', [str(e)]]
    try:
        m.logout()
    except Exception:
        pass
    return out


def resolver():
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [args['dns']]
    r.timeout = 3
    r.lifetime = 6
    dns.resolver.default_resolver = r
    return r


def verify():
    """DKIM, SPF and DMARC alignment of a message stored by the sink (args.file)."""
    import dkim
    import spf
    r = resolver()
    rec = json.load(open(args['file']))
    raw = rec['data'].encode('utf-8', 'surrogateescape')
    out = {'peer': rec['peer'], 'helo': rec['helo'], 'mail_from': rec['mail_from']}
    msg = email.message_from_bytes(raw)
    out['from'] = msg['From']
    out['from_domain'] = email.utils.parseaddr(msg['From'] or '')[1].rpartition('@')[2].lower()
    sigs = msg.get_all('DKIM-Signature') or []
    out['dkim_signatures'] = len(sigs)
    out['dkim_d'] = [m.group(1).lower() for m in (re.search(r'\bd=([^;\s]+)', s) for s in sigs) if m]
    out['dkim_s'] = [m.group(1) for m in (re.search(r'\bs=([^;\s]+)', s) for s in sigs) if m]

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            ans = r.resolve(name.rstrip('.'), 'TXT')
        except Exception:
            return None
        return b''.join(b''.join(rr.strings) for rr in ans)

    try:
        out['dkim_pass'] = bool(dkim.verify(raw, dnsfunc=dnsfunc))
    except Exception as e:
        out['dkim_pass'] = False
        out['dkim_error'] = str(e)
    spf_sender = rec['mail_from'] or ('postmaster@' + rec['helo'])
    out['spf_domain'] = spf_sender.rpartition('@')[2].lower()
    res, expl = spf.check2(i=rec['peer'], s=spf_sender, h=rec['helo'])
    out['spf'] = [res, expl]
    try:
        out['dmarc_record'] = [b''.join(rr.strings).decode() for rr in r.resolve('_dmarc.' + out['from_domain'], 'TXT')]
    except Exception as e:
        out['dmarc_record'] = []
    d = out['from_domain']
    out['dmarc_aligned'] = (out['dkim_pass'] and d in out['dkim_d']) or (res == 'pass' and out['spf_domain'] == d)
    return out


def spfcheck():
    import spf
    resolver()
    res, expl = spf.check2(i=args['ip'], s=args['sender'], h=args.get('helo', 'mail.example.test'))
    return {'spf': [res, expl]}


if __name__ == '__main__':
    cmd = sys.argv[1]
    print(json.dumps(globals()[cmd]()))
