/** Where in the YAML text a config path lives, so every error can say file:line:column. */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

// With merge: true the yaml library reads a `<<` key as Symbol(<<); its source text is still `<<`.
const keyText = (key: unknown): string => (isScalar(key) ? (typeof key.value === 'symbol' ? String(key.source) : String(key.value)) : String(key));

/** An alias stands for its anchor's node: follow it so positions point into the anchored text. */
function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function childOf(doc: Document, node: unknown, seg: string): { key?: Node; value?: Node } | undefined {
  node = deref(doc, node);
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && keyText(item.key) === seg) return { key: item.key as Node, value: (item.value ?? undefined) as Node | undefined };
    }
    // A key set by a merge (`<<: *base` or `<<: [*a, *b]`) lives in the merged mapping; keys written
    // in the mapping itself win, and earlier merge sources win over later ones (YAML merge semantics).
    for (const item of node.items) {
      if (!isPair(item) || keyText(item.key) !== '<<') continue;
      const sources = isSeq(item.value) ? item.value.items : [item.value];
      for (const src of sources) {
        const found = childOf(doc, src, seg);
        if (found) return found;
      }
    }
  }
  if (isSeq(node)) {
    const i = Number(seg);
    if (Number.isInteger(i) && node.items[i]) return { value: node.items[i] as Node };
  }
  return undefined;
}

/**
 * The position of `path` in the document: the value (or, with atKey, the key) when present,
 * else the deepest ancestor that exists (a missing key is reported at the mapping that lacks it).
 */
export function locate(doc: Document, lines: LineCounter, path: readonly string[], atKey = false): Position {
  let node: unknown = doc.contents;
  let best: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const c = childOf(doc, node, path[i]!);
    if (!c) break;
    const last = i === path.length - 1;
    best = (last && atKey ? c.key : c.value ?? c.key) ?? best;
    node = c.value;
  }
  const offset = best?.range?.[0] ?? 0;
  return lines.linePos(offset);
}

/** True when the document spells out this exact path (used to blame a variant rather than the base). */
export function hasPath(doc: Document, path: readonly string[]): boolean {
  let node: unknown = doc.contents;
  for (const seg of path) {
    const c = childOf(doc, node, seg);
    if (!c) return false;
    node = c.value;
  }
  return true;
}
