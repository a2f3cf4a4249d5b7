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
      time.textContent = `${role === 'user' ? 'You' : role === 'tool' ? 'Tool' : 'Tutor'} · ${timeFormat.format(now)}`;
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
    li.lastChild.textContent = `${name}(${args ?? ''}) → ${typeof result === 'string' ? result : JSON.stringify(result)}`;
  }

  typed(text) {
    const li = this.#entry(`typed-${this.items.size}`, 'user');
    li.dataset.final = 'true';
    li.lastChild.textContent = text;
  }
}
