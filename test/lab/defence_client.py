#!/usr/bin/env python3
"""Issue 18's clients (run on the lab's remote host, by test/lab/defence.ts): argv cmd JSON-args; prints JSON.
Each connection can leave from a given lab address (src), so one address can be banned while another is not."""
import email.utils, imaplib, json, smtplib, socket, ssl, sys, threading, time

cmd = sys.argv[1]
args = json.loads(sys.argv[2])
HOST = args.get('host', '10.77.0.25')


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class IMAP(imaplib.IMAP4_SSL):
    src = None

    def _create_socket(self, timeout):
        s = socket.create_connection((self.host, self.port), timeout, source_address=(self.src, 0) if self.src else None)
        return self.ssl_context.wrap_socket(s, server_hostname=self.host)


def imap(src=None, timeout=15):
    IMAP.src = src
    return IMAP(HOST, 993, ssl_context=ctx(), timeout=timeout)


def send():
    body = args['body']
    msg = ('From: <carol@remote.test>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@remote.test>\r\nDate: %s\r\n\r\n%s\r\ntoken %s\r\n' % (
        args['to'], args['subject'], args['token'], email.utils.formatdate(), body, args['token'])).encode()
    s = smtplib.SMTP(timeout=30, source_address=(args.get('source', '10.77.0.30'), 0))
    out = {}
    s.connect(HOST, 25)
    s.ehlo('mx.remote.test')
    s.mail('carol@remote.test')
    code, text = s.rcpt(args['to'])
    out['rcpt'] = [code, text.decode()]
    code, text = s.data(msg) if out['rcpt'][0] < 300 else (0, b'')
    out['data'] = [code, text.decode()]
    try:
        s.quit()
    except Exception:
        pass
    return out


def move():
    """Log in, find the token in FROM mailbox, MOVE it to TO mailbox."""
    m = imap()
    m.login(args['user'], args['password'])
    m.select(args['from'])
    typ, data = m.uid('SEARCH', None, 'BODY', '"%s"' % args['token'])
    uids = data[0].split()
    out = {'found': len(uids)}
    if uids:
        out['move'] = [x if isinstance(x, str) else repr(x) for x in m.uid('MOVE', uids[0].decode(), args['to'])[:1]]
    m.logout()
    return out


def guess():
    """n wrong IMAP logins in parallel from src."""
    res = []

    def one():
        try:
            m = imap(args['src'])
            try:
                m.login(args['user'], 'wrong-' + str(time.time()))
                res.append('logged in?!')
            except imaplib.IMAP4.error as e:
                res.append('refused')
            try:
                m.logout()
            except Exception:
                pass
        except Exception as e:
            res.append('%s: %s' % (type(e).__name__, e))
    th = [threading.Thread(target=one) for _ in range(args['n'])]
    [t.start() for t in th]
    [t.join() for t in th]
    return {'results': res}


def smtpguess():
    res = []
    for _ in range(args['n']):
        try:
            s = smtplib.SMTP(HOST, 587, source_address=(args['src'], 0), timeout=10)
            s.starttls(context=ctx())
            try:
                s.login(args['user'], 'wrong')
            except smtplib.SMTPAuthenticationError as e:
                res.append(e.smtp_code)
            s.quit()
        except Exception as e:
            res.append('%s: %s' % (type(e).__name__, e))
    return {'results': res}


def submit():
    """AUTH and a message on 587 (STARTTLS) from src: the address still sends."""
    out = {}
    try:
        s = smtplib.SMTP(HOST, 587, source_address=(args['src'], 0), timeout=15)
        s.starttls(context=ctx())
        out['auth'] = s.login(args['user'], args['password'])[0]
        msg = ('From: <%s>\r\nTo: <%s>\r\nSubject: still sends\r\nMessage-ID: <%s@remote.test>\r\nDate: %s\r\n\r\ntoken %s\r\n' % (
            args['user'], args['to'], args['token'], email.utils.formatdate(), args['token'])).encode()
        out['refused'] = {k: v[0] for k, v in s.sendmail(args['user'], [args['to']], msg).items()}
        s.quit()
        out['ok'] = True
    except Exception as e:
        out['ok'] = False
        out['error'] = '%s: %s' % (type(e).__name__, e)
    return out


def reach():
    """Can src connect to each port? (TCP connect within 3 s), and log in over IMAP if a password is given."""
    out = {}
    for p in args['ports']:
        try:
            s = socket.create_connection((HOST, p), 3, source_address=(args['src'], 0))
            s.close()
            out[str(p)] = 'open'
        except Exception as e:
            out[str(p)] = type(e).__name__
    if args.get('password'):
        try:
            m = imap(args['src'], 5)
            out['login'] = m.login(args['user'], args['password'])[0]
            m.logout()
        except Exception as e:
            out['login'] = '%s: %s' % (type(e).__name__, e)
    return out


print(json.dumps(globals()[cmd]()))
