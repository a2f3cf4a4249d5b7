// The learner's side panel and the end of a session: progress per concept,
// past sessions, and the summary the tutor wrote when it ended the session.
// Progress comes from two places: the data API (what the store has) and the
// live tool results of this session, which are newer while the store's
// queued write is still on its way.

export const LEVEL_NAMES = ['not yet assessed', 'emerging', 'developing', 'proficient', 'mastered'];

const normalize = (concept) => String(concept ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const STATUS_WORDS = { active: 'in progress', completed: 'finished', failed: 'interrupted' };

function levelWords(level) {
  const n = Math.max(0, Math.min(4, Math.round(Number(level) || 0)));
  return { n, name: LEVEL_NAMES[n] };
}

function parse(value) {
  if (typeof value !== 'string') return value ?? {};
  try { return JSON.parse(value); } catch { return {}; }
}

function formatDate(value) {
  const when = new Date(String(value ?? '').replace(' ', 'T'));
  return Number.isNaN(when.getTime()) ? String(value ?? '') : dateFormat.format(when);
}

export class LearnerPanel {
  constructor({ progress, progressEmpty, sessions, sessionsEmpty, summary, summaryText, summaryChecks }) {
    Object.assign(this, { progress, progressEmpty, sessions, sessionsEmpty, summary, summaryText, summaryChecks });
    this.stored = [];
    this.live = new Map(); // normalized concept -> row, from check_understanding results in this subtopic
    this.checked = new Map(); // the same for the whole session, for its summary
  }

  // A new live session: its summary card goes, what it learns is new.
  startSession() {
    this.live.clear();
    this.checked.clear();
    this.summary.hidden = true;
    this.summaryText.textContent = '';
    this.summaryChecks.replaceChildren();
  }

  // The panel now shows another subtopic: what it showed is not about it.
  changeSubtopic() {
    this.live.clear();
    this.stored = [];
    this.#renderProgress();
  }

  // A `tool` event of the events channel. Returns the session summary when
  // the tutor ended the session with one, else null.
  applyTool({ name, arguments: args, result }) {
    args = parse(args);
    result = parse(result);
    if (result.error) return null;
    if (name === 'check_understanding' && result.concept) {
      const row = {
        concept: result.concept, latest_level: result.level, mean_level: result.mean_level,
        assessments: result.assessments,
      };
      this.live.set(normalize(result.concept), row);
      this.checked.set(normalize(result.concept), row);
      this.#renderProgress();
      return null;
    }
    if (name === 'end_session' && typeof args.summary === 'string') {
      this.showSummary(args.summary);
      return args.summary;
    }
    return null;
  }

  // What the tutor wrote at the end, and what it checked in this session.
  showSummary(text) {
    this.summaryText.textContent = text;
    this.summaryChecks.replaceChildren(...[...this.checked.values()].map((r) => {
      const li = document.createElement('li');
      const { n, name } = levelWords(r.latest_level);
      li.textContent = `${r.concept}: ${name} (${n}/4)`;
      return li;
    }));
    this.summary.hidden = false;
  }

  render({ progress, sessions }) {
    if (progress) { this.stored = progress; this.#renderProgress(); }
    if (sessions) this.#renderSessions(sessions);
  }

  #renderProgress() {
    const rows = new Map(this.stored.map((r) => [normalize(r.concept), r]));
    for (const [key, live] of this.live) {
      const stored = rows.get(key);
      if (!stored || (stored.assessments ?? 0) < (live.assessments ?? 0)) rows.set(key, live);
    }
    const items = [...rows.values()].sort((a, b) => normalize(a.concept).localeCompare(normalize(b.concept)));
    this.progress.replaceChildren(...items.map((r) => {
      const li = document.createElement('li');
      const { n, name } = levelWords(r.latest_level ?? r.mean_level);
      const meter = document.createElement('meter');
      Object.assign(meter, { min: 0, max: 4, value: n });
      meter.setAttribute('aria-hidden', 'true');
      const text = document.createElement('span');
      const checks = Number(r.assessments) || 0;
      text.textContent = `${r.concept}: ${name} (${n}/4), ${checks} check${checks === 1 ? '' : 's'}`;
      li.dataset.concept = normalize(r.concept);
      li.dataset.level = String(n);
      li.append(text, meter);
      return li;
    }));
    this.progressEmpty.hidden = items.length > 0;
  }

  #renderSessions(rows) {
    this.sessions.replaceChildren(...rows.map((r) => {
      const li = document.createElement('li');
      li.dataset.status = r.status ?? '';
      const head = document.createElement('span');
      head.className = 'when';
      head.textContent = `${formatDate(r.started_at)} — ${STATUS_WORDS[r.status] ?? r.status ?? ''}`;
      li.append(head);
      if (r.summary) {
        const summary = document.createElement('p');
        summary.className = 'summary-text';
        summary.textContent = r.summary;
        li.append(summary);
      }
      return li;
    }));
    this.sessionsEmpty.hidden = rows.length > 0;
  }
}
