#!/usr/bin/env python3
"""Writes the valid seed inputs of each fuzz target into tests/fuzz/corpus/TARGET/seed-*.

The crash reproducers next to them (crash-*, leak-*, timeout-*) are kept as
found; this script never touches them. Run it after changing a target's
input format:  tests/fuzz/make-seeds.py"""
import base64, hashlib, hmac, json, os, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
FP = ("sha-256 AD:89:97:64:75:3F:62:AF:EC:E0:0B:BB:7C:53:CF:51:EB:25:E0:BD:E2:01:FE:E9:BD:AE:"
      "57:61:65:8A:34:89")


def write(target, name, data):
    d = os.path.join(root, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, payload, secret="fuzz-secret"):
    s = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), s.encode(), hashlib.sha256).digest()
    return s + "." + b64url(sig)


# --- jwt: byte 0 = 0 raw token; otherwise header \n payload, signed by the target
hs = {"alg": "HS256", "typ": "JWT"}
claims = {"iss": "devkey", "sub": "alice", "name": "Alice", "exp": 1700003600, "nbf": 1699999000,
          "metadata": "{\"subtopic_id\":3}", "attributes": {"role": "learner"},
          "video": {"room": "room-1", "roomJoin": True, "canPublish": True, "canSubscribe": False,
                    "canPublishData": True, "hidden": False}}
write("jwt", "raw-valid", b"\0" + token(hs, claims).encode())
write("jwt", "raw-bad-signature", b"\0" + token(hs, claims, "other").encode())
write("jwt", "raw-alg-none", b"\0" + (b64url(b'{"alg":"none"}') + "." + b64url(b'{"iss":"devkey"}') + ".").encode())
write("jwt", "signed-full", b"\1" + json.dumps(hs).encode() + b"\n" + json.dumps(claims).encode())
write("jwt", "signed-admin", b"\1" + json.dumps(hs).encode() + b"\n" + json.dumps(
    {"iss": "devkey", "exp": 1700000100, "video": {"roomAdmin": True, "roomCreate": True,
                                                   "roomList": True, "roomRecord": True}}).encode())
write("jwt", "signed-expired", b"\1" + json.dumps(hs).encode() + b"\n" + json.dumps(
    {"iss": "devkey", "sub": "bob", "exp": 1600000000}).encode())
write("jwt", "signed-bad-name", b"\1" + json.dumps(hs).encode() + b"\n" + json.dumps(
    {"iss": "devkey", "sub": "a/b", "exp": 1.7e9, "sha256": "abc="}).encode())

# --- sdp-offer
def offer(bundle=True, own_creds=True, video=False, crlf="\r\n"):
    lines = ["v=0", "o=- 3913 3913 IN IP4 0.0.0.0", "s=-", "t=0 0"]
    mids = ["0", "1"] + (["2"] if video else [])
    if bundle:
        lines.append("a=group:BUNDLE " + " ".join(mids))
    lines.append("a=msid-semantic:WMS *")
    lines += ["m=audio 40001 UDP/TLS/RTP/SAVPF 111 0", "c=IN IP4 127.0.0.1", "a=sendrecv", "a=mid:0",
              "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1",
              "a=rtpmap:0 PCMU/8000",
              "a=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host",
              "a=candidate:2 1 udp 1694498815 198.51.100.2 40001 typ srflx raddr 127.0.0.1 rport 40001",
              "a=end-of-candidates", "a=ice-ufrag:HTon", "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa",
              "a=fingerprint:" + FP, "a=setup:actpass"]
    if video:
        lines += ["m=video 40003 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 127.0.0.1", "a=mid:2", "a=sendonly",
                  "a=rtpmap:96 VP8/90000", "a=ice-ufrag:Vvvv", "a=ice-pwd:cccccccccccccccccccccc",
                  "a=fingerprint:" + FP, "a=setup:actpass"]
    lines += ["m=application 40002 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 127.0.0.1", "a=mid:1",
              "a=sctp-port:5000"]
    if own_creds:
        lines += ["a=candidate:1 1 udp 2130706431 127.0.0.1 40002 typ host", "a=end-of-candidates",
                  "a=ice-ufrag:UclZ", "a=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb"]
    else:
        lines += ["a=ice-ufrag:HTon", "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa"]
    lines += ["a=fingerprint:" + FP, "a=setup:actpass"]
    return crlf.join(lines) + crlf

