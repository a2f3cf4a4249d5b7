#!/usr/bin/env python3
"""Renders bench/results.json as the markdown report docs/BENCHMARKS.md.

Usage: report.py bench/results.json [bench/optimisations.md]
The optimisation log (hand-written: each change and its measured effect) is
appended as it is."""
import json
import sys


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def tokens(s):
    vg, py = s.get("voxgate") or {}, s.get("fastapi") or {}
    if s.get("measured"):
        print(f"*{s['measured']}*\n")
    print(f"`{s.get('path', 'GET /api/getToken')}` with the rate limit lifted, voxgate beside its FastAPI + "
          "uvicorn + PyJWT equivalent (`bench/tokens/fastapi_app.py`, uvicorn's defaults: one worker, "
          "h11, asyncio) in the same run: both servers on core 0 (each idle while the other is "
          f"measured), `wrk {s.get('wrk', '-t2 -c32')}` with keep-alive on core 1, {s.get('seconds', '?')} s "
          "per run, the pairs alternating which side goes first. *CPU/request* is the server's own "
          "CPU time (user + system) per answered request, which does not depend on how much of core 0 "
          "the machine's other work leaves; *busy* is how much of core 0 the server used during its run "
          "(well under 100 %: it was waiting for wrk, whose share of core 1 then set the req/s).\n")
    def at(side, key, i):
        v = side.get(key) or []
        return v[i] if i < len(v) else None
    rows = []
    for i, r in enumerate(vg.get("rps", [])):
        rows.append([i + 1, r, at(vg, "p99_ms", i), at(vg, "cpu_us_per_req", i), at(vg, "core_busy_pct", i),
                     at(py, "rps", i), at(py, "p99_ms", i), at(py, "cpu_us_per_req", i),
                     at(py, "core_busy_pct", i), at(s, "ratio", i), at(s, "cpu_ratio", i)])
    print(table(["pair", "voxgate req/s", "p99 ms", "CPU µs/req", "busy %", "FastAPI req/s", "p99 ms",
                 "CPU µs/req", "busy %", "req/s ratio", "CPU/req ratio"], rows))
    print(f"Keep-alive in effect: {fmt(s.get('connections_per_run'))} connections accepted per voxgate run "
          "(wrk's 32 and the one it opens first to check the address). "
          f"Gateway RSS {fmt(s.get('rss_kb_start'))} kB after warm-up, {fmt(s.get('rss_kb_end'))} kB after "
          f"{fmt(s.get('requests_between'))} more tokens. Goal: ≥ 10× the FastAPI equivalent.\n")


def sessions(s):
    runs = s.get("runs", [])
    print(f"`{s.get('pipeline')}` agent, one room per session, a 440 Hz tone sent all along, "
          f"{s.get('hold_seconds')} s of steady state sampled from `/proc`. The gateway is pinned to "
          "core 0 and the load client (one process, one `webrtcbin` per session) to core 1, so the "
          "CPU figures are the gateway's alone. Figures per session are medians (p50) and p95 "
          "over the sessions of the run.\n")
    print(table(
        ["sessions", "connected", "connect p50/p95 ms", "first audio p50/p95 ms",
         "round trip p50/p95 ms", "loss %", "jitter p95 ms", "gateway CPU (cores)",
         "CPU % / session", "RSS MB", "KB / session", "threads / session", "fds / session"],
        [[r["sessions"], r["connected"],
          f"{fmt(r.get('connect_ms_p50'))} / {fmt(r.get('connect_ms_p95'))}",
          f"{fmt(r.get('first_audio_ms_p50'))} / {fmt(r.get('first_audio_ms_p95'))}",
          f"{fmt(r.get('round_trip_ms_p50'))} / {fmt(r.get('round_trip_ms_p95'))}",
          r.get("loss_pct"), r.get("jitter_ms_p95"), r["gateway_cpu_cores"],
          r["cpu_pct_per_session"], r["rss_mb"], r["rss_kb_per_session"],
          r["threads_per_session"], r["fds_per_session"]] for r in runs]))
    if s.get("saturated_at"):
        print(f"Stopped at {s['saturated_at']} sessions: the gateway's core saturated "
              "(see bench/sessions/run.sh for the criteria: a failed connection, loss over 0.5 % "
              "or the core over 95 % busy).\n")
    print("*Connect*: from creating the offer (ICE gathering included) to the peer connection being connected. *First audio*: from the "
          "WHIP `POST` to the first audible buffer coming back. *Round trip*: mouth to ear through "
          "the gateway (the client's Opus encode, the network, the gateway's jitterbuffer, decode, "
          "mix, encode, the client's jitterbuffer and decode): the onset of a tone burst after "
          "silence, three per session, timed from the tone's first sample being spoken (the client "
          "sends each 20 ms buffer when its last sample is captured, as a microphone does). It "
          "includes that 20 ms capture frame and 0–20 ms for the gateway's Opus frames to line up "
          "with the client's, so the gateway's own share is smaller than the figure. *Loss* and *jitter*: the "
          "client's `webrtcbin` inbound-rtp statistics.\n")
    print("What the load client costs (so it is not mistaken for the gateway): " + "; ".join(
        f"{r['sessions']} sessions: {fmt(r.get('client_cpu_cores'))} cores, "
        f"{fmt(r.get('client_rss_mb'))} MB, {fmt(r.get('client_threads'))} threads"
        for r in runs if "client_cpu_cores" in r) + ".\n")


