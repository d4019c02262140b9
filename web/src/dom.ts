// Tiny DOM helpers: build HTML and SVG elements from a tag, attributes and children (no framework).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

function apply(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** An HTML element: h('button', { class: 'x', onclick: fn }, 'Run'). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element: s('rect', { x: 0, y: 0, width: 10, height: 10 }). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** An <svg> sized in CSS pixels with a matching viewBox, so it scales down on narrow screens. */
export function svgRoot(width: number, height: number, attrs: Attrs = {}, ...children: Child[]): SVGSVGElement {
  const w = Math.max(1, Math.ceil(width));
  const hgt = Math.max(1, Math.ceil(height));
  return s('svg', { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, ...attrs }, ...children);
}

/** Look up an element by id or fail loudly (the page shell and the code must agree). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}
