# A private syslog for the lab's mx: /dev/log -> /var/log/mwlab-syslog.log (daemons log there),
# and /var/log/syslog as rsyslog keeps it (mailwizard shows a failed daemon's lines from there).
# Run inside the mx as `python3 -c "$(cat syslog.py)"` (test/lab/lab/mx.ts).
import socket, os, time, sys
path = '/dev/log'
try: os.unlink(path)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o666)
out = open('/var/log/mwlab-syslog.log', 'a', buffering=1)
syslog = open('/var/log/syslog', 'a', buffering=1)
while True:
    data = s.recv(65536).decode('utf-8', 'replace').rstrip('\n\x00')
    out.write(time.strftime('%H:%M:%S ') + data + '\n')
    syslog.write(data.split('>', 1)[-1] + '\n')
