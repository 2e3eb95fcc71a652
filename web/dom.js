// dom.js: the two DOM helpers every module of the page uses.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element: tag, optional class, optional text (set as text, never as HTML). */
export function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
