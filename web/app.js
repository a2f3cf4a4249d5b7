// The voxgate web client: join a room, talk with the tutor, read along.
import { fetchToken, getJson, HttpError, WhipSession } from './whip.js';
import { LevelMeter } from './meters.js';
import { Transcript } from './transcript.js';
import { LearnerPanel } from './learner.js';

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('join'), name: $('name'), room: $('room'), connect: $('connect'), disconnect: $('disconnect'),
  mute: $('mute'), state: $('state'), alert: $('alert'), alertText: $('alert-text'), retry: $('retry'),
  micLevel: $('mic-level'), tutorLevel: $('tutor-level'), audio: $('tutor-audio'),
  say: $('say'), message: $('message'), send: $('send'),
  subtopic: $('subtopic'),
  rtt: $('stat-rtt'), jitter: $('stat-jitter'), lost: $('stat-lost'),
};
const STATE_LABELS = {
  idle: 'Not connected', connecting: 'Connecting…', listening: 'Listening', thinking: 'Thinking…',
  speaking: 'Tutor speaking', error: 'Agent error', lost: 'Connection lost', ended: 'Session ended',
};
// After the tutor's goodbye has played, how long before the page hangs up
// itself (the last audio is still in flight when the state says so).
const GOODBYE_TAIL_MS = 400;

const transcript = new Transcript($('transcript'));
const learner = new LearnerPanel({
  progress: $('progress'), progressEmpty: $('progress-empty'), sessions: $('sessions'), sessionsEmpty: $('sessions-empty'),
  summary: $('summary'), summaryText: $('summary-text'), summaryChecks: $('summary-checks'),
});
// ending: the tutor ended the session (end_session); it says goodbye, then
// the session closes. heardGoodbye: it has spoken since.
let ending = false, heardGoodbye = false;
let session = null, learnerToken = null, mic = null, audioContext = null, meters = [], ticker = 0, retryTimer = 0;

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
  ui.name.disabled = ui.room.disabled = ui.subtopic.disabled = connected;
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
      if (ending && event.state === 'speaking') heardGoodbye = true;
      if (ending && heardGoodbye && event.state === 'listening') setTimeout(finishSession, GOODBYE_TAIL_MS);
      if (event.state === 'error') showAlert('The tutor ran into a problem. You can keep typing or reconnect.', { kind: 'error', retry: true });
      break;
    case 'transcript': transcript.show(event); break;
    case 'tool':
      transcript.tool(event);
      if (learner.applyTool(event) !== null) { ending = true; heardGoodbye = false; }
      if (event.name === 'switch_subtopic') followSubtopic(event.result);
      refreshLearner();
      break;
    case 'error': showAlert(`Tutor: ${event.message ?? event.code}`, { kind: 'error' }); break;
    case 'session': break;
  }
}

// The learner keeps one identity across visits, so progress and past sessions follow them.
function learnerIdentity() {
  let identity = localStorage.getItem('voxgate.identity');
  if (!identity) {
    identity = `learner-${crypto.randomUUID()}`;
    localStorage.setItem('voxgate.identity', identity);
  }
  return identity;
}

// The subtopic picker: the public catalogue, grouped by topic.
async function loadSubtopics() {
  try {
    const { subtopics } = await getJson('/api/subtopics');
    const groups = new Map();
    for (const s of subtopics) {
      if (!groups.has(s.topic)) groups.set(s.topic, []);
      groups.get(s.topic).push(s);
    }
    for (const [topic, items] of groups) {
      const group = document.createElement('optgroup');
      group.label = topic;
      for (const s of items) {
        const option = new Option(s.name, String(s.id));
        if (s.description) option.title = s.description;
        group.append(option);
      }
      ui.subtopic.append(group);
    }
    const saved = localStorage.getItem('voxgate.subtopic');
    if (saved && ui.subtopic.querySelector(`option[value="${CSS.escape(saved)}"]`)) ui.subtopic.value = saved;
    showSubtopicTitle();
  } catch { /* no catalogue (no store): free conversation only */ }
}

// The progress panel is about the chosen subtopic; its title says which.
function showSubtopicTitle() {
  const option = ui.subtopic.selectedOptions[0];
  $('progress-title').textContent = ui.subtopic.value && option ? `Your progress in ${option.textContent}` : 'Your progress';
}

// The tutor moved the session to another subtopic: the picker, the next
// visit and the progress panel follow it.
function followSubtopic(result) {
  let id;
  try { id = (typeof result === 'string' ? JSON.parse(result) : result)?.subtopic?.id; } catch { return; }
  if (!id || !ui.subtopic.querySelector(`option[value="${CSS.escape(String(id))}"]`)) return;
  ui.subtopic.value = String(id);
  localStorage.setItem('voxgate.subtopic', ui.subtopic.value);
  learner.changeSubtopic();
  showSubtopicTitle();
}

