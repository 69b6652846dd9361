# The remote host's SMTP sink (mx.remote.test): accepts every message and stores it with its
# envelope as JSON. Usage: python3 sink.py OUT_DIR LISTEN_ADDRESS... (test/lab/lab/remote.ts).
import asyncio, json, os, sys, time
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
out = sys.argv[1]
class Sink:
    n = 0
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        Sink.n += 1
        name = '%d-%03d.json' % (int(time.time() * 1000), Sink.n)
        rec = {'peer': session.peer[0], 'helo': session.host_name, 'mail_from': envelope.mail_from,
               'rcpt_tos': envelope.rcpt_tos, 'data': envelope.original_content.decode('utf-8', 'surrogateescape')}
        tmp = os.path.join(out, '.' + name)
        with open(tmp, 'w') as f: json.dump(rec, f)
        os.rename(tmp, os.path.join(out, name))
        return '250 2.0.0 stored as ' + name
# One listener per address (IPv4 and IPv6), one store.
sink = Sink()
for address in sys.argv[2:]:
    Controller(sink, hostname=address, port=25, server_hostname='mx.remote.test', decode_data=False).start()
print('ready', flush=True)
while True: time.sleep(3600)