write("sdp-offer", "aiortc-bundle-own-creds", offer())
write("sdp-offer", "browser-bundle", offer(own_creds=False))
write("sdp-offer", "no-bundle", offer(bundle=False))
write("sdp-offer", "with-video-lf", offer(video=True, crlf="\n"))
write("sdp-offer", "no-opus", offer().replace("opus/48000/2", "G722/8000"))

# --- sdpfrag (RFC 8840)
write("sdpfrag", "first-section", "a=ice-ufrag:HTon\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\nm=audio 9 RTP/AVP 0\r\n"
      "a=mid:0\r\na=candidate:1 1 udp 2130706431 192.0.2.1 40001 typ host\r\n")
write("sdpfrag", "bundled-away", "a=ice-ufrag:UclZ\r\na=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
      "a=mid:1\r\na=candidate:1 1 udp 2130706431 192.0.2.1 40002 typ host\r\na=end-of-candidates\r\n")
write("sdpfrag", "end-only", "a=end-of-candidates\r\n")
write("sdpfrag", "restart", "a=ice-ufrag:NEWW\r\na=ice-pwd:dddddddddddddddddddddd\r\n")

# --- sdp-candidates: byte 0 bit 0 = IPv6 public address, bit 1 = keep the private one
answer = ("v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
          "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
          "a=candidate:1 1 UDP 2015363327 10.0.0.5 50001 typ host\r\n"
          "a=candidate:2 1 TCP 1015021823 10.0.0.5 9 typ host tcptype active\r\n"
          "a=candidate:3 1 UDP 2015363071 fd00::5 50002 typ host\r\n"
          "a=candidate:4 1 UDP 1679819007 198.51.100.9 61000 typ srflx raddr 10.0.0.5 rport 50001\r\n"
          "a=candidate:5 1 UDP 2015363327 not-an-address 50003 typ host\r\n"
          "a=candidate:6 1 UDP\r\na=end-of-candidates\r\n"
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n"
          "a=candidate:1 1 UDP 2015363327 10.0.0.5 50001 typ host\r\n")
for mode in range(4):
    write("sdp-candidates", "answer-mode%d" % mode, bytes([mode]) + answer.encode())

# --- json-body: request bodies (room creation in both shapes, token metadata)
for i, body in enumerate([
        {"name": "room-1", "emptyTimeout": 300, "maxParticipants": "10", "metadata": "m"},
        {"name": "room-2", "empty_timeout": 60, "max_participants": 2, "subtopic_id": 4,
         "pipeline": "tutor"},
        {"name": "r", "metadata": "{\"subtopic_id\":\"7\"}", "subtopicId": "7"},
        {"subtopic_id": 3},
        {"room": "room-1", "identity": "alice", "ttl": 600, "attributes": {"a": "b"}},
        [1, 2.5e3, -0.0, True, False, None, "\u00e9\ud83d\ude00"]]):
    write("json-body", "body%d" % i, json.dumps(body))
write("json-body", "nested", "[" * 60 + "]" * 60)

# --- config
example = os.path.join(os.path.dirname(root), "..", "..", "deploy", "voxgate.example.ini")
with open(example, "rb") as f:
    write("config", "example-ini", f.read())
write("config", "small", "[server]\nport = 9000\nhost = 127.0.0.1\n[auth]\napi_key = k\napi_secret = s3cr3t-long-enough\n"
      "# comment\n[unknown]\nkey = x\n")

# --- http-head: byte 0 = piece size - 1 (mod 16)
write("http-head", "get-query", b"\0GET /api/rooms?limit=10&cursor=a%20b+c&x HTTP/1.1\r\nHost: x\r\n\r\n")
write("http-head", "post-length", b"\3POST /twirp/livekit.RoomService/CreateRoom HTTP/1.1\r\nHost: x\r\n"
      b"Content-Type: application/json\r\nContent-Length: 17\r\nAuthorization: Bearer a.b.c\r\n\r\n")
