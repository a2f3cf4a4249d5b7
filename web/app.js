// The voxgate web client: join a room, talk with the tutor, read along.
import { fetchToken, HttpError, WhipSession } from './whip.js';
import { LevelMeter } from './meters.js';
import { Transcript } from './transcript.js';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('join'), name: $('name'), room: $('room'), connect: $('connect'), disconnect: $('disconnect'),
  mute: $('mute'), state: $('state'), alert: $('alert'), alertText: $('alert-text'), retry: $('retry'),
  micLevel: $('mic-level'), tutorLevel: $('tutor-level'), audio: $('tutor-audio'),
  say: $('say'), message: $('message'), send: $('send'),
  rtt: $('stat-rtt'), jitter: $('stat-jitter'), lost: $('stat-lost'),
};
const STATE_LABELS = {
  idle: 'Not connected', connecting: 'Connecting…', listening: 'Listening', thinking: 'Thinking…',
  speaking: 'Tutor speaking', error: 'Agent error', lost: 'Connection lost',
};

const transcript = new Transcript($('transcript'));
let session = null, mic = null, audioContext = null, meters = [], ticker = 0, retryTimer = 0;

function setState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = STATE_LABELS[state] ?? state;
}

function showAlert(text, { kind = 'warning', retry = false } = {}) {
  ui.alert.hidden = false;
  ui.alert.dataset.kind = kind;
  ui.alertText.textContent = text;
  ui.retry.hidden = !retry;
}

function clearAlert() {
  clearInterval(retryTimer);
  ui.alert.hidden = true;
  ui.retry.hidden = true;
}

function setConnected(connected) {
  ui.connect.disabled = connected;
  ui.disconnect.disabled = !connected;
  ui.mute.disabled = !connected;
  ui.message.disabled = !connected;
  ui.send.disabled = !connected;
  ui.name.disabled = ui.room.disabled = connected;
}

// Counts down a rate limit's wait, then lets the person try again.
function showRateLimited(seconds) {
  let left = Math.max(1, seconds);
  const render = () => showAlert(`Too many connection attempts. You can try again in ${left} s.`);
  render();
  ui.connect.disabled = true;
  retryTimer = setInterval(() => {
    left -= 1;
    if (left > 0) return render();
    clearAlert();
    ui.connect.disabled = false;
  }, 1000);
}

function explain(error) {
  if (error?.name === 'NotAllowedError' || error?.name === 'SecurityError')
    return showAlert('Microphone access was denied. Allow the microphone for this page and connect again.', { kind: 'error' });
  if (error?.name === 'NotFoundError')
    return showAlert('No microphone was found. Plug one in and connect again.', { kind: 'error' });
  if (error instanceof HttpError) {
    if (error.status === 429) return showRateLimited(error.retryAfter || 60);
    if (error.status === 409 || error.code === 'room_full') return showAlert('This room is full. Try another room or come back later.', { kind: 'error' });
    if (error.status === 401 || error.status === 403) return showAlert(`Not allowed to join: ${error.message}`, { kind: 'error' });
    return showAlert(`The gateway refused: ${error.message}`, { kind: 'error', retry: true });
  }
  return showAlert(`Could not connect: ${error?.message ?? error}`, { kind: 'error', retry: true });
}

async function updateStats() {
  for (const meter of meters) meter.update();
  if (!session) return;
  const report = await session.pc.getStats();
  report.forEach((s) => {
    if (s.type === 'remote-inbound-rtp' && s.kind === 'audio' && s.roundTripTime !== undefined)
      ui.rtt.textContent = `${Math.round(s.roundTripTime * 1000)} ms`;
    if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined && ui.rtt.textContent === '–')
      ui.rtt.textContent = `${Math.round(s.currentRoundTripTime * 1000)} ms`;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      ui.jitter.textContent = `${Math.round((s.jitter ?? 0) * 1000)} ms`;
      ui.lost.textContent = String(s.packetsLost ?? 0);
    }
  });
}

function onAgentEvent(event) {
  switch (event.type) {
    case 'agent_state':
      setState(event.state);
      if (event.state === 'error') showAlert('The tutor ran into a problem. You can keep typing or reconnect.', { kind: 'error', retry: true });
      break;
    case 'transcript': transcript.show(event); break;
    case 'tool': transcript.tool(event); break;
    case 'error': showAlert(`Tutor: ${event.message ?? event.code}`, { kind: 'error' }); break;
    case 'session': break;
  }
}

async function connect() {
  clearAlert();
  const name = ui.name.value.trim(), room = ui.room.value.trim();
  if (!ui.form.reportValidity()) return;
  localStorage.setItem('voxgate.name', name);
  history.replaceState(null, '', `?room=${encodeURIComponent(room)}`);
  setState('connecting');
  setConnected(true);
  try {
    audioContext ??= new AudioContext();
    await audioContext.resume();
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    const token = await fetchToken(name, room);
    session = new WhipSession({ url: token.url || location.origin, room, token: token.token, stream: mic });
    session.addEventListener('agent-event', (e) => onAgentEvent(e.detail));
    session.addEventListener('track', (e) => {
      ui.audio.srcObject = e.detail;
      meters.push(new LevelMeter(audioContext, e.detail, ui.tutorLevel));
    });
    session.addEventListener('connection', (e) => {
      if (e.detail === 'connected' && ui.state.dataset.state === 'connecting') setState('listening');
      if (e.detail === 'failed' || e.detail === 'disconnected') {
        setState('lost');
        showAlert('The connection to the gateway was lost.', { kind: 'error', retry: true });
      }
    });
    meters.push(new LevelMeter(audioContext, mic, ui.micLevel));
    ticker = setInterval(updateStats, 250);
    await session.start();
  } catch (error) {
    await disconnect({ keepAlert: true });
    explain(error);
  }
}

async function disconnect({ keepAlert = false } = {}) {
  clearInterval(ticker);
  meters.forEach((m) => m.disconnect());
  meters = [];
  const ending = session;
  session = null;
  await ending?.stop();
  mic?.getTracks().forEach((t) => t.stop());
  mic = null;
  ui.audio.srcObject = null;
  ui.mute.setAttribute('aria-pressed', 'false');
  ui.mute.textContent = 'Mute';
  setConnected(false);
  setState('idle');
  if (!keepAlert) clearAlert();
}

ui.form.addEventListener('submit', (e) => { e.preventDefault(); connect(); });
ui.disconnect.addEventListener('click', () => disconnect());
ui.retry.addEventListener('click', async () => { await disconnect(); connect(); });
ui.mute.addEventListener('click', () => {
  const muted = ui.mute.getAttribute('aria-pressed') !== 'true';
  mic?.getAudioTracks().forEach((t) => { t.enabled = !muted; });
  ui.mute.setAttribute('aria-pressed', String(muted));
  ui.mute.textContent = muted ? 'Unmute' : 'Mute';
});
ui.say.addEventListener('submit', (e) => {
  e.preventDefault();
  const text = ui.message.value.trim();
  if (!text || !session) return;
  session.send({ type: 'text', text });
  transcript.typed(text);
  ui.message.value = '';
});
window.addEventListener('pagehide', () => session?.stop());

ui.room.value = new URLSearchParams(location.search).get('room') ?? 'tutor';
ui.name.value = localStorage.getItem('voxgate.name') ?? '';
// For diagnostics (and the end-to-end tests): the live session, read-only.
Object.defineProperty(window, 'voxgate', { value: Object.freeze({ get session() { return session; } }) });
