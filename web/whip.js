// A WHIP session (RFC 9725) with the gateway: one RTCPeerConnection that sends
// the microphone, receives the tutor, and carries the "events" data channel.

const ICE_GATHER_LIMIT_MS = 2000;

export class HttpError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function errorFrom(response) {
  let code = 'http_' + response.status, message = response.statusText;
  try {
    const body = await response.json();
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch { /* not JSON */ }
  return new HttpError(response.status, code, message, Number(response.headers.get('Retry-After')) || 0);
}

// LiveKit's token-source request: the learner's identity (kept across
// visits) and the chosen subtopic as participant metadata.
export async function fetchToken(name, room, { identity, subtopicId } = {}) {
  const body = { room_name: room, participant_name: name };
  if (identity) body.participant_identity = identity;
  if (subtopicId) body.participant_metadata = JSON.stringify({ subtopic_id: subtopicId });
  const response = await fetch('/api/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!response.ok) throw await errorFrom(response);
  const json = await response.json();
  return { token: json.participant_token, url: json.server_url };
}

// A GET of the data API with the learner's token.
export async function getJson(path, token) {
  const response = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

// The ICE servers a WHIP/WHEP endpoint announces in Link headers (RFC 9725
// §4.6): `<turn:host:3478>; rel="ice-server"; username="u"; credential="p"`.
// fetch joins repeated fields with ", ", so values are split outside <> and "".
export function parseIceServers (field)
{
  const servers = [];
  if (!field)
    return servers;
  const values = [];
  let start = 0, inUri = false, inQuotes = false;
  for (let i = 0; i <= field.length; i++)
    {
      const c = field[i];
      if (i === field.length || (c === ',' && !inUri && !inQuotes))
        {
          values.push(field.slice(start, i).trim());
          start = i + 1;
        }
      else if (c === '<' && !inQuotes)
        inUri = true;
      else if (c === '>' && !inQuotes)
        inUri = false;
      else if (c === '"' && !inUri)
        inQuotes = !inQuotes;
    }
  for (const value of values)
    {
      const m = /^<([^>]*)>(.*)$/.exec(value);
      if (!m || !/^(stuns?|turns?):/i.test(m[1]))
        continue;
      const params = {};
      for (const p of m[2].matchAll(/;\s*([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g))
        params[p[1].toLowerCase()] = p[2] ?? p[3];
      if (params.rel !== 'ice-server')
        continue;
      const server = { urls : m[1] };
      if (params.username !== undefined)
        server.username = params.username;
      if (params.credential !== undefined)
        server.credential = params.credential;
      servers.push(server);
    }
  return servers;
}

// Resolves once ICE gathering is complete, or after a bound: candidates found
// by then are in the offer, which is all a gateway on a reachable address needs.
function iceGathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ICE_GATHER_LIMIT_MS);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

export class WhipSession extends EventTarget {
  constructor({ url, room, token, stream }) {
    super();
    this.endpoint = `${url}/api/rooms/${encodeURIComponent(room)}/whip`;
    this.token = token;
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.events = this.pc.createDataChannel('events', { ordered: true });
    this.events.addEventListener('message', (e) => this.#onEvent(e.data));
    this.events.addEventListener('open', () => this.dispatchEvent(new Event('events-open')));
    this.events.addEventListener('close', () => this.dispatchEvent(new Event('events-close')));
    for (const track of stream.getAudioTracks()) this.pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    this.pc.addEventListener('track', (e) => this.dispatchEvent(new CustomEvent('track', { detail: e.streams[0] ?? new MediaStream([e.track]) })));
    this.pc.addEventListener('connectionstatechange', () =>
      this.dispatchEvent(new CustomEvent('connection', { detail: this.pc.connectionState })));
    this.location = null;
  }

  // The ICE servers come before the offer (OPTIONS on the endpoint), since
  // this page gathers its candidates before posting; a gateway that answers
  // OPTIONS with an error just leaves the page on host candidates.
  async #useIceServers ()
  {
    let response;
    try
      {
        response = await fetch (
            this.endpoint,
            { method : 'OPTIONS', headers : { Authorization : `Bearer ${this.token}` } });
      }
    catch
      {
        return;
      }
    const iceServers = parseIceServers (response.ok ? response.headers.get('Link') : null);
    if (iceServers.length)
      this.pc.setConfiguration({...this.pc.getConfiguration(), iceServers });
    this.iceServers = iceServers;
  }

  async start() {
    await this.#useIceServers ();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await iceGathered(this.pc);
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.token}` },
      body: this.pc.localDescription.sdp,
    });
    if (response.status !== 201) throw await errorFrom(response);
    this.location = new URL(response.headers.get('Location'), this.endpoint).toString();
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  }

  send(message) {
    if (this.events.readyState === 'open') this.events.send(JSON.stringify(message));
  }

  async stop() {
    const location = this.location;
    this.location = null;
    this.pc.close();
    if (location) {
      try {
        await fetch(location, { method: 'DELETE', headers: { Authorization: `Bearer ${this.token}` } });
      } catch { /* the gateway drops us after its disconnect timeout anyway */ }
    }
  }

  #onEvent(data) {
    let event;
    try { event = JSON.parse(data); } catch { return; }
    if (event && typeof event.type === 'string') this.dispatchEvent(new CustomEvent('agent-event', { detail: event }));
  }
}
