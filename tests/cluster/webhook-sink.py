"""Receives webhooks and appends each one as a JSON line (event, room,
identity) to a file.
Usage: webhook-sink.py PORT FILE"""
import http.server
import json
import sys

port, path = int(sys.argv[1]), sys.argv[2]


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = json.loads(body)
            line = {"event": event.get("event"), "room": (event.get("room") or {}).get("name"),
                    "identity": (event.get("participant") or {}).get("identity")}
        except ValueError:
            line = {"event": "unparsable"}
        with open(path, "a") as f:
            f.write(json.dumps(line) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Sink).serve_forever()
