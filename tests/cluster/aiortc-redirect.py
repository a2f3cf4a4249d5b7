#!/usr/bin/python3
"""aiortc (Debian's python3-aiortc) joining a room through the node that
does not own it: the WHIP POST gets a 307, which this client follows as
RFC 9725 asks (same method, offer and Authorization: urllib itself does not
follow a 307 POST), then the audio goes round trip through the owner's
loopback room and the session is left on the owner. Run by
test-cluster.sh with VG_NODE_A (owner), VG_NODE_B, VG_ROOM; reuses the
interop test's peer (tests/interop/whip-aiortc.py). Exits 1 on failure."""

import asyncio
import importlib.util
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

spec = importlib.util.spec_from_file_location(
    "whip_aiortc", os.path.join(os.environ["VOXGATE_SOURCE_DIR"], "tests/interop/whip-aiortc.py"))
interop = importlib.util.module_from_spec(spec)
spec.loader.exec_module(interop)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Node:
    """A node of the cluster as the interop test's Peer uses a gateway."""

    def __init__(self, base):
        self.base = base
        self.hops = []
        self.opener = urllib.request.build_opener(NoRedirect)

    def token(self, room, identity, admin=False):
        args = [os.environ["VOXGATE_BIN"], "token", "--room", room, "--identity", identity]
        if admin:
            args.append("--admin")
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def request(self, method, path, body=None, token=None, content_type=None):
        url = urllib.parse.urljoin(self.base, path)
        for _ in range(4):
            req = urllib.request.Request(url, data=body, method=method)
            if token:
                req.add_header("Authorization", f"Bearer {token}")
            if content_type:
                req.add_header("Content-Type", content_type)
            try:
                with self.opener.open(req, timeout=10) as res:
                    return res.status, dict(res.headers), res.read().decode()
            except urllib.error.HTTPError as e:
                if e.code in (307, 308) and e.headers.get("Location"):
                    url = urllib.parse.urljoin(url, e.headers["Location"])
                    self.hops.append((e.code, url))
                    continue
                return e.code, dict(e.headers), e.read().decode()
        raise AssertionError("too many redirects")


async def main():
    owner, entry, room = os.environ["VG_NODE_A"], os.environ["VG_NODE_B"], os.environ["VG_ROOM"]
    node = Node(entry)
    peer = interop.Peer(node, room, "aio-redirected")
    await peer.join()
    assert node.hops and node.hops[0] == (307, f"{owner}/api/rooms/{room}/whip"), f"hops {node.hops}"
    assert peer.location.startswith(owner + "/api/sessions/"), f"Location {peer.location}"
    ms = [await interop.round_trip_ms(peer) for _ in range(2)]
    print(f"# aiortc through {entry}: 307 to {owner}, round trip {', '.join(f'{x:.0f}' for x in ms)} ms")
    assert min(ms) < 300, f"round trip {min(ms):.0f} ms"
    assert await peer.leave() == 200, "DELETE on the owner"


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001 - any failure fails the check
    import traceback
    traceback.print_exc()
    sys.exit(1)
