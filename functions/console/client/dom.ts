/** A few DOM helpers: elements from a tag, properties and children, so that no page builds HTML from strings. */
type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | ((event: Event) => void) | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (name === 'className') el.className = String(value);
    else if (name === 'value' && 'value' in el) (el as HTMLInputElement).value = String(value);
    else if (name === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function show(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** The page's region the shell leaves for the client. */
export const pageRoot = (): HTMLElement => document.getElementById('page')!;

let fieldIds = 0;
/** A labelled form control: the label names it for assistive technology. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  control.id ||= `field-${++fieldIds}`;
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, className: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { className: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

/** A message region: role=alert for problems (announced at once), status for the rest. */
export function notice(kind: 'error' | 'info' | 'ok', ...children: (Child | Child[])[]): HTMLElement {
  return h('p', { className: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}
