/** Where in the YAML text a config path lives, so every error can say file:line:column. */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

function childOf(node: unknown, seg: string): { key?: Node; value?: Node } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item)) {
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        if (k === seg) return { key: item.key as Node, value: (item.value ?? undefined) as Node | undefined };
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
    const c = childOf(node, path[i]!);
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
    const c = childOf(node, seg);
    if (!c) return false;
    node = c.value;
  }
  return true;
}
