#!/usr/bin/python3
"""WHIP and WHEP with aiortc, a WebRTC stack we did not write (Debian's
python3-aiortc, the transport Pipecat's SmallWebRTC builds on), against a
real `voxgate serve`. Prints TAP.

aiortc offers `a=group:BUNDLE` with its own ICE credentials, port and
candidates on every m-section (RFC 8843 allows that in an initial offer);
the other cases rewrite its offer into the shapes other clients send.

Needs VOXGATE_BIN and VOXGATE_SOURCE_DIR (set by meson)."""

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from fractions import Fraction

import av
import numpy
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

RATE = 48000
FRAME = 960  # 20 ms
TONE_HZ = 440.0

results = []


def log(text):
    for line in str(text).splitlines():
        print(f"# {line}", flush=True)


async def case(name, fn):
    try:
        await fn()
        results.append(True)
        print(f"ok {len(results)} - {name}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is a test failure
        results.append(False)
        print(f"not ok {len(results)} - {name}", flush=True)
        log(traceback.format_exc())


async def eventually(fn, what, timeout=15.0):
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# ---- the gateway ----


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="vg-aiortc-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, VOXGATE_AGENT_PIPELINE="echo.pipeline")
        self.log = open(os.path.join(self.work, "gateway.log"), "w")
        self.proc = subprocess.Popen(
            [os.environ["VOXGATE_BIN"], "serve", "--port", str(self.port),
             "--data-dir", os.path.join(self.work, "data")],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the gateway did not start")

    def token(self, room, identity, admin=False):
        args = [os.environ["VOXGATE_BIN"], "token", "--room", room, "--identity", identity]
        if admin:
            args.append("--admin")
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()

    def request(self, method, path, body=None, token=None, content_type=None):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return res.status, dict(res.headers), res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def participants(self):
        return json.loads(self.request("GET", "/api/health")[2])["counts"]["participants"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if self.proc.returncode != 0:
            with open(self.log.name) as f:
                log(f.read()[-3000:])
        shutil.rmtree(self.work, ignore_errors=True)


# ---- audio ----


class ScheduledTone(MediaStreamTrack):
    """A microphone: 20 ms frames paced in real time, a 440 Hz tone while
    `on` is set, silence otherwise."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.on = False
        self.turned_on_at = None
        self._start = None
        self._pts = 0
        self._phase = 0

    def set(self, on):
        if on and not self.on:
            self.turned_on_at = time.monotonic()
        self.on = on

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME
            wait = self._start + self._pts / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        if self.on:
            n = numpy.arange(self._phase, self._phase + FRAME)
            samples = (8000 * numpy.sin(2 * numpy.pi * TONE_HZ * n / RATE)).astype(numpy.int16)
        else:
            samples = numpy.zeros(FRAME, dtype=numpy.int16)
        self._phase += FRAME
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = Fraction(1, RATE)
        return frame


class Listener:
    """Reads a received track and keeps the time of each loud frame."""

    def __init__(self, track):
        self.frames = 0
        self.loud = []  # monotonic times of frames above the threshold
        self.task = asyncio.ensure_future(self._run(track))

    async def _run(self, track):
        while True:
            try:
                frame = await track.recv()
            except (MediaStreamError, asyncio.CancelledError):
                return
            self.frames += 1
            pcm = frame.to_ndarray().astype(numpy.float64)
            if numpy.sqrt(numpy.mean(pcm * pcm)) > 500:
                self.loud.append(time.monotonic())

    def loud_since(self, t):
        return [x for x in self.loud if x >= t]


# ---- a peer ----


def rewrite_offer(sdp, style):
    """Gives aiortc's offer the shape of another client's."""
    if style == "forged-fingerprint":
        # A well-formed fingerprint of another certificate.
        return re.sub(r"(a=fingerprint:sha-256 )([0-9A-F]{2})",
                      lambda m: m.group(1) + ("00" if m.group(2) != "00" else "11"), sdp)
    if style == "no-bundle":
        return re.sub(r"a=group:BUNDLE[^\r\n]*\r\n", "", sdp)
    if style == "same-credentials":
        # Browsers: one set of ICE credentials for the whole bundle.
        ufrag = re.search(r"a=ice-ufrag:(\S+)", sdp).group(1)
        pwd = re.search(r"a=ice-pwd:(\S+)", sdp).group(1)
        sdp = re.sub(r"a=ice-ufrag:\S+", f"a=ice-ufrag:{ufrag}", sdp)
        return re.sub(r"a=ice-pwd:\S+", f"a=ice-pwd:{pwd}", sdp)
    return sdp


def strip_candidates(sdp):
    """The offer without candidates, and each section's candidates as a
    trickle-ice-sdpfrag (RFC 8840) with the section's own credentials."""
    frags = []
    sections = re.split(r"(?=\r\nm=)", sdp)
    for section in sections[1:]:
        mid = re.search(r"a=mid:(\S+)", section).group(1)
        ufrag = re.search(r"a=ice-ufrag:(\S+)", section).group(1)
        pwd = re.search(r"a=ice-pwd:(\S+)", section).group(1)
        candidates = re.findall(r"a=candidate:[^\r\n]+", section)
        frags.append(f"a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\nm=audio 9 RTP/AVP 0\r\n"
                     f"a=mid:{mid}\r\n" + "".join(c + "\r\n" for c in candidates)
                     + "a=end-of-candidates\r\n")
    stripped = re.sub(r"a=(candidate:[^\r\n]+|end-of-candidates)\r\n", "", sdp)
    return stripped, frags


class Peer:
    def __init__(self, gateway, room, identity, *, audio=True, data=True, whep=False):
        self.gateway = gateway
        self.room = room
        self.pc = RTCPeerConnection()
        self.mic = ScheduledTone() if audio and not whep else None
        self.listener = None
        self.messages = []
        self.channel = None
        self.token = gateway.token(room, identity, admin=whep)
        self.whep = whep
        self.location = None
        if self.mic:
            self.pc.addTrack(self.mic)
        elif audio:
            self.pc.addTransceiver("audio", direction="recvonly")
        if data:
            self.channel = self.pc.createDataChannel("events")
            self.channel.on("message", lambda m: self.messages.append(json.loads(m)))

        @self.pc.on("track")
        def on_track(track):
            if track.kind == "audio":
                self.listener = Listener(track)

    async def offer(self, style="aiortc", trickle=False):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = rewrite_offer(self.pc.localDescription.sdp, style)
        frags = []
        if trickle:
            sdp, frags = strip_candidates(sdp)
        return sdp, frags

    async def join(self, style="aiortc", trickle=False):
        sdp, frags = await self.offer(style, trickle)
        kind = "whep" if self.whep else "whip"
        status, headers, body = self.gateway.request(
            "POST", f"/api/rooms/{self.room}/{kind}", sdp.encode(), self.token, "application/sdp")
        assert status == 201, f"{kind} POST: {status} {body}"
        self.location = headers["Location"]
        assert "a=group:BUNDLE" in body or style == "no-bundle", "the answer bundles"
        for frag in frags:
            s, _, b = self.gateway.request("PATCH", self.location, frag.encode(), self.token,
                                           "application/trickle-ice-sdpfrag")
            assert s == 204, f"trickle PATCH: {s} {b}"
        await self.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
        await eventually(lambda: self.pc.connectionState == "connected", "connected")
        return body

    def send(self, message):
        self.channel.send(json.dumps(message))

    def events(self, type_):
        return [m for m in self.messages if m.get("type") == type_]

    async def leave(self):
        status = None
        if self.location:
            status, _, _ = self.gateway.request("DELETE", self.location, token=self.token)
        await self.pc.close()
        return status


# ---- cases ----


def transports(pc):
    # After an answer that accepts BUNDLE, aiortc keeps one ICE transport.
    return {t.sender.transport for t in pc.getTransceivers()} | (
        {pc.sctp.transport} if pc.sctp else set())


async def round_trip_ms(peer):
    """Tone on after a quiet room; the time until it is heard back."""
    await eventually(lambda: peer.listener and peer.listener.frames > 25, "media flowing")
    await eventually(lambda: not peer.listener.loud_since(time.monotonic() - 0.3), "a quiet room", 10)
    peer.mic.set(True)
    start = peer.mic.turned_on_at
    heard = await eventually(lambda: peer.listener.loud_since(start), "the tone back", 5)
    peer.mic.set(False)
    return (heard[0] - start) * 1000


async def main():
    gateway = Gateway()
    admin = gateway.token("aio-loop", "admin", admin=True)
    status, _, body = gateway.request(
        "POST", "/api/rooms", json.dumps({"name": "aio-loop", "pipeline": "loopback.pipeline"}).encode(),
        admin, "application/json")
    assert status in (200, 201), f"creating the loopback room: {status} {body}"
    try:
        a = Peer(gateway, "aio-loop", "aio-a")

        async def join_bundle():
            answer = await a.join()
            assert len(transports(a.pc)) == 1, f"aiortc kept {len(transports(a.pc))} transports"
            assert re.search(r"a=group:BUNDLE 0 1", answer), "answer bundles both sections"

        await case("aiortc: WHIP join with audio + events data channel (per-section ICE credentials)",
                   join_bundle)

        async def loopback():
            await eventually(lambda: a.channel.readyState == "open", "the events channel")
            ms = [await round_trip_ms(a) for _ in range(3)]
            log(f"round trip through the loopback room: {', '.join(f'{x:.0f}' for x in ms)} ms")
            assert min(ms) < 300, f"round trip {min(ms):.0f} ms"

        await case("aiortc: the loopback room returns its audio", loopback)

        async def leave():
            assert await a.leave() == 200
            await eventually(lambda: gateway.participants() == 0, "no participants", 10)

        await case("aiortc: DELETE ends the session", leave)

        e = Peer(gateway, "aio-echo", "aio-e")

        async def echo_reply():
            await e.join()
            await eventually(lambda: e.channel.readyState == "open", "the events channel")
            await eventually(lambda: e.listener and e.listener.frames > 25, "media flowing")
            session = await eventually(lambda: e.events("session"), "the session message", 10)
            # The agent greets first: it may still be speaking its greeting.
            assert session[0].get("agent_state") in ("listening", "speaking"), session[0]
            await eventually(lambda: [m for m in e.events("transcript")
                                      if m["role"] == "assistant" and m.get("final")],
                             "the greeting's transcript", 10)
            await eventually(lambda: e.events("agent_state")[-1:] == [{"type": "agent_state",
                                                                       "state": "listening"}]
                             or (not e.events("agent_state")
                                 and session[0].get("agent_state") == "listening"),
                             "the greeting to end", 10)
            greetings = len(e.events("transcript"))
            before = len(e.events("agent_state"))
            e.mic.set(True)
            await asyncio.sleep(1.0)
            e.mic.set(False)
            said = time.monotonic()
            await eventually(lambda: e.listener.loud_since(said), "the echo's voice", 10)
            t = await eventually(lambda: [m for m in e.events("transcript")[greetings:]
                                          if m["role"] == "assistant" and m.get("final")],
                                 "the agent's transcript", 10)
            assert re.fullmatch(r"\(echo\) \d+\.\d s of audio", t[0]["text"]), t[0]
            assert any(m["role"] == "user" for m in e.events("transcript")), "the user's transcript"
            states = lambda: [m["state"] for m in e.events("agent_state")[before:]]
            await eventually(lambda: states()[-1:] == ["listening"] and "speaking" in states(),
                             "speaking, then listening again", 10)

        await case("aiortc: the echo agent answers a spoken turn (audio, transcripts, states)",
                   echo_reply)

        async def typed():
            e.send({"type": "text", "text": "What is one half plus one quarter?"})
            await eventually(lambda: [m for m in e.events("transcript")
                                      if "one half plus one quarter" in m.get("text", "")],
                             "the answer to the typed message", 10)
            assert not e.events("error"), e.events("error")

        await case("aiortc: a typed message over the data channel is answered", typed)

        async def echo_leave():
            assert await e.leave() == 200
            await eventually(lambda: gateway.participants() == 0, "no participants", 10)

        await case("aiortc: the echo session leaves", echo_leave)

        async def joins_and_hears(identity, what, data=True, style="aiortc", trickle=False):
            p = Peer(gateway, "aio-loop", identity, data=data)
            answer = await p.join(style=style, trickle=trickle)
            assert data or "m=application" not in answer
            log(f"{what} round trip: {await round_trip_ms(p):.0f} ms")
            assert await p.leave() == 200

        await case("aiortc: an audio-only offer joins and hears the room",
                   lambda: joins_and_hears("aio-audio-only", "audio-only", data=False))
        await case("aiortc: an offer without BUNDLE joins and hears the room",
                   lambda: joins_and_hears("aio-no-bundle", "unbundled", style="no-bundle"))
        await case("aiortc: an offer with one set of credentials (browser style) joins",
                   lambda: joins_and_hears("aio-browser-style", "browser-style",
                                           style="same-credentials"))
        await case("aiortc: candidates trickled per section (PATCH with each section's credentials)",
                   lambda: joins_and_hears("aio-trickle", "trickled", trickle=True))

        async def whep():
            speaker = Peer(gateway, "aio-loop", "aio-speaker")
            await speaker.join()
            monitor = Peer(gateway, "aio-loop", "aio-monitor", whep=True)
            await monitor.join()
            await eventually(lambda: monitor.listener and monitor.listener.frames > 25, "monitor media")
            speaker.mic.set(True)
            start = time.monotonic()
            await eventually(lambda: monitor.listener.loud_since(start), "the speaker at the monitor", 5)
            speaker.mic.set(False)
            assert await monitor.leave() == 200
            assert await speaker.leave() == 200

        async def forged():
            p = Peer(gateway, "aio-forged", "aio-forged")
            sdp, _ = await p.offer("forged-fingerprint")
            status, headers, body = gateway.request(
                "POST", "/api/rooms/aio-forged/whip", sdp.encode(), p.token, "application/sdp")
            assert status == 201, f"{status} {body}"
            await p.pc.setRemoteDescription(RTCSessionDescription(body, "answer"))
            # DTLS completes (webrtcbin does not compare the certificate with
            # the offer); the gateway does, and removes the peer.
            await eventually(lambda: "leaves (certificate_mismatch)" in open(gateway.log.name).read()
                             and gateway.participants() == 0,
                             "the peer removed for its certificate", 10)
            assert gateway.request("DELETE", headers["Location"], token=p.token)[0] == 404
            assert not p.events("session"), "the forged peer got a session"
            await p.pc.close()

        await case("aiortc: a peer whose DTLS certificate is not its offer's fingerprint is removed",
                   forged)

        await case("aiortc: a WHEP monitor (audio + data, per-section credentials) hears the room", whep)
    finally:
        gateway.stop()
    print(f"1..{len(results)}", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":  # tests/cluster/aiortc-redirect.py imports the peer
    sys.exit(asyncio.run(main()))