def realtime(s):
    print("The `openairealtime` element alone: instances in one process against the fake Realtime "
          "server, each streaming audio and receiving responses.\n")
    print(table(["figure", "value"], [[k, v] for k, v in s.items()]))


def store(s):
    rows = [[b, v.get("messages_per_second"), v.get("read_1000_messages_p50_ms"),
             v.get("read_1000_messages_p99_ms")] for b, v in s.items()]
    print("Messages written through the store (its writer thread, batched transactions), and "
          "reading one conversation of 1 000 messages.\n")
    print(table(["backend", "messages/s", "read p50 ms", "read p99 ms"], rows))


def opus(s):
    print(f"The encoder toward participants, alone: {s.get('audio_seconds')} s of espeak-ng speech "
          "at 48 kHz encoded by `gst-launch-1.0 … ! opusenc … ! fakesink` (user + system CPU), "
          "and the decoded audio's distance to the source over speech frames (an objective "
          "proxy, not a perceptual score). The first row is what the gateway uses.\n")
    rows = [[name, v.get("cpu_seconds"), v.get("core_percent_per_encoder"),
             v.get("log_spectral_distance_db"), v.get("segmental_snr_db")]
            for name, v in s.get("settings", {}).items()]
    print(table(["settings", "CPU s", "% of a core per encoder", "log-spectral distance dB",
                 "segmental SNR dB"], rows))


def tools(s):
    print("The tutor's tools through a whole room (`tutor.pipeline`, the fake Realtime server, the "
          "agents bound to the tutor, the store): the server's time from sending "
          "`response.function_call_arguments.done` to receiving the `function_call_output` item, "
          "store reads and writes included (bench/tools/run.sh). Goal: < 50 ms.\n")
    m = s.get("measured")
    if m:
        print(f"Measured on its own at commit `{m.get('commit')}`, {m.get('date')} "
              f"({m.get('note', '')}).\n")
    rows = []
    for backend, v in s.items():
        if backend == "measured":
            continue
        for name, t in v.get("tools", {}).items():
            rows.append([backend, f"`{name}`", t.get("n"), t.get("p50_ms"), t.get("p95_ms"),
                         t.get("max_ms")])
    print(table(["backend", "tool", "calls", "p50 ms", "p95 ms", "max ms"], rows))


r = json.load(open(sys.argv[1]))
print("# voxgate benchmarks\n")
print(f"Machine: {r['cores']} cores, {r['cpu']}. Commit `{r['commit']}`, run {r['date']}.")
print("Produced by `make bench` (bench/run.sh, raw figures in bench/results.json); numbers are "
      "this machine's, re-run to compare.\n")
renderers = {"tokens": tokens, "sessions": sessions, "realtime": realtime, "store": store,
             "opus": opus, "tools": tools}
for section in ["sessions", "opus", "tokens", "realtime", "store", "tools"]:
    if section in r["sections"]:
        print(f"## {section}\n")
        renderers[section](r["sections"][section])
if len(sys.argv) > 2:
    print(open(sys.argv[2]).read())
