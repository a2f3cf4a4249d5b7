// The conversation as it is spoken: one entry per item, partial text replaced
// by final text in place.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class Transcript {
  constructor(list) {
    this.list = list;
    this.items = new Map();
  }

  #entry(key, role) {
    let li = this.items.get(key);
    if (!li) {
      li = document.createElement('li');
      li.dataset.role = role;
      const time = document.createElement('time');
      const now = new Date();
      time.dateTime = now.toISOString();
      time.textContent = `${role === 'user' ? 'You' : role === 'tool' ? 'Tutor\'s note' : 'Tutor'} · ${timeFormat.format(now)}`;
      li.append(time, document.createElement('span'));
      this.list.append(li);
      this.items.set(key, li);
    }
    return li;
  }

  show({ role, item_id: itemId, text, final }) {
    const key = itemId || `${role}-${this.items.size}`;
    const li = this.#entry(key, role === 'user' ? 'user' : 'assistant');
    li.dataset.final = String(Boolean(final));
    li.lastChild.textContent = text ?? '';
    li.scrollIntoView({ block: 'nearest' });
  }

  tool({ name, arguments: args, result }) {
    const li = this.#entry(`tool-${this.items.size}`, 'tool');
    li.dataset.tool = name ?? '';
    li.lastChild.textContent = describeTool(name, args, result);
    li.scrollIntoView({ block: 'nearest' });
  }

  typed(text) {
    const li = this.#entry(`typed-${this.items.size}`, 'user');
    li.dataset.final = 'true';
    li.lastChild.textContent = text;
  }
}

function parse(value) {
  if (typeof value !== 'string') return value ?? {};
  try { return JSON.parse(value); } catch { return value; }
}

// A tool call as the learner would put it.
export function describeTool(name, args, result) {
  args = parse(args);
  result = parse(result);
  if (result?.error) return `The tutor tried ${name.replaceAll('_', ' ')}: ${result.error}`;
  switch (name) {
    case 'check_understanding':
      return `Understanding of ${result.concept ?? args.concept}: ${result.level_name ?? '?'} (${result.level ?? '?'}/4)`;
    case 'provide_example':
      return result.problem ? `Example (${result.difficulty ?? 'worked'}): ${result.problem}` : 'No stored example for that yet.';
    case 'get_learner_progress': {
      const n = result.concepts?.length ?? 0;
      return `The tutor looked at your progress (${n} concept${n === 1 ? '' : 's'})`;
    }
    case 'switch_subtopic': {
      const to = result.subtopic ?? {};
      return `Moved on to ${to.name ?? 'another subtopic'}${to.topic ? ` (${to.topic})` : ''}${to.description ? `: ${to.description}` : ''}`;
    }
    case 'end_session': return 'The tutor wrapped up the session.';
    default: return `The tutor used ${String(name).replaceAll('_', ' ')}.`;
  }
}