// Progress and past sessions, read with the learner's own token.
async function refreshLearner() {
  if (!learnerToken) return;
  const base = `/api/users/${encodeURIComponent(learnerIdentity())}`;
  const chosen = ui.subtopic.value;
  const subtopic = chosen ? `subtopic_id=${chosen}&` : '';
  try {
    const [progress, sessions] = await Promise.all([
      getJson(`${base}/progress?${subtopic}`, learnerToken), getJson(`${base}/sessions?limit=10`, learnerToken)]);
    // Progress read for a subtopic the panel no longer shows is dropped.
    learner.render({ progress: ui.subtopic.value === chosen ? progress.progress : null, sessions: sessions.sessions });
    return sessions.sessions;
  } catch (error) { console.warn('progress:', error); /* the panel keeps what it had */ }
  return null;
}

// The tutor ended the session and its goodbye has played (or the gateway
// closed the session first): hang up cleanly, keep the summary on screen,
// and read the panel again once the store has closed the conversation.
async function finishSession() {
  if (!ending) return;
  ending = false;
  await disconnect({ ended: true });
  for (let attempt = 0; attempt < 10; attempt++) {
    const sessions = await refreshLearner();
    if (!sessions || sessions[0]?.status !== 'active') break;
    await new Promise((r) => setTimeout(r, 500));
  }
}

// A remembered learner sees their progress and past sessions before joining:
// a token for their own identity reads them (it joins nothing by itself).
async function showHistory() {
  if (!localStorage.getItem('voxgate.identity') || learnerToken) return;
  try {
    const name = ui.name.value.trim() || 'learner';
    const token = await fetchToken(name, ui.room.value.trim() || 'tutor', { identity: learnerIdentity() });
    learnerToken ??= token.token;
    await refreshLearner();
  } catch (error) { console.warn('history:', error); }
}

// The tutor greets as soon as the audio path is up, which can be before the
// events channel opens: catch up from the stored transcript of this session
// (entries already shown are matched by item id).
async function catchUp(attempt = 0) {
  if (!learnerToken || !session) return;
  try {
    const base = `/api/users/${encodeURIComponent(learnerIdentity())}`;
    const { sessions } = await getJson(`${base}/sessions?limit=1`, learnerToken);
    // The conversation row is written as the session starts: wait for it a little.
    if (sessions[0]?.status !== 'active') {
      if (attempt < 10) setTimeout(() => catchUp(attempt + 1), 500);
      return;
    }
    refreshLearner();
    const { messages } = await getJson(`/api/conversations/${encodeURIComponent(sessions[0].id)}`, learnerToken);
    for (const m of messages ?? [])
      if (m.role === 'assistant' && m.text && m.item_id) transcript.show({ role: 'assistant', item_id: m.item_id, text: m.text, final: true });
  } catch (error) { console.warn('catch-up:', error); }
}

async function connect() {
  clearAlert();
  const name = ui.name.value.trim(), room = ui.room.value.trim();
  if (!ui.form.reportValidity()) return;
  localStorage.setItem('voxgate.name', name);
  history.replaceState(null, '', `?room=${encodeURIComponent(room)}`);
  setState('connecting');
  setConnected(true);
  ending = heardGoodbye = false;
  learner.startSession();
  try {
    audioContext ??= new AudioContext();
    await audioContext.resume();
    mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
    const subtopicId = Number(ui.subtopic.value) || 0;
    localStorage.setItem('voxgate.subtopic', ui.subtopic.value);
    const token = await fetchToken(name, room, { identity: learnerIdentity(), subtopicId });
    learnerToken = token.token;
    session = new WhipSession({ url: token.url || location.origin, room, token: token.token, stream: mic });
    session.addEventListener('agent-event', (e) => onAgentEvent(e.detail));
    session.addEventListener('events-open', () => { catchUp(); refreshLearner(); });
    // The gateway removes the learner after the goodbye: that may close the channel first.
    session.addEventListener('events-close', () => { if (ending) finishSession(); });
    session.addEventListener('track', (e) => {
      ui.audio.srcObject = e.detail;
      meters.push(new LevelMeter(audioContext, e.detail, ui.tutorLevel));
    });
    session.addEventListener('connection', (e) => {
      if (e.detail === 'connected' && ui.state.dataset.state === 'connecting') setState('listening');
      if ((e.detail === 'failed' || e.detail === 'disconnected') && ending) finishSession();
      else if (e.detail === 'failed' || e.detail === 'disconnected') {
        setState('lost');
        showAlert('The connection to the gateway was lost.', { kind: 'error', retry: true });
      }
    });
    meters.push(new LevelMeter(audioContext, mic, ui.micLevel));
    ticker = setInterval(updateStats, 250);
    await session.start();
    refreshLearner();
  } catch (error) {
    await disconnect({ keepAlert: true });
    explain(error);
  }
}

async function disconnect({ keepAlert = false, ended = false } = {}) {
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
  setState(ended ? 'ended' : 'idle');
  if (!keepAlert) clearAlert();
}

ui.form.addEventListener('submit', (e) => { e.preventDefault(); connect(); });
ui.subtopic.addEventListener('change', () => { learner.changeSubtopic(); showSubtopicTitle(); refreshLearner(); });
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
// The history after the picker: its progress is read for the remembered subtopic.
loadSubtopics().then(showHistory);
// For diagnostics (and the end-to-end tests): the live session, read-only.
Object.defineProperty(window, 'voxgate', { value: Object.freeze({ get session() { return session; } }) });
