/**
 * Escaping of user-written strings (study names, descriptions, variant names, run reasons, class
 * names) for each place the report puts them. Every renderer goes through these; nothing user-written
 * is concatenated raw.
 */

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text or attribute value in HTML. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => HTML[c]!);
}

/**
 * JSON to embed inside <script type="application/json">: `</script>`, `<!--` and the line
 * separators U+2028/2029 cannot end or break the block because `<`, `>`, `&` and those characters
 * are written as \u escapes, which JSON.parse reads back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Inline Markdown text: backslash-escape the punctuation that could start emphasis, links, code,
 * raw HTML or end a table cell (CommonMark lets any ASCII punctuation be escaped), and fold line
 * breaks so a string cannot start a new block.
 */
export function escapeMd(s: unknown): string {
  return String(s)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_[\]<>|#~!]/g, (c) => `\\${c}`);
}

/** Safe file name for a user-chosen name (variants become models/<name>.onnx). */
export function fileSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s.length ? s.slice(0, 80) : '_';
}
