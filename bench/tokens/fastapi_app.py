"""The FastAPI + PyJWT equivalent of voxgate's GET /api/getToken, for
bench/tokens.sh: the same checks (room name rule, display name length), the
same claims (iss, sub, name, nbf, exp, video grant), HS256 over the same key,
and the same JSON answer. Served by uvicorn (see bench/optimisations.md,
"HTTP", for the settings and why).

Run: python3 -m uvicorn --app-dir bench/tokens fastapi_app:app --port PORT
"""
import os
import random
import re
import time

import jwt
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

API_KEY = os.environ.get("VOXGATE_AUTH_API_KEY", "devkey")
API_SECRET = os.environ.get("VOXGATE_AUTH_API_SECRET", "secret")
TTL = 7200
PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
ROOM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

app = FastAPI()


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@app.get("/api/getToken")
def get_token(room: str = Query(None), name: str = Query(None), identity: str = Query(None)):
    if room and not ROOM_RE.match(room):
        return error(400, "invalid_room", "room names are 1 to 64 characters of letters, digits, "
                     "'_', '-' and '.', starting with a letter or digit")
    if name is not None and (len(name) > 128 or not name.isprintable()):
        return error(400, "invalid_name", "name must be at most 128 printable characters")
    room = room or "room-%08x" % random.getrandbits(32)
    identity = identity or "user-%08x" % random.getrandbits(32)
    now = int(time.time())
    claims = {"iss": API_KEY, "sub": identity}
    if name:
        claims["name"] = name
    claims.update({"nbf": now, "exp": now + TTL,
                   "video": {"room": room, "roomJoin": True, "canPublish": True,
                             "canSubscribe": True, "canPublishData": True}})
    token = jwt.encode(claims, API_SECRET, algorithm="HS256")
    return {"token": token, "identity": identity, "room": room, "url": PUBLIC_URL,
            "expires_at": now + TTL}


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
