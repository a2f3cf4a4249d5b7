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


def pair(r, a, b):
    return f"{fmt(r.get(a))} / {fmt(r.get(b))}"


def loss(r):
    return f"{fmt(r.get('loss_pct'))} / {fmt(r.get('upstream_loss_pct'))}"


def held(p):
    """The largest N that neither saturated nor went over the latency goal, or None."""
    limit = min(n for n in (p.get("saturated_at"), p.get("latency_over_at"), 10 ** 9) if n)
    ok = [r["sessions"] for r in p.get("runs", []) if r["sessions"] < limit]
    return max(ok) if ok else None


def sessions(s):
    legacy = "pipelines" not in s  # results from before the tutor runs
    pipelines = s.get("pipelines") or {"loopback": s}
    print(f"One room per session, {s.get('hold_seconds')} s of steady state per run sampled from "
          f"`/proc` (bench/sessions/run.sh). The gateway is pinned to core {s.get('gateway_cpu', 0)}; "
          "the load client (one process, one `webrtcbin` per session, pre-encoded Opus frames from "
          f"one pacing thread) and the fake Realtime server to core {s.get('client_cpu', 1)}, so the "
          "CPU figures are the gateway's alone. N grows "
          "until a run saturates: a session that did not connect, loss ≥ 0.5 %, "
          "the gateway's core ≥ 0.95 busy, or the client's core ≥ 0.95 busy (then the limit "
          "is the client's, not the gateway's); a round trip p95 ≥ 60 ms is marked as over the "
          f"latency goal and N keeps growing. Latencies are p50 / p95 over the first "
          f"{s.get('measured_peers', 'all')} sessions of a run (the peers that decode everything); "
          "loss over all of them.\n")
    if legacy:
        print("*These figures predate the pre-encoded load client and the tutor runs: each peer of "
              "the client then encoded its own Opus and decoded everything it heard, and the run "
              "stopped at a failed connection, loss over 0.5 % or a busy gateway core.*\n")
    cols = ["sessions", "connected", "gateway CPU (cores)", "CPU % / session", "RSS MB",
            "KB / session", "threads / session", "fds", "fds / session", "loss % down / up"]
    lp = pipelines.get("loopback")
    if lp:
        print("### loopback.pipeline\n")
        print("The agent echoes the room: every session sends a 440 Hz tone all along and "
              "hears it back.\n")
        print(table(cols + ["round trip p50 / p95 ms", "connect p50 / p95 ms",
                            "first audio p50 / p95 ms"],
                    [[r["sessions"], r.get("connected"), r.get("gateway_cpu_cores"),
                      r.get("cpu_pct_per_session"), r.get("rss_mb"), r.get("rss_kb_per_session"),
                      r.get("threads_per_session"), r.get("fds"), r.get("fds_per_session"), loss(r),
                      pair(r, "round_trip_ms_p50", "round_trip_ms_p95"),
                      pair(r, "connect_ms_p50", "connect_ms_p95"),
                      pair(r, "first_audio_ms_p50", "first_audio_ms_p95")]
                     for r in lp.get("runs", [])]))
        if lp.get("latency_over_at"):
            print(f"Over the latency goal (round trip p95 < 60 ms) from {lp['latency_over_at']} "
                  f"sessions: {lp.get('latency_over_because')}; N kept growing.\n")
        if lp.get("saturated_at"):
            print(f"Stopped at {lp['saturated_at']} sessions: "
                  f"{lp.get('saturated_because') or 'saturated'}.\n")
    tp = pipelines.get("tutor")
    if tp:
        runs = tp.get("runs", [])
        response = runs[0].get("response_audio_ms") if runs else None
        print("### tutor.pipeline\n")
        print("`openairealtime` (resampling to 24 kHz, base64, the WebSocket) against the fake "
              "Realtime server (`vg-realtime-server`, its energy VAD, replies of "
              f"{fmt(response)} ms of a 330 Hz tone sent faster than real time), with the tutor "
              "bound (store reads for each greeting). Each learner is silent until greeted, then "
              f"speaks in turns ({s.get('turns_ms', '?').replace(':', ' ms of tone, ')} ms of "
              "silence), spread over the period. *Greeting*: from the WHIP `POST` to the first "
              "audible buffer of the tutor's greeting. *Reply*: from the last sample of a turn "
              "being spoken to the first audible buffer of the reply; it includes the server "
              "VAD's 500 ms of silence (`silence-duration-ms`), so the gateway's and the "
              "server's share is the figure minus 500 ms.\n")
        print(table(cols + ["reply p50 / p95 ms", "replies", "connect p50 / p95 ms",
                            "greeting p50 / p95 ms", "fake server CPU (cores)"],
                    [[r["sessions"], r.get("connected"), r.get("gateway_cpu_cores"),
                      r.get("cpu_pct_per_session"), r.get("rss_mb"), r.get("rss_kb_per_session"),
                      r.get("threads_per_session"), r.get("fds"), r.get("fds_per_session"), loss(r),
                      pair(r, "reply_ms_p50", "reply_ms_p95"), r.get("replies"),
                      pair(r, "connect_ms_p50", "connect_ms_p95"),
                      pair(r, "first_audio_ms_p50", "first_audio_ms_p95"),
                      r.get("realtime_server_cpu_cores")] for r in runs]))
        if tp.get("saturated_at"):
            print(f"Stopped at {tp['saturated_at']} sessions: "
                  f"{tp.get('saturated_because') or 'saturated'}.\n")
    if lp and tp:
        by_n = {r["sessions"]: r for r in lp.get("runs", [])}
        rows = []
        for r in tp.get("runs", []):
            l = by_n.get(r["sessions"])
            if not l:
                continue
            d = lambda k: (round(r[k] - l[k], 3)
                           if r.get(k) is not None and l.get(k) is not None else None)
            rows.append([r["sessions"], l.get("cpu_pct_per_session"), r.get("cpu_pct_per_session"),
                         d("cpu_pct_per_session"), d("rss_kb_per_session"),
                         d("threads_per_session"), d("fds_per_session"),
                         round(100 * r["realtime_server_cpu_cores"] / r["sessions"], 3)
                         if r.get("realtime_server_cpu_cores") is not None else None])
        if rows:
            print("The tutor session's own cost: the tutor run minus the loopback run at the same N "
                  "(the agent's resampling to and from 24 kHz, base64, the WebSocket, the playout, "
                  "the tutor's greeting; the loopback agent is an `identity`). The workloads differ "
                  "too: a loopback session hears its echo all along, a tutor session hears replies "
                  "between its turns and silence otherwise.\n")
            print(table(["sessions", "loopback CPU % / session", "tutor CPU % / session",
                         "difference (% of a core)", "KB / session more", "threads / session more",
                         "fds / session more", "fake server % of a core / session"], rows))
    print("*Connect*: from creating the offer (ICE gathering included) to the peer connection "
          "being connected. *First audio*: from the WHIP `POST` to the first audible buffer coming "
          "back. *Round trip*: mouth to ear through the gateway (the network, the gateway's "
          "jitterbuffer, decode, mix, encode, the client's jitterbuffer and decode): the onset of "
          "a tone after silence, about 30 per run (at least three per measured session) while the "
          "others keep talking, timed "
          "from the tone's first sample being spoken (each 20 ms frame leaves when its last sample "
          "is captured, as a microphone's does) to the same sample reaching the client (the "
          "arrival of the decoded buffer that holds it plus its place in that buffer, as if "
          "played with no playout buffer; until 2026-12-02 the first loud buffer's arrival, "
          "which read 21 or 41 ms for one path by where the onset fell in the gateway's frame). "
          "It includes that 20 ms capture frame, the Opus "
          "look-ahead and 0–20 ms for the gateway's Opus frames to line up with the client's, so "
          "the gateway's own share is smaller than the figure. *Loss*: down, the client's "
          "`webrtcbin` inbound-rtp statistics over all sessions; up, what the gateway's RTCP "
          "receiver reports counted lost of the frames sent.\n")
    rows = []
    for name, p in pipelines.items():
        for r in p.get("runs", []):
            if "client_cpu_cores" in r:
                rows.append([name, r["sessions"], r.get("client_cpu_cores"),
                             r.get("client_cpu_pct_per_peer"), r.get("client_rss_mb"),
                             r.get("client_threads"), r.get("client_pacer_late_pct"),
                             r.get("realtime_server_cpu_cores"), r.get("client_core_busy")])
    if rows:
        print("What the load client and the fake Realtime server cost, on core 1 (so they are "
              "not mistaken for the gateway). *Pacer late*: the share of 20 ms ticks the client's "
              "sending thread started more than a frame late; above a few % the client, not the "
              "gateway, limits the run.\n")
        print(table(["pipeline", "sessions", "client CPU (cores)", "client % of a core / peer",
                     "client RSS MB", "client threads", "pacer late %",
                     "fake server CPU (cores)", "core 1 busy"], rows))
    goals = []
    for name, p in pipelines.items():
        runs = [r for r in p.get("runs", []) if r["sessions"] >= 25] or p.get("runs", [])
        if not runs:
            continue
        cpu = min(r.get("cpu_pct_per_session", 1e9) for r in runs)
        rss = min(r.get("rss_kb_per_session", 1e9) for r in runs)
        at100 = next((r for r in p.get("runs", []) if r["sessions"] == 100), None)
        goals.append([name, f"{fmt(cpu)} % (≤ 1 %)", f"{fmt(round(rss / 1024, 2))} MB (≤ 1 MB)",
                      f"{fmt(held(p))} (≥ 100)",
                      f"{fmt(at100.get('first_audio_ms_p95'))} ms (< 300 ms)" if at100 else "–"])
    if goals:
        print("Against the goals (issue 21): the best figure over the runs of 25 sessions or more "
              "(over all runs when there are none); *sessions held*: the largest N that neither "
              "saturated nor went over the latency goal.\n")
        print(table(["pipeline", "CPU / session", "RSS / session", "sessions held",
                     "first audio p95 at 100"], goals))


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
print("How to run: `make bench` (everything); `BENCH_SECTIONS=\"sessions\" make bench` (one "
      "section, the others kept); `SESSIONS=\"1 25\" PIPELINES=tutor HOLD_SECONDS=10 "
      "bench/sessions/run.sh build` or `BENCH_QUICK=1` for a short sessions run; "
      "`bench/profile.sh build` for `perf` and `massif` profiles.\n")
if r.get("this_run"):
    print(f"This run measured only: {', '.join(r['this_run'])} (`BENCH_SECTIONS`); the other "
          "sections are from an earlier run.\n")
renderers = {"tokens": tokens, "sessions": sessions, "realtime": realtime, "store": store,
             "opus": opus, "tools": tools}
for section in ["sessions", "opus", "tokens", "realtime", "store", "tools"]:
    if section in r["sections"]:
        print(f"## {section}\n")
        renderers[section](r["sections"][section])
if len(sys.argv) > 2:
    print(open(sys.argv[2]).read())
