"""A real SMTP server for the tests and the bench (aiosmtpd): it accepts every message,
refuses recipients whose address starts with "reject" (550), and either writes each
message to a directory as JSON (envelope and raw content; written whole, then renamed) or,
with --count-only, counts them into a file. Prints "ready" once it listens."""

import argparse
import asyncio
import json
import os
import signal

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, count_only):
        self.directory = directory
        self.count_only = count_only
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        if self.count_only:
            path = os.path.join(self.directory, "count")
            with open(path + ".tmp", "w") as f:
                f.write(str(self.n))
            os.replace(path + ".tmp", path)
            return "250 Message accepted"
        path = os.path.join(self.directory, "%08d.json" % self.n)
        with open(path + ".tmp", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "content": envelope.content.decode("utf-8", "replace"),
                },
                f,
            )
        os.replace(path + ".tmp", path)
        return "250 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--count-only", action="store_true")
    a = p.parse_args()
    controller = Controller(
        Sink(a.dir, a.count_only), hostname="127.0.0.1", port=a.port, data_size_limit=1 << 20
    )
    controller.start()
    print("ready", flush=True)
    stop = asyncio.new_event_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.call_soon_threadsafe(stop.stop))
    stop.run_forever()
    controller.stop()


if __name__ == "__main__":
    main()