write("http-head", "chunked-lf", b"\7PATCH /whip/s/1 HTTP/1.1\nTransfer-Encoding: chunked\n\n")
write("http-head", "two-lengths", b"\1POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n")
write("http-head", "bad-escape", b"\2GET /a%zz?q=%00 HTTP/1.1\r\n\r\n")

# --- rt-events: server frames of the Realtime protocol
pcm = base64.b64encode(bytes(range(64))).decode()
for i, ev in enumerate([
        {"type": "session.created", "event_id": "e1", "session": {"id": "s1", "model": "gpt-realtime"}},
        {"type": "session.updated", "event_id": "e2", "session": {"type": "realtime"}},
        {"type": "response.created", "event_id": "e3", "response": {"id": "r1", "status": "in_progress"}},
        {"type": "response.output_audio.delta", "response_id": "r1", "item_id": "i1",
         "content_index": 0, "delta": pcm},
        {"type": "response.output_audio_transcript.done", "item_id": "i1", "transcript": "hello"},
        {"type": "conversation.item.input_audio_transcription.completed", "item_id": "i0",
         "transcript": "hi"},
        {"type": "response.function_call_arguments.done", "call_id": "c1", "name": "lookup",
         "arguments": "{\"q\":1}"},
        {"type": "response.done", "response": {"id": "r1", "status": "completed",
                                               "usage": {"total_tokens": 42}}},
        {"type": "error", "error": {"type": "invalid_request_error", "code": "session_expired",
                                    "message": "expired"}},
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 120, "item_id": "i2"}]):
    write("rt-events", "event%d" % i, json.dumps(ev))

# --- redis-reply: RESP2 replies
for name, resp in [("int", b":42\r\n"), ("status", b"+OK\r\n"), ("error", b"-ERR wrong\r\n"),
                   ("bulk", b"$5\r\nhello\r\n"), ("nil", b"$-1\r\n"),
                   ("array", b"*3\r\n:1\r\n$3\r\n100\r\n*2\r\n+OK\r\n$-1\r\n"),
                   ("pipelined", b":1\r\n:2\r\n+OK\r\n"), ("nil-array", b"*-1\r\n"),
                   # over the bounds (redis-reply-bounds.h): nested arrays whose slots add up
                   # past the per-reply bound, a bulk string declaring more than the target's
                   # 4096 bytes before its bytes arrive, and one that arrived whole
                   ("over-nested-arrays", b"*4\r\n*1048576\r\n*1048576\r\n:1\r\n"),
                   ("over-bulk-declared", b"$2000000000\r\nxx"),
                   ("over-bulk-whole", b"$4097\r\n" + b"x" * 4097 + b"\r\n")]:
    write("redis-reply", name, resp)

# --- events-message: byte 0 even = a client event, odd = a tool's output
for name, msg in [("text", {"type": "text", "text": "What is 7 x 8?"}), ("interrupt", {"type": "interrupt"}),
                  ("unknown", {"type": "dance"}), ("text-not-string", {"type": "text", "text": 5})]:
    write("events-message", name, b"\0" + json.dumps(msg).encode())
write("events-message", "tool-output", b"\1" + json.dumps({"temperature": 21, "units": ["C"]}).encode())
write("events-message", "tool-output-not-json", b"\1plain words")

# --- tools-file
write("tools-file", "two-tools", json.dumps([
    {"name": "weather", "description": "The weather", "url": "https://tools.example/weather",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
    {"name": "_x9", "description": "d", "parameters": {"type": "object"},
     "url": "http://127.0.0.1:1/x", "timeout_ms": 100}], indent=1))
write("tools-file", "empty", "[]")
write("tools-file", "builtin-clash", json.dumps([{"name": "end_session", "description": "d",
                                                  "parameters": {"type": "object"},
                                                  "url": "http://x/"}]))
