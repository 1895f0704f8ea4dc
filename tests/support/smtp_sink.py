"""A throwaway SMTP server for dbstash's tests (PyPI aiosmtpd): it writes each message to
DIR/NNNN.eml and its envelope (sender, recipients, login, TLS) to DIR/NNNN.json, renamed
into place once complete. Plain SMTP only (no STARTTLS offered); with --auth USER:PASSWORD
it offers AUTH PLAIN/LOGIN without TLS and accepts only that login.

    python3 smtp_sink.py --port PORT --dir DIR [--auth USER:PASSWORD]
"""

import argparse
import itertools
import json
import os
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.directory, f"{n:04}")
        login = session.auth_data if session.authenticated else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "tls": session.ssl is not None,
        }
        for ext, data in ((".eml", envelope.original_content), (".json", json.dumps(meta).encode())):
            with open(base + ext + ".tmp", "wb") as f:
                f.write(data)
            os.rename(base + ext + ".tmp", base + ext)
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--auth")
    a = p.parse_args()

    kwargs = {}
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

        kwargs = dict(authenticator=authenticator, auth_require_tls=False)

    controller = Controller(Sink(a.dir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
